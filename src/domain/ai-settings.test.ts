import { describe, expect, it } from 'vitest';
import { applySettings, chosenDetectionThreshold, defaultAiSettings, parseAiSettingsPatch, toSnakeCase } from './ai-settings.js';
import { AppError } from './errors.js';

describe('AI settings', () => {
  it('maps the three casings to snake_case', () => {
    expect(toSnakeCase('probabilityThreshold')).toBe('probability_threshold');
    expect(toSnakeCase('ProbabilityThreshold')).toBe('probability_threshold');
    expect(toSnakeCase('probability_threshold')).toBe('probability_threshold');
    expect(toSnakeCase('BigImageTileOverlapPercent')).toBe('big_image_tile_overlap_percent');
  });

  it('accepts every casing and normalises', () => {
    expect(parseAiSettingsPatch({ ProbabilityThreshold: 0.5, modelBatchSize: 2, classes: ['dog'] })).toEqual({
      probability_threshold: 0.5,
      model_batch_size: 2,
      classes: ['dog'],
    });
  });

  it('refuses unknown keys, duplicates and bad values with 422', () => {
    const refuse = (input: unknown): AppError => {
      try {
        parseAiSettingsPatch(input);
      } catch (err) {
        if (err instanceof AppError) return err;
      }
      throw new Error('not refused');
    };
    expect(refuse({ probabilty_threshold: 0.5 }).message).toContain('probabilty_threshold');
    expect(refuse({ probabilityThreshold: 0.5, probability_threshold: 0.6 }).statusCode).toBe(422);
    expect(refuse({ probability_threshold: 1.5 }).message).toContain('probability_threshold');
    expect(refuse({ model_batch_size: 2.5 }).statusCode).toBe(422);
    expect(refuse([1]).statusCode).toBe(422);
  });

  it('fills defaults and lets a patch override them', () => {
    const d = defaultAiSettings({ blur_threshold: 80 });
    expect(d.probability_threshold).toBe(0.3);
    expect(d.blur_threshold).toBe(80);
    expect(d.classes).toEqual([]);
    const s = applySettings(d, { probability_threshold: 0.6, classes: undefined });
    expect(s.probability_threshold).toBe(0.6);
    expect(s.classes).toEqual([]);
  });

  it('caps detections at 100 by default; max_detections takes 1 to 10000 whole detections', () => {
    expect(defaultAiSettings().max_detections).toBe(100);
    expect(parseAiSettingsPatch({ MaxDetections: 300 })).toEqual({ max_detections: 300 });
    for (const bad of [0, -1, 2.5, 10_001, '100']) {
      expect(() => parseAiSettingsPatch({ max_detections: bad }), String(bad)).toThrow(/max_detections/);
    }
  });

  it("leaves the threshold to the detector while probability_threshold is at its default", () => {
    expect(chosenDetectionThreshold(defaultAiSettings())).toBeUndefined();
    expect(chosenDetectionThreshold({ probability_threshold: 0.45 })).toBe(0.45);
    expect(chosenDetectionThreshold({ probability_threshold: 0 })).toBe(0);
  });
});

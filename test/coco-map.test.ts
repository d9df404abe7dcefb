/**
 * Detection accuracy the way detectors are published: COCO mAP@[.5:.95] (pycocotools' rules, src/domain/detection/
 * coco-map.ts) of each built-in detector on ../shared/testdata/coco128-train, through the real detection path
 * (`detectObjects`: decode, resize, inference thread, decoder, clip, NMS, cap) at threshold 0.01 with tiling off.
 * Each floor sits just under the figure measured when it was set, so a change that costs accuracy fails here.
 * These models were trained on train2017: the figures are for comparing and catching regressions, not absolute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accuracyOptions, evaluateDetector, loadCocoSet, openDetectDeps, type CocoSet } from '../src/bench/accuracy.js';
import type { DetectObjectsDeps } from '../src/app/detect-objects.js';
import { testdata } from './helper.js';

/** mAP floors in percent, with the figure measured when each was set (2 cores, onnxruntime-node 1.30). */
const FLOORS: Record<string, { floor: number; measured: number }> = {
  yolox_nano: { floor: 32.9, measured: 33.18 },
  nanodet_m: { floor: 29.9, measured: 30.19 },
  picodet_s_416: { floor: 39.0, measured: 39.32 },
};

describe('COCO mAP of the built-in detectors on coco128', () => {
  let set: CocoSet;
  let deps: DetectObjectsDeps;
  let close: () => Promise<void>;
  beforeAll(async () => {
    set = await loadCocoSet(testdata('coco128-train'));
    ({ deps, close } = await openDetectDeps());
  });
  afterAll(() => close());

  it('reads the set: 128 images, 939 annotations (10 crowd regions), 71 classes with boxes', () => {
    expect(set.images).toHaveLength(128);
    expect(set.truth).toHaveLength(939);
    expect(set.truth.filter((g) => g.crowd)).toHaveLength(10);
    expect(new Set(set.truth.filter((g) => !g.crowd).map((g) => g.classId)).size).toBe(71);
  });

  it.each(Object.keys(FLOORS))('%s keeps its mAP', async (model) => {
    const { floor, measured } = FLOORS[model]!;
    const run = await evaluateDetector(deps, set, accuracyOptions(model));
    const map = run.result.map * 100;
    expect(run.result.images).toBe(128);
    expect(run.result.classes).toBe(71);
    // Every image's answer respects the cap of 100 even at threshold 0.01 (NanoDet gave up to ~1,000 without it).
    expect(run.mostDetections).toBeLessThanOrEqual(100);
    expect(map, `${model}: mAP ${map.toFixed(2)} (measured ${measured} when the floor was set)`).toBeGreaterThanOrEqual(floor);
  });
});

import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { MediaStatus, transitionMediaStatus } from './media-status.js';

describe('transitionMediaStatus', () => {
  it('follows New → AIProcessing → AIProcessed', () => {
    expect(transitionMediaStatus(MediaStatus.New, MediaStatus.AIProcessing)).toEqual({ status: 2, reason: null });
    expect(transitionMediaStatus(MediaStatus.AIProcessing, MediaStatus.AIProcessed)).toEqual({ status: 3, reason: null });
  });

  it('keeps the reason of an Error and requires one', () => {
    expect(transitionMediaStatus(MediaStatus.AIProcessing, MediaStatus.Error, ' decoder failed ')).toEqual({ status: 6, reason: 'decoder failed' });
    expect(() => transitionMediaStatus(MediaStatus.AIProcessing, MediaStatus.Error)).toThrow(AppError);
  });

  it('refuses impossible transitions', () => {
    expect(() => transitionMediaStatus(MediaStatus.New, MediaStatus.AIProcessed)).toThrow(/New to AIProcessed/);
    expect(() => transitionMediaStatus(MediaStatus.AIProcessed, MediaStatus.New)).toThrow(AppError);
    expect(() => transitionMediaStatus(MediaStatus.Error, MediaStatus.AIProcessed)).toThrow(AppError);
  });

  it('lets processed or failed media be analysed again', () => {
    expect(transitionMediaStatus(MediaStatus.AIProcessed, MediaStatus.AIProcessing).status).toBe(2);
    expect(transitionMediaStatus(MediaStatus.Error, MediaStatus.AIProcessing).status).toBe(2);
  });
});

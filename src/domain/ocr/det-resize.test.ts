import { describe, expect, it } from 'vitest';
import { paddedDetInput, planDetInput } from './det-resize.js';

describe('planDetInput', () => {
  it('keeps small images at their size in multiples of 32', () => {
    expect(planDetInput(556, 257, { minSide: 0, maxSide: 960 })).toMatchObject({ width: 544, height: 256 });
  });

  it('caps the long side and upscales the short side when asked', () => {
    expect(planDetInput(4000, 3000, { minSide: 0, maxSide: 960 })).toMatchObject({ width: 960, height: 736, scaleX: 4000 / 960 });
    expect(planDetInput(556, 257, { minSide: 736, maxSide: 2048 })).toMatchObject({ width: 1600, height: 736 });
    expect(planDetInput(10, 5, { minSide: 0, maxSide: 960 })).toMatchObject({ width: 32, height: 32 });
  });
});

describe('paddedDetInput', () => {
  it('pads an image that needs no scaling up to the next multiple of 32, at scale 1; null when it must be scaled', () => {
    expect(paddedDetInput(556, 257, { minSide: 0, maxSide: 960 })).toEqual({ width: 576, height: 288, scaleX: 1, scaleY: 1 });
    expect(paddedDetInput(64, 20, { minSide: 0, maxSide: 960 })).toEqual({ width: 64, height: 32, scaleX: 1, scaleY: 1 });
    expect(paddedDetInput(961, 100, { minSide: 0, maxSide: 960 })).toBeNull();
    expect(paddedDetInput(500, 300, { minSide: 736, maxSide: 4000 })).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../image-tensor.js';
import { flipQuad, quadSize, sampleQuad, uprightQuad } from './crop-line.js';
import type { Quad } from './min-area-rect.js';

/** A 4 x 2 image whose red channel is 10 * x + 100 * y. */
const img: RgbImage = {
  width: 4,
  height: 2,
  data: Uint8Array.from({ length: 24 }, (_, i) => {
    const p = Math.floor(i / 3);
    return i % 3 === 0 ? 10 * (p % 4) + 100 * Math.floor(p / 4) : 0;
  }),
};
const red = (im: RgbImage): number[] => Array.from({ length: im.width * im.height }, (_, p) => im.data[p * 3] as number);
const whole: Quad = [[0, 0], [4, 0], [4, 2], [0, 2]];

describe('sampleQuad', () => {
  it('copies pixels exactly at their own size', () => {
    expect(red(sampleQuad(img, whole, 4, 2))).toEqual([0, 10, 20, 30, 100, 110, 120, 130]);
  });

  it('reads a flipped quad upside down and a turned quad sideways', () => {
    expect(red(sampleQuad(img, flipQuad(whole), 4, 2))).toEqual([130, 120, 110, 100, 30, 20, 10, 0]);
    // A quad whose "top" is the image's right edge: the output's first row is the image's last column.
    const turned: Quad = [[4, 0], [4, 2], [0, 2], [0, 0]];
    expect(red(sampleQuad(img, turned, 2, 4))).toEqual([30, 130, 20, 120, 10, 110, 0, 100]);
  });

  it('averages when shrinking (no aliasing)', () => {
    expect(red(sampleQuad(img, whole, 2, 1))).toEqual([55, 75]);
  });
});

describe('uprightQuad', () => {
  it('turns tall crops a quarter and leaves wide ones', () => {
    const tall: Quad = [[0, 0], [10, 0], [10, 30], [0, 30]];
    expect(quadSize(uprightQuad(tall))).toEqual({ width: 30, height: 10 });
    expect(uprightQuad(whole)).toBe(whole);
  });
});

import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../image-tensor.js';
import {
  alignFace,
  applyAffine,
  ARCFACE_TEMPLATE_112,
  invertAffine,
  similarityTransform,
  warpAffineRgb,
  type AffineMatrix,
} from './align.js';

function expectMatrix(actual: AffineMatrix, expected: readonly number[], digits = 9): void {
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, digits));
}

/** An RGB image whose pixel (x, y) is f(x, y). */
function image(width: number, height: number, f: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(f(x, y), (y * width + x) * 3);
  return { data, width, height };
}

function pixel(img: RgbImage, x: number, y: number): number[] {
  const i = (y * img.width + x) * 3;
  return [...img.data.subarray(i, i + 3)];
}

// Landmarks of a face in some photo, slightly off a similarity of the template (as real detections are).
const SRC: [number, number][] = [
  [120.3, 140.8],
  [171.9, 133.2],
  [150.4, 170.1],
  [128.7, 199.6],
  [175.2, 193.0],
];

describe('similarityTransform', () => {
  it('recovers an exact similarity', () => {
    const t = Math.PI / 6;
    const k = 1.7;
    const m: AffineMatrix = [k * Math.cos(t), -k * Math.sin(t), 12, k * Math.sin(t), k * Math.cos(t), -7];
    const dst = SRC.map(([x, y]) => applyAffine(m, x, y));
    expectMatrix(similarityTransform(SRC, dst), m);
  });

  it('matches Umeyama (skimage SimilarityTransform) on noisy points', () => {
    // Reference from skimage.transform._geometric._umeyama with these points (numpy, float64).
    const ref = [0.664298816959, -0.073990893326, -30.77201728283, 0.073990893326, 0.664298816959, -50.30982440345];
    expectMatrix(similarityTransform(SRC, ARCFACE_TEMPLATE_112), ref, 8);
  });

  it('never reflects: for mirrored points it gives the best rotation, as Umeyama does', () => {
    const mirrored = SRC.map(([x, y]) => [-x, y] as [number, number]);
    const ref = [0.1368493861717, 0.002030097868614, 76.1180567781, -0.002030097868614, 0.1368493861717, 48.69731010624];
    const m = similarityTransform(mirrored, ARCFACE_TEMPLATE_112);
    expectMatrix(m, ref, 8);
    expect(m[0] * m[4] - m[1] * m[3]).toBeGreaterThan(0);
  });

  it('refuses too few, mismatched or coincident points', () => {
    expect(() => similarityTransform([[1, 2]], [[3, 4]])).toThrow(/at least 2/);
    expect(() => similarityTransform(SRC, SRC.slice(1))).toThrow(/5 source points but 4/);
    expect(() => similarityTransform([[1, 1], [1, 1]], [[0, 0], [1, 1]])).toThrow(/all equal/);
    expect(() => similarityTransform([[Number.NaN, 1], [1, 1]], [[0, 0], [1, 1]])).toThrow(/not finite/);
  });
});

describe('invertAffine', () => {
  it('undoes the matrix', () => {
    const m: AffineMatrix = [1.2, -0.4, 5, 0.3, 0.9, -2];
    const inv = invertAffine(m);
    const [x, y] = applyAffine(m, 7, 11);
    const [bx, by] = applyAffine(inv, x, y);
    expect(bx).toBeCloseTo(7, 12);
    expect(by).toBeCloseTo(11, 12);
  });

  it('refuses a singular matrix', () => {
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow(/singular/);
  });
});

describe('warpAffineRgb', () => {
  const src = image(4, 3, (x, y) => [x * 10, y * 10, 200]);

  it('copies the image through the identity', () => {
    expect(warpAffineRgb(src, [1, 0, 0, 0, 1, 0], 4, 3).data).toEqual(src.data);
  });

  it('shifts by whole pixels, filling what comes from outside with black', () => {
    const out = warpAffineRgb(src, [1, 0, 1, 0, 1, 2], 4, 3); // source (x, y) lands at (x + 1, y + 2)
    expect(pixel(out, 0, 0)).toEqual([0, 0, 0]);
    expect(pixel(out, 1, 2)).toEqual([0, 0, 200]);
    expect(pixel(out, 3, 2)).toEqual([20, 0, 200]);
  });

  it('interpolates bilinearly between pixel centres and rounds', () => {
    const out = warpAffineRgb(src, [1, 0, -0.5, 0, 1, -0.5], 2, 2); // destination (0, 0) samples source (0.5, 0.5)
    expect(pixel(out, 0, 0)).toEqual([5, 5, 200]);
    expect(pixel(out, 1, 1)).toEqual([15, 15, 200]);
    const ramp = image(2, 1, (x) => [x * 255, 0, 0]);
    expect(pixel(warpAffineRgb(ramp, [1, 0, -0.5, 0, 1, 0], 1, 1), 0, 0)).toEqual([128, 0, 0]); // 127.5 rounds up
  });

  it('blends border samples with black, like a constant 0 border', () => {
    const white = image(2, 2, () => [255, 255, 255]);
    const out = warpAffineRgb(white, [1, 0, 0.5, 0, 1, 0], 3, 2); // destination (0, y) samples x = -0.5
    expect(pixel(out, 0, 0)).toEqual([128, 128, 128]);
    expect(pixel(out, 1, 0)).toEqual([255, 255, 255]);
    expect(pixel(out, 2, 0)).toEqual([128, 128, 128]); // samples x = 1.5: half of it past the right edge
  });

  it('scales down and up', () => {
    const big = warpAffineRgb(src, [2, 0, 0, 0, 2, 0], 8, 6);
    expect(pixel(big, 2, 2)).toEqual([10, 10, 200]);
    expect(pixel(big, 3, 2)).toEqual([15, 10, 200]);
  });

  it('writes into a given buffer and checks its size', () => {
    const buf = new Uint8Array(4 * 3 * 3).fill(7);
    const out = warpAffineRgb(src, [1, 0, 0, 0, 1, 0], 4, 3, buf);
    expect(out.data).toBe(buf);
    expect(buf).toEqual(src.data);
    expect(() => warpAffineRgb(src, [1, 0, 0, 0, 1, 0], 4, 4, buf)).toThrow(/need 48/);
    expect(() => warpAffineRgb({ ...src, width: 5 }, [1, 0, 0, 0, 1, 0], 4, 3)).toThrow(/expected 45 RGB bytes/);
    expect(() => warpAffineRgb(src, [1, 0, 0, 0, 1, 0], 0, 3)).toThrow(/bad output size/);
  });
});

describe('alignFace', () => {
  // A 300x300 image, colour = position, so a sample shows where it came from.
  const photo = image(300, 300, (x, y) => [x % 256, y % 256, (x + y) % 256]);

  it('is the identity crop when the landmarks already sit on the template', () => {
    const out = alignFace(photo, ARCFACE_TEMPLATE_112);
    expect(out.width).toBe(112);
    expect(out.height).toBe(112);
    expect(pixel(out, 30, 70)).toEqual([30, 70, 100]);
  });

  it('undoes the scale, rotation and shift of the face', () => {
    // The template turned by 90 degrees, doubled and moved: the crop's (x, y) comes from (150 - 2y, 20 + 2x).
    const lm = ARCFACE_TEMPLATE_112.map(([x, y]) => [150 - 2 * y, 20 + 2 * x] as [number, number]);
    const out = alignFace(photo, lm);
    expect(pixel(out, 10, 40)).toEqual([70, 40, 110]);
    expect(pixel(out, 56, 60)).toEqual([30, 132, 162]);
  });

  it('scales the template for other crop sizes', () => {
    const lm = ARCFACE_TEMPLATE_112.map(([x, y]) => [x * 2, y * 2] as [number, number]);
    const out = alignFace(photo, lm, 224);
    expect(out.width).toBe(224);
    expect(pixel(out, 100, 150)).toEqual([100, 150, 250]);
  });

  it('needs 5 landmarks', () => {
    expect(() => alignFace(photo, SRC.slice(0, 4))).toThrow(/expected 5 landmarks/);
  });
});

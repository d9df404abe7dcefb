import { describe, expect, it } from 'vitest';
import { laplacianVariance, rgbToGrey } from '../blur.js';
import type { RgbImage } from '../image-tensor.js';
import { DEFAULT_ENROLLMENT_LIMITS, estimatePose, faceQuality, faceSharpness, judgeEnrollment, type FaceQuality } from './quality.js';

type Pt = [number, number];

// A frontal face as YuNet marks it: eyes 100 px apart, nose tip 0.58 of the way down to a mouth line 100 px below.
const FRONTAL: Pt[] = [
  [100, 100],
  [200, 100],
  [150, 158],
  [110, 200],
  [190, 200],
];

function rotate(points: Pt[], deg: number, cx = 150, cy = 150): Pt[] {
  const r = (deg * Math.PI) / 180;
  return points.map(([x, y]) => [cx + (x - cx) * Math.cos(r) - (y - cy) * Math.sin(r), cy + (x - cx) * Math.sin(r) + (y - cy) * Math.cos(r)]);
}

function withNose(dx: number, dy: number): Pt[] {
  return FRONTAL.map((p, i) => (i === 2 ? [p[0] + dx, p[1] + dy] : p));
}

/** A grey RGB image, with a 1-px checkerboard of contrast `c` where `inside(x, y)`. */
function image(w: number, h: number, inside: (x: number, y: number) => boolean, c = 100): RgbImage {
  const data = new Uint8Array(w * h * 3).fill(128);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) if (inside(x, y)) data.fill((x + y) % 2 ? 128 + c : 128 - c, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  return { data, width: w, height: h };
}

describe('estimatePose', () => {
  it('is zero for a frontal face', () => {
    const p = estimatePose(FRONTAL);
    expect(p.yaw).toBeCloseTo(0, 9);
    expect(p.pitch).toBeCloseTo(0, 9);
    expect(p.roll).toBeCloseTo(0, 9);
  });

  it('reads roll from the eye line, leaving yaw and pitch alone', () => {
    const p = estimatePose(rotate(FRONTAL, 30));
    expect(p.roll).toBeCloseTo(30, 9);
    expect(p.yaw).toBeCloseTo(0, 9);
    expect(p.pitch).toBeCloseTo(0, 9);
    expect(estimatePose(rotate(FRONTAL, -10)).roll).toBeCloseTo(-10, 9);
  });

  it('reads yaw from the nose offset: 0.45 eye distances is 45 degrees, signed by side', () => {
    expect(estimatePose(withNose(45, 0)).yaw).toBeCloseTo(45, 9);
    expect(estimatePose(withNose(-45, 0)).yaw).toBeCloseTo(-45, 9);
    expect(estimatePose(withNose(15, 0)).yaw).toBeCloseTo((Math.atan(1 / 3) * 180) / Math.PI, 9);
    // Turned and tilted in the image plane: the same yaw.
    expect(estimatePose(rotate(withNose(45, 0), 25)).yaw).toBeCloseTo(45, 9);
  });

  it('reads pitch from the nose height between eyes and mouth: up is positive', () => {
    expect(estimatePose(withNose(0, -40)).pitch).toBeCloseTo(45, 9); // t = 0.18: (0.58 - 0.18) / 0.4 = 1
    expect(estimatePose(withNose(0, 40)).pitch).toBeCloseTo(-45, 9);
    expect(estimatePose(rotate(withNose(0, -40), -40)).pitch).toBeCloseTo(45, 9);
  });

  it('does not depend on the face size', () => {
    const big = estimatePose(withNose(20, 10).map(([x, y]) => [x * 3, y * 3] as Pt));
    const small = estimatePose(withNose(20, 10));
    expect(big.yaw).toBeCloseTo(small.yaw, 9);
    expect(big.pitch).toBeCloseTo(small.pitch, 9);
  });

  it('gives NaN for landmarks that make no face, and wants 5', () => {
    const p = estimatePose([[5, 5], [5, 5], [5, 9], [3, 12], [7, 12]]);
    expect(p.yaw).toBeNaN();
    expect(estimatePose([[0, 0], [10, 0], [5, 3], [0, -5], [10, -5]]).pitch).toBeNaN(); // mouth above the eyes
    expect(() => estimatePose(FRONTAL.slice(0, 4))).toThrow(/expected 5 landmarks/);
  });
});

describe('faceSharpness', () => {
  it('measures only the inner face region (x 24..88, y 32..104 of 112)', () => {
    expect(faceSharpness(image(112, 112, () => false))).toBe(0);
    // Texture in the hair, background and border: not the face's sharpness.
    const outside = image(112, 112, (x, y) => x < 24 || x >= 88 || y < 32 || y >= 104);
    expect(faceSharpness(outside)).toBe(0);
    const inner = image(112, 112, (x, y) => x >= 24 && x < 88 && y >= 32 && y < 104);
    const region = image(64, 72, () => true);
    expect(faceSharpness(inner)).toBeCloseTo(laplacianVariance(rgbToGrey(region.data, 3, 64, 72)), 9);
  });

  it('scales the region with the crop', () => {
    expect(faceSharpness(image(224, 224, (x, y) => x >= 48 && x < 176 && y >= 64 && y < 208))).toBeGreaterThan(0);
    expect(faceSharpness(image(224, 224, (x, y) => x < 48 || y < 64))).toBe(0);
  });
});

describe('faceQuality', () => {
  const whole = image(200, 200, () => false);
  const sharpCrop = image(112, 112, () => true);

  it('measures size (box clipped to the image), sharpness and pose', () => {
    const q = faceQuality(whole, { box: { x1: -20, y1: 10, x2: 60, y2: 150 }, landmarks: FRONTAL, score: 0.9 }, sharpCrop);
    expect(q.size).toBe(60);
    expect(q.sharpness).toBeGreaterThan(10_000);
    expect(q.yaw).toBeCloseTo(0, 9);
    // Detector 0.9, size (60 - 20) / (112 - 20), sharp (1), frontal (1).
    expect(q.score).toBeCloseTo((0.9 * 40) / 92, 9);
  });

  it('scores lower for a blurrier, smaller or turned face, within 0..1', () => {
    const box = { x1: 0, y1: 0, x2: 150, y2: 150 };
    const best = faceQuality(whole, { box, landmarks: FRONTAL, score: 1 }, sharpCrop);
    expect(best.score).toBe(1);
    const soft = faceQuality(whole, { box, landmarks: FRONTAL, score: 1 }, image(112, 112, () => true, 1));
    expect(soft.score).toBeGreaterThan(0);
    expect(soft.score).toBeLessThan(1);
    const turned = faceQuality(whole, { box, landmarks: withNose(45, 0), score: 1 }, sharpCrop);
    expect(turned.score).toBeCloseTo(Math.SQRT1_2, 9);
    const tiny = faceQuality(whole, { box: { x1: 0, y1: 0, x2: 15, y2: 15 }, landmarks: FRONTAL, score: 1 }, sharpCrop);
    expect(tiny.score).toBe(0);
    const broken = faceQuality(whole, { box, landmarks: FRONTAL.map(() => [5, 5] as Pt), score: Number.NaN }, sharpCrop);
    expect(broken.score).toBe(0);
  });
});

describe('judgeEnrollment', () => {
  const good: FaceQuality = { size: 120, sharpness: 500, yaw: 10, pitch: -5, roll: 3, score: 0.9 };

  it('accepts a good face', () => {
    expect(judgeEnrollment(good)).toBeNull();
    expect(judgeEnrollment({ ...good, yaw: -45, pitch: 40 })).toBeNull(); // limits are inclusive
  });

  it('says why a face is refused', () => {
    expect(judgeEnrollment({ ...good, size: 32.4 })).toBe('face too small: 32 px across, at least 40 px needed');
    expect(judgeEnrollment({ ...good, sharpness: 12.34 })).toBe(
      `face too blurry: sharpness 12.3, at least ${DEFAULT_ENROLLMENT_LIMITS.minSharpness} needed`,
    );
    expect(judgeEnrollment({ ...good, yaw: -60 })).toBe('face turned away: about 60° to the side, at most 45° allowed');
    expect(judgeEnrollment({ ...good, pitch: 50 })).toBe('face tilted up: about 50°, at most 40° allowed');
    expect(judgeEnrollment({ ...good, pitch: -41 })).toBe('face tilted down: about 41°, at most 40° allowed');
  });

  it('reports the first problem: size, then sharpness, then pose', () => {
    expect(judgeEnrollment({ ...good, size: 10, sharpness: 1, yaw: 80 })).toMatch(/too small/);
    expect(judgeEnrollment({ ...good, sharpness: 1, yaw: 80 })).toMatch(/too blurry/);
  });

  it('refuses measurements that are NaN', () => {
    expect(judgeEnrollment({ ...good, yaw: Number.NaN })).toMatch(/turned away/);
    expect(judgeEnrollment({ ...good, sharpness: Number.NaN })).toMatch(/too blurry/);
  });

  it('takes other limits', () => {
    const strict = { minSize: 200, minSharpness: 10, maxYaw: 5, maxPitch: 5 };
    expect(judgeEnrollment(good, strict)).toMatch(/at least 200 px/);
    expect(judgeEnrollment({ ...good, size: 300 }, strict)).toMatch(/at most 5°/);
  });
});

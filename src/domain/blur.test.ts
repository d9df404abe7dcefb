import { describe, expect, it } from 'vitest';
import { HF_SIZE, highFrequencyRatio, judgeBlur, laplacianVariance, rgbToGrey } from './blur.js';

function image(width: number, height: number, f: (x: number, y: number) => number) {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { data, width, height };
}

describe('laplacianVariance', () => {
  it('is zero on a flat image', () => {
    expect(laplacianVariance(image(16, 16, () => 77))).toBe(0);
  });

  it('matches a hand computation on a single bright pixel', () => {
    // One 100 in a 5x5 field of 0: Laplacian is -400 at it and 100 at its 4 neighbours, 0 elsewhere.
    const img = image(5, 5, (x, y) => (x === 2 && y === 2 ? 100 : 0));
    const values = [-400, 100, 100, 100, 100];
    const mean = values.reduce((a, b) => a + b) / 25;
    const expected = values.reduce((a, v) => a + v * v, 0) / 25 - mean * mean;
    expect(laplacianVariance(img)).toBeCloseTo(expected, 9);
  });

  it('uses reflect-101 borders like OpenCV (outside pixel -1 reads pixel 1)', () => {
    // A horizontal ramp: 0 inside, but at the right border reflect-101 gives 2*f(w-2) - 2*f(w-1) = -20.
    const ramp = image(4, 3, (x) => x * 10);
    const lapRamp = [20, 0, 0, -20, 20, 0, 0, -20, 20, 0, 0, -20];
    const m = lapRamp.reduce((a, b) => a + b) / 12;
    expect(laplacianVariance(ramp)).toBeCloseTo(lapRamp.reduce((a, v) => a + v * v, 0) / 12 - m * m, 9);
    // A corner pixel: its outside neighbours are reflections of inner ones (0), so only it and two neighbours move.
    const img = image(3, 3, (x, y) => (x === 0 && y === 0 ? 10 : 0));
    const lap = [-40, 10, 0, 10, 0, 0, 0, 0, 0];
    const mean = lap.reduce((a, b) => a + b) / 9;
    expect(laplacianVariance(img)).toBeCloseTo(lap.reduce((a, v) => a + v * v, 0) / 9 - mean * mean, 9);
  });

  it('is larger for a checkerboard than for a smooth gradient', () => {
    const sharp = laplacianVariance(image(64, 64, (x, y) => ((x >> 2) + (y >> 2)) % 2 === 0 ? 0 : 255));
    const smooth = laplacianVariance(image(64, 64, (x, y) => Math.round(127 + 100 * Math.sin(x / 10) * Math.cos(y / 10))));
    expect(sharp).toBeGreaterThan(100 * smooth);
  });
});

describe('highFrequencyRatio', () => {
  it('is high for fine texture and low for a smooth image', () => {
    const fine = highFrequencyRatio(image(HF_SIZE, HF_SIZE, (x, y) => ((x + y) % 2 === 0 ? 0 : 255)));
    const smooth = highFrequencyRatio(image(HF_SIZE, HF_SIZE, (x, y) => Math.round(127 + 100 * Math.sin(x / 20) * Math.cos(y / 25))));
    expect(fine).toBeGreaterThan(0.9);
    expect(smooth).toBeLessThan(0.05);
  });
});

describe('judgeBlur', () => {
  it('is blurry below the threshold, with confidence growing away from it', () => {
    expect(judgeBlur(11, 100).isBlurry).toBe(true);
    expect(judgeBlur(791, 100).isBlurry).toBe(false);
    expect(judgeBlur(99, 100).confidence).toBeLessThan(0.05);
    expect(judgeBlur(11, 100).confidence).toBeGreaterThan(0.9);
  });
});

describe('rgbToGrey', () => {
  it('uses the BT.601 weights of OpenCV', () => {
    const g = rgbToGrey(Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]), 3, 4, 1);
    expect([...g.data]).toEqual([76, 150, 29, 255]);
  });
});

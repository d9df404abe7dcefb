import { describe, expect, it } from 'vitest';
import type { Box } from '../geometry.js';
import type { OutputTensor } from './detection.js';
import { decodeYolox, yolox } from './yolox.js';

// A 64x32 input: strides 8, 16, 32 give grids 8x4, 4x2 and 2x1, so N = 32 + 8 + 2 = 42 rows; 3 classes, 8 columns.
const INPUT = { width: 64, height: 32, numClasses: 3 };
const N = 42;
const COLS = 8;

function tensor(batches: Float32Array[]): ReadonlyMap<string, OutputTensor> {
  const data = new Float32Array(batches.length * N * COLS);
  batches.forEach((b, i) => data.set(b, i * N * COLS));
  return new Map([['output', { data, dims: [batches.length, N, COLS] }]]);
}

function image(rows: Record<number, number[]>): Float32Array {
  const data = new Float32Array(N * COLS);
  for (const [r, v] of Object.entries(rows)) data.set(v, Number(r) * COLS);
  return data;
}

function expectBox(actual: Box | undefined, expected: Box): void {
  expect(actual).toBeDefined();
  for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(actual?.[k]).toBeCloseTo(expected[k], 4);
}

// Stride 8, grid row 2, col 5 is row 2 * 8 + 5 = 21; stride 16 row 1 col 3 is 32 + 1 * 4 + 3 = 39; stride 32 col 1 is 41.
const ROWS = {
  21: [0.5, 0.25, Math.log(2), 0, 0.875, 0.125, 0.75, 0.25], // class 1, score 0.65625; centre (44, 18), 16x8
  39: [0, 0, 0, Math.log(3), 0.5, 0.625, 0, 0], // class 0, score 0.3125; centre (48, 16), 16x48
  41: [0.5, 0.5, 0, 0, 0.5, 0, 0, 0.375], // score 0.1875: below 0.25
  3: [0, 0, 0, 0, 0.125, 1, 1, 1], // objectness alone is below the threshold
  10: [0, 0, 0, 0, 0.5, 0, 0, 0.5], // class 2 at exactly the threshold 0.25: kept
};

describe('decodeYolox', () => {
  it('decodes grid offsets and log sizes per stride, best class, score = objectness x class', () => {
    const out = decodeYolox(tensor([image(ROWS)]), INPUT, 0.25);
    expect(out.map((c) => [c.classId, c.score])).toEqual([
      [2, 0.25],
      [1, 0.65625],
      [0, 0.3125],
    ]);
    // Row 10: stride 8, grid row 1, col 2: centre (16, 8), 8x8.
    expectBox(out[0]?.box, { x1: 12, y1: 4, x2: 20, y2: 12 });
    expectBox(out[1]?.box, { x1: 36, y1: 14, x2: 52, y2: 22 });
    expectBox(out[2]?.box, { x1: 40, y1: -8, x2: 56, y2: 40 });
  });

  it('reads the requested batch entry', () => {
    const other = image({ 41: [0.5, 0.5, 0, 0, 1, 0, 1, 0] }); // stride 32, col 1: centre (48, 16), 32x32
    const outputs = tensor([image(ROWS), other]);
    const out = yolox(outputs, INPUT, 0.25);
    expect(out).toHaveLength(3);
    const second = decodeYolox(outputs, INPUT, 0.25, 1);
    expect(second.map((c) => [c.classId, c.score])).toEqual([[1, 1]]);
    expectBox(second[0]?.box, { x1: 32, y1: 0, x2: 64, y2: 32 });
  });

  it('returns nothing for an empty image', () => {
    expect(decodeYolox(tensor([image({})]), INPUT, 0.1)).toEqual([]);
  });

  it('rejects outputs that do not fit the input size, class count or batch', () => {
    expect(() => decodeYolox(tensor([image({})]), { ...INPUT, width: 96 }, 0.5)).toThrow(/42 rows/);
    expect(() => decodeYolox(tensor([image({})]), { ...INPUT, numClasses: 80 }, 0.5)).toThrow(/\[batch, N, 85\]/);
    expect(() => decodeYolox(tensor([image({})]), INPUT, 0.5, 1)).toThrow(/batch index 1/);
    expect(() => decodeYolox(tensor([image({})]), { ...INPUT, numClasses: 0 }, 0.5)).toThrow(/numClasses/);
  });
});

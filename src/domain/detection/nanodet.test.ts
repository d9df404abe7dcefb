import { describe, expect, it } from 'vitest';
import type { Box } from '../geometry.js';
import type { OutputTensor } from './detection.js';
import { decodeNanodet, nanodet } from './nanodet.js';

// A 32x32 input: strides 8, 16, 32 give 4x4, 2x2 and 1x1 grids (16, 4, 1 cells); 2 classes; 8 bins per side.
const INPUT = { width: 32, height: 32, numClasses: 2 };
const BINS = 8;
const CELLS = { 8: 16, 16: 4, 32: 1 } as const;
type Stride = keyof typeof CELLS;

interface Cell {
  readonly scores: number[];
  /** Per side (left, top, right, bottom): the bin logits, or a number k for "all mass on bin k". */
  readonly sides: (number | number[])[];
}

function head(stride: Stride, cells: Record<number, Cell>): [OutputTensor, OutputTensor] {
  const n = CELLS[stride];
  const scores = new Float32Array(n * 2);
  const dists = new Float32Array(n * 4 * BINS);
  for (const [i, cell] of Object.entries(cells)) {
    scores.set(cell.scores, Number(i) * 2);
    cell.sides.forEach((side, k) => {
      const logits = typeof side === 'number' ? Array.from({ length: BINS }, (_, b) => (b === side ? 60 : 0)) : side;
      dists.set(logits, (Number(i) * 4 + k) * BINS);
    });
  }
  return [
    { data: scores, dims: [1, n, 2] },
    { data: dists, dims: [1, n, 4 * BINS] },
  ];
}

function expectBox(actual: Box | undefined, expected: Box): void {
  expect(actual).toBeDefined();
  for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(actual?.[k]).toBeCloseTo(expected[k], 6);
}

const [s8, d8] = head(8, {
  6: { scores: [0.25, 0.875], sides: [1, 2, 3, 0] }, // row 1, col 2: centre (20, 12)
  0: { scores: [0.125, 0.0625], sides: [7, 7, 7, 7] }, // below the threshold
});
const [s16, d16] = head(16, {
  3: { scores: [0.5, 0.5], sides: [[0, 9, 0, 9, 0, 0, 0, 0].map((v) => v * 5), 0, 0, 1] }, // tie: class 0
});
const [s32, d32] = head(32, { 0: { scores: [0.25, 0.375], sides: [0, 0, 0, 0] } });

describe('decodeNanodet', () => {
  it('finds each head by shape, whatever the names and order, and decodes centre -/+ distances', () => {
    // Declared in a shuffled order under exporter-style numeric names.
    const outputs = new Map<string, OutputTensor>([
      ['839', d32],
      ['792', s8],
      ['817', d16],
      ['814', s16],
      ['836', s32],
      ['795', d8],
    ]);
    const out = nanodet(outputs, INPUT, 0.3);
    expect(out.map((c) => [c.classId, c.score])).toEqual([
      [1, 0.875],
      [0, 0.5],
      [1, 0.375],
    ]);
    // Stride 8 cell 6: distances (1, 2, 3, 0) bins x 8 = (8, 16, 24, 0) around (20, 12).
    expectBox(out[0]?.box, { x1: 12, y1: -4, x2: 44, y2: 12 });
    // Stride 16 cell 3 (row 1, col 1): centre (24, 24); left side split evenly between bins 1 and 3: expectation 2.
    expectBox(out[1]?.box, { x1: 24 - 32, y1: 24, x2: 24, y2: 24 + 16 });
    // Stride 32, the one cell: centre (16, 16), zero distances.
    expectBox(out[2]?.box, { x1: 16, y1: 16, x2: 16, y2: 16 });
  });

  it('reads the requested batch entry', () => {
    const twice = (t: OutputTensor, second: (d: Float32Array) => void): OutputTensor => {
      const data = new Float32Array(t.data.length * 2);
      data.set(t.data);
      second(data.subarray(t.data.length));
      return { data, dims: [2, t.dims[1] ?? 0, t.dims[2] ?? 0] };
    };
    const empty = (): void => undefined;
    const outputs = new Map<string, OutputTensor>([
      ['a', twice(s8, empty)],
      ['b', twice(s16, empty)],
      ['c', twice(s32, (d) => d.set([0.75, 0]))],
      ['d', twice(d8, empty)],
      ['e', twice(d16, empty)],
      ['f', twice(d32, empty)],
    ]);
    // Batch 1 has only the stride-32 cell, class 0 at 0.75; its distributions are all-zero logits: uniform, 3.5 bins.
    const out = decodeNanodet(outputs, INPUT, 0.3, 1);
    expect(out.map((c) => [c.classId, c.score])).toEqual([[0, 0.75]]);
    expectBox(out[0]?.box, { x1: 16 - 112, y1: 16 - 112, x2: 16 + 112, y2: 16 + 112 });
  });

  it('takes the first declared of two same-shaped outputs as the scores when C = 4 x bins', () => {
    const n = 1;
    const scores = new Float32Array(32);
    scores[5] = 0.9;
    const dists = new Float32Array(32); // uniform: 3.5 bins
    const small = { width: 32, height: 32, numClasses: 32 };
    const z = (rows: number, cols: number): OutputTensor => ({ data: new Float32Array(rows * cols), dims: [1, rows, cols] });
    const outputs = new Map<string, OutputTensor>([
      ['s8', z(16, 32)],
      ['s16', z(4, 32)],
      ['s32', { data: scores, dims: [1, n, 32] }],
      ['d8', z(16, 32)],
      ['d16', z(4, 32)],
      ['d32', { data: dists, dims: [1, n, 32] }],
    ]);
    const out = decodeNanodet(outputs, small, 0.5);
    expect(out.map((c) => [c.classId, c.score])).toEqual([[5, expect.closeTo(0.9, 6) as number]]);
  });

  it('names what it expected when a head is missing', () => {
    const outputs = new Map<string, OutputTensor>([
      ['792', s8],
      ['795', d8],
    ]);
    expect(() => decodeNanodet(outputs, INPUT, 0.3)).toThrow(/stride 16 needs outputs \[batch, 4, 2\]/);
  });
});

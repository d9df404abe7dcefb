import { describe, expect, it } from 'vitest';
import type { Box } from '../geometry.js';
import type { OutputTensor } from './detection.js';
import { decodePicodet, picodet } from './picodet.js';

// A 64x64 input: strides 8, 16, 32, 64 give 8x8, 4x4, 2x2 and 1x1 grids (64, 16, 4, 1 cells); 3 classes; 8 bins.
const INPUT = { width: 64, height: 64, numClasses: 3 };
const BINS = 8;
const CELLS = { 8: 64, 16: 16, 32: 4, 64: 1 } as const;
type Stride = keyof typeof CELLS;

interface Cell {
  readonly scores: number[];
  /** Per side (left, top, right, bottom): the bin logits, or a number k for "all mass on bin k". */
  readonly sides: (number | number[])[];
}

function head(stride: Stride, cells: Record<number, Cell> = {}): [OutputTensor, OutputTensor] {
  const n = CELLS[stride];
  const scores = new Float32Array(n * 3);
  const dists = new Float32Array(n * 4 * BINS);
  for (const [i, cell] of Object.entries(cells)) {
    scores.set(cell.scores, Number(i) * 3);
    cell.sides.forEach((side, k) => {
      const logits = typeof side === 'number' ? Array.from({ length: BINS }, (_, b) => (b === side ? 60 : 0)) : side;
      dists.set(logits, (Number(i) * 4 + k) * BINS);
    });
  }
  return [
    { data: scores, dims: [1, n, 3] },
    { data: dists, dims: [1, n, 4 * BINS] },
  ];
}

function expectBox(actual: Box | undefined, expected: Box): void {
  expect(actual).toBeDefined();
  for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(actual?.[k]).toBeCloseTo(expected[k], 6);
}

// Stride 8, cell 19 = row 2, col 3: centre (28, 20).
const [s8, d8] = head(8, { 19: { scores: [0.125, 0.25, 0.875], sides: [1, 2, 3, 4] }, 0: { scores: [0.25, 0.125, 0.0625], sides: [0, 0, 0, 0] } });
// Stride 16, cell 6 = row 1, col 2: centre (40, 24); the left side's mass split evenly between bins 2 and 4.
const [s16, d16] = head(16, { 6: { scores: [0.625, 0.25, 0.25], sides: [[0, 0, 9, 0, 9, 0, 0, 0].map((v) => v * 5), 0, 1, 0] } });
const [s32, d32] = head(32);
// Stride 64, the one cell: centre (32, 32), one bin (64 px) on every side.
const [s64, d64] = head(64, { 0: { scores: [0.0625, 0.75, 0.125], sides: [1, 1, 1, 1] } });

/** The eight outputs as the PicoDet export declares them: four score maps, then four distributions. */
const EXPORT = new Map<string, OutputTensor>([
  ['save_infer_model/scale_0.tmp_1', s8],
  ['save_infer_model/scale_1.tmp_1', s16],
  ['save_infer_model/scale_2.tmp_1', s32],
  ['save_infer_model/scale_3.tmp_1', s64],
  ['save_infer_model/scale_4.tmp_1', d8],
  ['save_infer_model/scale_5.tmp_1', d16],
  ['save_infer_model/scale_6.tmp_1', d32],
  ['save_infer_model/scale_7.tmp_1', d64],
]);

describe('decodePicodet', () => {
  it('decodes all four strides: best class per cell, centre -/+ expected distances x stride', () => {
    const out = picodet(EXPORT, INPUT, 0.3);
    expect(out.map((c) => [c.classId, c.score])).toEqual([
      [2, 0.875],
      [0, 0.625],
      [1, 0.75],
    ]);
    // (1, 2, 3, 4) bins x 8 around (28, 20).
    expectBox(out[0]?.box, { x1: 28 - 8, y1: 20 - 16, x2: 28 + 24, y2: 20 + 32 });
    // Left expectation (2 + 4) / 2 = 3 bins x 16 around (40, 24); right 1 bin.
    expectBox(out[1]?.box, { x1: 40 - 48, y1: 24, x2: 40 + 16, y2: 24 });
    expectBox(out[2]?.box, { x1: 32 - 64, y1: 32 - 64, x2: 32 + 64, y2: 32 + 64 });
  });

  it('pairs outputs by shape whatever their order', () => {
    const shuffled = new Map([...EXPORT].reverse());
    expect(decodePicodet(shuffled, INPUT, 0.3)).toEqual(decodePicodet(EXPORT, INPUT, 0.3));
  });

  it('keeps a cell exactly at the threshold and drops those below', () => {
    expect(decodePicodet(EXPORT, INPUT, 0.75).map((c) => c.classId)).toEqual([2, 1]);
    expect(decodePicodet(EXPORT, INPUT, 0.95)).toEqual([]);
  });

  it('reads the requested batch entry', () => {
    const twice = (t: OutputTensor, second?: (d: Float32Array) => void): OutputTensor => {
      const data = new Float32Array(t.data.length * 2);
      second?.(data.subarray(t.data.length));
      return { data, dims: [2, t.dims[1] ?? 0, t.dims[2] ?? 0] };
    };
    const outputs = new Map<string, OutputTensor>([
      ['a', twice(s8)],
      ['b', twice(s16)],
      ['c', twice(s32, (d) => d.set([0, 0.8125, 0], 3 * 3))], // cell 3 = row 1, col 1: centre (48, 48)
      ['d', twice(s64)],
      ['e', twice(d8)],
      ['f', twice(d16)],
      ['g', twice(d32)], // all-zero logits: uniform, 3.5 bins
      ['h', twice(d64)],
    ]);
    const out = decodePicodet(outputs, INPUT, 0.3, 1);
    expect(out.map((c) => [c.classId, c.score])).toEqual([[1, 0.8125]]);
    expectBox(out[0]?.box, { x1: 48 - 112, y1: 48 - 112, x2: 48 + 112, y2: 48 + 112 });
  });

  it('names the missing stride-64 head of a three-head (NanoDet-style) model', () => {
    const threeHeads = new Map<string, OutputTensor>([
      ['s8', s8],
      ['s16', s16],
      ['s32', s32],
      ['d8', d8],
      ['d16', d16],
      ['d32', d32],
    ]);
    expect(() => decodePicodet(threeHeads, INPUT, 0.3)).toThrow(/picodet: stride 64 needs outputs \[batch, 1, 3\]/);
  });
});

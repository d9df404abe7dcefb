import { describe, expect, it } from 'vitest';
import type { OutputTensor } from '../detection/detection.js';
import { planLetterbox, unletterbox } from '../geometry.js';
import { decodeYunet, mapFace, YUNET_STRIDES, type FaceCandidate } from './yunet.js';

// A 64x32 input: strides 8, 16, 32 give grids 8x4, 4x2 and 2x1 cells.
const INPUT = { width: 64, height: 32 };
const CELLS: Record<number, number> = { 8: 32, 16: 8, 32: 2 };

/** One face's raw head values at one grid cell. */
interface Cell {
  stride: number;
  index: number;
  cls: number;
  obj: number;
  bbox: [number, number, number, number];
  kps?: number[];
}

/** YuNet's twelve outputs for a batch of images, each given as the cells that are not zero. */
function outputs(batch: Cell[][]): Map<string, OutputTensor> {
  const m = new Map<string, OutputTensor>();
  for (const s of YUNET_STRIDES) {
    const n = CELLS[s]!;
    const make = (name: string, cols: number, fill: (c: Cell) => number[]): void => {
      const data = new Float32Array(batch.length * n * cols);
      batch.forEach((cells, b) => {
        for (const c of cells) if (c.stride === s) data.set(fill(c), (b * n + c.index) * cols);
      });
      m.set(`${name}_${s}`, { data, dims: [batch.length, n, cols] });
    };
    make('cls', 1, (c) => [c.cls]);
    make('obj', 1, (c) => [c.obj]);
    make('bbox', 4, (c) => c.bbox);
    make('kps', 10, (c) => c.kps ?? new Array<number>(10).fill(0));
  }
  return m;
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
}

function flat(f: FaceCandidate | undefined): number[] {
  expect(f).toBeDefined();
  const b = f!.box;
  return [b.x1, b.y1, b.x2, b.y2, ...f!.landmarks.flat()];
}

// Stride 8, grid row 2, col 5 is cell 2 * 8 + 5 = 21.
const FACE: Cell = {
  stride: 8,
  index: 21,
  cls: 0.81,
  obj: 1,
  bbox: [0.5, 0.25, Math.log(2), 0],
  kps: [0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1],
};

describe('decodeYunet', () => {
  it('decodes the score, box and landmarks of a grid cell', () => {
    const [f, ...rest] = decodeYunet(outputs([[FACE]]), INPUT, 0.5);
    expect(rest).toEqual([]);
    expect(f!.score).toBeCloseTo(0.9, 6); // sqrt(0.81 * 1)
    // Centre ((5 + 0.5) * 8, (2 + 0.25) * 8) = (44, 18), size 16 x 8; landmark n at ((5 + dx) * 8, (2 + dy) * 8).
    expectClose(flat(f), [36, 14, 52, 22, 40, 16, 48, 16, 44, 20, 40, 24, 48, 24]);
  });

  it('finds cells of the coarser strides by row and column', () => {
    // Stride 16: row 1, col 3 = cell 7; stride 32: row 0, col 0 = cell 0.
    const cells: Cell[] = [
      { stride: 16, index: 7, cls: 0.64, obj: 1, bbox: [0, 0, 0, Math.log(2)] },
      { stride: 32, index: 0, cls: 0.49, obj: 1, bbox: [0.5, 0.5, 0, 0] },
    ];
    const out = decodeYunet(outputs([cells]), INPUT, 0.5);
    expect(out.map((f) => f.score)).toEqual([expect.closeTo(0.8, 6), expect.closeTo(0.7, 6)]);
    expectClose(flat(out[0]).slice(0, 4), [40, 0, 56, 32]); // centre (48, 16), 16 x 32
    expectClose(flat(out[1]).slice(0, 6), [0, 0, 32, 32, 0, 0]); // centre (16, 16), 32 x 32; landmark at the cell corner
  });

  it('clamps the two score heads to 0..1 before the geometric mean', () => {
    const cells: Cell[] = [
      { ...FACE, cls: 1.5, obj: 0.64 }, // sqrt(1 * 0.64) = 0.8
      { ...FACE, index: 0, cls: 2, obj: 0.25 }, // sqrt(1 * 0.25) = 0.5, not sqrt(0.5)
      { ...FACE, index: 3, cls: 0.5, obj: -0.5 }, // 0, not NaN
    ];
    const out = decodeYunet(outputs([cells]), INPUT, 0.1);
    expect(out.map((f) => f.score)).toEqual([expect.closeTo(0.8, 6), expect.closeTo(0.5, 6)]);
    expect(decodeYunet(outputs([cells]), INPUT, 0).every((f) => f.score >= 0 && f.score <= 1)).toBe(true);
  });

  it('keeps scores at the threshold and drops those below it, and NaN', () => {
    const cells: Cell[] = [
      { ...FACE, cls: 0.25, obj: 1 }, // 0.5: kept at 0.5
      { ...FACE, index: 0, cls: 0.24, obj: 1 }, // 0.49: dropped
      { ...FACE, index: 3, cls: Number.NaN, obj: 1 },
    ];
    expect(decodeYunet(outputs([cells]), INPUT, 0.5).map((f) => f.score)).toEqual([0.5]);
  });

  it('suppresses overlapping faces across strides, keeping the best, best first', () => {
    const cells: Cell[] = [
      { ...FACE, cls: 0.64 }, // 0.8, box 36..52 x 14..22
      { ...FACE, index: 22, cls: 0.81, bbox: [0, 0.25, Math.log(2), 0] }, // 0.9, same size 4 px right: IoU 0.6
      { ...FACE, index: 0, cls: 0.49 }, // 0.7, far away
    ];
    const out = decodeYunet(outputs([cells]), INPUT, 0.5);
    expect(out.map((f) => f.score)).toEqual([expect.closeTo(0.9, 6), expect.closeTo(0.7, 6)]);
    expect(out[0]!.box.x1).toBeCloseTo(40, 4);
    // A looser NMS keeps both overlapping faces.
    expect(decodeYunet(outputs([cells]), INPUT, 0.5, 0.7)).toHaveLength(3);
  });

  it('reads the requested image of a batch', () => {
    const out = outputs([[], [FACE]]);
    expect(decodeYunet(out, INPUT, 0.5)).toEqual([]);
    expect(decodeYunet(out, INPUT, 0.5, 0.3, 1)).toHaveLength(1);
    expect(() => decodeYunet(out, INPUT, 0.5, 0.3, 2)).toThrow(/batch index 2/);
  });

  it('names a missing output and a shape that does not fit the input size', () => {
    const out = outputs([[FACE]]);
    out.delete('kps_16');
    expect(() => decodeYunet(out, INPUT, 0.5)).toThrow(/missing output kps_16/);
    expect(() => decodeYunet(outputs([[FACE]]), { width: 64, height: 64 }, 0.5)).toThrow(/cls_8 is \[1, 32, 1\], expected \[batch, 64, 1\]/);
  });
});

describe('mapFace', () => {
  const face: FaceCandidate = { box: { x1: 10, y1: 20, x2: 30, y2: 60 }, score: 0.9, landmarks: [[15, 30], [25, 30], [20, 40], [16, 50], [24, 50]] };

  it('maps the box and landmarks back through a letterbox', () => {
    const lb = planLetterbox(200, 100, 64, 64, 'top-left'); // scale 0.32
    const back = mapFace(face, (x, y) => {
      const b = unletterbox({ x1: x, y1: y, x2: x, y2: y }, lb);
      return [b.x1, b.y1];
    });
    expectClose(flat(back), [31.25, 62.5, 93.75, 187.5, 46.875, 93.75, 78.125, 93.75, 62.5, 125, 50, 156.25, 75, 156.25]);
    expect(back.score).toBe(0.9);
    expect(face.box.x1).toBe(10); // the input is left alone
  });

  it('keeps x1 <= x2 when the mapping mirrors the image', () => {
    const back = mapFace(face, (x, y) => [100 - x, y]);
    expect(back.box).toEqual({ x1: 70, y1: 20, x2: 90, y2: 60 });
    expect(back.landmarks[0]).toEqual([85, 30]);
  });
});

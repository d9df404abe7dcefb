import { describe, expect, it } from 'vitest';
import type { Candidate, OutputTensor } from './detection.js';
import { decodeYolov8, yolov8Layout } from './yolov8.js';

// Five anchors, three classes: rows [cx, cy, w, h, s0, s1, s2].
const ANCHORS = [
  [100, 100, 20, 40, 0.125, 0.75, 0.25], // class 1, 0.75
  [50, 60, 10, 10, 0.25, 0.125, 0.0625], // below 0.3
  [200, 10, 40, 20, 0.5, 0.5, 0.375], // tie: the first class wins
  [0, 0, 8, 8, 0, 0, 0],
  [320, 320, 64, 32, 0.25, 0.125, 0.3125], // class 2, exactly the threshold used below: kept
];
const INPUT = { width: 640, height: 640, numClasses: 3 };

const rowsOut = (rows: number[][]): ReadonlyMap<string, OutputTensor> =>
  new Map([['output0', { data: Float32Array.from(rows.flat()), dims: [1, rows.length, rows[0]?.length ?? 0] }]]);

/** The same values channels first: [1, 4 + C, N]. */
function channelsOut(rows: number[][]): ReadonlyMap<string, OutputTensor> {
  const k = rows[0]?.length ?? 0;
  const data = new Float32Array(k * rows.length);
  rows.forEach((r, i) => r.forEach((v, ch) => (data[ch * rows.length + i] = v)));
  return new Map([['output0', { data, dims: [1, k, rows.length] }]]);
}

const EXPECTED: Candidate[] = [
  { box: { x1: 90, y1: 80, x2: 110, y2: 120 }, classId: 1, score: 0.75 },
  { box: { x1: 180, y1: 0, x2: 220, y2: 20 }, classId: 0, score: 0.5 },
  { box: { x1: 288, y1: 304, x2: 352, y2: 336 }, classId: 2, score: 0.3125 },
];

describe('decodeYolov8', () => {
  it('decodes the default channels-first layout', () => {
    expect(decodeYolov8(channelsOut(ANCHORS), INPUT, 0.3125)).toEqual(EXPECTED);
  });

  it('decodes the transposed row layout to the same candidates', () => {
    expect(decodeYolov8(rowsOut(ANCHORS), INPUT, 0.3125)).toEqual(EXPECTED);
  });

  it('reads the requested batch entry', () => {
    const one = channelsOut(ANCHORS).get('output0');
    const data = new Float32Array(2 * (one?.data.length ?? 0));
    data.set(one?.data ?? [], one?.data.length);
    const out = decodeYolov8(new Map([['o', { data, dims: [2, 7, 5] }]]), INPUT, 0.3125, 1);
    expect(out).toEqual(EXPECTED);
  });

  it('treats a square output as channels first, the Ultralytics default', () => {
    // Seven anchors and 4 + 3 = 7 channels: [1, 7, 7]. Anchor 2 in channels-first reading has class 0 score 1.
    const data = new Float32Array(49);
    data[0 * 7 + 2] = 30;
    data[1 * 7 + 2] = 40;
    data[2 * 7 + 2] = 6;
    data[3 * 7 + 2] = 8;
    data[4 * 7 + 2] = 1;
    expect(decodeYolov8(new Map([['o', { data, dims: [1, 7, 7] }]]), INPUT, 0.5)).toEqual([
      { box: { x1: 27, y1: 36, x2: 33, y2: 44 }, classId: 0, score: 1 },
    ]);
  });

  it('tells the layout from the dims and the class count', () => {
    expect(yolov8Layout([1, 84, 8400], 80)).toBe('channels');
    expect(yolov8Layout([1, 8400, 84], 80)).toBe('rows');
    expect(yolov8Layout([1, 84, 84], 80)).toBe('channels');
    expect(yolov8Layout([1, 85, 8400], 80)).toBeUndefined();
    expect(yolov8Layout([84, 8400], 80)).toBeUndefined();
  });

  it('rejects a class count that fits neither axis', () => {
    expect(() => decodeYolov8(channelsOut(ANCHORS), { ...INPUT, numClasses: 80 }, 0.5)).toThrow(/\[batch, 84, N\]/);
  });
});

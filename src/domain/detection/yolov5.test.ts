import { describe, expect, it } from 'vitest';
import type { OutputTensor } from './detection.js';
import { batchSlice, decodeYolov5, yolov5 } from './yolov5.js';

// Rows [cx, cy, w, h, objectness, 2 class probabilities], already in input pixels.
function outputs(rows: number[][], extra: [string, OutputTensor][] = []): ReadonlyMap<string, OutputTensor> {
  return new Map([...extra, ['output0', { data: Float32Array.from(rows.flat()), dims: [1, rows.length, 7] }]]);
}
const INPUT = { width: 640, height: 640, numClasses: 2 };

describe('decodeYolov5', () => {
  it('takes boxes as they are and scores objectness x best class', () => {
    const out = decodeYolov5(
      outputs([
        [100, 50, 40, 20, 0.5, 0.25, 0.75], // class 1, 0.375
        [300, 300, 10, 10, 0.25, 1, 0], // class 0, 0.25: at the threshold
        [10, 10, 10, 10, 0.125, 1, 1], // objectness too low
        [10, 10, 10, 10, 1, 0.125, 0.0625], // best class too low
      ]),
      INPUT,
      0.25,
    );
    expect(out).toEqual([
      { box: { x1: 80, y1: 40, x2: 120, y2: 60 }, classId: 1, score: 0.375 },
      { box: { x1: 295, y1: 295, x2: 305, y2: 305 }, classId: 0, score: 0.25 },
    ]);
  });

  it('picks the decoded output among raw head maps of older exports', () => {
    const raw: [string, OutputTensor] = ['345', { data: new Float32Array(3 * 2 * 2 * 7), dims: [1, 3, 2, 2, 7] }];
    expect(yolov5(outputs([[8, 8, 4, 4, 1, 1, 0]], [raw]), INPUT, 0.5)).toHaveLength(1);
  });

  it('rejects a class count that does not match the rows', () => {
    expect(() => decodeYolov5(outputs([[0, 0, 0, 0, 0, 0, 0]]), { ...INPUT, numClasses: 80 }, 0.5)).toThrow(/85/);
  });
});

describe('batchSlice', () => {
  it('views one batch entry without copying and checks the data length', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const s = batchSlice({ data, dims: [2, 1, 3] }, 1, 'test');
    expect([...s.data]).toEqual([4, 5, 6]);
    expect(s.data.buffer).toBe(data.buffer);
    expect(() => batchSlice({ data, dims: [3, 1, 3] }, 0, 'test')).toThrow(/holds 6 values/);
    expect(() => batchSlice({ data, dims: [2, 1, 3] }, -1, 'test')).toThrow(/batch index/);
  });
});

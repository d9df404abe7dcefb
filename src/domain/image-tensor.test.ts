import { describe, expect, it } from 'vitest';
import { writeChw } from './image-tensor.js';

const img = { width: 2, height: 1, data: new Uint8Array([10, 20, 30, 40, 50, 60]) };

describe('writeChw', () => {
  it('writes planar RGB as is', () => {
    expect([...writeChw(img, { colour: 'rgb' }, new Float32Array(6))]).toEqual([10, 40, 20, 50, 30, 60]);
  });

  it('swaps to BGR and normalises per model channel', () => {
    const out = writeChw(img, { colour: 'bgr', mean: [30, 20, 10], std: [2, 2, 2] }, new Float32Array(6));
    expect([...out]).toEqual([0, 15, 0, 15, 0, 15]);
  });

  it('draws a smaller image into a padded letterbox', () => {
    const out = writeChw(img, { colour: 'rgb' }, new Float32Array(3 * 3 * 2), 0, { width: 3, height: 2, x: 1, y: 1, pad: 114 });
    // Red plane: row 0 padding, row 1 = pad, 10, 40.
    expect([...out.subarray(0, 6)]).toEqual([114, 114, 114, 114, 10, 40]);
    expect([...out.subarray(12, 18)]).toEqual([114, 114, 114, 114, 30, 60]);
    expect(() => writeChw(img, { colour: 'rgb' }, new Float32Array(18), 0, { width: 3, height: 2, x: 2, y: 0, pad: 0 })).toThrow(RangeError);
  });

  it('writes into a batch slot and refuses a tensor too small', () => {
    const out = writeChw(img, { colour: 'rgb' }, new Float32Array(12), 6);
    expect([...out.subarray(6)]).toEqual([10, 40, 20, 50, 30, 60]);
    expect(() => writeChw(img, { colour: 'rgb' }, new Float32Array(5))).toThrow(RangeError);
  });
});

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

describe('writeChw with a crop', () => {
  it('writes only the rectangle asked for, as if it had been cut out first, and refuses one outside the image', () => {
    // 3 x 2 image, pixel (x, y) = [10x + y, 100 + 10x + y, 200 + 10x + y].
    const data = new Uint8Array(18);
    for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) data.set([10 * x + y, 100 + 10 * x + y, 200 + 10 * x + y], (y * 3 + x) * 3);
    const big = { width: 3, height: 2, data };
    const cut = { width: 2, height: 1, data: new Uint8Array([...data.subarray(12, 18)]) };
    const spec = { colour: 'bgr' as const, mean: [1, 2, 3] as const, std: [2, 4, 8] as const };
    const place = { width: 3, height: 2, x: 0, y: 0, pad: 7 };
    const viaCrop = writeChw(big, spec, new Float32Array(18), 0, place, { left: 1, top: 1, width: 2, height: 1 });
    expect([...viaCrop]).toEqual([...writeChw(cut, spec, new Float32Array(18), 0, place)]);
    expect(viaCrop[0]).toBe((211 - 1) / 2);
    expect(() => writeChw(big, spec, new Float32Array(18), 0, place, { left: 2, top: 1, width: 2, height: 1 })).toThrow(RangeError);
    // Placed away from the corner: the crop's pixels land at (1, 1), the rest is padding.
    const shifted = writeChw(big, { colour: 'rgb' }, new Float32Array(18), 0, { width: 3, height: 2, x: 1, y: 1, pad: 7 }, { left: 1, top: 0, width: 2, height: 1 });
    expect([...shifted.subarray(0, 6)]).toEqual([7, 7, 7, 7, 10, 20]);
  });
});

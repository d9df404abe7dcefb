import { describe, expect, it } from 'vitest';
import { cosine, l2normalize, MOBILEFACENET_PIXELS } from './embedding.js';

describe('l2normalize', () => {
  it('returns a new unit vector in the same direction', () => {
    const v = Float32Array.from([3, 0, -4]);
    const n = l2normalize(v);
    expect(n).not.toBe(v);
    expect([...v]).toEqual([3, 0, -4]);
    expect([...n]).toEqual([expect.closeTo(0.6, 6), 0, expect.closeTo(-0.8, 6)]);
  });

  it('gives zeros for a vector with no direction', () => {
    expect([...l2normalize(new Float32Array(3))]).toEqual([0, 0, 0]);
    expect([...l2normalize(Float32Array.from([1, Number.NaN]))]).toEqual([0, 0]);
  });
});

describe('cosine', () => {
  const a = l2normalize(Float32Array.from([1, 2, 3]));
  const b = l2normalize(Float32Array.from([-3, 0, 1]));

  it('is 1 for the same direction, 0 for orthogonal, -1 for opposite', () => {
    expect(cosine(a, a)).toBeCloseTo(1, 6);
    expect(cosine(a, b)).toBeCloseTo(0, 6);
    expect(cosine(a, a.map((x) => -x))).toBeCloseTo(-1, 6);
  });

  it('is the dot product of the normalised vectors', () => {
    const c = l2normalize(Float32Array.from([2, 1, 0]));
    expect(cosine(a, c)).toBeCloseTo(4 / Math.sqrt(14 * 5), 6);
  });

  it('refuses vectors of different lengths', () => {
    expect(() => cosine(a, new Float32Array(4))).toThrow(/length 3 and 4/);
  });
});

describe('MOBILEFACENET_PIXELS', () => {
  it('is RGB scaled to (x - 127.5) / 128', () => {
    expect(MOBILEFACENET_PIXELS).toEqual({ colour: 'rgb', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] });
  });
});

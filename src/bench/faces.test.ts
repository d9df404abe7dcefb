import { describe, expect, it } from 'vitest';
import { facesArgs } from './faces.js';

describe('facesArgs', () => {
  it('reads sizes wherever they stand, the total after --total, and --no-pipeline', () => {
    // The first size was dropped when --total was absent (its index matched "the argument after -1").
    expect(facesArgs(['1000000', '--no-pipeline'])).toEqual({ sizes: [1_000_000], pipeline: false });
    expect(facesArgs(['10000', '100000'])).toEqual({ sizes: [10_000, 100_000], pipeline: true });
    expect(facesArgs(['--total', '200000', '50000'])).toEqual({ sizes: [50_000], total: 200_000, pipeline: true });
    expect(facesArgs([])).toEqual({ pipeline: true });
  });
});

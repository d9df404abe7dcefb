import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { referenceMediaId, referenceXxh64 } from '../../test/reference/xxh64.js';
import { testdata } from '../../test/helper.js';
import { isMediaId, mediaIdOf, sampleRanges, virtualMediaIdOf } from './media-id.js';

describe('reference XXH64', () => {
  it('matches the published test vectors', () => {
    expect(referenceXxh64(new Uint8Array()).toString(16)).toBe('ef46db3751d8e999');
    expect(referenceXxh64(Buffer.from('abc')).toString(16)).toBe('44bc2cf5ad770999');
  });
});

describe('media id (seed 001 sampling hash)', () => {
  it.each([0, 1, 100, 3071, 3072, 3073, 4096, 10_000, 1_000_001])('matches the independent implementation at %i bytes', (size) => {
    const content = randomBytes(size);
    expect(mediaIdOf(content)).toBe(referenceMediaId(content));
  });

  it('matches for a real photo', () => {
    const messi = readFileSync(testdata('images/messi5.jpg'));
    expect(mediaIdOf(messi)).toBe(referenceMediaId(messi));
    expect(mediaIdOf(messi)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('samples three 1024-byte windows from files of 3072 bytes or more', () => {
    expect(sampleRanges(3071)).toEqual([{ offset: 0, length: 3071 }]);
    expect(sampleRanges(3072)).toEqual([
      { offset: 0, length: 1024 },
      { offset: 1024, length: 1024 },
      { offset: 2048, length: 1024 },
    ]);
    expect(sampleRanges(10_001)[1]).toEqual({ offset: 4488, length: 1024 });
  });

  it('ignores bytes outside the samples, but not the size', () => {
    const a = randomBytes(8192);
    const b = Buffer.from(a);
    b[1500] = (b[1500]! + 1) % 256; // between the first and middle sample
    expect(mediaIdOf(b)).toBe(mediaIdOf(a));
    const longer = Buffer.concat([a, Buffer.alloc(0)]);
    expect(mediaIdOf(longer)).toBe(mediaIdOf(a));
    b[0] = (b[0]! + 1) % 256;
    expect(mediaIdOf(b)).not.toBe(mediaIdOf(a));
  });

  it('pads to 16 hex digits and prefixes virtual ids with V', () => {
    const id = virtualMediaIdOf(Buffer.from('hello'));
    expect(id).toMatch(/^V[0-9a-f]{16}$/);
    expect(isMediaId(id)).toBe(true);
    expect(isMediaId('../etc/passwd')).toBe(false);
  });
});

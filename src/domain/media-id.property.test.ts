/**
 * Properties of the media id (seed 001's sampling XxHash64) over arbitrary content, checked against the independent
 * BigInt implementation in test/reference. The sizes cluster around the 3072-byte switch from whole-file hashing to
 * sampling, where an off-by-one would hide.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceMediaId } from '../../test/reference/xxh64.js';
import { isMediaId, mediaIdOf, SAMPLE_LENGTH, SAMPLING_THRESHOLD, sampleRanges, virtualMediaIdOf } from './media-id.js';

/** Sizes near 0, around the sampling threshold, and anywhere up to ~20 KB. */
const size = fc.oneof(
  fc.integer({ min: 0, max: 16 }),
  fc.integer({ min: SAMPLING_THRESHOLD - 3, max: SAMPLING_THRESHOLD + 3 }),
  fc.integer({ min: 0, max: 20_000 }),
);

/** Random content of a chosen size (uint8Array's own size bias would rarely reach 3072). */
const content = size.chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));

/** Byte positions of a `size`-byte file that the id reads. */
function sampled(size: number): (pos: number) => boolean {
  const ranges = sampleRanges(size);
  return (pos) => ranges.some((r) => pos >= r.offset && pos < r.offset + r.length);
}

const ID = /^[0-9a-f]{16}$/;

describe('media id properties', () => {
  it('agrees with the reference implementation and is always 16 lowercase hex digits', () => {
    fc.assert(
      fc.property(content, (bytes) => {
        const id = mediaIdOf(bytes);
        expect(id).toMatch(ID);
        expect(id).toBe(referenceMediaId(bytes));
        expect(virtualMediaIdOf(bytes)).toBe(`V${id}`);
        expect(isMediaId(id)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('samples ranges that lie inside the file, in order, and cover it whole below the threshold', () => {
    fc.assert(
      fc.property(fc.oneof(size, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), (n) => {
        const ranges = sampleRanges(n);
        for (const r of ranges) {
          expect(r.offset).toBeGreaterThanOrEqual(0);
          expect(r.offset + r.length).toBeLessThanOrEqual(n);
        }
        if (n < SAMPLING_THRESHOLD) expect(ranges).toEqual([{ offset: 0, length: n }]);
        else {
          expect(ranges.map((r) => r.length)).toEqual([SAMPLE_LENGTH, SAMPLE_LENGTH, SAMPLE_LENGTH]);
          // Non-overlapping and ascending: the samples are read in one forward pass over a stream.
          expect(ranges[0]!.offset + SAMPLE_LENGTH).toBeLessThanOrEqual(ranges[1]!.offset);
          expect(ranges[1]!.offset + SAMPLE_LENGTH).toBeLessThanOrEqual(ranges[2]!.offset);
        }
      }),
    );
  });

  it('refuses sizes that are not non-negative safe integers', () => {
    const bad = fc.oneof(fc.integer({ max: -1 }), fc.double().filter((x) => !Number.isSafeInteger(x)), fc.constant(2 ** 53));
    fc.assert(
      fc.property(bad, (n) => {
        expect(() => sampleRanges(n)).toThrow(RangeError);
      }),
    );
  });

  it('keeps the id when a byte outside the sampled windows changes, and changes it when a sampled byte does', () => {
    fc.assert(
      fc.property(content, fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, delta) => {
        fc.pre(bytes.length > 0);
        const pos = at % bytes.length;
        const changed = Uint8Array.from(bytes);
        changed[pos] = (changed[pos]! + delta) & 0xff;
        // A 64-bit hash collision on a one-byte change is possible in theory; at 2^-64 it never shows in a test.
        if (sampled(bytes.length)(pos)) expect(mediaIdOf(changed)).not.toBe(mediaIdOf(bytes));
        else expect(mediaIdOf(changed)).toBe(mediaIdOf(bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('changes the id when only the size changes (the size is hashed too)', () => {
    fc.assert(
      fc.property(content, (bytes) => {
        const longer = new Uint8Array(bytes.length + 1);
        longer.set(bytes);
        expect(mediaIdOf(longer)).not.toBe(mediaIdOf(bytes));
      }),
      { numRuns: 100 },
    );
  });

  it('isMediaId accepts exactly 16 lowercase hex digits, optionally after V', () => {
    const hex16 = fc.stringMatching(/^[0-9a-f]{16}$/);
    fc.assert(
      fc.property(hex16, fc.boolean(), (hex, virtual) => {
        expect(isMediaId(virtual ? `V${hex}` : hex)).toBe(true);
      }),
    );
    // Near misses: one character too many or too few, a non-hex or upper-case character, a lower-case v, a newline
    // (a `$` that matched before a trailing newline would let "<id>\n" through), or anything at all.
    const nearMiss = fc.oneof(
      hex16.map((h) => h.slice(1)),
      hex16.map((h) => `${h}0`),
      fc
        .tuple(hex16, fc.nat(15), fc.constantFrom('g', 'A', 'F', 'x', ' ', '-', '\n', 'é', '٣'))
        .map(([h, i, ch]) => h.slice(0, i) + ch + h.slice(i + 1)),
      hex16.map((h) => `v${h}`),
      hex16.map((h) => `VV${h}`),
      hex16.map((h) => `${h}\n`),
      hex16.map((h) => ` ${h}`),
    );
    fc.assert(
      fc.property(nearMiss, (s) => {
        expect(isMediaId(s)).toBe(false);
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        const body = s.startsWith('V') ? s.slice(1) : s;
        expect(isMediaId(s)).toBe(body.length === 16 && [...body].every((ch) => '0123456789abcdef'.includes(ch)));
      }),
    );
  });
});

import { xxh64 } from '@node-rs/xxhash';

/** Files smaller than this are hashed whole; larger ones are sampled (seed 001). */
export const SAMPLING_THRESHOLD = 3072;
/** Length of each of the three samples taken from larger files. */
export const SAMPLE_LENGTH = 1024;

/** A byte range [offset, offset + length) of the file that the id is computed from. */
export interface SampleRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * The byte ranges of a file of `size` bytes that feed the content id: the whole file below 3072 bytes,
 * otherwise the first 1024 bytes, the 1024 starting at floor(size/2) - 512 and the last 1024.
 */
export function sampleRanges(size: number): SampleRange[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid file size ${size}`);
  if (size < SAMPLING_THRESHOLD) return [{ offset: 0, length: size }];
  return [
    { offset: 0, length: SAMPLE_LENGTH },
    { offset: Math.floor(size / 2) - SAMPLE_LENGTH / 2, length: SAMPLE_LENGTH },
    { offset: size - SAMPLE_LENGTH, length: SAMPLE_LENGTH },
  ];
}

/**
 * The content id of a file from its size and the bytes of `sampleRanges(size)`, concatenated in order:
 * XxHash64 (seed 0) of the size as u64 little-endian followed by the samples, as 16 lowercase hex digits.
 */
export function mediaIdFromSamples(size: number, samples: Uint8Array): string {
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(size));
  const input = Buffer.concat([header, samples]);
  return xxh64(input, 0n).toString(16).padStart(16, '0');
}

/** The content id of a file held whole in memory. */
export function mediaIdOf(content: Uint8Array): string {
  const parts = sampleRanges(content.length).map((r) => content.subarray(r.offset, r.offset + r.length));
  return mediaIdFromSamples(content.length, Buffer.concat(parts));
}

/** The id of in-memory-only ("virtual") media, which is never stored: the content id prefixed with `V`. */
export function virtualMediaIdOf(content: Uint8Array): string {
  return `V${mediaIdOf(content)}`;
}

const MEDIA_ID = /^V?[0-9a-f]{16}$/;

/** True when `id` has the shape of a media id (16 lowercase hex digits, optionally prefixed with V). */
export function isMediaId(id: string): boolean {
  return MEDIA_ID.test(id);
}

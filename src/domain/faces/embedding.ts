/**
 * Face embedding vectors: normalisation and comparison. Pure and synchronous.
 */
import type { PixelSpec } from '../image-tensor.js';

/** How MobileFaceNet wants the aligned 112x112 crop (for `writeChw`): RGB, (x - 127.5) / 128. */
export const MOBILEFACENET_PIXELS: PixelSpec = { colour: 'rgb', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] };

/**
 * A new vector with the direction of `v` and length 1. A zero (or non-finite) vector has no direction: it comes back
 * as zeros, which then has cosine 0 with everything rather than spreading NaN through a search.
 */
export function l2normalize(v: Float32Array): Float32Array {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (!(sq > 0) || !Number.isFinite(sq)) return out;
  const k = 1 / Math.sqrt(sq);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * k;
  return out;
}

/**
 * Cosine similarity of two L2-normalised vectors, -1..1: their dot product (the normalisation is the caller's, done
 * once per vector rather than once per comparison). Throws when the lengths differ: vectors from different models.
 */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`cosine: vectors of length ${a.length} and ${b.length}`);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}

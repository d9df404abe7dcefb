/**
 * An independent XXH64 in plain BigInt arithmetic, written from the published algorithm, to check the ids
 * Argus computes with @node-rs/xxhash. Slow, and only for tests.
 */
const M = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, lane: bigint): bigint => (rotl((acc + lane * P2) & M, 31n) * P1) & M;
const merge = (acc: bigint, v: bigint): bigint => ((((acc ^ round(0n, v)) * P1) & M) + P4) & M;

/** XXH64 of `data` with `seed`. */
export function referenceXxh64(data: Uint8Array, seed = 0n): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & M;
    let v2 = (seed + P2) & M;
    let v3 = seed;
    let v4 = (seed - P1) & M;
    while (p <= len - 32) {
      v1 = round(v1, view.getBigUint64(p, true));
      v2 = round(v2, view.getBigUint64(p + 8, true));
      v3 = round(v3, view.getBigUint64(p + 16, true));
      v4 = round(v4, view.getBigUint64(p + 24, true));
      p += 32;
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else {
    h = (seed + P5) & M;
  }
  h = (h + BigInt(len)) & M;
  while (p + 8 <= len) {
    h ^= round(0n, view.getBigUint64(p, true));
    h = ((rotl(h, 27n) * P1) & M) + P4;
    h &= M;
    p += 8;
  }
  if (p + 4 <= len) {
    h ^= (BigInt(view.getUint32(p, true)) * P1) & M;
    h = ((rotl(h, 23n) * P2) & M) + P3;
    h &= M;
    p += 4;
  }
  while (p < len) {
    h ^= (BigInt(data[p]!) * P5) & M;
    h = (rotl(h, 11n) * P1) & M;
    p += 1;
  }
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return h;
}

/** The media id of `content` per the pinned algorithm, computed independently of src/. */
export function referenceMediaId(content: Uint8Array): string {
  const size = content.length;
  const header = new Uint8Array(8);
  new DataView(header.buffer).setBigUint64(0, BigInt(size), true);
  const parts: Uint8Array[] = [header];
  if (size < 3072) parts.push(content);
  else {
    const mid = Math.floor(size / 2) - 512;
    parts.push(content.slice(0, 1024), content.slice(mid, mid + 1024), content.slice(size - 1024));
  }
  const input = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of parts) {
    input.set(x, at);
    at += x.length;
  }
  return referenceXxh64(input).toString(16).padStart(16, '0');
}

/**
 * Tiling large images for detection: whether one downscaled pass would lose small objects, and the overlapping tile
 * grid (SAHI-style slicing) that covers the image at the model's own resolution.
 */

/** A region of the image in pixels. */
export interface TileRegion {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** The most overlap {@link planTiles} allows: beyond it tiles barely advance and their count explodes. */
export const MAX_OVERLAP_PERCENT = 90;

/**
 * True when fitting the image into the model input shrinks it by more than `factor` on its tighter axis (i.e. the
 * image's longer side, relative to the input, is more than `factor` times the input's size on that axis): objects a
 * few dozen pixels across then shrink to a few pixels and one pass misses them. A 640x480 image is never tiled for a
 * 416 input (shrink 1.5); 4000x3000 is (shrink 9.6).
 */
export function shouldTile(imageW: number, imageH: number, inputW: number, inputH: number, factor = 4): boolean {
  return Math.max(imageW / inputW, imageH / inputH) > factor;
}

/** Throws unless `v` is a positive integer number of pixels. */
function assertPixels(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
}

/**
 * Start positions of tiles of `tile` pixels along an axis of `length`, neighbours overlapping by at least
 * `minOverlap`: as few tiles as that allows, spread evenly from 0 to `length - tile`, so the last one ends exactly at
 * the edge and no tile is a sliver or a near-duplicate of its neighbour.
 */
function axisStarts(length: number, tile: number, minOverlap: number): number[] {
  if (tile >= length) return [0];
  const step = Math.max(1, tile - minOverlap);
  const span = length - tile;
  const gaps = Math.ceil(span / step);
  // Evenly spaced starts are at most `step` apart (span / gaps <= step, and rounding keeps integer gaps <= step).
  return Array.from({ length: gaps + 1 }, (_, k) => Math.round((k * span) / gaps));
}

/**
 * Plans square tiles of `tileSize` (clamped to the image on each axis) covering every pixel of an `imageW` x `imageH`
 * image, neighbours overlapping by at least `overlapPercent`% of `tileSize` (clamped to 0..90), in row-major order.
 * Overlap lets an object cut by one tile's border appear whole in the next; the last row and column are snapped to
 * the image edge, and an image no bigger than a tile gets one tile, the whole image.
 */
export function planTiles(imageW: number, imageH: number, tileSize: number, overlapPercent: number): TileRegion[] {
  assertPixels(imageW, 'image width');
  assertPixels(imageH, 'image height');
  assertPixels(tileSize, 'tile size');
  const pct = Number.isFinite(overlapPercent) ? Math.min(MAX_OVERLAP_PERCENT, Math.max(0, overlapPercent)) : 0;
  const minOverlap = Math.ceil((tileSize * pct) / 100);
  const width = Math.min(tileSize, imageW);
  const height = Math.min(tileSize, imageH);
  const xs = axisStarts(imageW, width, minOverlap);
  const ys = axisStarts(imageH, height, minOverlap);
  return ys.flatMap((top) => xs.map((left) => ({ left, top, width, height })));
}

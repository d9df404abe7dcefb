import { describe, expect, it } from 'vitest';
import { planTiles, shouldTile, type TileRegion } from './tiling.js';

/** Every pixel of the image is inside at least one tile. */
function coversAll(tiles: TileRegion[], w: number, h: number): boolean {
  const hit = new Uint8Array(w * h);
  for (const t of tiles) for (let y = t.top; y < t.top + t.height; y++) hit.fill(1, y * w + t.left, y * w + t.left + t.width);
  return hit.every((v) => v === 1);
}

/** The distinct tile starts along each axis. */
const starts = (tiles: TileRegion[], key: 'left' | 'top'): number[] => [...new Set(tiles.map((t) => t[key]))].sort((a, b) => a - b);

/** The smallest overlap between neighbouring tiles along an axis (Infinity when there is one tile). */
function minOverlap(tiles: TileRegion[], key: 'left' | 'top', size: number): number {
  const s = starts(tiles, key);
  let min = Number.POSITIVE_INFINITY;
  for (let i = 1; i < s.length; i++) min = Math.min(min, s[i - 1]! + size - s[i]!);
  return min;
}

describe('shouldTile', () => {
  it('never tiles an ordinary photo for a 416 input, always tiles a 12 MP one', () => {
    expect(shouldTile(640, 480, 416, 416)).toBe(false);
    expect(shouldTile(1920, 1080, 640, 640)).toBe(false);
    expect(shouldTile(4000, 3000, 416, 416)).toBe(true);
    expect(shouldTile(3000, 4000, 416, 416)).toBe(true);
  });

  it('tiles only when the shrink is more than the factor', () => {
    expect(shouldTile(1664, 1000, 416, 416)).toBe(false); // exactly 4x
    expect(shouldTile(1665, 1000, 416, 416)).toBe(true);
    expect(shouldTile(1665, 1000, 416, 416, 5)).toBe(false);
    // Non-square input: the axis that limits the fit decides (600 / 160 = 3.75, 1000 / 320 = 3.1).
    expect(shouldTile(1000, 600, 320, 160)).toBe(false);
    expect(shouldTile(1000, 700, 320, 160)).toBe(true);
  });
});

describe('planTiles', () => {
  it('gives 6 x 5 tiles for 4000x3000 at 832 px with 20% overlap', () => {
    const tiles = planTiles(4000, 3000, 832, 20);
    expect(tiles).toHaveLength(30);
    expect(starts(tiles, 'left')).toHaveLength(6);
    expect(starts(tiles, 'top')).toHaveLength(5);
    expect(tiles.every((t) => t.width === 832 && t.height === 832)).toBe(true);
    expect(coversAll(tiles, 4000, 3000)).toBe(true);
    expect(minOverlap(tiles, 'left', 832)).toBeGreaterThanOrEqual(167); // 20% of 832 = 166.4
    expect(minOverlap(tiles, 'top', 832)).toBeGreaterThanOrEqual(167);
  });

  it('snaps the last row and column to the image edge and keeps tiles inside', () => {
    const tiles = planTiles(4000, 3000, 832, 20);
    expect(Math.max(...tiles.map((t) => t.left + t.width))).toBe(4000);
    expect(Math.max(...tiles.map((t) => t.top + t.height))).toBe(3000);
    expect(tiles.every((t) => t.left >= 0 && t.top >= 0 && t.left + t.width <= 4000 && t.top + t.height <= 3000)).toBe(true);
    expect(tiles[0]).toEqual({ left: 0, top: 0, width: 832, height: 832 });
  });

  it('spreads tiles evenly: no near-duplicate last tile', () => {
    // 1700 = 2 x 832 + 36: a fixed step would add a third tile only 36 px past the second.
    const s = starts(planTiles(1700, 832, 832, 0), 'left');
    expect(s).toEqual([0, 434, 868]);
  });

  it('covers every pixel and keeps the overlap for assorted sizes', () => {
    for (const [w, h, tile, pct] of [
      [1000, 700, 256, 25],
      [833, 1201, 416, 10],
      [999, 999, 100, 0],
      [640, 300, 128, 90],
      [517, 263, 64, 33],
    ] as const) {
      const tiles = planTiles(w, h, tile, pct);
      expect(coversAll(tiles, w, h)).toBe(true);
      const need = Math.ceil((tile * pct) / 100);
      expect(minOverlap(tiles, 'left', Math.min(tile, w))).toBeGreaterThanOrEqual(need);
      expect(minOverlap(tiles, 'top', Math.min(tile, h))).toBeGreaterThanOrEqual(need);
    }
  });

  it('returns exactly the whole image when it is smaller than a tile', () => {
    expect(planTiles(500, 400, 832, 20)).toEqual([{ left: 0, top: 0, width: 500, height: 400 }]);
    expect(planTiles(832, 832, 832, 20)).toEqual([{ left: 0, top: 0, width: 832, height: 832 }]);
  });

  it('clamps tiles to the image on a short axis', () => {
    const tiles = planTiles(2000, 500, 832, 20);
    expect(tiles.every((t) => t.top === 0 && t.height === 500 && t.width === 832)).toBe(true);
    expect(tiles).toHaveLength(3);
    expect(coversAll(tiles, 2000, 500)).toBe(true);
  });

  it('clamps the overlap to 0..90%', () => {
    expect(planTiles(1664, 832, 832, -10).map((t) => t.left)).toEqual([0, 832]);
    expect(planTiles(1000, 100, 100, 95)).toEqual(planTiles(1000, 100, 100, 90));
    expect(planTiles(1000, 100, 100, Number.NaN)).toEqual(planTiles(1000, 100, 100, 0));
  });

  it('rejects sizes that are not positive whole pixels', () => {
    expect(() => planTiles(0, 100, 64, 20)).toThrow(/image width/);
    expect(() => planTiles(100, 100, 64.5, 20)).toThrow(/tile size/);
  });
});

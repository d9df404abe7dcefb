/**
 * Properties of the tile plan over arbitrary image sizes, tile sizes and overlaps: tiles lie inside the image, cover
 * every pixel, overlap their neighbours by at least the configured share, are as few as that allows, and their
 * number is what the axes predict (finite and small for every size the tile bound lets through).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_OVERLAP_PERCENT, planTiles, shouldTile, type TileRegion } from './tiling.js';

const side = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 5000, max: 40_000 }));
const overlap = fc.oneof(fc.constantFrom(0, 20, 50, MAX_OVERLAP_PERCENT), fc.double({ min: 0, max: MAX_OVERLAP_PERCENT, noNaN: true }));

/**
 * An image and a tile size: the tile is drawn relative to the longer side (1 to 12 tiles across before overlap), or
 * tiny on a small image, or larger than the image, so that every regime appears and the tile count stays testable.
 */
const plan = fc.oneof(
  fc
    .tuple(side, side, fc.integer({ min: 1, max: 12 }), fc.integer({ min: -3, max: 3 }))
    .map(([w, h, across, jitter]) => ({ w, h, tile: Math.max(1, Math.ceil(Math.max(w, h) / across) + jitter) })),
  fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 12 })).map(([w, h, tile]) => ({ w, h, tile })),
  fc.tuple(side, side, fc.integer({ min: 0, max: 1000 })).map(([w, h, extra]) => ({ w, h, tile: Math.max(w, h) + extra })),
);

/** The distinct left (or top) edges of a plan, in order. */
const starts = (tiles: readonly TileRegion[], axis: 'left' | 'top'): number[] => [...new Set(tiles.map((t) => t[axis]))];

/** Checks one axis: starts ascending from 0, the last tile ending at the edge, neighbours overlapping enough. */
function checkAxis(s: readonly number[], length: number, size: number, tileSize: number, pct: number): void {
  expect(s[0]).toBe(0);
  expect(s.at(-1)! + size).toBe(length);
  // The overlap the plan promises, capped where a tile only a few pixels wide cannot give it and still advance.
  const wanted = Math.min(Math.ceil((tileSize * pct) / 100), size - 1);
  // Ascending, no gap between neighbours (every pixel covered), and at least `wanted` pixels shared.
  const bad = s.slice(1).filter((v, k) => !(v > s[k]!) || s[k]! + size - v < wanted);
  expect(bad).toEqual([]);
  // As few as the overlap allows: one tile fewer could not span the axis advancing at most size - wanted a step.
  if (s.length > 1) expect((s.length - 2) * Math.max(1, size - wanted)).toBeLessThan(length - size);
}

describe('planTiles properties', () => {
  it('plans equal tiles inside the image, in row-major order, covering every pixel with the configured overlap', () => {
    fc.assert(
      fc.property(plan, overlap, fc.nat(), fc.nat(), ({ w, h, tile }, pct, px, py) => {
        const tiles = planTiles(w, h, tile, pct);
        const width = Math.min(tile, w);
        const height = Math.min(tile, h);
        // Plain loops and one expect each: a plan can hold thousands of tiles, and expect() per tile is slow.
        const outside = tiles.filter(
          (t) =>
            t.width !== width ||
            t.height !== height ||
            !Number.isInteger(t.left) ||
            !Number.isInteger(t.top) ||
            t.left < 0 ||
            t.top < 0 ||
            t.left + t.width > w ||
            t.top + t.height > h,
        );
        expect(outside).toEqual([]);
        const xs = starts(tiles, 'left');
        const ys = starts(tiles, 'top');
        // A full grid, row by row: row-major order is what the batches and the merge rely on.
        expect(tiles).toHaveLength(xs.length * ys.length);
        expect(tiles.every((t, i) => t.top === ys[Math.floor(i / xs.length)] && t.left === xs[i % xs.length])).toBe(true);
        checkAxis(xs, w, width, tile, pct);
        checkAxis(ys, h, height, tile, pct);
        // And directly: an arbitrary pixel lies in some tile.
        const x = px % w;
        const y = py % h;
        expect(tiles.some((t) => x >= t.left && x < t.left + t.width && y >= t.top && y < t.top + t.height)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('gives one tile, the whole image, when the image is no bigger than a tile', () => {
    fc.assert(
      fc.property(side, side, fc.integer({ min: 0, max: 100 }), overlap, (w, h, extra, pct) => {
        expect(planTiles(w, h, Math.max(w, h) + extra, pct)).toEqual([{ left: 0, top: 0, width: w, height: h }]);
      }),
    );
  });

  it('clamps the overlap to 0..90 and treats a non-finite one as 0', () => {
    fc.assert(
      fc.property(plan, fc.double({ noNaN: false }), ({ w, h, tile }, pct) => {
        const clamped = Number.isFinite(pct) ? Math.min(MAX_OVERLAP_PERCENT, Math.max(0, pct)) : 0;
        expect(planTiles(w, h, tile, pct)).toEqual(planTiles(w, h, tile, clamped));
      }),
      { numRuns: 200 },
    );
  });

  it('never plans fewer tiles for more overlap or a larger image', () => {
    fc.assert(
      fc.property(plan, overlap, overlap, fc.integer({ min: 0, max: 500 }), ({ w, h, tile }, p1, p2, grow) => {
        const [lo, hi] = p1 <= p2 ? [p1, p2] : [p2, p1];
        expect(planTiles(w, h, tile, hi).length).toBeGreaterThanOrEqual(planTiles(w, h, tile, lo).length);
        expect(planTiles(w + grow, h, tile, lo).length).toBeGreaterThanOrEqual(planTiles(w, h, tile, lo).length);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses sizes that are not positive whole pixels', () => {
    const bad = fc.oneof(fc.integer({ max: 0 }), fc.double({ noNaN: false }).filter((v) => !Number.isInteger(v)));
    fc.assert(
      fc.property(bad, fc.integer({ min: 0, max: 2 }), (v, which) => {
        const args: [number, number, number] = [100, 100, 50];
        args[which] = v;
        expect(() => planTiles(...args, 20)).toThrow(RangeError);
      }),
    );
  });
});

describe('shouldTile properties', () => {
  it('tiles exactly when the image is more than factor times the input on some axis, and a larger image never less', () => {
    const px = fc.integer({ min: 1, max: 50_000 });
    fc.assert(
      fc.property(px, px, px, px, fc.integer({ min: 0, max: 5000 }), fc.constantFrom(1, 1.5, 2, 3, 4, 6, 8), (w, h, iw, ih, grow, factor) => {
        expect(shouldTile(w, h, iw, ih, factor)).toBe(w > factor * iw || h > factor * ih);
        if (shouldTile(w, h, iw, ih, factor)) expect(shouldTile(w + grow, h + grow, iw, ih, factor)).toBe(true);
      }),
    );
  });
});

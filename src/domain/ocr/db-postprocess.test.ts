import { describe, expect, it } from 'vitest';
import { boxScore, DB_DEFAULTS, dbBoxes, textRegions, unclip, type ProbMap } from './db-postprocess.js';
import { insideConvexQuad, minAreaRect, type Quad } from './min-area-rect.js';

/** A map of `w` x `h` with `value` wherever `inside(x, y)`. */
function paint(w: number, h: number, inside: (x: number, y: number) => boolean, value = 0.9): ProbMap {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (inside(x, y)) data[y * w + x] = value;
  return { data, width: w, height: h };
}

describe('textRegions', () => {
  it('separates regions and joins diagonal neighbours (8-connectivity)', () => {
    const map = paint(10, 10, (x, y) => (x === y && x < 3) || (x >= 6 && y >= 6));
    const regions = textRegions(map, 0.3);
    expect(regions.map((r) => r.pixels).sort()).toEqual([16, 3]);
  });
});

describe('dbBoxes', () => {
  it('turns an axis-aligned kernel into its unclipped box', () => {
    // Kernel pixels x 10..49, y 20..27: pixel centres span 39 x 7.
    const map = paint(64, 48, (x, y) => x >= 10 && x <= 49 && y >= 20 && y <= 27);
    const [box, ...rest] = dbBoxes(map);
    expect(rest).toHaveLength(0);
    expect(box?.score).toBeCloseTo(0.9);
    const d = (39 * 7 * DB_DEFAULTS.unclipRatio) / (2 * (39 + 7));
    expect(box?.rect.width).toBeCloseTo(39 + 2 * d, 5);
    expect(box?.rect.height).toBeCloseTo(7 + 2 * d, 5);
    expect(box?.rect.corners[0][0]).toBeCloseTo(10 - d, 5);
    expect(box?.rect.corners[0][1]).toBeCloseTo(20 - d, 5);
  });

  it('finds a rotated kernel as a rotated rectangle', () => {
    const a = (20 * Math.PI) / 180;
    const cx = 50;
    const cy = 50;
    // A 60 x 10 bar rotated 20° about (50, 50).
    const map = paint(100, 100, (x, y) => {
      const u = (x - cx) * Math.cos(a) + (y - cy) * Math.sin(a);
      const v = -(x - cx) * Math.sin(a) + (y - cy) * Math.cos(a);
      return Math.abs(u) <= 30 && Math.abs(v) <= 5;
    });
    const [box] = dbBoxes(map, { ...DB_DEFAULTS, unclipRatio: 0 });
    expect(box).toBeDefined();
    const [tl, tr] = box?.rect.corners ?? [];
    expect(Math.atan2((tr?.[1] ?? 0) - (tl?.[1] ?? 0), (tr?.[0] ?? 0) - (tl?.[0] ?? 0))).toBeCloseTo(a, 1);
    expect(box?.rect.width).toBeGreaterThan(57);
    expect(box?.rect.width).toBeLessThan(61);
    expect(box?.rect.height).toBeGreaterThan(8);
    expect(box?.rect.height).toBeLessThan(11);
  });

  it('drops faint regions (box score) and specks (min size)', () => {
    const faint = paint(64, 32, (x, y) => x >= 5 && x < 40 && y >= 10 && y < 18, 0.5);
    expect(dbBoxes(faint)).toHaveLength(0);
    expect(dbBoxes(faint, { ...DB_DEFAULTS, boxThresh: 0.4 })).toHaveLength(1);
    const speck = paint(64, 32, (x, y) => x >= 5 && x < 7 && y >= 5 && y < 7);
    expect(dbBoxes(speck)).toHaveLength(0);
    expect(dbBoxes(paint(16, 16, () => false))).toHaveLength(0);
  });
});

describe('unclip and boxScore', () => {
  it('grows by area * ratio / perimeter', () => {
    const r = minAreaRect([[0, 0], [20, 0], [20, 4], [0, 4]]);
    const g = unclip(r, 1.5);
    const d = (80 * 1.5) / 48;
    expect(g.width).toBeCloseTo(20 + 2 * d);
    expect(g.height).toBeCloseTo(4 + 2 * d);
  });

  it('averages the map inside the quad only', () => {
    const map = paint(10, 10, (x) => x < 5, 1);
    const left: Quad = [[0, 0], [4, 0], [4, 9], [0, 9]];
    const both: Quad = [[0, 0], [9, 0], [9, 9], [0, 9]];
    expect(boxScore(map, left)).toBeCloseTo(1);
    expect(boxScore(map, both)).toBeCloseTo(0.5);
    expect(insideConvexQuad(left, 5, 5)).toBe(false);
  });
});

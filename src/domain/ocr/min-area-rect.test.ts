import { describe, expect, it } from 'vitest';
import { convexHull, growRect, insideConvexQuad, minAreaRect, orderCorners, type Point } from './min-area-rect.js';

const close = (p: readonly number[], q: readonly number[]): void => {
  expect(p.length).toBe(q.length);
  p.forEach((v, i) => expect(v).toBeCloseTo(q[i] as number, 6));
};

describe('convexHull', () => {
  it('drops interior and collinear points', () => {
    const hull = convexHull([[0, 0], [2, 0], [1, 0], [2, 2], [0, 2], [1, 1]]);
    expect(hull).toHaveLength(4);
    expect(hull).toEqual(expect.arrayContaining([[0, 0], [2, 0], [2, 2], [0, 2]]));
  });
});

describe('minAreaRect', () => {
  it('finds an axis-aligned rectangle', () => {
    const r = minAreaRect([[1, 1], [5, 1], [5, 3], [1, 3], [3, 2]]);
    expect(r.width).toBeCloseTo(4);
    expect(r.height).toBeCloseTo(2);
    close(r.corners.flat(), [1, 1, 5, 1, 5, 3, 1, 3]);
  });

  it('finds a rectangle rotated by 30 degrees from points filling it', () => {
    const a = Math.PI / 6;
    const pts: Point[] = [];
    for (let u = 0; u <= 10; u++) for (let v = 0; v <= 3; v++) pts.push([10 + u * Math.cos(a) - v * Math.sin(a), 20 + u * Math.sin(a) + v * Math.cos(a)]);
    const r = minAreaRect(pts);
    expect(r.width).toBeCloseTo(10);
    expect(r.height).toBeCloseTo(3);
    // Top-left is the origin corner; the top edge runs along the 30° direction.
    close(r.corners[0], [10, 20]);
    expect(Math.atan2(r.corners[1][1] - r.corners[0][1], r.corners[1][0] - r.corners[0][0])).toBeCloseTo(a);
  });
});

describe('orderCorners', () => {
  it('orders any permutation clockwise from the top-left', () => {
    expect(orderCorners([[5, 3], [1, 1], [1, 3], [5, 1]])).toEqual([[1, 1], [5, 1], [5, 3], [1, 3]]);
  });
});

describe('growRect and insideConvexQuad', () => {
  it('grows a rectangle by the distance on every side', () => {
    const g = growRect(minAreaRect([[0, 0], [10, 0], [10, 4], [0, 4]]), 1);
    close(g.corners.flat(), [-1, -1, 11, -1, 11, 5, -1, 5]);
    expect(insideConvexQuad(g.corners, 0, 0)).toBe(true);
    expect(insideConvexQuad(g.corners, 11, 5)).toBe(true);
    expect(insideConvexQuad(g.corners, 12, 0)).toBe(false);
  });
});

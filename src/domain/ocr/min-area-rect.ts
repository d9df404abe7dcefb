/**
 * The small plane-geometry routines text detection needs in place of OpenCV: convex hull, the minimum-area
 * rotated rectangle around a point set, and corner ordering. Pure maths, no I/O.
 */

/** A point (x, y) in pixels. */
export type Point = readonly [number, number];

/** Four corners clockwise from the top-left: top-left, top-right, bottom-right, bottom-left. */
export type Quad = readonly [Point, Point, Point, Point];

/** A rotated rectangle: its corners (clockwise from top-left) and its side lengths. */
export interface RotatedRect {
  readonly corners: Quad;
  /** Length of the top edge (corner 0 to 1). */
  readonly width: number;
  /** Length of the left edge (corner 0 to 3). */
  readonly height: number;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Convex hull of a point set (Andrew's monotone chain), counter-clockwise in maths axes, no repeated points. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length <= 2) return pts.filter((p, i) => i === 0 || p[0] !== pts[0]?.[0] || p[1] !== pts[0][1]);
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2] as Point, lower[lower.length - 1] as Point, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i] as Point;
    while (upper.length >= 2 && cross(upper[upper.length - 2] as Point, upper[upper.length - 1] as Point, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * The smallest-area rectangle (any rotation) holding every point, by rotating calipers over the hull: the best
 * rectangle has one side on a hull edge. Degenerate sets give a zero-width or zero-height rectangle.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) throw new RangeError('minAreaRect needs at least one point');
  let best: { area: number; ux: number; uy: number; minU: number; maxU: number; minV: number; maxV: number } | null = null;
  const edges = hull.length === 1 ? 1 : hull.length;
  for (let i = 0; i < edges; i++) {
    const a = hull[i] as Point;
    const b = hull[(i + 1) % hull.length] as Point;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    // A lone point (or a repeated one) has no edge direction: use the x axis.
    const ux = len > 0 ? (b[0] - a[0]) / len : 1;
    const uy = len > 0 ? (b[1] - a[1]) / len : 0;
    let minU = Infinity, maxU = -Infinity, minV = Infinity, maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (!best || area < best.area - 1e-9) best = { area, ux, uy, minU, maxU, minV, maxV };
  }
  const r = best as NonNullable<typeof best>;
  const at = (u: number, v: number): Point => [u * r.ux - v * r.uy, u * r.uy + v * r.ux];
  return rectFromCorners([at(r.minU, r.minV), at(r.maxU, r.minV), at(r.maxU, r.maxV), at(r.minU, r.maxV)]);
}

/**
 * Orders four corners of a rectangle clockwise from the top-left as PaddleOCR's get_mini_boxes does: the two
 * leftmost points are the left side (upper one first), the two rightmost the right side.
 */
export function orderCorners(pts: readonly Point[]): Quad {
  if (pts.length !== 4) throw new RangeError('orderCorners needs 4 points');
  const s = [...pts].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const [l0, l1, r0, r1] = s as [Point, Point, Point, Point];
  const [tl, bl] = l0[1] <= l1[1] ? [l0, l1] : [l1, l0];
  const [tr, br] = r0[1] <= r1[1] ? [r0, r1] : [r1, r0];
  return [tl, tr, br, bl];
}

/** A rotated rectangle from its four corners in any order. */
export function rectFromCorners(pts: readonly Point[]): RotatedRect {
  const corners = orderCorners(pts);
  return { corners, width: dist(corners[0], corners[1]), height: dist(corners[0], corners[3]) };
}

/** Grows a rotated rectangle by `d` on every side (negative shrinks, down to zero). */
export function growRect(rect: RotatedRect, d: number): RotatedRect {
  const [tl, tr, , bl] = rect.corners;
  const ux = rect.width > 0 ? (tr[0] - tl[0]) / rect.width : 1;
  const uy = rect.width > 0 ? (tr[1] - tl[1]) / rect.width : 0;
  // The "down" direction is the right-hand normal of the top edge (y points down in images).
  const vx = rect.height > 0 ? (bl[0] - tl[0]) / rect.height : -uy;
  const vy = rect.height > 0 ? (bl[1] - tl[1]) / rect.height : ux;
  const w = Math.max(0, rect.width + 2 * d);
  const h = Math.max(0, rect.height + 2 * d);
  const cx = (tl[0] + rect.corners[2][0]) / 2;
  const cy = (tl[1] + rect.corners[2][1]) / 2;
  const at = (su: number, sv: number): Point => [cx + (su * w * ux + sv * h * vx) / 2, cy + (su * w * uy + sv * h * vy) / 2];
  return rectFromCorners([at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)]);
}

/** Euclidean distance of two points. */
export function dist(a: Point, b: Point): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}

/** True when `p` lies inside or on the edge of a convex quadrilateral given in either winding. */
export function insideConvexQuad(q: Quad, x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const a = q[i] as Point;
    const b = q[(i + 1) % 4] as Point;
    const c = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    if (Math.abs(c) < 1e-9) continue;
    const s = c > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

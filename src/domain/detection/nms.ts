/**
 * Non-maximum suppression, and the merge step for detections from overlapping image tiles. Pure and synchronous.
 *
 * Both work on one class at a time over typed arrays of coordinates: decoders can hand over ~10k candidates. A kept box
 * is only compared with the boxes whose left edge lies in a window found by binary search over the class's boxes
 * sorted by x1 (a box can only overlap those), so spread-out boxes cost far less than all pairs; the IoU is computed
 * inline rather than through geometry.ts's `iou` to keep that loop free of allocation and calls.
 */
import type { Box } from '../geometry.js';
import type { Candidate } from './detection.js';

/** Options of {@link nms}. */
export interface NmsOptions {
  /** Boxes only suppress boxes of the same `classId` (default true); false: any box suppresses any other. */
  readonly classAware?: boolean;
  /** Keep at most this many boxes, the highest-scored ones (default: no limit). */
  readonly maxDetections?: number;
}

/** Options of {@link mergeTileDetections}. */
export interface TileMergeOptions {
  /** A lower-scored box of the same class is dropped when its IoU with a kept box is above this. */
  readonly iouThreshold: number;
  /**
   * A lower-scored box of the same class is also dropped when its intersection over the smaller box's area is above
   * this: it lies mostly inside the kept box, typically a piece of the same object cut by a tile border.
   */
  readonly minOverlapThreshold: number;
  /** Grow a kept box to the union with the pieces it absorbs (default true); see {@link mergeTileDetections}. */
  readonly union?: boolean;
}

/** A union may at most make a box this many times the area of the larger of the two boxes. */
const MAX_UNION_GROWTH = 2;

/** The coordinates of one class's candidates, best score first, as flat arrays for the pairwise loops. */
interface Group {
  /** Indices into the caller's candidate array, by score descending (ties: input order). */
  readonly order: number[];
  readonly x1: Float64Array;
  readonly y1: Float64Array;
  readonly x2: Float64Array;
  readonly y2: Float64Array;
  readonly area: Float64Array;
  /** Group positions sorted by x1, the x1 values in that order, and the widest box's width: the sweep window. */
  readonly byX: Int32Array;
  readonly sortedX1: Float64Array;
  readonly maxWidth: number;
}

/** True when a candidate's score and corners are finite numbers; others cannot be ordered or placed. */
function isFiniteCandidate(c: Candidate): boolean {
  const b = c.box;
  return Number.isFinite(c.score) && Number.isFinite(b.x1) && Number.isFinite(b.y1) && Number.isFinite(b.x2) && Number.isFinite(b.y2);
}

/**
 * Drops non-finite candidates, sorts the rest by score descending (Array.prototype.sort is stable, so ties keep input
 * order) and groups them by class.
 */
function groupByClass(cands: readonly Candidate[], classAware: boolean): Group[] {
  const order: number[] = [];
  cands.forEach((c, i) => {
    if (isFiniteCandidate(c)) order.push(i);
  });
  order.sort((a, b) => cands[b]!.score - cands[a]!.score);
  const byClass = new Map<number, number[]>();
  for (const i of order) {
    const key = classAware ? cands[i]!.classId : 0;
    let list = byClass.get(key);
    if (!list) byClass.set(key, (list = []));
    list.push(i);
  }
  return [...byClass.values()].map((ids) => {
    const n = ids.length;
    const x1 = new Float64Array(n);
    const y1 = new Float64Array(n);
    const x2 = new Float64Array(n);
    const y2 = new Float64Array(n);
    const area = new Float64Array(n);
    let maxWidth = 0;
    for (let k = 0; k < n; k++) {
      const b = cands[ids[k]!]!.box;
      x1[k] = b.x1;
      y1[k] = b.y1;
      x2[k] = b.x2;
      y2[k] = b.y2;
      area[k] = Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
      maxWidth = Math.max(maxWidth, b.x2 - b.x1);
    }
    const byX = Int32Array.from(ids.keys()).sort((a, b) => x1[a]! - x1[b]!);
    const sortedX1 = Float64Array.from(byX, (k) => x1[k]!);
    return { order: ids, x1, y1, x2, y2, area, byX, sortedX1, maxWidth };
  });
}

/** First position in the ascending `xs` whose value is >= `v`. */
function lowerBound(xs: Float64Array, v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The range of `byX` positions that can overlap member `i`: a box overlapping it starts before its right edge and,
 * being at most `maxWidth` wide, starts after its left edge minus `maxWidth`.
 */
function sweepWindow(g: Group, i: number): [number, number] {
  return [lowerBound(g.sortedX1, g.x1[i]! - g.maxWidth), lowerBound(g.sortedX1, g.x2[i]!)];
}

/** Intersection area of group members `i` and `j` (0 when they do not overlap). */
function intersection(g: Group, i: number, j: number): number {
  const iw = Math.min(g.x2[i]!, g.x2[j]!) - Math.max(g.x1[i]!, g.x1[j]!);
  if (iw <= 0) return 0;
  const ih = Math.min(g.y2[i]!, g.y2[j]!) - Math.max(g.y1[i]!, g.y1[j]!);
  return ih <= 0 ? 0 : iw * ih;
}

/** Orders kept candidates by score descending, ties by input position, and applies the cap. */
function finish(kept: { index: number; cand: Candidate }[], max: number): Candidate[] {
  kept.sort((a, b) => b.cand.score - a.cand.score || a.index - b.index);
  return kept.slice(0, max).map((k) => k.cand);
}

/**
 * Greedy non-maximum suppression: walks candidates by score (descending, stable) and drops every later candidate
 * whose IoU with a kept one is above `iouThreshold`. Returns kept candidates by score descending. Candidates with a
 * non-finite score or corner (a broken model output) are dropped.
 */
export function nms(cands: readonly Candidate[], iouThreshold: number, opts: NmsOptions = {}): Candidate[] {
  const classAware = opts.classAware ?? true;
  const max = opts.maxDetections ?? Number.POSITIVE_INFINITY;
  if (max <= 0 || cands.length === 0) return [];
  const kept: { index: number; cand: Candidate }[] = [];
  for (const g of groupByClass(cands, classAware)) {
    const n = g.order.length;
    const removed = new Uint8Array(n);
    let keptHere = 0;
    // No class can contribute more than `max` boxes to the overall top `max`, so a group can stop there.
    for (let i = 0; i < n && keptHere < max; i++) {
      if (removed[i]) continue;
      kept.push({ index: g.order[i]!, cand: cands[g.order[i]!]! });
      keptHere++;
      const [lo, hi] = sweepWindow(g, i);
      for (let p = lo; p < hi; p++) {
        const j = g.byX[p]!;
        if (j <= i || removed[j]) continue;
        const inter = intersection(g, i, j);
        if (inter > 0 && inter / (g.area[i]! + g.area[j]! - inter) > iouThreshold) removed[j] = 1;
      }
    }
  }
  return finish(kept, max);
}

/**
 * Merges detections from overlapping tiles plus a whole-image pass (all in whole-image pixels), per class, greedy by
 * score (SAHI's "greedy NMM"). A lower-scored box is absorbed by a kept box when their IoU is above `iouThreshold`
 * (the same object seen twice) or their intersection over the smaller area is above `minOverlapThreshold` (a piece of
 * the object that a tile border cut off, lying mostly inside the fuller box, or the two halves of an object cut in
 * two). The kept box keeps its score and class.
 *
 * Why union: plain NMS keeps whichever view scored best, and a piece cut by a tile border often outscores the whole
 * (the tile sees it at a higher resolution), so the box would lose the part beyond the border. So with `union`
 * (default) a box absorbed by the overlap-over-smaller test widens the kept box to the union of the two; for a piece
 * inside the fuller box that changes nothing, for two halves of a cut object it restores the whole. The price is a
 * few percent of growth when jittered duplicates of one object are unioned, which is the lesser error. Boxes matched
 * by IoU alone (only possible when `iouThreshold` < `minOverlapThreshold`) are duplicates and are not unioned. A union
 * that would make the box more than {@link MAX_UNION_GROWTH}x the larger box's area is skipped: that shape (say a thin
 * box across a square one) is two different objects, not one object in pieces. Matching always compares against the
 * kept box as first kept, not the growing union, so a row of neighbouring objects cannot snowball into one box.
 */
export function mergeTileDetections(cands: readonly Candidate[], opts: TileMergeOptions): Candidate[] {
  const union = opts.union ?? true;
  const kept: { index: number; cand: Candidate }[] = [];
  for (const g of groupByClass(cands, true)) {
    const n = g.order.length;
    const removed = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      if (removed[i]) continue;
      let ux1 = g.x1[i]!;
      let uy1 = g.y1[i]!;
      let ux2 = g.x2[i]!;
      let uy2 = g.y2[i]!;
      const [lo, hi] = sweepWindow(g, i);
      for (let p = lo; p < hi; p++) {
        const j = g.byX[p]!;
        if (j <= i || removed[j]) continue;
        const inter = intersection(g, i, j);
        if (inter <= 0) continue;
        const byIou = inter / (g.area[i]! + g.area[j]! - inter) > opts.iouThreshold;
        const smaller = Math.min(g.area[i]!, g.area[j]!);
        const byMin = smaller > 0 && inter / smaller > opts.minOverlapThreshold;
        if (!byIou && !byMin) continue;
        removed[j] = 1;
        if (!union || !byMin) continue;
        const ex1 = Math.min(g.x1[i]!, g.x1[j]!);
        const ey1 = Math.min(g.y1[i]!, g.y1[j]!);
        const ex2 = Math.max(g.x2[i]!, g.x2[j]!);
        const ey2 = Math.max(g.y2[i]!, g.y2[j]!);
        if ((ex2 - ex1) * (ey2 - ey1) > MAX_UNION_GROWTH * Math.max(g.area[i]!, g.area[j]!)) continue;
        ux1 = Math.min(ux1, ex1);
        uy1 = Math.min(uy1, ey1);
        ux2 = Math.max(ux2, ex2);
        uy2 = Math.max(uy2, ey2);
      }
      const c = cands[g.order[i]!]!;
      const b = c.box;
      const grown = ux1 !== b.x1 || uy1 !== b.y1 || ux2 !== b.x2 || uy2 !== b.y2;
      const box: Box = grown ? { x1: ux1, y1: uy1, x2: ux2, y2: uy2 } : b;
      kept.push({ index: g.order[i]!, cand: grown ? { ...c, box } : c });
    }
  }
  return finish(kept, Number.POSITIVE_INFINITY);
}

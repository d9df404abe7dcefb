/**
 * Post-processing of a DB (Differentiable Binarization) text detector, after PaddleOCR's DBPostProcess: the
 * probability map is binarised, each connected region becomes the minimum-area rotated rectangle around it,
 * regions whose mean probability is low are dropped, and the rest are "unclipped" — grown back out, since DB
 * is trained to predict a shrunk text kernel. Pure maths on the map, no I/O.
 */
import { growRect, insideConvexQuad, minAreaRect, type Point, type Quad, type RotatedRect } from './min-area-rect.js';

/** DB thresholds. */
export interface DbOptions {
  /** Pixels with probability above this are text (PaddleOCR: 0.3). */
  readonly thresh: number;
  /** Minimum mean probability inside a box (PaddleOCR: 0.6, RapidOCR: 0.5). */
  readonly boxThresh: number;
  /** How far a box grows: distance = area * ratio / perimeter (PaddleOCR: 1.5, RapidOCR: 1.6). */
  readonly unclipRatio: number;
  /** Boxes with a shorter side under this many map pixels are noise (PaddleOCR: 3). */
  readonly minSize: number;
  /** At most this many regions are considered, largest first (PaddleOCR: 1000). */
  readonly maxCandidates: number;
}

/** PaddleOCR's defaults. */
export const DB_DEFAULTS: DbOptions = { thresh: 0.3, boxThresh: 0.6, unclipRatio: 1.5, minSize: 3, maxCandidates: 1000 };

/** A probability map, row-major, values 0..1. */
export interface ProbMap {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** One text box found on the map, in map pixels. */
export interface DbBox {
  readonly rect: RotatedRect;
  /** Mean probability inside the (shrunk) box. */
  readonly score: number;
}

/** One connected region: its outline points (leftmost and rightmost pixel per row) and its pixel count. */
interface Region {
  readonly outline: Point[];
  readonly pixels: number;
}

/**
 * Connected regions (8-connectivity, as OpenCV's outer contours) of `map > thresh`. Only the leftmost and
 * rightmost pixel of each row of a region are kept: their hull is the region's hull.
 */
export function textRegions(map: ProbMap, thresh: number): Region[] {
  const { data, width, height } = map;
  const label = labels(width * height);
  const stack: number[] = [];
  const regions: Region[] = [];
  for (let start = 0; start < data.length; start++) {
    if (label[start] !== 0 || (data[start] as number) <= thresh) continue;
    const id = regions.length + 1;
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    let pixels = 0;
    label[start] = id;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop() as number;
      const x = i % width;
      const y = (i - x) / width;
      pixels++;
      const lo = rowMin.get(y);
      if (lo === undefined || x < lo) rowMin.set(y, x);
      const hi = rowMax.get(y);
      if (hi === undefined || x > hi) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
          const j = ny * width + nx;
          if (label[j] === 0 && (data[j] as number) > thresh) {
            label[j] = id;
            stack.push(j);
          }
        }
      }
    }
    const outline: Point[] = [];
    for (const [y, x] of rowMin) {
      outline.push([x, y]);
      const hi = rowMax.get(y) as number;
      if (hi !== x) outline.push([hi, y]);
    }
    regions.push({ outline, pixels });
  }
  return regions;
}

/**
 * Zeroed region labels for `n` pixels, on one buffer reused from call to call (and grown when a bigger map
 * comes): a page's map is ~1M pixels, and a fresh 4 MB array per call made the main thread collect garbage far
 * more often. Safe because textRegions is synchronous and is done with it before it returns.
 */
let labelBuffer = new Int32Array(0);
function labels(n: number): Int32Array {
  if (labelBuffer.length < n) labelBuffer = new Int32Array(n);
  const view = labelBuffer.subarray(0, n);
  view.fill(0);
  return view;
}

/** Mean of the map inside a quadrilateral (PaddleOCR's box_score_fast: the pixels the filled polygon covers). */
export function boxScore(map: ProbMap, quad: Quad): number {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = clamp(Math.floor(Math.min(...xs)), 0, map.width - 1);
  const x1 = clamp(Math.ceil(Math.max(...xs)), 0, map.width - 1);
  const y0 = clamp(Math.floor(Math.min(...ys)), 0, map.height - 1);
  const y1 = clamp(Math.ceil(Math.max(...ys)), 0, map.height - 1);
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insideConvexQuad(quad, x, y)) continue;
      sum += map.data[y * map.width + x] as number;
      n++;
    }
  }
  return n ? sum / n : 0;
}

/**
 * Unclips a rectangle the way PaddleOCR does with pyclipper: offsets its outline by area * ratio / perimeter.
 * For a rectangle the rounded offset polygon's minimum-area rectangle is the rectangle grown by that distance
 * on every side.
 */
export function unclip(rect: RotatedRect, ratio: number): RotatedRect {
  const perimeter = 2 * (rect.width + rect.height);
  if (perimeter === 0) return rect;
  return growRect(rect, (rect.width * rect.height * ratio) / perimeter);
}

/** Text boxes of a DB probability map, in map pixels (corners clockwise from top-left). */
export function dbBoxes(map: ProbMap, opts: DbOptions = DB_DEFAULTS): DbBox[] {
  const regions = textRegions(map, opts.thresh)
    .sort((a, b) => b.pixels - a.pixels)
    .slice(0, opts.maxCandidates);
  const out: DbBox[] = [];
  for (const region of regions) {
    const rect = minAreaRect(region.outline);
    if (Math.min(rect.width, rect.height) < opts.minSize) continue;
    const score = boxScore(map, rect.corners);
    if (score < opts.boxThresh) continue;
    const grown = unclip(rect, opts.unclipRatio);
    if (Math.min(grown.width, grown.height) < opts.minSize + 2) continue;
    out.push({ rect: grown, score });
  }
  return out;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/**
 * COCO mean average precision for boxes, following pycocotools' COCOeval (bbox, area range "all") rule for rule, so
 * figures compare with published ones:
 *   - per image and class, detections are taken by score (stable: ties keep input order) and only the first
 *     `maxDetections` count (COCO's maxDets, 100);
 *   - ground truth is ordered non-crowd first; a detection takes the unmatched non-crowd box with the highest IoU at
 *     or above the threshold, else a crowd region (which any number of detections may match, with IoU measured as
 *     intersection over the detection's own area); a detection on a crowd region is ignored, neither right nor wrong;
 *   - per class, all images' detections by score (stable, images in the order given), precision made monotone from
 *     the right and read at 101 recall points 0, 0.01 .. 1 (the first point whose recall reaches each; 0 past the
 *     last), at IoU thresholds .50:.05:.95;
 *   - classes with no non-crowd ground truth are left out of the mean; classes with ground truth but no detections
 *     count as 0.
 * Pure: no I/O.
 */
import type { Box } from '../geometry.js';

/** One ground-truth box; `crowd` marks a COCO iscrowd region, to be ignored rather than found. */
export interface GroundTruthBox {
  readonly imageId: string | number;
  readonly classId: number;
  readonly box: Box;
  readonly crowd?: boolean;
}

/** One detection to evaluate. */
export interface ScoredBox {
  readonly imageId: string | number;
  readonly classId: number;
  readonly box: Box;
  readonly score: number;
}

/** Options of {@link cocoMap}. */
export interface CocoMapOptions {
  /** Detections per image and class that count (pycocotools' maxDets; default 100). */
  readonly maxDetections?: number;
}

/** What {@link cocoMap} finds; every figure is 0..1. */
export interface CocoMapResult {
  /** mAP@[.5:.95]: the mean over IoU thresholds, recall points and evaluated classes. */
  readonly map: number;
  /** AP at IoU 0.5 and 0.75, averaged over classes. */
  readonly map50: number;
  readonly map75: number;
  /** AP@[.5:.95] per evaluated class. */
  readonly perClass: ReadonlyMap<number, number>;
  /** How many images and evaluated classes went into the figures. */
  readonly images: number;
  readonly classes: number;
}

/** numpy.linspace(start, stop, num): start + i * step, the last exactly `stop` (pycocotools builds its thresholds so). */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

/** IoU thresholds .50:.05:.95, as pycocotools computes them. */
export const COCO_IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
/** The 101 recall points 0:.01:1. */
export const COCO_RECALL_POINTS: readonly number[] = linspace(0, 1, 101);

/** pycocotools' box IoU: against a crowd region, intersection over the detection's area. */
function cocoIou(d: Box, g: Box, crowd: boolean): number {
  const iw = Math.min(d.x2, g.x2) - Math.max(d.x1, g.x1);
  const ih = Math.min(d.y2, g.y2) - Math.max(d.y1, g.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const da = (d.x2 - d.x1) * (d.y2 - d.y1);
  const union = crowd ? da : da + (g.x2 - g.x1) * (g.y2 - g.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** One image's evaluation for one class: its counted detections' scores and, per threshold, matched / ignored flags. */
interface ImageEval {
  readonly scores: number[];
  readonly matched: Uint8Array[];
  readonly ignored: Uint8Array[];
  readonly positives: number;
}

/** pycocotools' evaluateImg for one image and class (area range all). */
function evaluateImage(gts: readonly GroundTruthBox[], dts: readonly ScoredBox[], maxDets: number): ImageEval {
  // Non-crowd first, each group in input order (numpy's stable mergesort on the ignore flag).
  const g = [...gts.filter((x) => !x.crowd), ...gts.filter((x) => x.crowd)];
  const d = dts
    .map((x, i) => ({ x, i }))
    .sort((a, b) => b.x.score - a.x.score || a.i - b.i)
    .slice(0, maxDets)
    .map((e) => e.x);
  const ious = d.map((dt) => g.map((gt) => cocoIou(dt.box, gt.box, gt.crowd === true)));
  const matched: Uint8Array[] = [];
  const ignored: Uint8Array[] = [];
  for (const t of COCO_IOU_THRESHOLDS) {
    const gtTaken = new Uint8Array(g.length);
    const dtMatched = new Uint8Array(d.length);
    const dtIgnored = new Uint8Array(d.length);
    for (let di = 0; di < d.length; di++) {
      let best = Math.min(t, 1 - 1e-10);
      let m = -1;
      for (let gi = 0; gi < g.length; gi++) {
        const crowd = g[gi]!.crowd === true;
        if (gtTaken[gi] && !crowd) continue;
        // Matched to a real box already and only crowd regions are left: stop.
        if (m > -1 && !g[m]!.crowd && crowd) break;
        const v = ious[di]![gi]!;
        if (v < best) continue;
        best = v;
        m = gi;
      }
      if (m === -1) continue;
      dtMatched[di] = 1;
      dtIgnored[di] = g[m]!.crowd ? 1 : 0;
      gtTaken[m] = 1;
    }
    matched.push(dtMatched);
    ignored.push(dtIgnored);
  }
  return { scores: d.map((x) => x.score), matched, ignored, positives: g.length - gts.filter((x) => x.crowd).length };
}

/** Precision at each recall point for one class and threshold, from its detections in score order (pycocotools' accumulate). */
function precisionCurve(tp: Uint8Array, fp: Uint8Array, positives: number): number[] {
  const nd = tp.length;
  const rc = new Float64Array(nd);
  const pr = new Float64Array(nd);
  let tps = 0;
  let fps = 0;
  for (let i = 0; i < nd; i++) {
    tps += tp[i]!;
    fps += fp[i]!;
    rc[i] = tps / positives;
    pr[i] = tps / (fps + tps + Number.EPSILON);
  }
  for (let i = nd - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
  let at = 0;
  return COCO_RECALL_POINTS.map((r) => {
    // searchsorted(rc, r, side='left'): rc only grows, so the search moves forward with r.
    while (at < nd && rc[at]! < r) at++;
    return at < nd ? pr[at]! : 0;
  });
}

/**
 * COCO box mAP of `detections` against `groundTruth` over `images` (the evaluated set, in the order detections
 * are merged; images without ground truth count: their detections are false positives). Detections on other images
 * are not counted.
 */
export function cocoMap(
  images: readonly (string | number)[],
  groundTruth: readonly GroundTruthBox[],
  detections: readonly ScoredBox[],
  opts: CocoMapOptions = {},
): CocoMapResult {
  const maxDets = opts.maxDetections ?? 100;
  const key = (image: string | number, cls: number): string => `${typeof image}:${String(image)}\u0000${cls}`;
  const gtBy = new Map<string, GroundTruthBox[]>();
  const dtBy = new Map<string, ScoredBox[]>();
  const add = <T extends { imageId: string | number; classId: number }>(by: Map<string, T[]>, x: T): void => {
    const list = by.get(key(x.imageId, x.classId));
    if (list) list.push(x);
    else by.set(key(x.imageId, x.classId), [x]);
  };
  for (const g of groundTruth) add(gtBy, g);
  for (const d of detections) add(dtBy, d);
  const classes = [...new Set(groundTruth.filter((g) => !g.crowd).map((g) => g.classId))].sort((a, b) => a - b);

  const perClass = new Map<number, number>();
  const sums = { all: 0, at50: 0, at75: 0 };
  const i50 = COCO_IOU_THRESHOLDS.indexOf(0.5);
  const i75 = COCO_IOU_THRESHOLDS.findIndex((t) => Math.abs(t - 0.75) < 1e-9);
  for (const cls of classes) {
    const evals = images.map((img) => evaluateImage(gtBy.get(key(img, cls)) ?? [], dtBy.get(key(img, cls)) ?? [], maxDets));
    const positives = evals.reduce((n, e) => n + e.positives, 0);
    // All images' detections by score; a stable sort keeps image order, then each image's own order, between ties.
    const flat: { score: number; e: ImageEval; i: number }[] = [];
    for (const e of evals) e.scores.forEach((score, i) => flat.push({ score, e, i }));
    flat.sort((a, b) => b.score - a.score);
    let classSum = 0;
    COCO_IOU_THRESHOLDS.forEach((_, t) => {
      const tp = new Uint8Array(flat.length);
      const fp = new Uint8Array(flat.length);
      flat.forEach((f, k) => {
        if (f.e.ignored[t]![f.i]) return;
        if (f.e.matched[t]![f.i]) tp[k] = 1;
        else fp[k] = 1;
      });
      const ap = precisionCurve(tp, fp, positives).reduce((a, b) => a + b, 0) / COCO_RECALL_POINTS.length;
      classSum += ap;
      if (t === i50) sums.at50 += ap;
      if (t === i75) sums.at75 += ap;
    });
    perClass.set(cls, classSum / COCO_IOU_THRESHOLDS.length);
    sums.all += classSum / COCO_IOU_THRESHOLDS.length;
  }
  const n = classes.length;
  return {
    map: n ? sums.all / n : 0,
    map50: n ? sums.at50 / n : 0,
    map75: n ? sums.at75 / n : 0,
    perClass,
    images: images.length,
    classes: n,
  };
}

/**
 * A multi-object tracker for the detections of sampled video frames, after ByteTrack (Zhang et al., 2022): detections
 * at or above `highThreshold` are associated first, then the low-confidence ones may only extend tracks that are
 * already confirmed, so a partly occluded object keeps its track while a low-scored false positive never opens one.
 * Pure and synchronous.
 *
 * Association is greedy rather than Hungarian: all (track, detection) pairs of the same class whose IoU reaches
 * `iouThreshold` are taken best IoU first. With a handful of objects per frame that almost always gives the optimal
 * assignment, and it is deterministic and allocation-light. The IoU of a pair is the larger of the detection's IoU with
 * the track's last box and with that box moved to the centre predicted by a constant-velocity model; the prediction
 * keeps fast or crossing objects on their own tracks, the last box covers an object that stops.
 *
 * Time is measured with frame timestamps, not frame counts, because frames are sampled (possibly unevenly): a track
 * ends once it has gone unseen for more than `maxAgeSeconds`.
 *
 * Memory does not grow with the number of frames: a live track keeps its last point, velocity, running statistics
 * (hits, confidence sum, first and best point) and fewer than 2 x `maxPathPoints` path points, thinned evenly as it
 * grows (see PathSampler); a track that ends is compacted to its summary with at most `maxPathPoints` points.
 * Unconfirmed tracks are dropped as soon as they miss a frame. Updates report the tracks without their paths.
 */
import { AppError } from '../errors.js';
import { boxFromCentre, iou, type Box } from '../geometry.js';
import type { Detection } from '../detection/detection.js';

/** How the tracker associates detections and when it confirms and ends tracks. */
export interface TrackerOptions {
  /** A detection joins a track only with an IoU of at least this (0..1]. */
  iouThreshold: number;
  /** A track ends when unseen for more than this many seconds of video time. */
  maxAgeSeconds: number;
  /** A track is confirmed (gets an id) after this many hits on consecutive analysed frames (integer >= 1). */
  minHits: number;
  /** Detections at or above this confidence are "high": only they start tracks and are associated first. */
  highThreshold: number;
  /**
   * The most points a reported path has (integer >= 3, default {@link DEFAULT_MAX_PATH_POINTS}): the whole path while
   * it is that short, then points evenly spaced over its hits, always with the first, the last and the best.
   */
  maxPathPoints?: number;
}

/** Path points kept per track unless the options say otherwise: what a video job's result shows. */
export const DEFAULT_MAX_PATH_POINTS = 100;

/** One analysed frame: its detections in image pixels. */
export interface FrameInput {
  frameIndex: number;
  /** Seconds from the start of the video. */
  timestamp: number;
  detections: readonly Detection[];
}

/** A detection with its track id; null while its track is unconfirmed (fewer than `minHits` hits) or it has none. */
export interface TrackedDetection extends Detection {
  trackId: number | null;
}

/** Where a track's object was seen on one frame. */
export interface TrackPoint {
  frameIndex: number;
  timestamp: number;
  box: Box;
  confidence: number;
}

/** A confirmed track's state as an update reports it: its extent in time and its hits, without its path. */
export interface TrackState {
  trackId: number;
  label: string;
  classId: number;
  firstTime: number;
  lastTime: number;
  firstFrame: number;
  lastFrame: number;
  hits: number;
  meanConfidence: number;
  /** The highest-confidence point (the earliest of equals): the frame to show as the object's thumbnail. */
  best: TrackPoint;
}

/** A confirmed track as `tracks()` reports it: its state and its path (bounded by `maxPathPoints`, in frame order). */
export interface TrackSummary extends TrackState {
  path: TrackPoint[];
}

/** What {@link Tracker.update} returns for one frame. */
export interface FrameResult {
  /** The frame's detections in input order, with their track ids. */
  detections: TrackedDetection[];
  /** The confirmed tracks this frame added a point to (including ones it confirmed), by track id; without paths. */
  updated: TrackState[];
}

/** A track being followed. */
interface Track {
  /** Public id, given on confirmation so that confirmed ids run 1, 2, 3… without gaps left by flickers. */
  id: number | null;
  readonly label: string;
  readonly classId: number;
  readonly first: TrackPoint;
  last: TrackPoint;
  best: TrackPoint;
  hits: number;
  /** Sum of the hits' confidences, added in hit order (the mean is then the same number a full path would give). */
  confidenceSum: number;
  readonly path: PathSampler;
  /** Centre velocity in pixels per second, smoothed over hits; 0 until the second hit. */
  vx: number;
  vy: number;
}

/**
 * A bounded, evenly thinned path. It keeps the hits whose number (0-based) is a multiple of `stride`, which doubles
 * (dropping every other kept hit) whenever they would exceed twice the points a path shows; the last and best points
 * are held by the track and added when the path is read. Reading picks `max` of those, evenly spaced (see
 * {@link boundedPath}). Up to 2 x max - 2 hits nothing is dropped, so the path read is exactly what the whole path
 * would give; beyond that the kept hits are `stride` apart, so the points read are within a stride of even spacing.
 */
class PathSampler {
  private points: { hit: number; point: TrackPoint }[] = [];
  private stride = 1;

  constructor(private readonly max: number) {}

  add(hit: number, point: TrackPoint): void {
    if (hit % this.stride !== 0) return;
    this.points.push({ hit, point });
    // Two places stay free for the last and best points.
    while (this.points.length > 2 * this.max - 2) {
      this.stride *= 2;
      this.points = this.points.filter((p) => p.hit % this.stride === 0);
    }
  }

  /** At most `max` points (copies): the kept ones with `last` and `best` added where missing, thinned evenly, in hit order. */
  read(last: TrackPoint, best: TrackPoint): TrackPoint[] {
    const out = this.points.map((p) => p.point);
    for (const extra of [best, last]) {
      if (out.some((p) => p.frameIndex === extra.frameIndex)) continue;
      const at = out.findIndex((p) => p.frameIndex > extra.frameIndex);
      out.splice(at < 0 ? out.length : at, 0, extra);
    }
    return boundedPath(out, best, this.max).map((p) => ({ ...p, box: { ...p.box } }));
  }
}

/**
 * At most `max` points of a path (max >= 3), evenly spaced over it, keeping the first, the last and the best point;
 * the whole path when it is that short.
 */
export function boundedPath(path: readonly TrackPoint[], best: TrackPoint, max: number): TrackPoint[] {
  if (path.length <= max) return [...path];
  const n = path.length;
  const picked = new Set<number>();
  // max - 1 evenly spaced points from the first to the last, leaving room for the best one.
  for (let i = 0; i < max - 1; i++) picked.add(Math.round((i * (n - 1)) / (max - 2)));
  const bestAt = path.findIndex((p) => p.frameIndex === best.frameIndex);
  if (bestAt >= 0) picked.add(bestAt);
  return [...picked].sort((a, b) => a - b).map((i) => path[i] as TrackPoint);
}

/** Weight of the newest displacement in the smoothed velocity: damps detector jitter but follows turns within a few frames. */
const VELOCITY_SMOOTHING = 0.5;

/** Follows objects across the frames of one video; feed frames in order. */
export class Tracker {
  private readonly opts: Required<TrackerOptions>;
  private live: Track[] = [];
  /**
   * Confirmed tracks that have ended, in the order they ended, compacted to what `tracks()` reports (their path read
   * once, the sampler dropped): nothing is kept per frame, only a bounded summary per track.
   */
  private readonly ended: TrackSummary[] = [];
  private nextId = 1;
  private lastFrame: { frameIndex: number; timestamp: number } | null = null;

  /** Throws AppError VALIDATION_ERROR on options out of range. */
  constructor(opts: TrackerOptions) {
    validateOptions(opts);
    this.opts = { ...opts, maxPathPoints: opts.maxPathPoints ?? DEFAULT_MAX_PATH_POINTS };
  }

  /**
   * Feeds one analysed frame (in order); returns its detections with track ids, and the tracks that were confirmed or
   * updated by it (without paths). A detection that confirms its track gets the new id; the detections already returned
   * for that track's earlier frames keep their null (they are not revisited), but its hits and `path` include them.
   * Throws a RangeError when frames come out of order.
   */
  update(frame: FrameInput): FrameResult {
    this.checkOrder(frame);
    const t = frame.timestamp;
    this.expire(t);

    const dets = frame.detections;
    const high: number[] = [];
    const low: number[] = [];
    dets.forEach((d, i) => (d.confidence >= this.opts.highThreshold ? high : low).push(i));

    const confirmed = this.live.filter((tr) => tr.id !== null);
    const tentative = this.live.filter((tr) => tr.id === null);
    const owner = new Map<number, Track>();

    // Established tracks get first pick of the good detections, so a duplicate tentative track cannot steal one.
    for (const [di, tr] of this.match(confirmed, high, dets, t)) owner.set(di, tr);
    const highLeft = high.filter((di) => !owner.has(di));
    for (const [di, tr] of this.match(tentative, highLeft, dets, t)) owner.set(di, tr);
    // ByteTrack's second round: low-confidence boxes only keep confirmed tracks alive, never confirm or start one.
    const taken = new Set(owner.values());
    const confirmedLeft = confirmed.filter((tr) => !taken.has(tr));
    for (const [di, tr] of this.match(confirmedLeft, low, dets, t)) owner.set(di, tr);

    for (const [di, tr] of owner) this.addPoint(tr, dets[di] as Detection, frame);

    for (const di of high) {
      if (owner.has(di)) continue;
      const d = dets[di] as Detection;
      const tr = this.startTrack(d, frame);
      this.live.push(tr);
      owner.set(di, tr);
    }

    // Tentative tracks must be hit on consecutive frames: a miss drops them, which is what filters flickers.
    const hitNow = new Set(owner.values());
    this.live = this.live.filter((tr) => tr.id !== null || hitNow.has(tr));

    const updated: TrackState[] = [];
    for (const tr of this.live) {
      if (!hitNow.has(tr)) continue;
      if (tr.id === null && tr.hits >= this.opts.minHits) tr.id = this.nextId++;
      if (tr.id !== null) updated.push(stateOf(tr, tr.id));
    }
    updated.sort((a, b) => a.trackId - b.trackId);

    const detections = dets.map((d, i): TrackedDetection => ({ ...d, trackId: owner.get(i)?.id ?? null }));
    return { detections, updated };
  }

  /** All confirmed tracks so far (ended and live), ordered by first appearance (then by id). */
  tracks(): TrackSummary[] {
    const out: TrackSummary[] = [];
    for (const t of this.ended) out.push({ ...t, best: { ...t.best, box: { ...t.best.box } }, path: t.path.map((p) => ({ ...p, box: { ...p.box } })) });
    for (const tr of this.live) if (tr.id !== null) out.push(summaryOf(tr, tr.id));
    return out.sort((a, b) => a.firstTime - b.firstTime || a.firstFrame - b.firstFrame || a.trackId - b.trackId);
  }

  private checkOrder(frame: FrameInput): void {
    const prev = this.lastFrame;
    if (!Number.isFinite(frame.timestamp)) throw new RangeError(`frame ${frame.frameIndex} has no finite timestamp`);
    if (prev && (frame.frameIndex <= prev.frameIndex || frame.timestamp < prev.timestamp)) {
      throw new RangeError(
        `frames must come in order: frame ${frame.frameIndex} at ${frame.timestamp}s after frame ${prev.frameIndex} at ${prev.timestamp}s`,
      );
    }
    this.lastFrame = { frameIndex: frame.frameIndex, timestamp: frame.timestamp };
  }

  /** Ends the tracks unseen for more than maxAgeSeconds at time `t`; unconfirmed ones are forgotten. */
  private expire(t: number): void {
    const keep: Track[] = [];
    for (const tr of this.live) {
      if (t - tr.last.timestamp <= this.opts.maxAgeSeconds) keep.push(tr);
      else if (tr.id !== null) this.ended.push(summaryOf(tr, tr.id));
    }
    this.live = keep;
  }

  /** Greedy same-class IoU matching of `tracks` to the detections at `detIdx`; returns detection index → track. */
  private match(tracks: readonly Track[], detIdx: readonly number[], dets: readonly Detection[], t: number): Map<number, Track> {
    const pairs: { score: number; ti: number; di: number }[] = [];
    tracks.forEach((tr, ti) => {
      const last = tr.last.box;
      const predicted = predictBox(tr, t);
      for (const di of detIdx) {
        const d = dets[di] as Detection;
        if (d.classId !== tr.classId) continue;
        const score = Math.max(iou(predicted, d.box), iou(last, d.box));
        if (score >= this.opts.iouThreshold) pairs.push({ score, ti, di });
      }
    });
    // Ties fall back to the older track and the earlier detection, so results never depend on sort stability.
    pairs.sort((a, b) => b.score - a.score || a.ti - b.ti || a.di - b.di);
    const out = new Map<number, Track>();
    const usedTracks = new Set<number>();
    for (const p of pairs) {
      if (usedTracks.has(p.ti) || out.has(p.di)) continue;
      usedTracks.add(p.ti);
      out.set(p.di, tracks[p.ti] as Track);
    }
    return out;
  }

  /** A new (tentative) track from its first detection. */
  private startTrack(d: Detection, frame: FrameInput): Track {
    const point: TrackPoint = { frameIndex: frame.frameIndex, timestamp: frame.timestamp, box: d.box, confidence: d.confidence };
    const path = new PathSampler(this.opts.maxPathPoints);
    path.add(0, point);
    return { id: null, label: d.label, classId: d.classId, first: point, last: point, best: point, hits: 1, confidenceSum: d.confidence, path, vx: 0, vy: 0 };
  }

  /** Records a hit and updates the smoothed centre velocity from the displacement since the previous hit. */
  private addPoint(tr: Track, d: Detection, frame: FrameInput): void {
    const prev = tr.last;
    const dt = frame.timestamp - prev.timestamp;
    if (dt > 0) {
      const [px, py] = centre(prev.box);
      const [cx, cy] = centre(d.box);
      const ix = (cx - px) / dt;
      const iy = (cy - py) / dt;
      const first = tr.hits === 1;
      tr.vx = first ? ix : VELOCITY_SMOOTHING * ix + (1 - VELOCITY_SMOOTHING) * tr.vx;
      tr.vy = first ? iy : VELOCITY_SMOOTHING * iy + (1 - VELOCITY_SMOOTHING) * tr.vy;
    }
    const point: TrackPoint = { frameIndex: frame.frameIndex, timestamp: frame.timestamp, box: d.box, confidence: d.confidence };
    tr.path.add(tr.hits, point);
    tr.hits++;
    tr.confidenceSum += d.confidence;
    tr.last = point;
    if (point.confidence > tr.best.confidence) tr.best = point;
  }
}

function validateOptions(o: TrackerOptions): void {
  const bad = (what: string): never => {
    throw new AppError('VALIDATION_ERROR', `tracker option ${what}`, { options: o });
  };
  if (!(o.iouThreshold > 0 && o.iouThreshold <= 1)) bad(`iouThreshold must be in (0, 1], got ${o.iouThreshold}`);
  if (!(o.maxAgeSeconds >= 0 && Number.isFinite(o.maxAgeSeconds))) bad(`maxAgeSeconds must be >= 0, got ${o.maxAgeSeconds}`);
  if (!(Number.isInteger(o.minHits) && o.minHits >= 1)) bad(`minHits must be an integer >= 1, got ${o.minHits}`);
  if (!(o.highThreshold >= 0 && o.highThreshold <= 1)) bad(`highThreshold must be in [0, 1], got ${o.highThreshold}`);
  if (o.maxPathPoints !== undefined && !(Number.isInteger(o.maxPathPoints) && o.maxPathPoints >= 3)) bad(`maxPathPoints must be an integer >= 3, got ${o.maxPathPoints}`);
}

function centre(b: Box): [number, number] {
  return [(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2];
}

/** The track's last box moved to where its centre would be at time `t` at constant velocity. */
function predictBox(tr: Track, t: number): Box {
  const last = tr.last;
  const dt = t - last.timestamp;
  const [cx, cy] = centre(last.box);
  return boxFromCentre(cx + tr.vx * dt, cy + tr.vy * dt, last.box.x2 - last.box.x1, last.box.y2 - last.box.y1);
}

function summaryOf(tr: Track, trackId: number): TrackSummary {
  return { ...stateOf(tr, trackId), path: tr.path.read(tr.last, tr.best) };
}

function stateOf(tr: Track, trackId: number): TrackState {
  return {
    trackId,
    label: tr.label,
    classId: tr.classId,
    firstTime: tr.first.timestamp,
    lastTime: tr.last.timestamp,
    firstFrame: tr.first.frameIndex,
    lastFrame: tr.last.frameIndex,
    hits: tr.hits,
    meanConfidence: tr.confidenceSum / tr.hits,
    best: { ...tr.best, box: { ...tr.best.box } },
  };
}

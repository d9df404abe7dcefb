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
}

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

/** A confirmed track as reported: its extent in time, its hits and its whole path. */
export interface TrackSummary {
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
  path: TrackPoint[];
}

/** What {@link Tracker.update} returns for one frame. */
export interface FrameResult {
  /** The frame's detections in input order, with their track ids. */
  detections: TrackedDetection[];
  /** The confirmed tracks this frame added a point to (including ones it confirmed), by track id. */
  updated: TrackSummary[];
}

/** A track being followed. */
interface Track {
  /** Public id, given on confirmation so that confirmed ids run 1, 2, 3… without gaps left by flickers. */
  id: number | null;
  readonly label: string;
  readonly classId: number;
  readonly points: TrackPoint[];
  /** Centre velocity in pixels per second, smoothed over hits; 0 until the second hit. */
  vx: number;
  vy: number;
}

/** Weight of the newest displacement in the smoothed velocity: damps detector jitter but follows turns within a few frames. */
const VELOCITY_SMOOTHING = 0.5;

/** Follows objects across the frames of one video; feed frames in order. */
export class Tracker {
  private readonly opts: TrackerOptions;
  private live: Track[] = [];
  /** Confirmed tracks that have ended, in the order they ended. */
  private readonly ended: Track[] = [];
  private nextId = 1;
  private lastFrame: { frameIndex: number; timestamp: number } | null = null;

  /** Throws AppError VALIDATION_ERROR on options out of range. */
  constructor(opts: TrackerOptions) {
    validateOptions(opts);
    this.opts = { ...opts };
  }

  /**
   * Feeds one analysed frame (in order); returns its detections with track ids, and the tracks that were confirmed or
   * updated by it. A detection that confirms its track gets the new id; the detections already returned for that
   * track's earlier frames keep their null (they are not revisited), but its `path` includes them.
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
      const tr: Track = { id: null, label: d.label, classId: d.classId, points: [], vx: 0, vy: 0 };
      this.addPoint(tr, d, frame);
      this.live.push(tr);
      owner.set(di, tr);
    }

    // Tentative tracks must be hit on consecutive frames: a miss drops them, which is what filters flickers.
    const hitNow = new Set(owner.values());
    this.live = this.live.filter((tr) => tr.id !== null || hitNow.has(tr));

    const updated: TrackSummary[] = [];
    for (const tr of this.live) {
      if (!hitNow.has(tr)) continue;
      if (tr.id === null && tr.points.length >= this.opts.minHits) tr.id = this.nextId++;
      if (tr.id !== null) updated.push(summarise(tr, tr.id));
    }
    updated.sort((a, b) => a.trackId - b.trackId);

    const detections = dets.map((d, i): TrackedDetection => ({ ...d, trackId: owner.get(i)?.id ?? null }));
    return { detections, updated };
  }

  /** All confirmed tracks so far (ended and live), ordered by first appearance (then by id). */
  tracks(): TrackSummary[] {
    const out: TrackSummary[] = [];
    for (const tr of [...this.ended, ...this.live]) if (tr.id !== null) out.push(summarise(tr, tr.id));
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
      if (t - lastPoint(tr).timestamp <= this.opts.maxAgeSeconds) keep.push(tr);
      else if (tr.id !== null) this.ended.push(tr);
    }
    this.live = keep;
  }

  /** Greedy same-class IoU matching of `tracks` to the detections at `detIdx`; returns detection index → track. */
  private match(tracks: readonly Track[], detIdx: readonly number[], dets: readonly Detection[], t: number): Map<number, Track> {
    const pairs: { score: number; ti: number; di: number }[] = [];
    tracks.forEach((tr, ti) => {
      const last = lastPoint(tr).box;
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

  /** Appends a hit and updates the smoothed centre velocity from the displacement since the previous hit. */
  private addPoint(tr: Track, d: Detection, frame: FrameInput): void {
    const prev = tr.points.at(-1);
    if (prev) {
      const dt = frame.timestamp - prev.timestamp;
      if (dt > 0) {
        const [px, py] = centre(prev.box);
        const [cx, cy] = centre(d.box);
        const ix = (cx - px) / dt;
        const iy = (cy - py) / dt;
        const first = tr.points.length === 1;
        tr.vx = first ? ix : VELOCITY_SMOOTHING * ix + (1 - VELOCITY_SMOOTHING) * tr.vx;
        tr.vy = first ? iy : VELOCITY_SMOOTHING * iy + (1 - VELOCITY_SMOOTHING) * tr.vy;
      }
    }
    tr.points.push({ frameIndex: frame.frameIndex, timestamp: frame.timestamp, box: d.box, confidence: d.confidence });
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
}

function lastPoint(tr: Track): TrackPoint {
  // A track is only ever created together with its first point.
  return tr.points[tr.points.length - 1] as TrackPoint;
}

function centre(b: Box): [number, number] {
  return [(b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2];
}

/** The track's last box moved to where its centre would be at time `t` at constant velocity. */
function predictBox(tr: Track, t: number): Box {
  const last = lastPoint(tr);
  const dt = t - last.timestamp;
  const [cx, cy] = centre(last.box);
  return boxFromCentre(cx + tr.vx * dt, cy + tr.vy * dt, last.box.x2 - last.box.x1, last.box.y2 - last.box.y1);
}

function summarise(tr: Track, trackId: number): TrackSummary {
  const path = tr.points.map((p) => ({ ...p }));
  const first = path[0] as TrackPoint;
  const last = path[path.length - 1] as TrackPoint;
  let best = first;
  let sum = 0;
  for (const p of path) {
    sum += p.confidence;
    if (p.confidence > best.confidence) best = p;
  }
  return {
    trackId,
    label: tr.label,
    classId: tr.classId,
    firstTime: first.timestamp,
    lastTime: last.timestamp,
    firstFrame: first.frameIndex,
    lastFrame: last.frameIndex,
    hits: path.length,
    meanConfidence: sum / path.length,
    best: { ...best },
    path,
  };
}

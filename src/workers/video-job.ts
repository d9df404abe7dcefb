/**
 * A video job: frames decoded and scaled by ffmpeg flow through a bounded pipeline (a few frames in flight, so
 * decoding and inference overlap while memory stays flat), are detected on the job's detection model, linked
 * into tracks, and streamed as `frame` / `track` / `progress` events. Each analysed frame is also stored in its own
 * row (written in batches, served paged by GET /jobs/{id}/frames); the job's result is the summary only (video
 * facts, tracks with bounded paths, faces, bibs, timings and a link to the frames), so neither the result nor the
 * worker's memory grows with the length of the video.
 */
import { detectInPixels, detectionThreshold, type DetectObjectsDeps } from '../app/detect-objects.js';
import { emitJobEvent, type JobEventDeps } from '../app/job-events.js';
import type { OcrDeps } from '../app/ocr-pipeline.js';
import { VideoBibs, type FrameBib } from './video-bibs.js';
import type { BibRepository, BlobStore, ContentLocks, FaceRepository, JobFrame, JobRecord, LiveUpload, MediaRepository, UrlSource, VideoDecoder, VideoFacts } from '../app/ports.js';
import type { RgbImage } from '../domain/image-tensor.js';
import { VideoFaces, type FrameFace } from './video-faces.js';
import { laplacianVariance, rgbToGrey } from '../domain/blur.js';
import { AppError } from '../domain/errors.js';
import { roundBox, type Box } from '../domain/geometry.js';
import { MediaStatus } from '../domain/media-status.js';
import { Tracker, type TrackPoint, type TrackSummary } from '../domain/tracking/tracker.js';
import { moveMediaStatus } from '../app/move-media-status.js';
import { jobDetectOptions, JobInterrupted, resolveInput, storedFile, type AnalysisJobDeps } from './analysis-job.js';

/** Dependencies of video jobs. */
export interface VideoJobDeps extends DetectObjectsDeps, OcrDeps, JobEventDeps {
  readonly faces: FaceRepository;
  readonly bibs: BibRepository;
  readonly media: MediaRepository;
  readonly blobs: BlobStore;
  readonly locks: ContentLocks;
  readonly urls: UrlSource;
  readonly videos: VideoDecoder;
  /** Frames being decoded or detected at once. */
  readonly inFlight: number;
  /** Follows an upload another process is still writing (scale-out); absent: uploads are analysed where they arrive. */
  readonly follow?: (job: JobRecord, partial: string, signal: AbortSignal) => LiveUpload;
}

/** Low-confidence detections still feed the tracker (ByteTrack's second pass); only confident ones are reported. */
const TRACK_LOW_FACTOR = 0.5;
/** Longer side of analysed frames when bibs are read: numbers need more pixels than objects. */
const BIB_FRAME_SIDE = 1280;
/** Progress is written to the job row at most this often; events go out for every frame. */
const PROGRESS_EVERY_MS = 500;
/**
 * Analysed frames are stored in batches of this many (one statement each), or sooner when the oldest waiting frame
 * is FRAMES_EVERY_MS old, so a reader of the frames endpoint sees a running job's frames within about a second.
 */
const FRAMES_BATCH = 64;
const FRAMES_EVERY_MS = 1000;
/**
 * A track's path in the result keeps at most this many points, evenly spaced over its hits (first, last and best
 * always among them): a track that stays in view for an hour would otherwise put thousands of points in the summary.
 * Every point is still in the stored frames (detections carry their track_id).
 */
export const MAX_PATH_POINTS = 100;

/** Runs a video job; resolves with its result, throws AppError for a bad video (the job fails with its reason). */
export async function runVideoJob(
  deps: VideoJobDeps & Pick<AnalysisJobDeps, 'maxImageBytes' | 'analyses' | 'faces'>,
  job: JobRecord,
  signal: AbortSignal,
  live?: LiveUpload,
): Promise<Record<string, unknown>> {
  const input = job.inputs[0];
  // An upload still arriving on another process: followed on the shared volume as it grows.
  if (!live && input && 'uploading' in input && input.partial && deps.follow) live = deps.follow(job, input.partial, signal);
  if (live) return runLive(deps, job, signal, live);
  if (!input) throw new AppError('VALIDATION_ERROR', 'the job names no video');
  const record = await resolveInput(deps, job, input, signal);
  if (record.kind !== 'video') throw new AppError('UNSUPPORTED_MEDIA_TYPE', `${record.name} is not a video`);
  let current = await moveMediaStatus(deps, record, MediaStatus.AIProcessing);
  try {
    const file = await storedFile(deps, record);
    const facts = await deps.videos.probe(file);
    const bibs = job.tasks.includes('bibs') ? new VideoBibs(deps, job) : null;
    const faces = job.tasks.includes('faces') ? new VideoFaces(deps, job) : null;
    const result = await analyseVideo(deps, job, file, facts, signal, bibs, faces);
    await bibs?.save(job.ownerId, record.id);
    await faces?.save(job.ownerId, record.id);
    current = await moveMediaStatus(deps, current, MediaStatus.AIProcessed);
    return { media_id: record.id, ...result };
  } catch (err) {
    if (err instanceof AppError) await moveMediaStatus(deps, current, MediaStatus.Error, err.message);
    throw err;
  }
}

/**
 * Analyses a video from its upload stream while the same bytes go to disk: the first frames are analysed before
 * the upload ends. Frames are decoded at full size (the original size is not known before the first frame), and
 * the stored file's facts are read once the upload is complete.
 */
async function runLive(deps: VideoJobDeps, job: JobRecord, signal: AbortSignal, live: LiveUpload): Promise<Record<string, unknown>> {
  const processing = live.stored.then((r) => moveMediaStatus(deps, r, MediaStatus.AIProcessing));
  // If the upload fails the request fails too; the analysis stops with it (its source ends with the error).
  processing.catch(() => undefined);
  try {
    let result: Record<string, unknown>;
    let bibs = job.tasks.includes('bibs') ? new VideoBibs(deps, job) : null;
    let faces = job.tasks.includes('faces') ? new VideoFaces(deps, job) : null;
    try {
      result = await analyseVideo(deps, job, live.bytes, null, signal, bibs, faces, async () => deps.videos.probe(await storedFile(deps, await live.stored)));
    } catch (err) {
      // Some files cannot be decoded from a pipe after all: once stored, they are analysed again from the file.
      const record = await processing.catch(() => null);
      if (!(err instanceof AppError) || !record || signal.aborted) throw err;
      await emitJobEvent(deps, job.id, 'status', { status: 'PROCESSING', restarted: `from the stored file (${err.message})` });
      const file = await storedFile(deps, record);
      const facts = await deps.videos.probe(file);
      bibs = job.tasks.includes('bibs') ? new VideoBibs(deps, job) : null;
      faces = job.tasks.includes('faces') ? new VideoFaces(deps, job) : null;
      result = await analyseVideo(deps, job, file, facts, signal, bibs, faces);
    }
    const record = await processing;
    await bibs?.save(job.ownerId, record.id);
    await faces?.save(job.ownerId, record.id);
    await moveMediaStatus(deps, record, MediaStatus.AIProcessed);
    return { media_id: record.id, ...result };
  } catch (err) {
    const record = await processing.catch(() => null);
    if (record && err instanceof AppError) await moveMediaStatus(deps, record, MediaStatus.Error, err.message);
    throw err;
  }
}

interface FrameOut {
  index: number;
  timestamp: number;
  detections: { label: string; class_id: number; confidence: number; box: Box; track_id: number | null }[];
  blur?: { laplacian_variance: number; is_blurry: boolean };
  faces?: FrameFace[];
  bibs?: FrameBib[];
}

async function analyseVideo(
  deps: VideoJobDeps,
  job: JobRecord,
  source: string | AsyncIterable<Uint8Array>,
  known: VideoFacts | null,
  signal: AbortSignal,
  bibs: VideoBibs | null,
  faces: VideoFaces | null,
  factsLater?: () => Promise<VideoFacts>,
): Promise<Record<string, unknown>> {
  const s = job.settings;
  const detect = jobDetectOptions(s);
  const model = await deps.models.require(detect.model, 'detect');
  // The job's threshold, or (left at the default) the model's own calibrated one, as for images.
  const threshold = detectionThreshold(detect.threshold, model.manifest.threshold);
  // Scaled to the model input by ffmpeg when the size is known (bibs need more pixels to be read); from a stream,
  // full size (letterboxed by sharp).
  const maxSide = known ? Math.max(model.manifest.input.width, model.manifest.input.height, bibs ? BIB_FRAME_SIDE : 0) : 100_000;
  const sampling = { everyNth: s.frame_period_recognition, minSeconds: s.frame_recognition_seconds, maxSide };
  const expected = known ? expectedFrames(known, sampling) : 0;
  const tracker = new Tracker({
    iouThreshold: s.tracking_intersection_threshold,
    maxAgeSeconds: s.tracking_max_age_seconds,
    minHits: s.tracking_min_hits,
    highThreshold: threshold,
  });
  // Only what the summary needs is kept: a count, the blur summary, and the frames not yet stored (at most a batch).
  let analysed = 0;
  let unsaved: JobFrame[] = [];
  let unsavedSince = 0;
  const blurSummary = { blurry: 0, sharpest: null as { index: number; timestamp: number; laplacian_variance: number } | null };
  const saveFrames = async (): Promise<void> => {
    if (unsaved.length === 0) return;
    const batch = unsaved;
    unsaved = [];
    if (!(await deps.jobs.putFrames(job.id, job.attempts, batch))) throw new JobInterrupted('cancelled');
  };
  // A run that starts over (a retry after a crash, or a live upload analysed again from its file) rewrites the frames.
  if (!(await deps.jobs.clearFrames(job.id, job.attempts))) throw new JobInterrupted('cancelled');
  const started = performance.now();
  let lastProgress = 0;
  let inferenceMs = 0;

  // Frames in decode order; each one's detection starts at once, results are taken in order.
  const window: Promise<{ frame: { index: number; timestamp: number; width: number; height: number; image: RgbImage }; report: Awaited<ReturnType<typeof detectInPixels>>; blur?: number }>[] = [];
  const finishOne = async (): Promise<void> => {
    const { frame, report, blur } = await (window.shift() as (typeof window)[number]);
    inferenceMs += report.timings.inference_ms;
    const scale = known ? known.width / frame.width : 1;
    const tracked = tracker.update({
      frameIndex: frame.index,
      timestamp: frame.timestamp,
      detections: report.detections.map((d) => ({ label: d.label, classId: d.class_id, confidence: d.confidence, box: scaleBox(d.box, scale) })),
    });
    const out: FrameOut = {
      index: frame.index,
      timestamp: round(frame.timestamp, 3),
      detections: tracked.detections
        .filter((d) => d.confidence >= threshold)
        .map((d) => ({ label: d.label, class_id: d.classId, confidence: d.confidence, box: roundBox(d.box), track_id: d.trackId })),
      ...(blur !== undefined ? { blur: { laplacian_variance: round(blur, 2), is_blurry: blur < s.blur_threshold } } : {}),
      // Faces are tracked in frame order, so they run here rather than in the parallel window.
      ...(faces ? { faces: await faces.frame(frame.image, frame.index, frame.timestamp, scale) } : {}),
    };
    if (bibs) {
      const persons = out.detections.filter((d) => d.label === 'person').map((d) => ({ box: d.box, trackId: d.track_id }));
      out.bibs = await bibs.frame(frame.image, frame.index, frame.timestamp, scale, persons);
    }
    analysed++;
    if (out.blur) {
      if (out.blur.is_blurry) blurSummary.blurry++;
      if (!blurSummary.sharpest || out.blur.laplacian_variance > blurSummary.sharpest.laplacian_variance) {
        blurSummary.sharpest = { index: out.index, timestamp: out.timestamp, laplacian_variance: out.blur.laplacian_variance };
      }
    }
    const { index, timestamp, ...data } = out;
    if (unsaved.length === 0) unsavedSince = performance.now();
    unsaved.push({ index, timestamp, data });
    if (unsaved.length >= FRAMES_BATCH || performance.now() - unsavedSince > FRAMES_EVERY_MS) await saveFrames();
    await emitJobEvent(deps, job.id, 'frame', out as unknown as Record<string, unknown>);
    if (tracked.updated.length) await emitJobEvent(deps, job.id, 'track', { frame: frame.index, tracks: tracked.updated.map((t) => trackView(t, false)) });
    const done = analysed;
    const total = Math.max(expected, done);
    await emitJobEvent(deps, job.id, 'progress', { done, total, frame: frame.index, timestamp: out.timestamp });
    if (performance.now() - lastProgress > PROGRESS_EVERY_MS) {
      lastProgress = performance.now();
      if (!(await deps.jobs.update(job.id, { progress: { done, total } }, deps.clock.now(), job.attempts))) throw new JobInterrupted('cancelled');
    }
  };

  const lowThreshold = threshold * TRACK_LOW_FACTOR;
  for await (const frame of deps.videos.frames(source, sampling, signal)) {
    if (signal.aborted) throw new JobInterrupted('interrupted');
    const meta = { index: frame.index, timestamp: frame.timestamp, width: frame.width, height: frame.height, image: frame };
    const pending = detectInPixels(deps, frame, { ...detect, threshold: lowThreshold, tiling: 'off' }).then((report) => ({
      frame: meta,
      report,
      ...(job.tasks.includes('blur') ? { blur: laplacianVariance(rgbToGrey(frame.data, 3, frame.width, frame.height)) } : {}),
    }));
    // Awaited in order below; until then a failure must not count as unhandled.
    pending.catch(() => undefined);
    window.push(pending);
    if (window.length >= deps.inFlight) await finishOne();
  }
  while (window.length) await finishOne();
  if (analysed === 0) throw new AppError('BAD_REQUEST', 'the video has no frames that could be decoded');
  await saveFrames();

  const facts = known ?? (await (factsLater as () => Promise<VideoFacts>)());
  const elapsed = (performance.now() - started) / 1000;
  await deps.jobs.update(job.id, { progress: { done: analysed, total: analysed } }, deps.clock.now(), job.attempts);
  return {
    video: { width: facts.width, height: facts.height, fps: round(facts.fps, 3), duration_seconds: facts.durationSeconds, frame_count: facts.frameCount, codec: facts.codec },
    sampling: { every_nth_frame: sampling.everyNth, min_seconds: sampling.minSeconds, analysed_frames: analysed },
    model: model.manifest.id,
    tracks: tracker.tracks().map((t) => trackView(t, true)),
    ...(faces ? { face_tracks: await faces.finish() } : {}),
    ...(bibs ? bibs.summary() : {}),
    ...(job.tasks.includes('blur') ? { blur: { threshold: s.blur_threshold, blurry_frames: blurSummary.blurry, sharpest_frame: blurSummary.sharpest } } : {}),
    frames_analysed: analysed,
    frames_url: `/api/v1/jobs/${job.id}/frames`,
    timings: { seconds: round(elapsed, 2), frames_per_second: round(analysed / Math.max(elapsed, 1e-6), 2), inference_ms: round(inferenceMs, 1) },
  };
}

/** How many frames the sampling will pick, for progress (an estimate until the end). */
function expectedFrames(facts: { fps: number; durationSeconds: number | null; frameCount: number | null }, sampling: { everyNth: number; minSeconds: number }): number {
  const count = facts.frameCount ?? (facts.durationSeconds !== null ? Math.round(facts.durationSeconds * facts.fps) : 0);
  let n = Math.ceil(count / sampling.everyNth);
  if (sampling.minSeconds > 0 && facts.durationSeconds !== null) n = Math.min(n, Math.floor(facts.durationSeconds / sampling.minSeconds) + 1);
  return n;
}

function trackView(t: TrackSummary, withPath: boolean): Record<string, unknown> {
  return {
    track_id: t.trackId,
    label: t.label,
    class_id: t.classId,
    first_time: round(t.firstTime, 3),
    last_time: round(t.lastTime, 3),
    first_frame: t.firstFrame,
    last_frame: t.lastFrame,
    hits: t.hits,
    mean_confidence: round(t.meanConfidence, 4),
    best_frame: { index: t.best.frameIndex, timestamp: round(t.best.timestamp, 3), confidence: round(t.best.confidence, 4), box: roundBox(t.best.box) },
    ...(withPath ? { path: boundedPath(t.path, t.best, MAX_PATH_POINTS).map((p) => ({ index: p.frameIndex, timestamp: round(p.timestamp, 3), box: roundBox(p.box) })) } : {}),
  };
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

function scaleBox(b: Box, k: number): Box {
  return { x1: b.x1 * k, y1: b.y1 * k, x2: b.x2 * k, y2: b.y2 * k };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

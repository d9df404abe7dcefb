/**
 * A video job: frames decoded and scaled by ffmpeg flow through a bounded pipeline (a few frames in flight, so
 * decoding and inference overlap while memory stays flat), are detected on the job's detection model, linked
 * into tracks, and streamed as `frame` / `track` / `progress` events. Each analysed frame is also stored in its own
 * row (written in batches, served paged by GET /jobs/{id}/frames); the job's result is the summary only (video
 * facts, tracks with bounded paths, faces, bibs, timings and a link to the frames), so neither the result nor the
 * worker's memory grows with the length of the video.
 */
import { detectInPixels, detectionThreshold, type DetectionReport, type DetectObjectsDeps } from '../app/detect-objects.js';
import { emitJobEvent, JobEventStream, type JobEventDeps } from '../app/job-events.js';
import type { OcrDeps } from '../app/ocr-pipeline.js';
import { VideoBibs, type FrameBib } from './video-bibs.js';
import type {
  BibRepository,
  BlobStore,
  ContentLocks,
  DecodedFrame,
  FaceRepository,
  ImageDecoder,
  ImageInfo,
  JobFrame,
  JobRecord,
  LiveUpload,
  MediaRepository,
  PixelRegion,
  UrlSource,
  VideoDecoder,
  VideoFacts,
} from '../app/ports.js';
import type { RgbImage } from '../domain/image-tensor.js';
import { VideoFaces, type FrameFace } from './video-faces.js';
import { laplacianVariance, rgbToGrey, type GreyImage } from '../domain/blur.js';
import { AppError } from '../domain/errors.js';
import { roundBox, type Box } from '../domain/geometry.js';
import { MediaStatus } from '../domain/media-status.js';
import { Tracker, type TrackState, type TrackSummary } from '../domain/tracking/tracker.js';
// The result's path thinning lives with the tracker, which keeps paths bounded as they grow.
export { boundedPath } from '../domain/tracking/tracker.js';
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
/** Progress is written to the job row at most this often. */
const PROGRESS_EVERY_MS = 500;
/**
 * `progress` and `track` events go out at most this often (and once more at the end), `frame` events for every frame.
 * Each event is a row of its own (one statement and commit, about a millisecond of the job's thread on the embedded
 * database), so one progress and one track event per frame cost twice what the frame events themselves cost; the
 * frame events already carry every detection's track id, and a track event carries each changed track's latest state.
 */
const EVENTS_EVERY_MS = 250;
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
  try {
    return await analyseJob(deps, job, signal, live);
  } finally {
    // The decoder gets ready for the next video now that this job no longer needs the CPU (see ffmpeg/warm.ts).
    deps.videos.warmUp?.();
  }
}

async function analyseJob(
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
    const bibs = job.tasks.includes('bibs') ? new VideoBibs(deps, job) : null;
    const faces = job.tasks.includes('faces') ? new VideoFaces(deps, job) : null;
    const result = await analyseStoredFile(deps, job, file, signal, bibs, faces);
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
      const facts = live.stored.then(async (r) => deps.videos.probe(await storedFile(deps, r)));
      // The upload failed: the analysis of its stream fails too, and that failure is the one reported.
      facts.catch(() => undefined);
      result = await analyseVideo(deps, job, live.bytes, facts, signal, bibs, faces);
    } catch (err) {
      // Some files cannot be decoded from a pipe after all: once stored, they are analysed again from the file.
      const record = await processing.catch(() => null);
      if (!(err instanceof AppError) || !record || signal.aborted) throw err;
      await emitJobEvent(deps, job.id, 'status', { status: 'PROCESSING', restarted: `from the stored file (${err.message})` });
      const file = await storedFile(deps, record);
      bibs = job.tasks.includes('bibs') ? new VideoBibs(deps, job) : null;
      faces = job.tasks.includes('faces') ? new VideoFaces(deps, job) : null;
      result = await analyseStoredFile(deps, job, file, signal, bibs, faces);
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

/**
 * Analyses a stored video file while ffprobe reads its facts: the two tools start together instead of one after the
 * other (each start costs a process spawn and the tool's own start-up, about a tenth of a second apiece here), and
 * frames wait for the facts only where they need them. ffprobe is also the judge of whether the file is a readable
 * video, so when both fail its reason is the one reported.
 */
async function analyseStoredFile(
  deps: VideoJobDeps,
  job: JobRecord,
  file: string,
  signal: AbortSignal,
  bibs: VideoBibs | null,
  faces: VideoFaces | null,
): Promise<Record<string, unknown>> {
  const facts = deps.videos.probe(file);
  facts.catch(() => undefined);
  try {
    return await analyseVideo(deps, job, file, facts, signal, bibs, faces);
  } catch (err) {
    // A bad video (not a cancelled or interrupted job): ffprobe's reason, if it has one, replaces the decoder's.
    if (err instanceof AppError) await facts;
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
  factsOf: Promise<VideoFacts>,
  signal: AbortSignal,
  bibs: VideoBibs | null,
  faces: VideoFaces | null,
): Promise<Record<string, unknown>> {
  const s = job.settings;
  const detect = jobDetectOptions(s);
  const model = await deps.models.require(detect.model, 'detect');
  // The job's threshold, or (left at the default) the model's own calibrated one, as for images.
  const threshold = detectionThreshold(detect.threshold, model.manifest.threshold);
  // A stored file's frames are scaled to the model input by ffmpeg (bibs need more pixels to be read); a stream's come
  // at full size (letterboxed by sharp), its original size not being known before its first frame.
  const fromFile = typeof source === 'string';
  const maxSide = fromFile ? Math.max(model.manifest.input.width, model.manifest.input.height, bibs ? BIB_FRAME_SIDE : 0) : 100_000;
  const sampling = { everyNth: s.frame_period_recognition, minSeconds: s.frame_recognition_seconds, maxSide };
  // Analysed frames the sampling will give, from the container's facts once read; 0 while unknown (a live upload until
  // it is stored and probed), which the job view shows as a null total rather than a made-up fraction.
  let expected = 0;
  // From a live upload, the bytes that have reached ffmpeg so far: what is known of its progress until its end.
  let bytesReceived: number | null = null;
  let input = source;
  if (typeof source !== 'string') {
    bytesReceived = 0;
    input = countBytes(source, (n) => (bytesReceived = (bytesReceived ?? 0) + n));
  }
  // The facts arrive while frames are analysed (a stored file's from ffprobe started with the decoding, an upload's
  // once it is complete), so the total becomes known while the job runs. A failure is the caller's to report.
  factsOf.then(
    (f) => (expected = expectedFrames(f, sampling)),
    () => undefined,
  );
  const tracker = new Tracker({
    iouThreshold: s.tracking_intersection_threshold,
    maxAgeSeconds: s.tracking_max_age_seconds,
    minHits: s.tracking_min_hits,
    highThreshold: threshold,
    // The result shows at most this many points of a path; the tracker keeps no more.
    maxPathPoints: MAX_PATH_POINTS,
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
  let lastFrame = { index: 0, timestamp: 0 };

  // Frame events are stored in batches; the other events go out after every frame event before them.
  const events = new JobEventStream(deps, job.id);
  // Track changes wait here (each track in its latest state) for the next track event.
  const changedTracks = new Map<number, TrackState>();
  let lastEvents = Number.NEGATIVE_INFINITY;
  /** A track event with the tracks changed since the last one (if any), and a progress event. */
  const emitEvents = async (at: { index: number; timestamp: number }, final: boolean): Promise<void> => {
    if (changedTracks.size) {
      const tracks = [...changedTracks.values()].sort((a, b) => a.trackId - b.trackId).map(trackView);
      changedTracks.clear();
      await events.emit('track', { frame: at.index, tracks });
    }
    // Until the end the total is an estimate (from the container's frame count), never below what is done, or null
    // while unknown; a live upload's events also say how many of its bytes have arrived.
    const total = final ? analysed : expected > 0 ? Math.max(expected, analysed) : null;
    await events.emit('progress', {
      done: analysed,
      total,
      frame: at.index,
      timestamp: at.timestamp,
      ...(bytesReceived !== null ? { bytes_received: bytesReceived } : {}),
    });
  };

  const finishOne = async ({ frame, report, blur }: Detected): Promise<void> => {
    inferenceMs += report.timings.inference_ms;
    // A stored file's frames were scaled by ffmpeg: boxes go back to the video's size, once its facts are read (the
    // first frame may wait for them; the later ones find them there).
    const scale = fromFile ? (await factsOf).width / frame.width : 1;
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
    lastFrame = { index: out.index, timestamp: out.timestamp };
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
    await events.queue('frame', out as unknown as Record<string, unknown>);
    for (const t of tracked.updated) changedTracks.set(t.trackId, t);
    const now = performance.now();
    if (now - lastEvents >= EVENTS_EVERY_MS) {
      lastEvents = now;
      await emitEvents(lastFrame, false);
    }
    if (now - lastProgress > PROGRESS_EVERY_MS) {
      lastProgress = now;
      // A total of 0 is stored while it is unknown (the job view shows null).
      const total = expected > 0 ? Math.max(expected, analysed) : 0;
      if (!(await deps.jobs.update(job.id, { progress: { done: analysed, total } }, deps.clock.now(), job.attempts))) {
        throw new JobInterrupted('cancelled');
      }
    }
  };
  const lowThreshold = threshold * TRACK_LOW_FACTOR;
  // Frames ffmpeg already scaled to the model's letterbox size go to the model as they are (no resize in JS).
  const frameDeps = { ...deps, decoder: new SameSizeAsIs(deps.decoder) };
  const detectFrame = async (frame: DecodedFrame): Promise<Detected> => {
    const report = await detectInPixels(frameDeps, frame, { ...detect, threshold: lowThreshold, tiling: 'off' });
    return {
      frame: { index: frame.index, timestamp: frame.timestamp, width: frame.width, height: frame.height, image: frame },
      report,
      ...(job.tasks.includes('blur') ? { blur: laplacianVariance(rgbToGrey(frame.data, 3, frame.width, frame.height)) } : {}),
    };
  };
  try {
    await runPipeline((stop) => deps.videos.frames(input, sampling, stop, fromFile ? factsOf : undefined), detectFrame, finishOne, deps.inFlight, signal);
  } catch (err) {
    await events.close();
    // The decoder closes a stream it has read; one that failed before reading it (no ffmpeg here) leaves it open, and
    // an upload teed to it would wait for it once past the tee's lag. Not awaited: closing cannot fail the job further.
    if (typeof source !== 'string') source[Symbol.asyncIterator]().return?.()?.catch(() => undefined);
    throw err;
  }
  try {
    if (analysed === 0) throw new AppError('BAD_REQUEST', 'the video has no frames that could be decoded');
    await saveFrames();
    // The last frames' track changes, and the final progress (done = total), after the last frame events.
    await emitEvents(lastFrame, true);
  } finally {
    await events.close();
  }

  const facts = await factsOf;
  const elapsed = (performance.now() - started) / 1000;
  await deps.jobs.update(job.id, { progress: { done: analysed, total: analysed } }, deps.clock.now(), job.attempts);
  return {
    video: { width: facts.width, height: facts.height, fps: round(facts.fps, 3), duration_seconds: facts.durationSeconds, frame_count: facts.frameCount, codec: facts.codec },
    sampling: { every_nth_frame: sampling.everyNth, min_seconds: sampling.minSeconds, analysed_frames: analysed },
    model: model.manifest.id,
    tracks: tracker.tracks().map(trackView),
    ...(faces ? { face_tracks: await faces.finish() } : {}),
    ...(bibs ? bibs.summary() : {}),
    ...(job.tasks.includes('blur') ? { blur: { threshold: s.blur_threshold, blurry_frames: blurSummary.blurry, sharpest_frame: blurSummary.sharpest } } : {}),
    frames_analysed: analysed,
    frames_url: `/api/v1/jobs/${job.id}/frames`,
    timings: { seconds: round(elapsed, 2), frames_per_second: round(analysed / Math.max(elapsed, 1e-6), 2), inference_ms: round(inferenceMs, 1) },
  };
}

/** A frame with its detections (and blur measure), ready for the in-order part of the analysis. */
interface Detected {
  frame: { index: number; timestamp: number; width: number; height: number; image: RgbImage };
  report: DetectionReport;
  blur?: number;
}

/** A frame's place in the pipeline: filled in when its work is done. */
interface Slot<R> {
  done: boolean;
  value?: R;
}

/**
 * Runs `work` on each frame as soon as a slot is free and hands the results to `finish` in frame order. Two loops
 * share the event loop: the intake pulls the next frame whenever fewer than `inFlight` frames are being worked on (so
 * the inference threads never wait while the in-order part writes events and rows), and the consumer hands finished
 * results on in order. At most `inFlight` frames are worked on and at most `2 x inFlight` wait in all, so memory stays
 * flat; a slow consumer stops the intake, which leaves ffmpeg blocked on its pipe.
 *
 * `frames` gets a signal that aborts with the job's and on the first failure (of the source, of a frame's work or of
 * `finish`), so a source waiting for input (ffmpeg, a live upload) stops at once. That failure is thrown once both
 * loops have stopped and no frame's work is still running; `finish` is not called after it.
 */
export async function runPipeline<F, R>(
  frames: (signal: AbortSignal) => AsyncIterable<F>,
  work: (frame: F) => Promise<R>,
  finish: (result: R) => Promise<void>,
  inFlight: number,
  signal: AbortSignal,
): Promise<void> {
  const queue: Slot<R>[] = [];
  let working = 0;
  let intakeDone = false;
  let failure: { error: unknown } | null = null;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  // One promise that every waiting loop awaits, replaced each time anything changes; waiters re-check their condition.
  let changed = signalled();
  const wake = (): void => {
    const was = changed;
    changed = signalled();
    was.resolve();
  };
  const fail = (error: unknown): void => {
    failure ??= { error };
    stop.abort(error);
    wake();
  };

  const consume = async (): Promise<void> => {
    for (;;) {
      while (!failure && !queue[0]?.done && !(intakeDone && queue.length === 0)) await changed.promise;
      const slot = queue.shift();
      if (failure || !slot) return;
      // The intake may take the next frame now.
      wake();
      await finish(slot.value as R);
    }
  };
  // fail() cannot throw, so this promise always resolves.
  const consumer = consume().catch(fail);

  try {
    for await (const frame of frames(stop.signal)) {
      if (signal.aborted) throw new JobInterrupted('interrupted');
      while (!failure && (working >= inFlight || queue.length >= 2 * inFlight)) await changed.promise;
      if (failure) break;
      const slot: Slot<R> = { done: false };
      queue.push(slot);
      working++;
      // Both handlers end by waking the loops and neither throws, so the chain cannot reject.
      Promise.resolve(frame)
        .then(work)
        .then(
          (value) => {
            slot.value = value;
            slot.done = true;
            working--;
            wake();
          },
          (error: unknown) => {
            working--;
            fail(error);
          },
        );
    }
  } catch (err) {
    fail(err);
  } finally {
    intakeDone = true;
    wake();
  }
  await consumer;
  // Frames still being worked on (after a failure) finish before the caller moves on, e.g. to a second attempt.
  while (working > 0) await changed.promise;
  signal.removeEventListener('abort', onAbort);
  if (failure) throw (failure as { error: unknown }).error;
}
/** A promise with its resolve function (Promise.withResolvers, which Node 20 lacks). */
function signalled(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The image decoder for video frames: a frame that is already the size the model input needs (ffmpeg scaled it) is
 * used as it is rather than copied through an identity resize; anything else goes to the real decoder.
 */
class SameSizeAsIs implements ImageDecoder {
  constructor(private readonly inner: ImageDecoder) {}

  probe(data: Uint8Array): Promise<ImageInfo> {
    return this.inner.probe(data);
  }

  decodeGrey(data: Uint8Array): Promise<GreyImage> {
    return this.inner.decodeGrey(data);
  }

  resizeGrey(img: GreyImage, width: number, height: number): Promise<GreyImage> {
    return this.inner.resizeGrey(img, width, height);
  }

  decodeRgb(data: Uint8Array): Promise<RgbImage> {
    return this.inner.decodeRgb(data);
  }

  resizeRgb(source: Uint8Array | RgbImage, region: PixelRegion | null, width: number, height: number): Promise<RgbImage> {
    if (!region && !(source instanceof Uint8Array) && source.width === width && source.height === height) return Promise.resolve(source);
    return this.inner.resizeRgb(source, region, width, height);
  }

  faceCrop(data: Uint8Array, box: Box, size: number): Promise<Uint8Array> {
    return this.inner.faceCrop(data, box, size);
  }
}

/** The chunks of `source` as they are, each one's size told to `counted` as it passes. */
async function* countBytes(source: AsyncIterable<Uint8Array>, counted: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    counted(chunk.byteLength);
    yield chunk;
  }
}

/** How many frames the sampling will pick, for progress (an estimate until the end). */
function expectedFrames(facts: { fps: number; durationSeconds: number | null; frameCount: number | null }, sampling: { everyNth: number; minSeconds: number }): number {
  const count = facts.frameCount ?? (facts.durationSeconds !== null ? Math.round(facts.durationSeconds * facts.fps) : 0);
  let n = Math.ceil(count / sampling.everyNth);
  if (sampling.minSeconds > 0 && facts.durationSeconds !== null) n = Math.min(n, Math.floor(facts.durationSeconds / sampling.minSeconds) + 1);
  return n;
}

function trackView(t: TrackState | TrackSummary): Record<string, unknown> {
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
    ...('path' in t ? { path: t.path.map((p) => ({ index: p.frameIndex, timestamp: round(p.timestamp, 3), box: roundBox(p.box) })) } : {}),
  };
}

function scaleBox(b: Box, k: number): Box {
  return { x1: b.x1 * k, y1: b.y1 * k, x2: b.x2 * k, y2: b.y2 * k };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

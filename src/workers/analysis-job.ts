/**
 * The job handler: runs one claimed job to its end. Thin and resumable: image and batch jobs keep each item's
 * result as soon as it is done, so a job retried after a crash skips what it already finished. Video jobs start
 * over (their frames are cheap to redo compared with keeping a half-built track set consistent).
 */
import { saveDetections } from '../app/detect-and-store.js';
import { detectBlur } from '../app/detect-blur.js';
import { detectObjects, type DetectObjectsDeps, type DetectOptions } from '../app/detect-objects.js';
import { emitJobEvent, JobInterrupted, type JobEventDeps } from '../app/job-events.js';
import { ingestMedia } from '../app/ingest-media.js';
import { moveMediaStatus } from '../app/move-media-status.js';
import { detectFaces, faceOptions, faceSettingsFrom, searchFoundFaces } from '../app/faces.js';
import { findFaces } from '../app/face-pipeline.js';
import { indexMediaFaces } from '../app/face-media-search.js';
import { indexImage } from '../app/bib-index.js';
import { bibOptionsFrom, recognizeBibsInPixels } from '../app/bibs.js';
import type { OcrDeps } from '../app/ocr-pipeline.js';
import type { AnalysisRepository, BibRepository, BlobStore, ContentLocks, FaceRepository, JobRecord, LiveUpload, MediaRecord, MediaRepository, UrlSource } from '../app/ports.js';
import { chosenDetectionThreshold, type AiSettings } from '../domain/ai-settings.js';
import { AppError } from '../domain/errors.js';
import { jobState, type JobInput } from '../domain/job.js';
import { MediaStatus } from '../domain/media-status.js';

/** Dependencies of the analysis handler. */
export interface AnalysisJobDeps extends DetectObjectsDeps, OcrDeps, JobEventDeps {
  readonly bibs: BibRepository;
  readonly media: MediaRepository;
  readonly blobs: BlobStore;
  readonly locks: ContentLocks;
  readonly analyses: AnalysisRepository;
  readonly faces: FaceRepository;
  /** Runs a video job; absent until video support is wired. */
  readonly video?: (job: JobRecord, signal: AbortSignal, live?: LiveUpload) => Promise<Record<string, unknown>>;
  /** Fetches image_url / video_url inputs (SSRF-guarded, size- and time-limited). */
  readonly urls: UrlSource;
  readonly maxImageBytes: number;
  /** Told when a job has ended and its outcome is stored (webhooks, callbacks). */
  readonly onFinished?: (job: JobRecord) => Promise<void>;
}

export { JobInterrupted };

/** Detection options from a job's settings snapshot. */
export function jobDetectOptions(s: AiSettings): DetectOptions {
  return {
    model: s.detection_model,
    // Left at its default, each detector uses its own calibrated threshold, as /detect does.
    threshold: chosenDetectionThreshold(s),
    maxDetections: s.max_detections,
    classes: s.classes,
    tileOverlapPercent: s.big_image_tile_overlap_percent,
    batchSize: s.model_batch_size,
    tiling: 'auto',
  };
}

/** Runs `job`; resolves when it is finished (succeeded or failed) and recorded. */
export async function runAnalysisJob(deps: AnalysisJobDeps, job: JobRecord, signal: AbortSignal, live?: LiveUpload): Promise<void> {
  await emitJobEvent(deps, job.id, 'status', { status: jobState('running') });
  let result: Record<string, unknown> | null;
  let failure: string | null = null;
  try {
    if (job.kind === 'video') {
      if (!deps.video) throw new AppError('SERVICE_UNAVAILABLE', 'video analysis is not available in this process');
      result = await deps.video(job, signal, live);
    } else {
      result = await runItems(deps, job, signal);
    }
  } catch (err) {
    if (err instanceof JobInterrupted || signal.aborted) throw err instanceof JobInterrupted ? err : new JobInterrupted('interrupted');
    failure = err instanceof AppError ? err.message : `internal error: ${err instanceof Error ? err.message : String(err)}`;
    // A failed job has no result (its reason is in error); the job view types a result per kind.
    result = null;
  }
  const at = deps.clock.now();
  const status = failure ? 'failed' : 'succeeded';
  if (!(await deps.jobs.update(job.id, { status, result, error: failure, finishedAt: at }, at, job.attempts))) throw new JobInterrupted('cancelled');
  await emitJobEvent(deps, job.id, 'status', { status: jobState(status), ...(failure ? { error_message: failure } : {}) });
  await deps.onFinished?.({ ...job, status, result, error: failure, finishedAt: at });
}

async function runItems(deps: AnalysisJobDeps, job: JobRecord, signal: AbortSignal): Promise<Record<string, unknown>> {
  const items = [...job.items];
  let done = items.filter((i) => i !== null).length;
  for (let i = 0; i < job.inputs.length; i++) {
    if (items[i]) continue;
    if (signal.aborted) throw new JobInterrupted('interrupted');
    items[i] = await analyseItem(deps, job, job.inputs[i] as JobInput);
    done++;
    if (!(await deps.jobs.update(job.id, { items, progress: { done, total: job.inputs.length } }, deps.clock.now(), job.attempts))) throw new JobInterrupted('cancelled');
    await emitJobEvent(deps, job.id, 'item', { index: i, ...items[i] });
    await emitJobEvent(deps, job.id, 'progress', { done, total: job.inputs.length });
  }
  const failed = items.filter((i) => i && 'error' in i).length;
  // A single image that fails fails the job; a batch succeeds with per-item errors.
  if (job.kind === 'image' && failed) throw new AppError('BAD_REQUEST', String((items[0] as { error: string }).error));
  return { items, succeeded: items.length - failed, failed };
}

/** Analyses one stored image with the job's tasks; an item's own failure is its result, not the job's. */
async function analyseItem(deps: AnalysisJobDeps, job: JobRecord, input: JobInput): Promise<Record<string, unknown>> {
  let record: MediaRecord;
  try {
    record = await resolveInput(deps, job, input);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { ...input, error: err.message, code: err.code };
  }
  const base = { media_id: record.id, name: record.name };
  let current = await moveMediaStatus(deps, record, MediaStatus.AIProcessing);
  try {
    if (record.kind !== 'image') throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'this job analyses images; submit videos on their own');
    const data = await readStored(deps, record);
    const out: Record<string, unknown> = { ...base };
    if (job.tasks.includes('detect')) {
      const report = await detectObjects(deps, data, jobDetectOptions(job.settings));
      out.detect = report;
      await saveDetections(deps, job.ownerId, record.id, report);
    }
    if (job.tasks.includes('blur')) out.blur = await detectBlur(deps, data, job.settings.blur_threshold);
    if (job.tasks.includes('bibs')) {
      const pixels = await deps.decoder.decodeRgb(data);
      const report = await recognizeBibsInPixels(deps, pixels, bibOptionsFrom(job.settings));
      out.bibs = await indexImage(deps, job.ownerId, record.id, pixels, report, faceSettingsFrom(job.settings));
    }
    if (job.tasks.includes('faces')) {
      const face = faceSettingsFrom(job.settings);
      if (job.options.faceOperation === 'detect') {
        out.faces = await detectFaces(deps, data, face);
      } else {
        // Searched faces are embedded anyway: they are also indexed, so the image can be found by selfie.
        const report = await findFaces(deps, data, faceOptions(face, true));
        out.faces = await searchFoundFaces(deps, report, { ownerId: job.ownerId, collection: job.options.collection ?? 'default', limit: 5 }, face);
        await indexMediaFaces(deps, job.ownerId, record.id, report);
      }
    }
    current = await moveMediaStatus(deps, current, MediaStatus.AIProcessed);
    return out;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    await moveMediaStatus(deps, current, MediaStatus.Error, err.message);
    return { ...base, error: err.message, code: err.code };
  }
}

/**
 * The stored medium a job input names. A URL is fetched (through the SSRF guard) and stored like an upload, so
 * its results attach to a media id as any other's do.
 */
export async function resolveInput(deps: AnalysisJobDeps, job: JobRecord, input: JobInput, signal?: AbortSignal): Promise<MediaRecord> {
  if ('mediaId' in input) {
    const record = await deps.media.find(job.ownerId, input.mediaId);
    if (!record) throw new AppError('NOT_FOUND', `media ${input.mediaId} no longer exists`);
    return record;
  }
  if ('uploading' in input) throw new AppError('BAD_REQUEST', `the upload of ${input.uploading} did not complete`);
  const res = await deps.urls.get(input.url, signal);
  if (res.status < 200 || res.status >= 300) throw new AppError('BAD_REQUEST', `fetching ${input.url} answered HTTP ${res.status}`);
  const name = decodeURIComponent(new URL(input.url).pathname.split('/').pop() ?? '') || 'download';
  const { record } = await ingestMedia(deps, { ownerId: job.ownerId, filename: name, content: res.body });
  return record;
}

/** A stored file's bytes; a file missing from this process's volume fails with a reason instead of an internal error. */
export async function readStored(deps: Pick<AnalysisJobDeps, 'blobs'>, record: MediaRecord): Promise<Buffer> {
  try {
    return await deps.blobs.read(record.kind, record.key);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw missingFile(record);
    throw err;
  }
}

/** The local path of a stored file, for readers that open it themselves (ffmpeg); fails with the reason when it is missing. */
export async function storedFile(deps: Pick<AnalysisJobDeps, 'blobs'>, record: MediaRecord): Promise<string> {
  if (!(await deps.blobs.has(record.kind, record.key))) throw missingFile(record);
  return deps.blobs.locate(record.kind, record.key);
}

/** The failure of a job whose input file is not on this process's media volume. */
export function missingFile(record: MediaRecord): AppError {
  return new AppError('NOT_FOUND', `the file of media ${record.id} (${record.name}) is missing from this process's media volume; every API and worker process must mount the same ARGUS_DATA_DIR`);
}

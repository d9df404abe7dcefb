/**
 * `/detect` with `store=true`: the image is ingested under its content id, its status follows the analysis
 * (New → AIProcessing → AIProcessed, or Error with the reason), and the detections are stored with it.
 */
import { AppError } from '../domain/errors.js';
import { MediaStatus } from '../domain/media-status.js';
import { checkImage } from './load-image.js';
import { classFilter, detectObjects, requireDetector, type DetectionReport, type DetectObjectsDeps, type DetectOptions } from './detect-objects.js';
import { ingestMedia, type IngestMediaDeps } from './ingest-media.js';
import type { AnalysisRepository, Clock } from './ports.js';
import { deleteMedia } from './media-queries.js';
import { moveMediaStatus } from './move-media-status.js';

/** Dependencies of detect-and-store. */
export interface DetectAndStoreDeps extends DetectObjectsDeps, IngestMediaDeps {
  readonly analyses: AnalysisRepository;
}

/** Detects objects in an image and keeps both; returns the report with the media id. */
export async function detectAndStore(
  deps: DetectAndStoreDeps,
  input: { ownerId: string; filename: string | undefined; data: Buffer },
  opts: DetectOptions,
): Promise<DetectionReport & { media_id: string }> {
  // Everything that can refuse the request cheaply does so before anything is written.
  const { labels } = await requireDetector(deps.models, opts.model);
  classFilter(labels, opts.classes);
  return analyseAndStore(deps, input, 'detection', () => detectObjects(deps, input.data, opts), (mediaId, report) => saveDetections(deps, input.ownerId, mediaId, report));
}

/**
 * Ingests an image and analyses it, with the media status following (New → AIProcessing → AIProcessed, or Error
 * with the reason). An image that turns out bad (a 4xx from the analysis) is refused and removed if it was new.
 */
export async function analyseAndStore<R>(
  deps: Omit<DetectAndStoreDeps, 'analyses'>,
  input: { ownerId: string; filename: string | undefined; data: Buffer },
  what: string,
  analyse: () => Promise<R>,
  save: (mediaId: string, result: R) => Promise<void>,
): Promise<R & { media_id: string }> {
  await checkImage(input.data, deps.sniffer, deps.decoder, deps.limits);
  const { record, created } = await ingestMedia(deps, { ownerId: input.ownerId, filename: input.filename, content: once(input.data) });
  const current = await moveMediaStatus(deps, record, MediaStatus.AIProcessing);
  let result: R;
  try {
    result = await analyse();
  } catch (err) {
    if (err instanceof AppError && err.statusCode < 500 && created) {
      // The file was bad after all (e.g. truncated past its header): refuse it and keep nothing.
      await deleteMedia(deps, input.ownerId, record.id);
    } else {
      const reason = err instanceof AppError ? err.message : `${what} failed`;
      await moveMediaStatus(deps, current, MediaStatus.Error, reason);
    }
    throw err;
  }
  await save(record.id, result);
  await moveMediaStatus(deps, current, MediaStatus.AIProcessed);
  return { media_id: record.id, ...result };
}

/** Keeps a medium's detections for `GET /media/{id}/detections` (the latest analysis wins). */
export async function saveDetections(deps: { analyses: AnalysisRepository; clock: Clock }, ownerId: string, mediaId: string, report: DetectionReport): Promise<void> {
  await deps.analyses.save({
    ownerId,
    mediaId,
    task: 'detect',
    model: report.model,
    result: { width: report.width, height: report.height, detections: report.detections, tiles: report.tiles },
    createdAt: deps.clock.now(),
  });
}

async function* once(data: Buffer): AsyncGenerator<Uint8Array> {
  yield data;
}

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
  await checkImage(input.data, deps.sniffer, deps.decoder, deps.limits);

  const { record, created } = await ingestMedia(deps, { ownerId: input.ownerId, filename: input.filename, content: once(input.data) });
  const current = await moveMediaStatus(deps, record, MediaStatus.AIProcessing);
  let report: DetectionReport;
  try {
    report = await detectObjects(deps, input.data, opts);
  } catch (err) {
    if (err instanceof AppError && err.statusCode < 500 && created) {
      // The file was bad after all (e.g. truncated past its header): refuse it and keep nothing.
      await deleteMedia(deps, input.ownerId, record.id);
    } else {
      const reason = err instanceof AppError ? err.message : 'detection failed';
      await moveMediaStatus(deps, current, MediaStatus.Error, reason);
    }
    throw err;
  }
  await saveDetections(deps, input.ownerId, record.id, report);
  await moveMediaStatus(deps, current, MediaStatus.AIProcessed);
  return { media_id: record.id, ...report };
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

/**
 * A live video upload followed from another process (scale-out): the API writes the upload to a partial file on the
 * shared volume, and the worker running its job reads that file as it grows, so analysis starts before the upload
 * ends. How it stays safe:
 *
 * - It never reads past the file's current size, and the upload's end is a fact of the database, not of the file:
 *   the API commits the upload (fully written, hashed, linked to its final name) and only then sets the job's input
 *   to the stored medium, whose size says where the bytes end.
 * - The file is opened once and read through that handle, so the commit's unlinking of the partial name does not
 *   disturb it; an upload committed before the worker even opened it is read from its final name.
 * - A refused upload removes the job (or the owner cancels it): the follower stops at its next look at the job. An
 *   API that dies mid-upload leaves the file silent: after `idleMs` without growth the job fails with the reason,
 *   and the partial file is swept later.
 */
import { AppError } from '../domain/errors.js';
import { JobInterrupted } from './job-events.js';
import type { BlobStore, Clock, GrowingFile, JobRecord, JobRepository, LiveUpload, MediaRecord, MediaRepository } from './ports.js';

/** What following needs. */
export interface FollowUploadDeps {
  readonly jobs: JobRepository;
  readonly media: MediaRepository;
  readonly blobs: BlobStore;
  readonly clock: Clock;
}

const CHUNK = 1024 * 1024;
const POLL_MS = 100;
const CHECK_JOB_MS = 500;

/** The live upload of `job`, whose bytes are being written to the partial file `partial` by another process. */
export function followUpload(deps: FollowUploadDeps, job: JobRecord, partial: string, signal: AbortSignal, idleMs: number): LiveUpload {
  let settle!: { resolve: (m: MediaRecord) => void; reject: (e: unknown) => void };
  const stored = new Promise<MediaRecord>((resolve, reject) => (settle = { resolve, reject }));
  stored.catch(() => undefined);

  /** The stored medium once the upload is committed; null while it is still arriving. Throws when the job stopped. */
  const committed = async (): Promise<MediaRecord | null> => {
    const current = await deps.jobs.get(job.id);
    if (!current || current.status !== 'running' || current.attempts !== job.attempts) throw new JobInterrupted('the upload was refused or the job stopped');
    const input = current.inputs[0];
    if (!input || !('mediaId' in input)) return null;
    const record = await deps.media.find(job.ownerId, input.mediaId);
    if (!record) throw new AppError('NOT_FOUND', `media ${input.mediaId} no longer exists`);
    return record;
  };

  async function* bytes(): AsyncGenerator<Uint8Array> {
    let file: GrowingFile | null = null;
    let record: MediaRecord | null = null;
    try {
      const start = deps.clock.now().getTime();
      // The API creates the file as the upload starts; a fast upload may even be committed before we look.
      while (!file) {
        if (signal.aborted) throw new JobInterrupted('interrupted');
        record = await committed();
        try {
          file = record ? await deps.blobs.openGrowing(record.kind, record.key) : await deps.blobs.openGrowing('video', partial);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          if (deps.clock.now().getTime() - start > idleMs) throw new AppError('BAD_REQUEST', 'the upload never started arriving');
          await sleep(POLL_MS);
        }
      }
      let position = 0;
      let lastGrowth = deps.clock.now().getTime();
      let lastCheck = 0;
      for (;;) {
        if (signal.aborted) throw new JobInterrupted('interrupted');
        const end = record ? record.size : await file.size();
        if (position < end) {
          const chunk = await file.read(position, Math.min(CHUNK, end - position));
          if (chunk.length === 0) throw new AppError('BAD_REQUEST', 'the uploaded file is shorter than recorded');
          position += chunk.length;
          lastGrowth = deps.clock.now().getTime();
          yield chunk;
          continue;
        }
        if (record) break;
        const now = deps.clock.now().getTime();
        if (now - lastCheck >= CHECK_JOB_MS) {
          lastCheck = now;
          record = await committed();
          if (record) continue;
        }
        if (now - lastGrowth > idleMs) throw new AppError('BAD_REQUEST', `the upload stopped arriving (no new bytes for ${Math.round(idleMs / 1000)} s)`);
        await sleep(POLL_MS);
      }
      settle.resolve(record);
    } catch (err) {
      settle.reject(err);
      throw err;
    } finally {
      await file?.close();
    }
  }

  return { bytes: bytes(), stored };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

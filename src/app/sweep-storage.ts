/**
 * The startup sweep of the media directories. A process killed mid-upload leaves a partial file; one killed between
 * placing a file and recording it leaves a file no record points at. Neither is ever served, but both hold disk
 * space, so each start removes them: partial files that nobody has written to for `partialMaxAgeMs` (0 when this
 * process is the only writer, as the embedded mode is), and committed files without a record — judged under the
 * content's lock, so an upload placing the same file at that moment is never undone.
 */
import type { BlobStore, ContentLocks, MediaRepository, StoredFile } from './ports.js';

/** Dependencies of the sweep. */
export interface SweepDeps {
  readonly blobs: BlobStore;
  readonly media: MediaRepository;
  readonly locks: ContentLocks;
}

/** What a sweep removed. */
export interface SweepReport {
  partialFiles: number;
  orphanFiles: number;
  bytes: number;
}

const BATCH = 500;

/** Removes abandoned partial uploads and files no record points at; returns what it removed. */
export async function sweepStorage(deps: SweepDeps, options: { partialMaxAgeMs: number; now: Date }): Promise<SweepReport> {
  const report: SweepReport = { partialFiles: 0, orphanFiles: 0, bytes: 0 };
  let batch: StoredFile[] = [];
  const flush = async (): Promise<void> => {
    const used = await deps.media.keysInUse(batch.map((f) => f.key));
    for (const file of batch) {
      if (used.has(file.key)) continue;
      const removed = await deps.locks.run(lockKey(file.key), async () => {
        // Looked at again under the lock: an upload may have recorded it since.
        if ((await deps.media.countByKey(file.key)) > 0) return false;
        await deps.blobs.remove(file.kind, file.key);
        return true;
      });
      if (removed) {
        report.orphanFiles++;
        report.bytes += file.size;
      }
    }
    batch = [];
  };
  for await (const file of deps.blobs.list()) {
    if (file.partial) {
      if (options.now.getTime() - file.modifiedAt.getTime() >= options.partialMaxAgeMs) {
        await deps.blobs.remove(file.kind, file.key);
        report.partialFiles++;
        report.bytes += file.size;
      }
      continue;
    }
    batch.push(file);
    if (batch.length >= BATCH) await flush();
  }
  if (batch.length > 0) await flush();
  return report;
}

/** The lock a stored file is placed under: its content hash (its name without the extension), as commitUpload uses. */
function lockKey(key: string): string {
  const stem = key.slice(0, key.indexOf('.') < 0 ? undefined : key.indexOf('.'));
  return /^[0-9a-f]{64}$/.test(stem) ? stem : key;
}

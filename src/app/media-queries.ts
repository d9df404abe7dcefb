import { AppError } from '../domain/errors.js';
import { isMediaId } from '../domain/media-id.js';
import type { BlobStore, ContentLocks, MediaQuery, MediaRecord, MediaRepository } from './ports.js';

/** One owner's medium, or NOT_FOUND (also for another owner's, which must stay invisible). */
export async function getMedia(media: MediaRepository, ownerId: string, id: string): Promise<MediaRecord> {
  const record = isMediaId(id) ? await media.find(ownerId, id) : null;
  if (!record) throw new AppError('NOT_FOUND', `media ${id} not found`);
  return record;
}

/** One page of an owner's media, newest first. */
export async function listMedia(media: MediaRepository, ownerId: string, query: MediaQuery): Promise<{ items: MediaRecord[]; total: number }> {
  return media.list(ownerId, query);
}

/**
 * Deletes an owner's record, and the stored file once no other record points at it — under the content's lock, so
 * an upload of the same content that is placing the file meanwhile keeps it.
 */
export async function deleteMedia(deps: { media: MediaRepository; blobs: BlobStore; locks: ContentLocks }, ownerId: string, id: string): Promise<void> {
  const record = await getMedia(deps.media, ownerId, id);
  await deps.locks.run(contentLockKey(record), async () => {
    if (!(await deps.media.delete(ownerId, id))) throw new AppError('NOT_FOUND', `media ${id} not found`);
    if ((await deps.media.countByKey(record.key)) === 0) await deps.blobs.remove(record.kind, record.key);
  });
}

/** The lock a medium's file is placed and removed under: its content hash, or its key for records without one. */
export function contentLockKey(record: Pick<MediaRecord, 'sha256' | 'key'>): string {
  return record.sha256 ?? record.key;
}

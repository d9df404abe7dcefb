/**
 * Storing uploads in two steps. `stageUpload` streams the bytes to a partial file while hashing them (never holding
 * the file in memory) and computes the content id, but records nothing; `commitUpload` then places the file and
 * inserts the record. A request checks every field before it commits, so a refused request leaves nothing behind.
 *
 * The media id is seed 001's sampling hash, which two different files can share (it reads only the size and three
 * 1 KiB windows). It names records but never decides which bytes someone gets: files are stored and deduplicated
 * under the SHA-256 of their whole content.
 */
import { AppError } from '../domain/errors.js';
import { mediaIdFromSamples, sampleRanges } from '../domain/media-id.js';
import { kindOfExtension, kindOfMime, sanitizeFilename, type MediaKind } from '../domain/media-kind.js';
import { MediaStatus } from '../domain/media-status.js';
import type { BlobStore, Clock, ContentLocks, ContentSniffer, MediaRecord, MediaRepository, PartialBlob, SniffedType } from './ports.js';

/** Dependencies of media ingestion. */
export interface IngestMediaDeps {
  readonly media: MediaRepository;
  readonly blobs: BlobStore;
  readonly sniffer: ContentSniffer;
  readonly clock: Clock;
  readonly locks: ContentLocks;
}

/** One upload: the name it came with and its bytes as they arrive. */
export interface UploadInput {
  readonly filename: string | undefined;
  readonly content: AsyncIterable<Uint8Array>;
  /** The partial file's name, when another process must be able to find it while it is written. */
  readonly partialName?: string;
}

/** An upload written to a partial file, identified, and not yet recorded. */
export interface StagedUpload {
  readonly id: string;
  readonly name: string;
  readonly kind: MediaKind;
  readonly type: SniffedType;
  readonly partial: PartialBlob;
}

/**
 * Writes an upload to a partial file. The first bytes decide the kind (415 before anything is written if it is
 * neither image nor video, or if its name claims the other kind).
 */
export async function stageUpload(deps: Pick<IngestMediaDeps, 'blobs' | 'sniffer'>, input: UploadInput): Promise<StagedUpload> {
  const iterator = input.content[Symbol.asyncIterator]();
  const head = await readHead(iterator, deps.sniffer.headLength);
  if (head.length === 0) throw new AppError('BAD_REQUEST', 'the file is empty');

  const type = await deps.sniffer.sniff(head);
  const kind = type ? kindOfMime(type.mime) : null;
  if (!type || !kind) {
    await drain(iterator);
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `only images and videos are accepted; this file is ${type?.mime ?? 'of an unknown format'}`);
  }
  const name = sanitizeFilename(input.filename);
  const claimed = kindOfExtension(name);
  if (claimed && claimed !== kind) {
    await drain(iterator);
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `the file name says ${claimed} but the content is ${type.mime}`);
  }

  const partial = await deps.blobs.writePartial(kind, prepend(head, iterator), input.partialName);
  try {
    const samples = await deps.blobs.readRanges(partial.path, sampleRanges(partial.size));
    return { id: mediaIdFromSamples(partial.size, samples), name, kind, type, partial };
  } catch (err) {
    await deps.blobs.discard(partial);
    throw err;
  }
}

/** Removes a staged upload that will not be committed. */
export async function discardUpload(deps: Pick<IngestMediaDeps, 'blobs'>, staged: StagedUpload): Promise<void> {
  await deps.blobs.discard(staged.partial);
}

/**
 * Records a staged upload for `ownerId`: its file goes to the place named by its SHA-256 (shared with identical
 * content already there) and its record is inserted. The owner's own record of the same content is returned as it
 * is; a record of the same id with other content is a 409 CONFLICT naming both hashes. The partial file is gone
 * afterwards whatever happens.
 */
export async function commitUpload(deps: IngestMediaDeps, ownerId: string, staged: StagedUpload): Promise<{ record: MediaRecord; created: boolean }> {
  const sha256 = staged.partial.sha256;
  try {
    const existing = await deps.media.find(ownerId, staged.id);
    if (existing) {
      const theirs = existing.sha256 ?? (await backfillSha256(deps, existing));
      if (theirs !== sha256) {
        throw new AppError(
          'CONFLICT',
          `you already have media ${staged.id} with other content (sha256 ${theirs}); this upload (sha256 ${sha256}) has the same sampled id. Delete the stored one first, or change the file`,
          { media_id: staged.id, stored_sha256: theirs, uploaded_sha256: sha256 },
        );
      }
      return { record: existing, created: false };
    }
    return await deps.locks.run(sha256, async () => {
      const placed = await deps.blobs.commit(staged.partial, staged.kind, `${sha256}.${staged.type.ext}`);
      const now = deps.clock.now();
      try {
        const result = await deps.media.insertIfAbsent({
          id: staged.id,
          ownerId,
          name: staged.name,
          key: placed.key,
          kind: staged.kind,
          size: staged.partial.size,
          contentType: staged.type.mime,
          sha256,
          status: MediaStatus.New,
          statusReason: null,
          createdAt: now,
          updatedAt: now,
        });
        // A concurrent upload of the same id by the same owner won the insert: same rules as above.
        if (!result.created && result.record.sha256 !== sha256) {
          throw new AppError('CONFLICT', `you already have media ${staged.id} with other content (sha256 ${result.record.sha256})`, {
            media_id: staged.id,
            stored_sha256: result.record.sha256,
            uploaded_sha256: sha256,
          });
        }
        if (!result.created && !placed.existed && (await deps.media.countByKey(placed.key)) === 0) await deps.blobs.remove(staged.kind, placed.key);
        return result;
      } catch (err) {
        // Nothing may be left behind: drop the file unless a record points at it.
        if (!placed.existed && (await deps.media.countByKey(placed.key)) === 0) await deps.blobs.remove(staged.kind, placed.key);
        throw err;
      }
    });
  } finally {
    await deps.blobs.discard(staged.partial);
  }
}

/** Stages and commits at once, for uploads with nothing else to check (a fetched URL, a stored analysis). */
export async function ingestMedia(deps: IngestMediaDeps, input: UploadInput & { readonly ownerId: string }): Promise<{ record: MediaRecord; created: boolean }> {
  return commitUpload(deps, input.ownerId, await stageUpload(deps, input));
}

/** Hashes the file of a record stored before content hashes existed, and keeps the hash. */
async function backfillSha256(deps: IngestMediaDeps, record: MediaRecord): Promise<string> {
  const sha256 = await deps.blobs.sha256Of(record.kind, record.key);
  await deps.media.setSha256(record.ownerId, record.id, sha256);
  return sha256;
}

async function readHead(iterator: AsyncIterator<Uint8Array>, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < length) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks);
}

async function* prepend(head: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield head;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Reads the rest of a refused upload so that the client gets its answer instead of a reset connection. */
async function drain(iterator: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    for (;;) if ((await iterator.next()).done) return;
  } catch {
    // A refused upload that also breaks a limit is still refused for its type.
  }
}

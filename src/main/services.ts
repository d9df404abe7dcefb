/**
 * Wiring: turns the configuration into adapters and the services the processes share. Every process's
 * startup file calls this once; nothing here runs on import.
 */
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { authenticateApiKey } from '../app/api-keys.js';
import type { Clock, JobRecord, LiveUpload, VideoDecoder } from '../app/ports.js';
import { TensorPool } from '../app/tensor-pool.js';
import { ImageBudget } from '../app/image-budget.js';
import { SqlAiSettingsRepository } from '../adapters/db/ai-settings-repository.js';
import { CachedAiSettingsRepository } from '../adapters/db/cached-ai-settings.js';
import { SqlAnalysisRepository } from '../adapters/db/analysis-repository.js';
import { checkExecutionProvider } from '../adapters/inference/execution-provider.js';
import { OnnxEngine } from '../adapters/inference/onnx-engine.js';
import { BUILTIN_MANIFESTS, DEFAULT_MODELS } from '../adapters/models/builtin-manifests.js';
import { FileModelRegistry } from '../adapters/models/model-registry.js';
import { defaultAiSettings } from '../domain/ai-settings.js';
import { isUsable, type ModelTask } from '../domain/model-manifest.js';
import { Counter, Registry } from 'prom-client';
import { sweepStorage, type SweepReport } from '../app/sweep-storage.js';
import { SqlJobRepository } from '../adapters/db/job-repository.js';
import { EmbeddedJobRunner } from '../adapters/queue/embedded/runner.js';
import { MemoryEventBus } from '../adapters/queue/embedded/event-bus.js';
import { BullmqJobQueue } from '../adapters/queue/redis/bullmq-queue.js';
import { BullmqJobWorker } from '../adapters/queue/redis/bullmq-worker.js';
import { bullmqConnection, redisClient } from '../adapters/queue/redis/connections.js';
import { RedisEventBus } from '../adapters/queue/redis/event-bus.js';
import { queueMetrics } from '../adapters/queue/queue-metrics.js';
import { announceEnd, failJob } from '../app/job-outcome.js';
import { followUpload } from '../app/follow-upload.js';
import type { JobEventBus, JobQueue } from '../app/ports.js';
import type { Redis } from 'ioredis';
import type { LiveUploads } from '../http/routes/jobs.js';
import { runAnalysisJob } from '../workers/analysis-job.js';
import { DeliveryLoop } from '../workers/delivery-loop.js';
import { runVideoJob } from '../workers/video-job.js';
import { FfmpegVideoDecoder, findVideoTools, SpawnHelper, WarmFfmpeg, type VideoTool } from '../adapters/media/ffmpeg/index.js';
import { AppError } from '../domain/errors.js';
import { enqueueJobDeliveries } from '../app/webhooks.js';
import { SqlWebhookRepository } from '../adapters/db/webhook-repository.js';
import { SqlFaceRepository } from '../adapters/db/face-repository.js';
import { SqlBibRepository } from '../adapters/db/bib-repository.js';
import { FileDictionaryLoader } from '../adapters/models/dictionary-loader.js';
import { checkUrlHost, checkUrlSyntax, SafeFetcher } from '../adapters/http/safe-fetch.js';
import { JoseTokenVerifier } from '../adapters/auth/jwt-verifier.js';
import { SqlApiKeyRepository } from '../adapters/db/api-key-repository.js';
import { openDatabase, type Database } from '../adapters/db/database.js';
import { SqlMediaRepository } from '../adapters/db/media-repository.js';
import { SqlSessionRepository } from '../adapters/db/session-repository.js';
import { SqlIdempotencyRepository } from '../adapters/db/idempotency-repository.js';
import { FileTypeSniffer } from '../adapters/media/file-type-sniffer.js';
import { SharpImageDecoder } from '../adapters/media/sharp-image-decoder.js';
import { LocalBlobStore } from '../adapters/storage/local-blob-store.js';
import type { AppDeps } from '../http/app.js';
import type { Authenticator } from '../http/plugins/auth.js';
import { noopErrorReporter, type ErrorReporter } from '../app/error-reporter.js';
import { ConfigError, type Config } from './config.js';

/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };

/** What a process is for: serving the API (embedded: running jobs too), or running jobs from the shared queue. */
export type ProcessRole = 'api' | 'worker';

/** Something that runs jobs in this process. */
export interface JobRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The services of a process, and how to release them. */
export interface Services {
  /** Embedded (one process, PGlite or PostgreSQL, jobs in-process) or scale-out (Redis, BullMQ, worker processes). */
  readonly mode: 'embedded' | 'scale-out';
  readonly database: Database;
  readonly models: FileModelRegistry;
  readonly deps: AppDeps;
  /** Runs jobs here: the embedded runner, or a worker's consumer of the shared queue; null for a scale-out API. */
  readonly runner: JobRunner | null;
  /** A worker's consumer of the shared queue (scale-out workers only). */
  readonly worker: BullmqJobWorker | null;
  readonly metrics: Registry;
  /** The video decoder this process's video jobs run on (ffmpeg, or one that refuses with the reason it cannot run). */
  readonly videos: VideoDecoder;
  /** Sends webhook and callback deliveries in the background. */
  readonly delivery: DeliveryLoop;
  /**
   * Loads the models ARGUS_WARMUP names (all: the default of each task) and runs each once; a missing one is
   * logged, not fatal; an unknown id is a ConfigError. The others load on their first request.
   */
  warmUp(): Promise<void>;
  /** Removes abandoned partial uploads and files no record points at (at startup); counts them in the metrics. */
  sweep(): Promise<SweepReport>;
  /** Stops the inference thread and closes the database. */
  close(): Promise<void>;
}

/** Opens the model registry on the configured search path. */
export function openModelRegistry(config: Config): Promise<FileModelRegistry> {
  return FileModelRegistry.open(config.modelSearchPath, BUILTIN_MANIFESTS);
}

/**
 * Opens the database (migrated) and builds the services of a process. With REDIS_URL the process is part of the
 * scale-out mode: an API process queues jobs on BullMQ and runs none; a worker process runs them.
 */
export async function createServices(config: Config, logger: Logger, role: ProcessRole = 'api'): Promise<Services> {
  const mode = config.redisUrl ? 'scale-out' : 'embedded';
  if (role === 'worker' && mode !== 'scale-out') throw new ConfigError('invalid configuration: argus worker needs REDIS_URL and DATABASE_URL (the scale-out mode); the embedded mode runs jobs in the API process');
  // Error reporting: the Sentry SDK is loaded only when a DSN is set, so with it off nothing of it runs or loads.
  const errors: ErrorReporter = config.sentry ? (await import('../adapters/telemetry/sentry-reporter.js')).createSentryReporter({ ...config.sentry, role }) : noopErrorReporter;
  const reportJobCrash = (err: unknown, job: JobRecord): void => errors.capture(err, { source: 'job', jobId: job.id, jobKind: job.kind, ownerId: job.ownerId, attempt: job.attempts });
  // Before anything else opens: a GPU setting without a usable GPU stops the process here, with the fix.
  try {
    await checkExecutionProvider(config.executionProvider);
  } catch (err) {
    throw new ConfigError(err instanceof Error ? err.message : String(err), { cause: err });
  }
  // The helper that starts ffmpeg and ffprobe is forked now, while this process is small (see ffmpeg/spawn.ts), in the
  // processes that run video jobs (an API process of the scale-out mode runs none); a platform without Unix sockets,
  // or a helper that fails to start, leaves the tools to be spawned directly.
  const runsJobs = mode === 'embedded' || role === 'worker';
  const spawnHelper = config.spawnHelper && runsJobs && process.platform !== 'win32' ? SpawnHelper.start().catch((err: unknown) => (logger.warn({ err }, 'ffmpeg spawn helper unavailable; spawning directly'), null)) : Promise.resolve(null);
  const database = await openDatabase({ url: config.databaseUrl, pgliteDir: config.pgliteDir });
  await database.migrate();
  const blobs = new LocalBlobStore({ image: config.imagesDir, video: config.videosDir });
  await blobs.init();
  const keys = new SqlApiKeyRepository(database.db);
  const clock = systemClock;

  let auth: Authenticator | null = null;
  if (config.auth) {
    const jwt = config.jwt.secret || config.jwt.publicKeyPem ? new JoseTokenVerifier(config.jwt) : null;
    auth = {
      apiKey: (key) => authenticateApiKey({ keys, clock }, key),
      bearer: jwt ? (token) => jwt.verify(token) : null,
    };
  }

  const models = await openModelRegistry(config);
  for (const m of models.list()) {
    if (!isUsable(m.state)) logger.warn({ model: m.manifest.id, state: m.state, detail: m.detail }, 'model unavailable: endpoints that need it answer 503');
  }
  const metrics = new Registry();
  const workerName = `${os.hostname()}-${process.pid}`;
  const engine = new OnnxEngine({
    threads: config.inferenceThreads,
    intraOpThreads: config.intraOpThreads,
    interOpThreads: config.interOpThreads,
    executionProvider: config.executionProvider,
    metrics,
    ...(role === 'worker' ? { workerName } : {}),
  });

  // Scale-out: one connection for commands and publishing, one for subscriptions, one BullMQ connection.
  const redis =
    mode === 'scale-out' && config.redisUrl
      ? { pub: redisClient(config.redisUrl, `${role}-pub`), sub: redisClient(config.redisUrl, `${role}-sub`), bull: bullmqConnection(config.redisUrl, `${role}-bullmq`) }
      : null;
  const jobs = new SqlJobRepository(database.db);
  const bus: JobEventBus = redis ? new RedisEventBus(redis.pub, redis.sub) : new MemoryEventBus();
  const media = new SqlMediaRepository(database.db);
  const sniffer = new FileTypeSniffer();
  const decoder = new SharpImageDecoder(config.maxPixels);
  const tensors = new TensorPool();
  const analyses = new SqlAnalysisRepository(database.db);
  const imageLimits = { maxPixels: config.maxPixels, minSide: 32 };
  const webhooks = new SqlWebhookRepository(database.db);
  // Syntax, and literal private addresses, are refused up front (422/400); host names are judged when connecting.
  const checkUrl = (url: string): void => checkUrlHost(checkUrlSyntax(url), config.allowPrivateUrls);
  const sender = new SafeFetcher({ allowPrivate: config.allowPrivateUrls, timeoutMs: config.webhookTimeoutMs, maxBytes: 64 * 1024 });
  const fetcher = new SafeFetcher({ allowPrivate: config.allowPrivateUrls, timeoutMs: config.fetchTimeoutMs, maxBytes: config.maxUploadBytes });
  const delivery = new DeliveryLoop({ webhooks, clock, checkUrl, sender, retrySchedule: config.webhookRetrySchedule, sendTimeoutMs: config.webhookTimeoutMs }, logger, 5000);
  const onJobFinished = async (job: JobRecord): Promise<void> => {
    if ((await enqueueJobDeliveries({ webhooks, clock, checkUrl }, job)) > 0) delivery.notify();
  };
  const faces = new SqlFaceRepository(database.db, config.vectorIndex, database.kind, (err) => logger.warn({ err }, 'face index build failed (retried later; searches stay exact meanwhile)'));
  const bibs = new SqlBibRepository(database.db, config.vectorIndex);
  const dictionaries = new FileDictionaryLoader();
  const locks = database.locks;
  const jobDeps = { faces, bibs, dictionaries, jobs, bus, clock, media, blobs, locks, analyses, sniffer, decoder, models, engine, tensors, limits: imageLimits, urls: fetcher, maxImageBytes: config.maxImageBytes, onFinished: onJobFinished };
  // Video needs ffmpeg: the system's, or the one shipped in an npm package (see adapters/media/ffmpeg/tools.ts).
  const foundTools = await findVideoTools({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath });
  if (foundTools.ok) logger.info({ ffmpeg: toolView(foundTools.tools.ffmpeg), ffprobe: toolView(foundTools.tools.ffprobe) }, 'video tools');
  else logger.warn({ reason: foundTools.reason }, 'video analysis unavailable');
  const helper = await spawnHelper;
  // The next video's ffmpeg is started ahead of time by the helper (never forked from this process), on an ffmpeg
  // recent enough for the concat list's options that hold it to the accepted formats (5.1; see ffmpeg/warm.ts).
  const warm = foundTools.ok && helper && config.ffmpegPrestart && foundTools.tools.ffmpeg.fpsMode ? new WarmFfmpeg(foundTools.tools, helper.spawn, helper.dir, () => helper.available) : null;
  const videos: VideoDecoder = foundTools.ok ? new FfmpegVideoDecoder(foundTools.tools, helper?.spawn, warm) : unavailableVideo(foundTools.reason);
  // A worker follows live uploads that an API process is still writing to the shared volume.
  const follow = role === 'worker' ? (job: JobRecord, partial: string, signal: AbortSignal): LiveUpload => followUpload({ jobs, media, blobs, clock }, job, partial, signal, config.worker.liveUploadIdleMs) : undefined;
  const handlerDeps = {
    ...jobDeps,
    video: (j: JobRecord, s: AbortSignal, live?: LiveUpload) => runVideoJob({ ...jobDeps, videos, inFlight: config.inferenceThreads + 1, ...(follow ? { follow } : {}) }, j, s, live),
  };
  const outcomeDeps = { jobs, bus, clock, onFinished: onJobFinished };
  const handler = (job: JobRecord, signal: AbortSignal): Promise<void> => runAnalysisJob(handlerDeps, job, signal);

  let queue: JobQueue;
  let runner: JobRunner | null = null;
  let worker: BullmqJobWorker | null = null;
  let shared: BullmqJobQueue | null = null;
  let liveUploads: LiveUploads | undefined;
  if (!redis) {
    const embedded = new EmbeddedJobRunner({
      jobs,
      clock,
      logger,
      concurrency: config.jobConcurrency,
      pollMs: 2000,
      handler,
      outcome: { fail: (job, reason) => failJob(outcomeDeps, job, reason), announce: (job) => announceEnd(outcomeDeps, job) },
      report: reportJobCrash,
    });
    queue = embedded;
    runner = embedded;
    liveUploads = { kind: 'local', run: (job, live) => embedded.adopt(job, (signal) => runAnalysisJob(handlerDeps, job, signal, live)) };
  } else {
    let local: BullmqJobWorker | null = null;
    shared = BullmqJobQueue.open(redis.bull, redis.pub, role === 'worker' ? { interrupt: (id) => local?.interrupt(id) ?? Promise.resolve() } : undefined);
    queue = shared;
    liveUploads = { kind: 'shared' };
    if (role === 'worker') {
      local = new BullmqJobWorker(
        {
          jobs,
          clock,
          logger,
          name: workerName,
          concurrency: config.worker.concurrency,
          lockDurationMs: config.worker.lockMs,
          stalledIntervalMs: config.worker.stalledCheckMs,
          reconcileMs: config.worker.reconcileMs,
          handler,
          fail: (job, reason) => failJob(outcomeDeps, job, reason),
          metrics,
          report: reportJobCrash,
        },
        shared,
        redis.bull,
        redisClient(config.redisUrl as string, 'worker-control'),
      );
      worker = local;
      runner = local;
    }
  }
  queueMetrics(metrics, jobs, clock, shared ? () => (shared).delayedByKind() : undefined);

  const deps: AppDeps = {
    logger,
    idempotency: new SqlIdempotencyRepository(database.db),
    media,
    blobs,
    locks,
    keys,
    sniffer,
    decoder,
    clock,
    models,
    engine,
    tensors,
    imageBudget: new ImageBudget({ ...config.imageBudget, maxWaiting: 256 }),
    // The embedded database has no other writer, so its settings reads can be cached (see cached-ai-settings.ts).
    aiSettings: database.kind === 'pglite' ? new CachedAiSettingsRepository(new SqlAiSettingsRepository(database.db)) : new SqlAiSettingsRepository(database.db),
    analyses,
    jobs,
    bus,
    queue,
    ...(liveUploads ? { liveUploads } : {}),
    rateLimitStore: redis?.pub,
    checkUrl,
    webhooks,
    faces,
    bibs,
    dictionaries,
    onJobFinished,
    metrics,
    errors,
    auth,
    console: { sessions: new SqlSessionRepository(database.db), sessionTtlS: config.session.ttlS, cookieSecure: config.session.cookieSecure, videoTools: foundTools.ok ? foundTools.tools : null, spawnTool: helper?.spawn, thumbnailDir: path.join(config.dataDir, 'thumbnails') },
    capabilities: {
      video: foundTools.ok
        ? { status: 'ok', detail: `ffmpeg ${foundTools.tools.ffmpeg.version} (${foundTools.tools.ffmpeg.source})`, adminDetail: `ffmpeg ${toolView(foundTools.tools.ffmpeg)}, ffprobe ${toolView(foundTools.tools.ffprobe)}` }
        : { status: 'unavailable', detail: foundTools.reason },
    },
    readiness: [
      { name: 'database', check: () => database.ping() },
      { name: 'storage', check: () => blobs.checkWritable() },
      ...(redis ? [{ name: 'redis', check: async () => void (await redis.pub.ping()) }] : []),
    ],
    settings: {
      maxUploadBytes: config.maxUploadBytes,
      maxImageBytes: config.maxImageBytes,
      imageLimits,
      maxBatchFiles: config.maxBatchFiles,
      jobMaxAttempts: config.jobMaxAttempts,
      aiDefaults: defaultAiSettings({ blur_threshold: config.blurThreshold }),
      corsOrigins: config.corsOrigins,
      rateLimitPerMinute: config.rateLimitPerMinute,
      authFailuresPerMinute: config.authFailuresPerMinute,
      metricsToken: config.metricsToken,
      timeouts: config.timeouts,
      trustProxy: config.trustProxy,
    },
  };
  const warmUp = async (): Promise<void> => {
    videos.warmUp?.();
    const wanted: [string, ModelTask][] = [];
    if (config.warmup === 'all') {
      for (const [task, id] of Object.entries(DEFAULT_MODELS)) wanted.push([id, task as ModelTask]);
    } else {
      for (const id of config.warmup) {
        const known = models.get(id);
        if (!known) throw new ConfigError(`invalid configuration: ARGUS_WARMUP names '${id}', which is not a known model (known: ${models.list().map((m) => m.manifest.id).join(', ')})`);
        wanted.push([id, known.manifest.task]);
      }
    }
    for (const [id, task] of wanted) {
      try {
        const started = performance.now();
        await engine.warm(await models.require(id, task));
        logger.info({ model: id, ms: Math.round(performance.now() - started) }, 'model loaded');
      } catch (err) {
        logger.warn({ model: id, err: err instanceof Error ? err.message : String(err) }, 'model not loaded');
      }
    }
  };
  const swept = new Counter({ name: 'argus_storage_swept_files_total', help: 'Abandoned files removed from the media volume at startup', labelNames: ['kind'], registers: [metrics] });
  const sweptBytes = new Counter({ name: 'argus_storage_swept_bytes_total', help: 'Bytes of abandoned files removed from the media volume at startup', registers: [metrics] });
  const sweep = async (): Promise<SweepReport> => {
    // Embedded, this process is the volume's only writer: every partial file is abandoned. Shared, another process
    // may be writing one, so only partial files untouched for a while are.
    const report = await sweepStorage({ blobs, media, locks }, { partialMaxAgeMs: config.databaseUrl ? config.partialMaxAgeS * 1000 : 0, now: clock.now() });
    swept.inc({ kind: 'partial' }, report.partialFiles);
    swept.inc({ kind: 'orphan' }, report.orphanFiles);
    sweptBytes.inc(report.bytes);
    if (report.partialFiles || report.orphanFiles) logger.warn(report, 'removed abandoned files from the media volume');
    return report;
  };
  const close = async (): Promise<void> => {
    await runner?.stop();
    await delivery.stop();
    await shared?.close();
    if (redis) await Promise.all(Object.values(redis).map((c: Redis) => c.quit().catch(() => c.disconnect())));
    await Promise.all([sender.close(), fetcher.close()]);
    await engine.close();
    await videos.close?.();
    await helper?.close();
    await database.close();
    // Last: whatever crashed while the rest stopped is sent too.
    await errors.close();
  };
  return { mode, database, models, deps, runner, worker, metrics, videos, delivery, warmUp, sweep, close };
}

function toolView(t: VideoTool): string {
  return `${t.version} (${t.source}: ${t.path})`;
}

/** Video when no ffmpeg works here: every video job fails with the reason (and readiness says so). */
function unavailableVideo(reason: string): VideoDecoder {
  const refuse = (): never => {
    throw new AppError('SERVICE_UNAVAILABLE', reason);
  };
  return { probe: async () => refuse(), frames: () => refuse() };
}

/**
 * Wiring: turns the configuration into adapters and the services the processes share. Every process's
 * startup file calls this once; nothing here runs on import.
 */
import type { Logger } from 'pino';
import { authenticateApiKey } from '../app/api-keys.js';
import type { Clock, JobRecord, LiveUpload, VideoDecoder } from '../app/ports.js';
import { TensorPool } from '../app/tensor-pool.js';
import { ImageBudget } from '../app/image-budget.js';
import { SqlAiSettingsRepository } from '../adapters/db/ai-settings-repository.js';
import { SqlAnalysisRepository } from '../adapters/db/analysis-repository.js';
import { OnnxEngine } from '../adapters/inference/onnx-engine.js';
import { BUILTIN_MANIFESTS, DEFAULT_MODELS } from '../adapters/models/builtin-manifests.js';
import { FileModelRegistry } from '../adapters/models/model-registry.js';
import { defaultAiSettings } from '../domain/ai-settings.js';
import { isUsable } from '../domain/model-manifest.js';
import { Counter, Registry } from 'prom-client';
import { sweepStorage, type SweepReport } from '../app/sweep-storage.js';
import { SqlJobRepository } from '../adapters/db/job-repository.js';
import { EmbeddedJobRunner } from '../adapters/queue/embedded-runner.js';
import { MemoryEventBus } from '../adapters/queue/memory-event-bus.js';
import { runAnalysisJob } from '../workers/analysis-job.js';
import { DeliveryLoop } from '../workers/delivery-loop.js';
import { runVideoJob } from '../workers/video-job.js';
import { decodeFrames, probeVideo } from '../adapters/media/ffmpeg-video.js';
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
import { FileTypeSniffer } from '../adapters/media/file-type-sniffer.js';
import { SharpImageDecoder } from '../adapters/media/sharp-image-decoder.js';
import { LocalBlobStore } from '../adapters/storage/local-blob-store.js';
import type { AppDeps } from '../http/app.js';
import type { Authenticator } from '../http/plugins/auth.js';
import type { Config } from './config.js';

/** The system clock. */
export const systemClock: Clock = { now: () => new Date() };

/** The services of a process, and how to release them. */
export interface Services {
  readonly database: Database;
  readonly models: FileModelRegistry;
  readonly deps: AppDeps;
  /** The embedded job runner (started by the API process, or a worker). */
  readonly runner: EmbeddedJobRunner;
  /** Sends webhook and callback deliveries in the background. */
  readonly delivery: DeliveryLoop;
  /** Loads each default model that is present and runs it once; a missing one is logged, not fatal. */
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

/** Opens the database (migrated) and builds the services the HTTP app needs. */
export async function createServices(config: Config, logger: Logger): Promise<Services> {
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
  const engine = new OnnxEngine({ threads: config.inferenceThreads, intraOpThreads: config.intraOpThreads, interOpThreads: config.interOpThreads, metrics });

  const jobs = new SqlJobRepository(database.db);
  const bus = new MemoryEventBus();
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
  const faces = new SqlFaceRepository(database.db, config.vectorIndex);
  const bibs = new SqlBibRepository(database.db, config.vectorIndex);
  const dictionaries = new FileDictionaryLoader();
  const locks = database.locks;
  const jobDeps = { faces, bibs, dictionaries, jobs, bus, clock, media, blobs, locks, analyses, sniffer, decoder, models, engine, tensors, limits: imageLimits, urls: fetcher, maxImageBytes: config.maxImageBytes, onFinished: onJobFinished };
  const videos: VideoDecoder = { probe: probeVideo, frames: decodeFrames };
  const handlerDeps = { ...jobDeps, video: (j: JobRecord, s: AbortSignal, live?: LiveUpload) => runVideoJob({ ...jobDeps, videos, inFlight: config.inferenceThreads + 1 }, j, s, live) };
  const runner: EmbeddedJobRunner = new EmbeddedJobRunner({
    jobs,
    clock,
    logger,
    concurrency: config.jobConcurrency,
    pollMs: 2000,
    handler: (job, signal) =>
      runAnalysisJob(handlerDeps, job, signal),
  });

  const deps: AppDeps = {
    logger,
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
    aiSettings: new SqlAiSettingsRepository(database.db),
    analyses,
    jobs,
    bus,
    queue: runner,
    runLive: (job, live) => runner.adopt(job, (signal) => runAnalysisJob(handlerDeps, job, signal, live)),
    checkUrl,
    webhooks,
    faces,
    bibs,
    dictionaries,
    onJobFinished,
    metrics,
    auth,
    readiness: [
      { name: 'database', check: () => database.ping() },
      { name: 'storage', check: () => blobs.checkWritable() },
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
    for (const [task, id] of Object.entries(DEFAULT_MODELS)) {
      try {
        const started = performance.now();
        await engine.warm(await models.require(id, task as keyof typeof DEFAULT_MODELS));
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
    await runner.stop();
    await delivery.stop();
    await Promise.all([sender.close(), fetcher.close()]);
    await engine.close();
    await database.close();
  };
  return { database, models, deps, runner, delivery, warmUp, sweep, close };
}

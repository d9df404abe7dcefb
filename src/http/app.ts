/**
 * The Fastify app. `buildApp` assembles plugins and routes around the services it is given and never listens:
 * the startup file (src/main/api.ts) does, and tests use `app.inject` or listen on a free port.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createRequire } from 'node:module';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type {
  AiSettingsRepository,
  AnalysisRepository,
  ApiKeyRepository,
  BlobStore,
  Clock,
  ContentLocks,
  ContentSniffer,
  ImageDecoder,
  InferenceEngine,
  JobEventBus,
  JobQueue,
  JobRepository,
  JobRecord,
  MediaRepository,
  ModelCatalog,
  FaceRepository,
  IdempotencyRepository,
  BibRepository,
  WebhookRepository,
} from '../app/ports.js';
import type { CharacterDictionaries } from '../app/ocr-pipeline.js';
import type { ErrorReporter } from '../app/error-reporter.js';
import type { TensorPool } from '../app/tensor-pool.js';
import type { AiSettings } from '../domain/ai-settings.js';
import type { ImageLimits } from '../app/load-image.js';
import { authenticate, principalOf, type Authenticator } from './plugins/auth.js';
import { clientErrorHandler } from './plugins/client-errors.js';
import { errorEnvelope } from './plugins/errors.js';
import { requestSerializer } from './plugins/log-redaction.js';
import { httpMetrics } from './plugins/metrics.js';
import { openapi } from './openapi.js';
import { rateLimits } from './plugins/rate-limits.js';
import { minUploadRate } from './plugins/slow-clients.js';
import { imageBudget } from './plugins/image-budget.js';
import type { ImageBudget } from '../app/image-budget.js';
import { genReqId, requestIdHeader } from './plugins/request-id.js';
import { aiSettingsRoutes } from './routes/ai-settings.js';
import { blurRoutes } from './routes/blur.js';
import { detectRoutes } from './routes/detect.js';
import { faceRoutes } from './routes/faces.js';
import { bibRoutes } from './routes/bibs.js';
import { jobRoutes, type LiveUploads } from './routes/jobs.js';
import { webhookRoutes } from './routes/webhooks.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { keyRoutes } from './routes/keys.js';
import { meRoutes } from './routes/me.js';
import { modelRoutes } from './routes/models.js';
import { mediaRoutes } from './routes/media.js';
import { consoleSite, type ConsoleDeps } from './plugins/console.js';
import { sessionAuth } from './plugins/session-auth.js';
import { sessionRoutes } from './routes/session.js';
import { thumbnailRoutes } from './routes/thumbnails.js';

/** Argus's version, from package.json. */
export const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Everything the HTTP layer is given: use-case dependencies and the settings that shape the API. */
export interface AppDeps {
  readonly logger: Logger;
  readonly media: MediaRepository;
  readonly blobs: BlobStore;
  readonly locks: ContentLocks;
  readonly keys: ApiKeyRepository;
  readonly sniffer: ContentSniffer;
  readonly decoder: ImageDecoder;
  readonly clock: Clock;
  readonly models: ModelCatalog;
  readonly engine: InferenceEngine;
  readonly tensors: TensorPool;
  /** Decoded pixels that image requests may hold at once. */
  readonly imageBudget: ImageBudget;
  readonly aiSettings: AiSettingsRepository;
  readonly analyses: AnalysisRepository;
  readonly jobs: JobRepository;
  readonly bus: JobEventBus;
  readonly queue: JobQueue;
  /** Refuses a malformed user-supplied URL (422) before it is queued. */
  readonly checkUrl: (url: string) => void;
  readonly webhooks: WebhookRepository;
  /** First answers to POSTs sent with an Idempotency-Key. */
  readonly idempotency: IdempotencyRepository;
  readonly faces: FaceRepository;
  /** The bib index (bibs and faces per stored medium). */
  readonly bibs: BibRepository;
  /** Character dictionaries of text recognizers. */
  readonly dictionaries: CharacterDictionaries;
  /** Called when a job ends outside the runner (cancelled): queues its webhook and callback deliveries. */
  readonly onJobFinished: (job: JobRecord) => Promise<void>;
  /** How uploads of streamable videos are analysed while they arrive (absent: once stored). */
  readonly liveUploads?: LiveUploads;
  /** Null turns authentication off (every request acts as the default owner). */
  readonly auth: Authenticator | null;
  readonly readiness: readonly ReadinessCheck[];
  /** What this process can do beyond its checks (video), as found at startup. */
  readonly capabilities?: Record<string, { status: 'ok' | 'unavailable'; detail: string; adminDetail?: string }>;
  /** Where rate-limit counters live when several API instances share them (scale-out); absent: in memory. */
  readonly rateLimitStore?: Redis | undefined;
  readonly metrics?: Registry;
  /** Where 5xx failures are reported besides the log (Sentry); absent: the log only. */
  readonly errors?: ErrorReporter;
  /** The web console's sessions, thumbnails and files; absent: no console (API only). */
  readonly console?: ConsoleDeps;
  readonly settings: {
    readonly maxUploadBytes: number;
    readonly maxImageBytes: number;
    readonly imageLimits: ImageLimits;
    readonly maxBatchFiles: number;
    readonly jobMaxAttempts: number;
    /** Deployment-wide defaults of every user's AI settings. */
    readonly aiDefaults: AiSettings;
    /** Origins allowed from browsers; empty: same origin only. */
    readonly corsOrigins: string[] | '*';
    readonly rateLimitPerMinute: number;
    readonly authFailuresPerMinute: number;
    /** A bearer token that may read /metrics besides admin credentials. */
    readonly metricsToken?: string | undefined;
    readonly timeouts: { requestMs: number; headersMs: number; idleMs: number; minUploadBytesPerSecond: number; minUploadWindowMs: number };
    readonly trustProxy: boolean;
  };
}

/** Builds the app with every route registered; call `ready()` or `inject()` on it. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const s = deps.settings;
  const app = Fastify({
    // Request log lines go through a serializer that masks credentials sent in the query string.
    loggerInstance: deps.logger.child({}, { serializers: { req: requestSerializer } }),
    genReqId,
    requestIdHeader: false,
    // Health probes and scrapes would drown the log; everything else logs its request and completion.
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: (req) => req.url.startsWith('/health/') || req.url === '/metrics' }),
    trustProxy: s.trustProxy,
    // Connections still open at shutdown are closed once idle; in-flight requests finish first.
    forceCloseConnections: 'idle',
    // Bounds on slow clients: the whole request (headers and body), its headers, and a silent connection. Node swaps
    // headersTimeout and requestTimeout when the first is larger, so it never is; it checks them every 5 s.
    requestTimeout: s.timeouts.requestMs,
    connectionTimeout: s.timeouts.idleMs,
    http: { headersTimeout: s.timeouts.headersMs, connectionsCheckingInterval: 5000 },
    clientErrorHandler,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;

  requestIdHeader(app);
  errorEnvelope(app, deps.errors);
  minUploadRate(app, { minBytesPerSecond: s.timeouts.minUploadBytesPerSecond, windowMs: s.timeouts.minUploadWindowMs });
  // Operator views (metrics, readiness details) answer admins (or the metrics token) only when auth is on.
  const isAdmin = async (request: FastifyRequest): Promise<boolean> => {
    if (!deps.auth) return true;
    try {
      return (await principalOf(request, deps.auth)).role === 'admin';
    } catch {
      return false;
    }
  };

  await app.register(helmet, { contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'cross-origin' } });
  // Without configured origins no CORS headers are sent: browsers then allow same-origin calls only.
  if (s.corsOrigins === '*' || s.corsOrigins.length > 0) {
    await app.register(cors, { origin: s.corsOrigins, strictPreflight: false, exposedHeaders: ['x-request-id', 'content-range', 'accept-ranges', 'retry-after'] });
  }
  await app.register(multipart, { limits: { fileSize: s.maxUploadBytes, files: 100, fields: 50, fieldSize: 1024 * 1024 } });
  await app.register(fastifyStatic, { root: process.cwd(), serve: false });

  await openapi(app, { version: VERSION });
  // After the document plugin, so that /metrics is in it.
  httpMetrics(app, deps.metrics ?? new Registry(), async (request) => {
    const bearer = request.headers.authorization?.replace(/^bearer\s+/i, '');
    if (s.metricsToken && bearer === s.metricsToken) return true;
    return isAdmin(request);
  });
  if (deps.console) await sessionAuth(app, { sessions: deps.console.sessions, clock: deps.clock, enabled: deps.auth !== null });
  if (deps.console) await consoleSite(app, { root: deps.console.root });

  await app.register(healthRoutes, { checks: deps.readiness, models: () => deps.models.list(), details: isAdmin, ...(deps.capabilities ? { capabilities: deps.capabilities } : {}) });

  await app.register(
    async (api) => {
      const failures = await rateLimits(api, { perMinute: s.rateLimitPerMinute, authFailuresPerMinute: s.authFailuresPerMinute, redis: deps.rateLimitStore });
      authenticate(api, deps.auth, failures);
      imageBudget(api, deps.imageBudget, deps.decoder);
      await api.register(mediaRoutes, {
        media: deps.media,
        blobs: deps.blobs,
        locks: deps.locks,
        sniffer: deps.sniffer,
        clock: deps.clock,
        maxUploadBytes: s.maxUploadBytes,
      });
      const maxImageBytes = Math.min(s.maxImageBytes, s.maxUploadBytes);
      const settingsDeps = { settings: deps.aiSettings, defaults: s.aiDefaults };
      await api.register(blurRoutes, { sniffer: deps.sniffer, decoder: deps.decoder, limits: s.imageLimits, maxImageBytes, ...settingsDeps });
      await api.register(detectRoutes, { ...deps, limits: s.imageLimits, maxImageBytes, ...settingsDeps });
      await api.register(jobRoutes, {
        ...deps,
        ...settingsDeps,
        maxUploadBytes: s.maxUploadBytes,
        maxBatchFiles: s.maxBatchFiles,
        maxAttempts: s.jobMaxAttempts,
      });
      await api.register(faceRoutes, { ...deps, limits: s.imageLimits, maxImageBytes, ...settingsDeps });
      await api.register(bibRoutes, { ...deps, limits: s.imageLimits, maxImageBytes, ...settingsDeps });
      await api.register(webhookRoutes, { webhooks: deps.webhooks, jobs: deps.jobs, clock: deps.clock, checkUrl: deps.checkUrl });
      await api.register(aiSettingsRoutes, { ...settingsDeps, models: deps.models, clock: deps.clock });
      await api.register(keyRoutes, { keys: deps.keys, clock: deps.clock });
      await api.register(meRoutes);
      await api.register(modelRoutes, { models: deps.models, defaults: s.aiDefaults, loaded: () => deps.engine.loadedModels?.() ?? new Set<string>() });
      if (deps.console) await api.register(sessionRoutes, { sessions: deps.console.sessions, clock: deps.clock, ttlS: deps.console.sessionTtlS, cookieSecure: deps.console.cookieSecure, auth: deps.auth !== null });
      if (deps.console) await api.register(thumbnailRoutes, { ...deps, videoTools: deps.console.videoTools, spawnTool: deps.console.spawnTool, cacheDir: deps.console.thumbnailDir });
    },
    { prefix: '/api/v1' },
  );

  return app;
}

/**
 * A worker process of the scale-out mode (`argus worker`): loads the models once, takes jobs from the shared queue
 * and writes their progress, events and results to PostgreSQL; sends webhook deliveries; and answers its own health
 * and metrics on ARGUS_WORKER_METRICS_PORT. SIGTERM interrupts running jobs, which go back to the queue.
 */
import closeWithGrace from 'close-with-grace';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { setHeapGrowth } from './heap-growth.js';
import { createServices, type Services } from './services.js';
import { createLogger } from './start-api.js';

/** A running worker process. */
export interface WorkerProcess {
  readonly services: Services;
  /** The health and metrics server, when ARGUS_WORKER_METRICS_PORT is set. */
  readonly monitor: FastifyInstance | null;
  stop(): Promise<void>;
}

/** Starts a worker process. */
export async function startWorker(config: Config, logger: Logger = createLogger(config)): Promise<WorkerProcess> {
  setHeapGrowth(config.heapGrowthPercent);
  const services = await createServices(config, logger, 'worker');
  await services.warmUp();
  await services.runner?.start();
  services.delivery.start();
  const monitor = config.worker.metricsPort > 0 ? await startMonitor(config, services) : null;
  logger.info({ concurrency: config.worker.concurrency, lock_ms: config.worker.lockMs, metrics_port: config.worker.metricsPort || null }, 'worker taking jobs from the shared queue');
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await monitor?.close();
      await services.close();
    })());
  closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'worker stopping after an error');
    else logger.info({ signal }, 'worker stopping: running jobs go back to the queue');
    // Sent before stopping: if stopping outlasts the grace delay, the process exits without waiting for anything.
    if (err && services.deps.errors) {
      services.deps.errors.capture(err, { source: 'process' });
      await services.deps.errors.flush();
    }
    await stop();
  });
  return { services, monitor, stop };
}

/** The worker's own small HTTP server: liveness, readiness (database, storage, Redis) and Prometheus metrics. */
async function startMonitor(config: Config, services: Services): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const checks: Record<string, { status: 'ok' | 'fail' }> = {};
    await Promise.all(
      services.deps.readiness.map(async (c) => {
        checks[c.name] = await c.check().then(
          () => ({ status: 'ok' as const }),
          () => ({ status: 'fail' as const }),
        );
      }),
    );
    const ok = Object.values(checks).every((c) => c.status === 'ok');
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'fail', checks });
  });
  app.get('/metrics', async (request, reply) => {
    // The port is meant for the inside of a deployment; with ARGUS_METRICS_TOKEN set it asks for the token too.
    if (config.metricsToken && request.headers.authorization !== `Bearer ${config.metricsToken}`) {
      return reply.status(401).send({ error: { code: 'UNAUTHORIZED', message: 'send Authorization: Bearer $ARGUS_METRICS_TOKEN', request_id: request.id } });
    }
    return reply.type(services.metrics.contentType).send(await services.metrics.metrics());
  });
  await app.listen({ port: config.worker.metricsPort, host: config.host });
  return app;
}

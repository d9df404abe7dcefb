import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { ensureAdminKey } from '../app/api-keys.js';
import { buildApp } from '../http/app.js';
import type { Config } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { setHeapGrowth } from './heap-growth.js';
import { createServices } from './services.js';

/** The process logger: pino JSON lines. */
export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { service: 'argus' } });
}

/**
 * Starts the API process: takes the embedded database's lock (if embedded), migrates, makes the first admin
 * key on a fresh install, listens, and shuts down gracefully on SIGTERM/SIGINT.
 */
export async function startApi(config: Config): Promise<FastifyInstance> {
  setHeapGrowth(config.heapGrowthPercent);
  const logger = createLogger(config);
  const unlock = config.databaseUrl ? null : await lockDataDir(config.dataDir, 'cannot start');
  const services = await createServices(config, logger);
  const { deps } = services;
  await services.sweep();
  await services.warmUp();
  // Embedded: jobs queued before a restart (or left running by a process that died) resume now. Scale-out: this
  // process runs no jobs; the workers take them from the shared queue.
  await services.runner?.start();
  services.delivery.start();
  logger.info({ mode: services.mode, database: services.database.kind }, services.mode === 'scale-out' ? 'API process of the scale-out mode: jobs run on workers (argus worker)' : 'embedded mode: jobs run in this process');

  if (config.auth) {
    const admin = await ensureAdminKey({ keys: deps.keys, clock: deps.clock });
    if (admin) {
      logger.warn({ api_key: admin.key, key_id: admin.record.id }, 'created the first admin API key; it is shown only this once — store it now');
    }
  } else {
    logger.warn('ARGUS_AUTH=off: every request acts as the default owner; do not expose this server');
  }

  const app = await buildApp(deps);
  app.addHook('onClose', async () => {
    await services.close();
    if (unlock) await unlock();
  });

  closeWithGrace({ delay: config.shutdownTimeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down: finishing in-flight requests');
    // Sent before closing: if closing outlasts the grace delay, the process exits without waiting for anything.
    if (err && deps.errors) {
      deps.errors.capture(err, { source: 'process' });
      await deps.errors.flush();
    }
    await app.close();
  });

  await app.listen({ port: config.port, host: config.host });
  return app;
}

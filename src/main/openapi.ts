/**
 * The OpenAPI document, without a running server: the app is built (never listening) on a throwaway embedded
 * database with authentication on, its document read, and everything removed again. `argus openapi` prints it;
 * `npm run client:generate` turns it into the typed client in packages/client.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { buildApp } from '../http/app.js';
import { loadConfig } from './config.js';
import { createServices } from './services.js';

/** Builds the app and returns its OpenAPI document. */
export async function openapiDocument(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-openapi-'));
  try {
    const config = loadConfig({ ARGUS_DATA_DIR: dir, ARGUS_WARMUP: 'false' });
    const services = await createServices(config, pino({ level: 'silent' }));
    try {
      const app = await buildApp(services.deps);
      await app.ready();
      const doc = app.swagger() as unknown as Record<string, unknown>;
      await app.close();
      return doc;
    } finally {
      await services.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

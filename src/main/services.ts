/**
 * Wiring: turns the configuration into adapters and the services the processes share. Every process's
 * startup file calls this once; nothing here runs on import.
 */
import type { Logger } from 'pino';
import { authenticateApiKey } from '../app/api-keys.js';
import type { Clock } from '../app/ports.js';
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

/** Opens the database (migrated) and builds the services the HTTP app needs. */
export async function createServices(config: Config, logger: Logger): Promise<{ database: Database; deps: AppDeps }> {
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

  const deps: AppDeps = {
    logger,
    media: new SqlMediaRepository(database.db),
    blobs,
    keys,
    sniffer: new FileTypeSniffer(),
    decoder: new SharpImageDecoder(config.maxPixels),
    clock,
    auth,
    readiness: [
      { name: 'database', check: () => database.ping() },
      { name: 'storage', check: () => blobs.checkWritable() },
    ],
    settings: {
      maxUploadBytes: config.maxUploadBytes,
      maxImageBytes: config.maxImageBytes,
      imageLimits: { maxPixels: config.maxPixels, minSide: 32 },
      blurThreshold: config.blurThreshold,
      corsOrigins: config.corsOrigins,
      rateLimitPerMinute: config.rateLimitPerMinute,
      trustProxy: config.trustProxy,
    },
  };
  return { database, deps };
}

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/** Thrown when another Argus process holds the embedded database. */
export class DataDirLockedError extends Error {}

/**
 * Takes the embedded database's lock. PGlite is one connection in one process: a second process opening the
 * same directory would corrupt it, so the server holds this lock and CLI commands that write refuse to run.
 */
export async function lockDataDir(dataDir: string, what: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  try {
    return await lockfile.lock(dataDir, { lockfilePath: path.join(dataDir, 'argus.lock'), stale: 30_000, update: 10_000 });
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOCKED') {
      throw new DataDirLockedError(
        `${what}: the embedded database in ${dataDir} is in use by a running Argus server. ` +
          'Use the server\'s API instead (e.g. POST /api/v1/keys with an admin key), or stop the server first.',
      );
    }
    throw err;
  }
}

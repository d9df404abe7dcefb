/** Direct database access for the commands that work without a server (migrate, and keys without a key). */
import { openDatabase, type Database } from '../adapters/db/database.js';
import type { Config } from '../main/config.js';
import { lockDataDir } from '../main/data-dir-lock.js';

/** Opens the database for a command that changes it, holding the embedded lock meanwhile. */
export async function withDatabase<T>(config: Config, what: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const unlock = config.databaseUrl ? null : await lockDataDir(config.dataDir, what);
  const database = await openDatabase({ url: config.databaseUrl, pgliteDir: config.pgliteDir });
  try {
    await database.migrate();
    return await fn(database);
  } finally {
    await database.close();
    if (unlock) await unlock();
  }
}

import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import type { ContentLocks } from '../../app/ports.js';
import { AdvisoryContentLocks, ProcessContentLocks } from './content-locks.js';
import { PGLITE_OPTIONS } from './pglite-options.js';
import * as schema from './schema.js';

/** The query layer both database modes share. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** An open database: the query layer plus what startup, health checks and shutdown need. */
export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /** Locks per stored content, shared by every process on this database. */
  readonly locks: ContentLocks;
  /** Applies pending migrations (idempotent; serialised across processes on PostgreSQL). */
  migrate(): Promise<void>;
  /** Throws unless the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Where the versioned SQL migrations live, beside the compiled or source tree. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../drizzle', import.meta.url));

/** Opens PostgreSQL when `url` is given, else PGlite persisted in `pgliteDir` (or in memory for `memory://`). */
export async function openDatabase(options: { url?: string | undefined; pgliteDir: string }): Promise<Database> {
  return options.url ? openPostgres(options.url) : openPglite(options.pgliteDir);
}

async function openPglite(dir: string): Promise<Database> {
  if (dir !== 'memory://') {
    await mkdir(dir, { recursive: true });
    if (!existsSync(path.join(dir, 'PG_VERSION'))) await initCluster(dir);
  }
  const client = await PGlite.create(dir, PGLITE_OPTIONS);
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    locks: new ProcessContentLocks(),
    migrate: () => migratePglite(drizzlePglite({ client }), { migrationsFolder: MIGRATIONS_DIR }),
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
  };
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  const locks = new AdvisoryContentLocks(url);
  return {
    kind: 'postgres',
    db,
    locks,
    migrate: async () => {
      // Several API and worker processes may start at once: one migrates, the others wait for it.
      const lock = await pool.connect();
      try {
        await lock.query("select pg_advisory_lock(hashtext('argus_migrations'))");
        await migratePg(drizzlePg({ client: pool }), { migrationsFolder: MIGRATIONS_DIR });
      } finally {
        await lock.query("select pg_advisory_unlock(hashtext('argus_migrations'))").catch(() => undefined);
        lock.release();
      }
    },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      await locks.close();
      await pool.end();
    },
  };
}

/**
 * Runs initdb for a new embedded cluster. initdb's ~500 MB wasm heap stays referenced by the client that ran it,
 * so the compiled build runs it in a short-lived child process; from TypeScript sources (tests) it runs in-process.
 */
async function initCluster(dir: string): Promise<void> {
  const script = fileURLToPath(new URL('./pglite-initdb.js', import.meta.url));
  if (!existsSync(script)) {
    await (await PGlite.create(dir, PGLITE_OPTIONS)).close();
    return;
  }
  const child = fork(script, [dir], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`creating the embedded database in ${dir} failed (exit code ${code})`);
}

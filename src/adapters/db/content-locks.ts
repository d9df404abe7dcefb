/**
 * Locks per stored content. Embedded mode is one process, so a promise chain per key is enough; on PostgreSQL the
 * lock is a session advisory lock, so API and worker processes on several machines exclude each other too.
 */
import pg from 'pg';
import type { ContentLocks } from '../../app/ports.js';

/** In-process locks: each key's holders run one after another. */
export class ProcessContentLocks implements ContentLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      // The last holder of a key forgets it, so the map only holds keys in use.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/**
 * PostgreSQL advisory locks, taken on connections of a small pool of their own: the work done under a lock queries
 * through the main pool, so lock holders can never starve it of connections.
 */
export class AdvisoryContentLocks implements ContentLocks {
  private readonly pool: pg.Pool;

  constructor(url: string, size = 4) {
    this.pool = new pg.Pool({ connectionString: url, max: size });
    this.pool.on('error', () => undefined);
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let healthy = true;
    try {
      await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
      try {
        return await fn();
      } finally {
        await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => {
          // A connection that cannot unlock is dropped, which releases its locks.
          healthy = false;
        });
      }
    } finally {
      client.release(!healthy);
    }
  }

  /** Closes the lock pool. */
  close(): Promise<void> {
    return this.pool.end();
  }
}

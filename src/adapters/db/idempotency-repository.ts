/** Idempotency-Key records in the database, so every API instance replays the same first answer. */
import { and, eq, lt } from 'drizzle-orm';
import type { Db } from './database.js';
import { idempotencyKeys } from './schema.js';
import type { IdempotencyRecord, IdempotencyRepository } from '../../app/ports.js';

/** Drizzle implementation of IdempotencyRepository. */
export class SqlIdempotencyRepository implements IdempotencyRepository {
  constructor(private readonly db: Db) {}

  async reserve(ownerId: string, key: string, fingerprint: string, now: Date, expiredBefore: Date): Promise<boolean> {
    // Expired records go first (an index range; usually nothing), so an expired key is free again.
    await this.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, expiredBefore));
    const taken = await this.db
      .insert(idempotencyKeys)
      .values({ ownerId, key, fingerprint, status: null, body: null, location: null, createdAt: now })
      .onConflictDoNothing()
      .returning({ key: idempotencyKeys.key });
    return taken.length > 0;
  }

  async find(ownerId: string, key: string): Promise<IdempotencyRecord | null> {
    const rows = await this.db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.ownerId, ownerId), eq(idempotencyKeys.key, key)));
    return rows[0] ?? null;
  }

  async complete(ownerId: string, key: string, answer: { status: number; body: unknown; location: string | null }): Promise<void> {
    await this.db.update(idempotencyKeys).set(answer).where(and(eq(idempotencyKeys.ownerId, ownerId), eq(idempotencyKeys.key, key)));
  }

  async release(ownerId: string, key: string): Promise<void> {
    await this.db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.ownerId, ownerId), eq(idempotencyKeys.key, key)));
  }
}

import { count, eq } from 'drizzle-orm';
import type { ApiKeyRecord, ApiKeyRepository } from '../../app/ports.js';
import type { Db } from './database.js';
import { apiKeys, instanceState } from './schema.js';

const publicColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  ownerId: apiKeys.ownerId,
  role: apiKeys.role,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

/** API keys in PostgreSQL or PGlite, stored as hashes. */
export class SqlApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: Db) {}

  async insert(record: ApiKeyRecord, hash: string): Promise<void> {
    await this.db.insert(apiKeys).values({ ...record, keyHash: hash });
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | null> {
    const rows = await this.db.select(publicColumns).from(apiKeys).where(eq(apiKeys.keyHash, hash)).limit(1);
    return rows[0] ?? null;
  }

  async count(): Promise<number> {
    const rows = await this.db.select({ n: count() }).from(apiKeys);
    return Number(rows[0]?.n ?? 0);
  }

  async list(ownerId?: string): Promise<ApiKeyRecord[]> {
    const q = this.db.select(publicColumns).from(apiKeys);
    return ownerId ? q.where(eq(apiKeys.ownerId, ownerId)).orderBy(apiKeys.createdAt) : q.orderBy(apiKeys.createdAt);
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(apiKeys).where(eq(apiKeys.id, id)).returning({ id: apiKeys.id });
    return rows.length > 0;
  }

  async claimBootstrap(at: Date): Promise<boolean> {
    const rows = await this.db
      .insert(instanceState)
      .values({ key: 'bootstrap_admin_key', value: { at: at.toISOString() }, createdAt: at })
      .onConflictDoNothing()
      .returning({ key: instanceState.key });
    return rows.length > 0;
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id));
  }
}

import { and, count, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { MediaQuery, MediaRecord, MediaRepository } from '../../app/ports.js';
import type { MediaStatus } from '../../domain/media-status.js';
import type { Db } from './database.js';
import { media } from './schema.js';

type Row = typeof media.$inferSelect;

function toRecord(row: Row): MediaRecord {
  const { path, ...rest } = row;
  return { ...rest, key: path, status: row.status as MediaStatus };
}

/** Media records in PostgreSQL or PGlite. */
export class SqlMediaRepository implements MediaRepository {
  constructor(private readonly db: Db) {}

  async insertIfAbsent(record: MediaRecord): Promise<{ record: MediaRecord; created: boolean }> {
    const { key, ...rest } = record;
    const inserted = await this.db.insert(media).values({ ...rest, path: key }).onConflictDoNothing().returning();
    if (inserted[0]) return { record: toRecord(inserted[0]), created: true };
    const existing = await this.find(record.ownerId, record.id);
    if (!existing) throw new Error(`media ${record.id} conflicted but is not there`);
    return { record: existing, created: false };
  }

  async find(ownerId: string, id: string): Promise<MediaRecord | null> {
    const rows = await this.db.select().from(media).where(and(eq(media.ownerId, ownerId), eq(media.id, id))).limit(1);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(ownerId: string, query: MediaQuery): Promise<{ items: MediaRecord[]; total: number }> {
    const filters: SQL[] = [eq(media.ownerId, ownerId)];
    if (query.kind) filters.push(eq(media.kind, query.kind));
    if (query.status !== undefined) filters.push(eq(media.status, query.status));
    const where = and(...filters);
    const [rows, totals] = await Promise.all([
      this.db.select().from(media).where(where).orderBy(desc(media.createdAt), media.id).limit(query.limit).offset(query.offset),
      this.db.select({ n: count() }).from(media).where(where),
    ]);
    return { items: rows.map(toRecord), total: Number(totals[0]?.n ?? 0) };
  }

  async delete(ownerId: string, id: string): Promise<boolean> {
    const rows = await this.db.delete(media).where(and(eq(media.ownerId, ownerId), eq(media.id, id))).returning({ id: media.id });
    return rows.length > 0;
  }

  async countByKey(key: string): Promise<number> {
    const rows = await this.db.select({ n: count() }).from(media).where(eq(media.path, key));
    return Number(rows[0]?.n ?? 0);
  }

  async keysInUse(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const rows = await this.db.selectDistinct({ path: media.path }).from(media).where(inArray(media.path, [...keys]));
    return new Set(rows.map((r) => r.path));
  }

  async setSha256(ownerId: string, id: string, sha256: string): Promise<void> {
    await this.db.update(media).set({ sha256 }).where(and(eq(media.ownerId, ownerId), eq(media.id, id)));
  }

  async updateStatus(ownerId: string, id: string, from: MediaStatus, to: MediaStatus, reason: string | null, at: Date): Promise<boolean> {
    const rows = await this.db
      .update(media)
      .set({ status: to, statusReason: reason, updatedAt: at })
      .where(and(eq(media.ownerId, ownerId), eq(media.id, id), eq(media.status, from)))
      .returning({ id: media.id });
    return rows.length > 0;
  }
}

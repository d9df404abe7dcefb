import { and, eq, gt, lt } from 'drizzle-orm';
import type { SessionRecord, SessionRepository } from '../../app/sessions.js';
import type { Db } from './database.js';
import { sessions } from './schema.js';

/** Console sessions in PostgreSQL or PGlite (shared by every API instance of a scale-out deployment). */
export class SqlSessionRepository implements SessionRepository {
  constructor(private readonly db: Db) {}

  async insert(record: SessionRecord): Promise<void> {
    await this.db.insert(sessions).values(record);
  }

  async find(idHash: string, now: Date): Promise<SessionRecord | null> {
    const rows = await this.db.select().from(sessions).where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now))).limit(1);
    return rows[0] ?? null;
  }

  async delete(idHash: string): Promise<boolean> {
    const rows = await this.db.delete(sessions).where(eq(sessions.idHash, idHash)).returning({ idHash: sessions.idHash });
    return rows.length > 0;
  }

  async deleteExpired(now: Date): Promise<number> {
    const rows = await this.db.delete(sessions).where(lt(sessions.expiresAt, now)).returning({ idHash: sessions.idHash });
    return rows.length;
  }
}

import { and, eq } from 'drizzle-orm';
import type { AnalysisRecord, AnalysisRepository } from '../../app/ports.js';
import type { Db } from './database.js';
import { mediaAnalyses } from './schema.js';

/** Analysis results in PostgreSQL or PGlite; deleting a medium deletes them (foreign key cascade). */
export class SqlAnalysisRepository implements AnalysisRepository {
  constructor(private readonly db: Db) {}

  async save(record: AnalysisRecord): Promise<void> {
    await this.db
      .insert(mediaAnalyses)
      .values(record)
      .onConflictDoUpdate({
        target: [mediaAnalyses.ownerId, mediaAnalyses.mediaId, mediaAnalyses.task],
        set: { model: record.model, result: record.result, createdAt: record.createdAt },
      });
  }

  async find(ownerId: string, mediaId: string, task: AnalysisRecord['task']): Promise<AnalysisRecord | null> {
    const rows = await this.db
      .select()
      .from(mediaAnalyses)
      .where(and(eq(mediaAnalyses.ownerId, ownerId), eq(mediaAnalyses.mediaId, mediaId), eq(mediaAnalyses.task, task)))
      .limit(1);
    const row = rows[0];
    return row ? { ...row, task: row.task as AnalysisRecord['task'] } : null;
  }
}

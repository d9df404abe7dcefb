import { eq } from 'drizzle-orm';
import type { AiSettingsRepository } from '../../app/ports.js';
import type { AiSettingsPatch } from '../../domain/ai-settings.js';
import type { Db } from './database.js';
import { aiSettings } from './schema.js';

/** Per-user AI settings in PostgreSQL or PGlite. */
export class SqlAiSettingsRepository implements AiSettingsRepository {
  constructor(private readonly db: Db) {}

  async get(ownerId: string): Promise<AiSettingsPatch | null> {
    const rows = await this.db.select().from(aiSettings).where(eq(aiSettings.ownerId, ownerId)).limit(1);
    return (rows[0]?.settings as AiSettingsPatch | undefined) ?? null;
  }

  async put(ownerId: string, settings: AiSettingsPatch, at: Date): Promise<void> {
    const values = { ownerId, settings: settings as Record<string, unknown>, updatedAt: at };
    await this.db.insert(aiSettings).values(values).onConflictDoUpdate({ target: aiSettings.ownerId, set: { settings: values.settings, updatedAt: at } });
  }
}

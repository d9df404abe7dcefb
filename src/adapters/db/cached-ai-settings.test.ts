import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlAiSettingsRepository } from './ai-settings-repository.js';
import { CachedAiSettingsRepository } from './cached-ai-settings.js';
import { openDatabase, type Database } from './database.js';

describe('CachedAiSettingsRepository on PGlite', () => {
  let database: Database;
  let direct: SqlAiSettingsRepository;
  beforeAll(async () => {
    database = await openDatabase({ pgliteDir: 'memory://' });
    await database.migrate();
    direct = new SqlAiSettingsRepository(database.db);
  });
  afterAll(() => database.close());

  it('answers a second read from memory, and a write through it is read back at once', async () => {
    const cached = new CachedAiSettingsRepository(direct);
    expect(await cached.get('alice')).toBeNull();
    // Written behind the cache's back (which the embedded database rules out): the cache still answers null, so the
    // second read did not reach the database.
    await direct.put('alice', { blur_threshold: 50 }, new Date());
    expect(await cached.get('alice')).toBeNull();
    // Written through it: read back at once, and stored.
    await cached.put('alice', { blur_threshold: 75 }, new Date());
    expect(await cached.get('alice')).toEqual({ blur_threshold: 75 });
    expect(await direct.get('alice')).toEqual({ blur_threshold: 75 });
  });

  it('does not keep a read that overlapped a write', async () => {
    // The database's answer to a read is held back until a write has finished (a slow read on a busy database).
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = { get: async (owner: string) => { const v = await direct.get(owner); await gate; return v; }, put: direct.put.bind(direct) };
    const cached = new CachedAiSettingsRepository(held);
    await direct.put('bob', { blur_threshold: 10 }, new Date());
    const reading = cached.get('bob');
    await cached.put('bob', { blur_threshold: 20 }, new Date());
    open();
    // That read answers what the database said when asked, but is not kept for the next one.
    expect(await reading).toEqual({ blur_threshold: 10 });
    expect(await cached.get('bob')).toEqual({ blur_threshold: 20 });
  });

  it('forgets the longest-unread owner beyond its size', async () => {
    const cached = new CachedAiSettingsRepository(direct, 2);
    await direct.put('c1', { blur_threshold: 1 }, new Date());
    await direct.put('c2', { blur_threshold: 2 }, new Date());
    await direct.put('c3', { blur_threshold: 3 }, new Date());
    await cached.get('c1');
    await cached.get('c2');
    await cached.get('c1');
    await cached.get('c3');
    // c2 was read longest ago: a change behind the cache shows for it, not for c1.
    await direct.put('c1', { blur_threshold: 11 }, new Date());
    await direct.put('c2', { blur_threshold: 22 }, new Date());
    expect(await cached.get('c1')).toEqual({ blur_threshold: 1 });
    expect(await cached.get('c2')).toEqual({ blur_threshold: 22 });
  });
});

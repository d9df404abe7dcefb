import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../adapters/db/database.js';
import { SqlJobRepository } from '../adapters/db/job-repository.js';
import { MemoryEventBus } from '../adapters/queue/embedded/event-bus.js';
import { defaultAiSettings } from '../domain/ai-settings.js';
import type { JobEvent, JobStatus } from '../domain/job.js';
import { JobEventStream, JobInterrupted } from './job-events.js';

describe('JobEventStream on PGlite', () => {
  let database: Database;
  let jobs: SqlJobRepository;
  const bus = new MemoryEventBus();
  const clock = { now: () => new Date() };
  let n = 0;

  /** A job in the given state, and the events its listeners receive. */
  async function job(status: JobStatus): Promise<{ id: string; published: JobEvent[] }> {
    const id = `job-${++n}`;
    const at = new Date();
    await jobs.insert({
      id, ownerId: 'alice', kind: 'video', inputs: [], tasks: ['detect'], settings: defaultAiSettings(), status, progress: { done: 0, total: 0 }, items: [], result: null,
      error: null, attempts: 1, maxAttempts: 1, callbackUrl: null, options: {}, createdAt: at, updatedAt: at, startedAt: at, finishedAt: null,
    });
    const published: JobEvent[] = [];
    await bus.subscribe(id, (e) => published.push(e));
    return { id, published };
  }

  beforeAll(async () => {
    database = await openDatabase({ pgliteDir: 'memory://' });
    await database.migrate();
    jobs = new SqlJobRepository(database.db);
  });
  afterAll(() => database.close());

  it('stores queued events in batches, before any event emitted after them, in order', async () => {
    const { id, published } = await job('running');
    const events = new JobEventStream({ jobs, bus, clock }, id, { maxBatch: 3, maxDelayMs: 60_000 });
    await events.queue('frame', { index: 0 });
    await events.queue('frame', { index: 4 });
    // Held: neither stored nor published yet.
    expect(await jobs.events(id, 0)).toEqual([]);
    await events.emit('track', { frame: 4 });
    for (const index of [8, 12, 16]) await events.queue('frame', { index });
    // The third queued frame filled the batch.
    await events.queue('frame', { index: 20 });
    await events.emit('progress', { done: 6 });

    const stored = await jobs.events(id, 0);
    const shown = (e: JobEvent): string => `${e.type}:${String(e.data.index ?? e.data.frame ?? e.data.done)}`;
    expect(stored.map(shown)).toEqual(['frame:0', 'frame:4', 'track:4', 'frame:8', 'frame:12', 'frame:16', 'frame:20', 'progress:6']);
    // Sequence numbers rise in that order, and listeners saw the same events with the same numbers.
    expect(stored.map((e) => e.seq)).toEqual([...stored.map((e) => e.seq)].sort((a, b) => a - b));
    expect(published).toEqual(stored);
  });

  it('stores a queued event on its own after at most maxDelayMs', async () => {
    const { id, published } = await job('running');
    const events = new JobEventStream({ jobs, bus, clock }, id, { maxBatch: 16, maxDelayMs: 20 });
    await events.queue('frame', { index: 0 });
    for (let i = 0; i < 100 && published.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(published.map((e) => e.data)).toEqual([{ index: 0 }]);
    expect((await jobs.events(id, 0)).map((e) => e.data)).toEqual([{ index: 0 }]);
    await events.close();
  });

  it('stores nothing for a job that no longer runs, and the next call says so', async () => {
    const { id, published } = await job('cancelled');
    const events = new JobEventStream({ jobs, bus, clock }, id, { maxBatch: 16, maxDelayMs: 10 });
    await events.queue('frame', { index: 0 });
    await new Promise((r) => setTimeout(r, 50));
    // The timed flush failed; the job hears of it at its next event.
    await expect(events.queue('frame', { index: 4 })).rejects.toBeInstanceOf(JobInterrupted);
    await expect(events.flush()).rejects.toBeInstanceOf(JobInterrupted);
    expect(await jobs.events(id, 0)).toEqual([]);
    expect(published).toEqual([]);
  });

  it('refuses status events in a batch (they are stored alone, whatever the job state)', async () => {
    const { id } = await job('running');
    await expect(jobs.appendEvents(id, [{ type: 'status', data: { status: 'SUCCESS' } }], new Date())).rejects.toThrow(/status/);
    expect(await jobs.events(id, 0)).toEqual([]);
  });
});

/**
 * A video job's frames in their own rows, on both databases: written in fenced batches (a run that was taken over
 * stores nothing), rewritten by a retry without duplicates, served paged by index and by time range, owner-scoped,
 * and deleted with their job. The video pipeline itself is tested in video-jobs.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobFrame, JobRecord } from '../src/app/ports.js';
import type { AiSettings } from '../src/domain/ai-settings.js';
import { boundedPath } from '../src/workers/video-job.js';
import { DB_MODES, startTestApp, type TestApp } from './helper.js';

type Page = { job_id: string; items: { index: number; timestamp: number; detections: unknown[] }[]; limit: number; next_after: number | null; next: string | null };

/** Frames 0, 4, 8, … at 10 frames per second, as a video job stores them. */
function framesOf(first: number, count: number, tag = 'a'): JobFrame[] {
  return Array.from({ length: count }, (_, i) => {
    const index = (first + i) * 4;
    return { index, timestamp: index / 10, data: { detections: [{ label: 'person', tag }] } };
  });
}

describe.each(DB_MODES)('job frames on %s', (mode) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    // No runner: the test plays the worker, claiming and retrying the job itself.
    t = await startTestApp(mode, {}, { runner: false });
    key = await t.keyFor('frames-owner');
  });
  afterAll(() => t.close());

  async function runningJob(owner = 'frames-owner'): Promise<JobRecord> {
    const now = new Date();
    const job: JobRecord = {
      id: randomUUID(),
      ownerId: owner,
      kind: 'video',
      inputs: [{ mediaId: 'V0000000000000000', name: 'clip.avi' }],
      tasks: ['detect'],
      settings: {} as AiSettings,
      status: 'queued',
      progress: { done: 0, total: 0 },
      items: [null],
      result: null,
      error: null,
      attempts: 0,
      maxAttempts: 3,
      callbackUrl: null,
      options: {},
      createdAt: now,
      updatedAt: now,
      startedAt: null,
      finishedAt: null,
    };
    await t.deps.jobs.insert(job);
    const claimed = await t.deps.jobs.claim(job.id, new Date());
    expect(claimed?.attempts).toBe(1);
    return claimed!;
  }

  async function page(url: string, apiKey = key): Promise<Page> {
    const res = await t.app.inject({ url, headers: { 'x-api-key': apiKey } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Page>();
  }

  it('a retried job rewrites its frames: no duplicates, nothing from the lost run, nothing from a stale attempt', async () => {
    const jobs = t.deps.jobs;
    const job = await runningJob();
    expect(await jobs.clearFrames(job.id, 1)).toBe(true);
    expect(await jobs.putFrames(job.id, 1, framesOf(0, 30, 'first'))).toBe(true);
    expect(await jobs.putFrames(job.id, 1, framesOf(30, 20, 'first'))).toBe(true);
    expect(await jobs.frames(job.id, { limit: 1000 })).toHaveLength(50);

    // The process dies; the job is requeued and claimed again (attempt 2), which starts over.
    await jobs.recover(new Date());
    const retry = await jobs.claim(job.id, new Date());
    expect(retry?.attempts).toBe(2);
    // The first run, if it still ran somewhere (stalled, taken over), can neither clear nor write.
    expect(await jobs.clearFrames(job.id, 1)).toBe(false);
    expect(await jobs.putFrames(job.id, 1, framesOf(0, 5, 'stale'))).toBe(false);
    expect(await jobs.clearFrames(job.id, 2)).toBe(true);
    expect(await jobs.frames(job.id, { limit: 1000 })).toEqual([]);
    expect(await jobs.putFrames(job.id, 2, framesOf(0, 25, 'second'))).toBe(true);
    // A batch overlapping stored frames replaces them rather than adding rows.
    expect(await jobs.putFrames(job.id, 2, framesOf(20, 20, 'second'))).toBe(true);
    expect(await jobs.putFrames(job.id, 1, framesOf(40, 5, 'stale'))).toBe(false);

    const stored = await jobs.frames(job.id, { limit: 1000 });
    expect(stored.map((f) => f.index)).toEqual(Array.from({ length: 40 }, (_, i) => i * 4));
    expect(new Set(stored.map((f) => (f.data.detections as { tag: string }[])[0]!.tag))).toEqual(new Set(['second']));

    // Finished: no more writes; deleting the job deletes its frames.
    expect(await jobs.update(job.id, { status: 'succeeded', result: {}, finishedAt: new Date() }, new Date(), 2)).toBe(true);
    expect(await jobs.putFrames(job.id, 2, framesOf(40, 1))).toBe(false);
    await jobs.delete(job.id);
    expect(await jobs.frames(job.id, { limit: 10 })).toEqual([]);
  });

  it('a restarted job (new shape) drops its frames with its events', async () => {
    const job = await runningJob();
    await t.deps.jobs.putFrames(job.id, 1, framesOf(0, 3));
    await t.deps.jobs.restart(job.id, { inputs: job.inputs, tasks: ['detect', 'blur'], options: {}, callbackUrl: null }, new Date());
    expect(await t.deps.jobs.frames(job.id, { limit: 10 })).toEqual([]);
  });

  it('GET /jobs/{id}/frames pages by index and by time, for the owner only', async () => {
    const job = await runningJob();
    await t.deps.jobs.putFrames(job.id, 1, framesOf(0, 250));
    const url = `/api/v1/jobs/${job.id}/frames`;

    // A running job's frames so far are readable; the default page is 100.
    const first = await page(url);
    expect(first).toMatchObject({ job_id: job.id, limit: 100, next_after: 99 * 4, next: `${url}?limit=100&after=${99 * 4}` });
    expect(first.items[0]).toEqual({ index: 0, timestamp: 0, detections: [{ label: 'person', tag: 'a' }] });
    const seen: number[] = [];
    let next: string | null = `${url}?limit=60`;
    while (next) {
      const p = await page(next);
      seen.push(...p.items.map((f) => f.index));
      next = p.next;
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i * 4));

    // [from, to] in seconds, both ends included, paged within the range.
    const ranged: number[] = [];
    next = `${url}?from=12&to=40&limit=30`;
    while (next) {
      const p = await page(next);
      expect(p.items.length).toBeLessThanOrEqual(30);
      ranged.push(...p.items.map((f) => f.timestamp));
      next = p.next;
    }
    expect(ranged[0]).toBe(12);
    expect(ranged.at(-1)).toBe(40);
    expect(ranged).toHaveLength((40 - 12) / 0.4 + 1);
    expect((await page(`${url}?from=99.9`)).items.map((f) => f.timestamp)).toEqual([]);
    // Exactly one page left: no link to an empty page.
    expect(await page(`${url}?after=${240 * 4}&limit=9`)).toMatchObject({ next_after: null, next: null });

    const other = await t.app.inject({ url, headers: { 'x-api-key': await t.keyFor('someone-else') } });
    expect(other.statusCode).toBe(404);
    for (const q of ['limit=0', 'limit=1001', 'after=-1', 'after=99999999999', 'from=7&to=6', 'cursor=3']) {
      expect((await t.app.inject({ url: `${url}?${q}`, headers: { 'x-api-key': key } })).statusCode, q).toBe(422);
    }
    expect((await page(`${url}?limit=1000`)).items).toHaveLength(250);
    expect((await t.app.inject({ url: `/api/v1/jobs/${randomUUID()}/frames`, headers: { 'x-api-key': key } })).statusCode).toBe(404);
  });
});

describe('a track path in the result', () => {
  const point = (i: number, confidence = 0.5): { frameIndex: number; timestamp: number; box: { x1: number; y1: number; x2: number; y2: number }; confidence: number } => ({
    frameIndex: i,
    timestamp: i / 10,
    box: { x1: i, y1: 0, x2: i + 1, y2: 1 },
    confidence,
  });

  it('keeps at most 100 points, evenly, with the first, last and best', () => {
    const short = Array.from({ length: 100 }, (_, i) => point(i));
    expect(boundedPath(short, short[3]!, 100)).toEqual(short);
    const long = Array.from({ length: 5000 }, (_, i) => point(i, i === 1234 ? 0.99 : 0.5));
    const kept = boundedPath(long, long[1234]!, 100);
    expect(kept.length).toBeLessThanOrEqual(100);
    expect(kept[0]).toBe(long[0]);
    expect(kept.at(-1)).toBe(long[4999]);
    expect(kept.map((p) => p.frameIndex)).toContain(1234);
    const gaps = kept.slice(1).map((p, i) => p.frameIndex - kept[i]!.frameIndex);
    // Evenly spaced (~50 frames apart), except around the best point.
    expect(gaps.filter((g) => g < 49 || g > 52).length).toBeLessThanOrEqual(2);
  });
});

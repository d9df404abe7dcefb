/**
 * Nothing is lost: a server killed with SIGKILL in the middle of a job finishes it after a restart, keeping the
 * items it had already done (a real `argus serve` process on the embedded database).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, testdata } from './helper.js';

type Job = { status: string; progress: { done: number; total: number }; items: (Record<string, unknown> | null)[]; attempts: number };

describe('a job survives SIGKILL', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-recovery-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('resumes after a restart and finishes with every item', async () => {
    const env = { ARGUS_DATA_DIR: dir, ARGUS_AUTH: 'off', LOG_LEVEL: 'info', ARGUS_JOB_CONCURRENCY: '1' };
    let server = await startServer(env);
    const form = new FormData();
    const photos = ['dog.jpg', 'person_horse_dog.jpg', 'coco_000000000139.jpg', 'messi5.jpg'];
    for (let i = 0; i < 40; i++) {
      const f = photos[i % photos.length]!;
      form.append('files', new Blob([await readFile(testdata(`images/${f}`))]), f);
    }
    const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/detect/batch`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    const { job_id: id } = (await res.json()) as { job_id: string };
    const get = async (port: number): Promise<Job> => (await (await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${id}`)).json()) as Job;

    // Kill it once a few items are done (and well before the last).
    let before: Job;
    for (;;) {
      before = await get(server.port);
      if (before.progress.done >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    server.proc.kill('SIGKILL');
    await server.exited;
    expect(before.status).toBe('PROCESSING');
    expect(before.progress.done).toBeLessThan(40);

    server = await startServer(env);
    expect(server.lines.some((l) => l.includes('recovered jobs left running'))).toBe(true);
    let after: Job;
    for (;;) {
      after = await get(server.port);
      if (after.status !== 'PROCESSING' && after.status !== 'PENDING') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(after.status).toBe('SUCCESS');
    expect(after.progress).toMatchObject({ done: 40, total: 40 });
    expect(after.attempts).toBe(2);
    expect(after.items.every((i) => i && Array.isArray((i.detect as { detections: unknown[] }).detections))).toBe(true);
    // Items finished before the kill were kept, not redone: they are the same objects.
    for (let i = 0; i < before.progress.done; i++) expect(after.items[i]).toEqual(before.items[i]);
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('finishes a video job killed in the middle', async () => {
    const env = { ARGUS_DATA_DIR: dir, ARGUS_AUTH: 'off', LOG_LEVEL: 'info' };
    let server = await startServer(env);
    const form = new FormData();
    form.append('file', new Blob([await readFile(testdata('video/Megamind.avi'))]), 'Megamind.avi');
    const media = (await (await fetch(`http://127.0.0.1:${server.port}/api/v1/media`, { method: 'POST', body: form })).json()) as { id: string };
    // Every frame, so the job runs long enough to be caught in the middle.
    const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/analyze`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ media_id: media.id, settings: { frame_period_recognition: 1 } }),
    });
    const { task_id: id } = (await res.json()) as { task_id: string };
    const get = async (port: number): Promise<Job & { result: { frames_analysed: number; frames_url: string; tracks: unknown[] } | null }> =>
      (await (await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${id}`)).json()) as Job & { result: { frames_analysed: number; frames_url: string; tracks: unknown[] } | null };
    type Page = { items: { index: number }[]; next: string | null };
    const frames = async (port: number): Promise<number[]> => {
      const out: number[] = [];
      for (let next: string | null = `/api/v1/jobs/${id}/frames?limit=1000`; next; ) {
        const p = (await (await fetch(`http://127.0.0.1:${port}${next}`)).json()) as Page;
        out.push(...p.items.map((f) => f.index));
        next = p.next;
      }
      return out;
    };
    // Killed once the first run has stored some of its frames, so the retry has frames to rewrite.
    let storedBefore: number[];
    for (;;) {
      const job = await get(server.port);
      expect(job.status).not.toBe('SUCCESS');
      storedBefore = await frames(server.port);
      if (storedBefore.length > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(storedBefore.length).toBeLessThan(270);
    server.proc.kill('SIGKILL');
    await server.exited;

    server = await startServer(env);
    let after;
    for (;;) {
      after = await get(server.port);
      if (after.status !== 'PROCESSING' && after.status !== 'PENDING') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(after.status).toBe('SUCCESS');
    expect(after.attempts).toBe(2);
    expect(after.result!.frames_analysed).toBe(270);
    // Each frame once, in order: the retry rewrote the frames the killed run had stored.
    expect(await frames(server.port)).toEqual(Array.from({ length: 270 }, (_, i) => i));
    expect(after.result!.tracks.length).toBeGreaterThan(0);
    server.proc.kill('SIGTERM');
    await server.exited;
  });
});

import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaStatus } from '../src/domain/media-status.js';
import { DB_MODES, multipart, waitForJob, startTestApp, testdata, type TestApp } from './helper.js';

type Job = { job_id: string; status: string; state: string; progress: { done: number; total: number; percent: number }; items?: Record<string, unknown>[]; result: Record<string, unknown> | null; error: string | null };

/** Reads an SSE stream until it closes; returns its events. */
async function readEvents(url: string, headers: Record<string, string>): Promise<{ id: number; event: string; data: Record<string, unknown> }[]> {
  const res = await fetch(url, { headers });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string): string => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      return { id: Number(field('id')), event: field('event'), data: JSON.parse(field('data')) as Record<string, unknown> };
    });
}

describe.each(DB_MODES)('jobs on %s', (mode) => {
  let t: TestApp;
  let key: string;
  let base: string;
  beforeAll(async () => {
    t = await startTestApp(mode, { ARGUS_ALLOW_PRIVATE_URLS: 'true' });
    key = await t.keyFor('analyst');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  const headers = (): Record<string, string> => ({ 'x-api-key': key });

  const waitFor = (id: string): Promise<Job> => waitForJob<Job>(t, key, id);

  it('analyses an uploaded image asynchronously (seed 003) and streams its events', async () => {
    const body = await multipart({ tasks: 'detect,blur', file: { data: await readFile(testdata('images/dog.jpg')), filename: 'dog.jpg' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: body.payload, headers: { ...body.headers, ...headers() } });
    expect(res.statusCode).toBe(202);
    const accepted = res.json<{ task_id: string; status_endpoint: string; events_endpoint: string; media_id: string }>();
    expect(accepted.status_endpoint).toBe(`/api/v1/results/${accepted.task_id}`);
    expect(accepted.events_endpoint).toBe(`/api/v1/jobs/${accepted.task_id}/events`);

    const events = await readEvents(`${base}${accepted.events_endpoint}`, headers());
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['status', 'item', 'progress']));
    expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'SUCCESS' } });
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));

    const result = (await t.app.inject({ url: accepted.status_endpoint, headers: headers() })).json<{ status: string; result: { items: { detect: { detections: { label: string }[] }; blur: { is_blurry: boolean } }[] }; error_message: string | null }>();
    expect(result.status).toBe('SUCCESS');
    expect(result.error_message).toBeNull();
    const item = result.result.items[0]!;
    expect(item.detect.detections.map((d) => d.label)).toEqual(expect.arrayContaining(['dog', 'bicycle', 'car']));
    expect(item.blur.is_blurry).toBe(false);

    const media = (await t.app.inject({ url: `/api/v1/media/${accepted.media_id}`, headers: headers() })).json<{ status: number }>();
    expect(media.status).toBe(MediaStatus.AIProcessed);
    const stored = await t.app.inject({ url: `/api/v1/media/${accepted.media_id}/detections`, headers: headers() });
    expect(stored.statusCode).toBe(200);

    // A finished job replays its events, and Last-Event-ID resumes after the given one without gaps.
    const again = await readEvents(`${base}${accepted.events_endpoint}`, headers());
    expect(again).toEqual(events);
    const resumed = await readEvents(`${base}${accepted.events_endpoint}`, { ...headers(), 'last-event-id': String(events[1]!.id) });
    expect(resumed).toEqual(events.slice(2));
  });

  it('analyses a stored medium by media_id with JSON, and refuses bad requests with 4xx', async () => {
    const up = await multipart({ file: { data: await readFile(testdata('images/text_defocus.jpg')), filename: 'text.jpg' } });
    const media = (await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: up.payload, headers: { ...up.headers, ...headers() } })).json<{ id: string }>();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { media_id: media.id, tasks: ['blur'] }, headers: headers() });
    expect(res.statusCode).toBe(202);
    const job = await waitFor(res.json<{ task_id: string }>().task_id);
    expect(job.status).toBe('SUCCESS');
    expect(job.progress).toEqual({ done: 1, total: 1, percent: 100 });
    expect((job.items?.[0] as { blur: { is_blurry: boolean } }).blur.is_blurry).toBe(true);

    const bad: [object, number][] = [
      [{ media_id: media.id, colour: 'red' }, 422],
      [{ media_id: media.id, tasks: ['dance'] }, 422],
      [{}, 422],
      [{ media_id: media.id, image_url: 'http://example.com/a.jpg' }, 422],
      [{ media_id: 'ffffffffffffffff' }, 404],
      [{ image_url: 'ftp://example.com/a.jpg' }, 422],
      [{ media_id: media.id, settings: { probabilty_threshold: 0.5 } }, 422],
    ];
    for (const [payload, status] of bad) {
      const r = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload, headers: headers() });
      expect(r.statusCode, JSON.stringify(payload)).toBe(status);
      expect(r.json().error.code).toBeTruthy();
    }
    expect((await t.app.inject({ url: '/api/v1/jobs', headers: headers() })).json<{ total: number }>().total).toBe(2);
  });

  it('hides other owners\' jobs and answers 404 for unknown ones', async () => {
    const list = (await t.app.inject({ url: '/api/v1/jobs', headers: headers() })).json<{ items: Job[] }>();
    const id = list.items[0]!.job_id;
    const other = await t.keyFor('stranger');
    expect((await t.app.inject({ url: `/api/v1/results/${id}`, headers: { 'x-api-key': other } })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/v1/jobs/${id}`, headers: { 'x-api-key': other } })).statusCode).toBe(404);
    expect((await t.app.inject({ url: '/api/v1/results/6f1c1c0e-9a43-4d53-8d0e-3c1f7c1a2b3c', headers: headers() })).statusCode).toBe(404);
    // Seed 003: a task that does not exist is a 404, whatever its id looks like.
    expect((await t.app.inject({ url: '/api/v1/results/not-a-uuid', headers: headers() })).statusCode).toBe(404);
  });

  it('runs a batch of images (seed 004) with progress and per-item results', async () => {
    const form = new FormData();
    for (const f of ['dog.jpg', 'messi5.jpg', 'text_motion.jpg']) form.append('files', new Blob([await readFile(testdata(`images/${f}`))]), f);
    const r = new Response(form);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect/batch', payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, ...headers() } });
    expect(res.statusCode).toBe(202);
    const accepted = res.json<{ job_id: string; poll_url: string; status_url: string; total: number }>();
    expect(accepted.total).toBe(3);
    expect(accepted.poll_url).toBe(`/api/v1/jobs/${accepted.job_id}`);
    expect(accepted.status_url).toBe(accepted.poll_url);
    const job = await waitFor(accepted.job_id);
    expect(job.status).toBe('SUCCESS');
    expect(job.items!.map((i) => (i.blur as { is_blurry: boolean }).is_blurry)).toEqual([false, false, true]);
    const events = await readEvents(`${base}/api/v1/jobs/${accepted.job_id}/events`, headers());
    expect(events.filter((e) => e.event === 'progress').map((e) => e.data.done)).toEqual([1, 2, 3]);

    // A batch with a non-image is refused whole and leaves none of its new files behind.
    const before = (await t.app.inject({ url: '/api/v1/media', headers: headers() })).json<{ total: number }>().total;
    const bad = new FormData();
    bad.append('files', new Blob([await readFile(testdata('images/HappyFish.jpg'))]), 'fish.jpg');
    bad.append('files', new Blob([Buffer.from('%PDF-1.4 nope')]), 'doc.pdf');
    const br = new Response(bad);
    const refused = await t.app.inject({ method: 'POST', url: '/api/v1/detect/batch', payload: Buffer.from(await br.arrayBuffer()), headers: { 'content-type': br.headers.get('content-type')!, ...headers() } });
    expect(refused.statusCode).toBe(400);
    expect((await t.app.inject({ url: '/api/v1/media', headers: headers() })).json<{ total: number }>().total).toBe(before);
  });

  it('cancels a queued job', async () => {
    // Stop the runner so the job stays queued, cancel it, then let the runner go on.
    await t.services.runner?.stop();
    const up = await multipart({ file: { data: await readFile(testdata('images/messi5.jpg')), filename: 'm.jpg' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: up.payload, headers: { ...up.headers, ...headers() } });
    const id = res.json<{ task_id: string }>().task_id;
    expect((await t.app.inject({ url: `/api/v1/results/${id}`, headers: headers() })).json()).toMatchObject({ status: 'PENDING', result: null });
    const cancelled = await t.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}`, headers: headers() });
    expect(cancelled.json()).toMatchObject({ status: 'CANCELLED', error: 'cancelled' });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${id}`, headers: headers() })).statusCode).toBe(409);
    await t.services.runner?.start();
    const events = await readEvents(`${base}/api/v1/jobs/${id}/events`, headers());
    expect(events.at(-1)).toMatchObject({ event: 'status', data: { status: 'CANCELLED', error_message: 'cancelled' } });
  });
});

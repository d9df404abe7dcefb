/**
 * HTTP conventions of the v1 contract: 405 with Allow for a wrong method, Location on every 201/202, the fields
 * /detect/batch shares with /detect, and Idempotency-Key on the POSTs that create work.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_MODES, multipart, startTestApp, testdata, type TestApp } from './helper.js';

interface Job {
  status: string;
  result: { items: { detect?: { detections: { label: string; confidence: number }[] } }[] } | null;
}

describe.each(DB_MODES)('HTTP conventions on %s', (mode) => {
  let t: TestApp;
  let key: string;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp(mode);
    key = await t.keyFor('contract');
    admin = await t.keyFor('contract-admin', 'admin');
  });
  afterAll(() => t.close());

  const headers = (extra: Record<string, string> = {}): Record<string, string> => ({ 'x-api-key': key, ...extra });

  async function waitFor(id: string): Promise<Job> {
    for (let i = 0; i < 600; i++) {
      const job = (await t.app.inject({ url: `/api/v1/jobs/${id}`, headers: headers() })).json<Job>();
      if (['SUCCESS', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`job ${id} did not finish`);
  }

  it('answers a known path asked with another method with 405 and the methods it takes in Allow', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/api/v1/media', headers: headers() });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.json().error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', message: expect.stringContaining('GET, HEAD, POST') });
    const withId = await t.app.inject({ method: 'POST', url: '/api/v1/media/abc', headers: headers() });
    expect(withId.statusCode).toBe(405);
    expect(withId.headers.allow).toContain('DELETE');
    // An unknown path stays a 404, whatever the method.
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/nope', headers: headers() })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: '/health/nope' })).statusCode).toBe(404);
  });

  it('sends Location with every 201 and 202', async () => {
    const photo = await readFile(testdata('images/dog.jpg'));
    const up = await multipart({ file: { data: photo, filename: 'dog.jpg' } });
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: up.payload, headers: headers(up.headers) });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    expect(created.headers.location).toBe(`/api/v1/media/${id}`);
    expect((await t.app.inject({ url: created.headers.location as string, headers: headers() })).statusCode).toBe(200);

    const analyzed = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { media_id: id, tasks: ['blur'] }, headers: headers() });
    expect(analyzed.statusCode).toBe(202);
    expect(analyzed.headers.location).toBe(`/api/v1/jobs/${analyzed.json<{ task_id: string }>().task_id}`);

    const form = await multipart({ tasks: 'blur', file: { data: photo, filename: 'dog.jpg' } });
    const uploaded = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: form.payload, headers: headers(form.headers) });
    expect(uploaded.statusCode).toBe(202);
    expect(uploaded.headers.location).toBe(`/api/v1/jobs/${uploaded.json<{ task_id: string }>().task_id}`);

    const batch = await multipart({ files: { data: photo, filename: 'dog.jpg' } });
    const queued = await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect/batch', payload: batch.payload, headers: headers(batch.headers) });
    expect(queued.statusCode).toBe(202);
    expect(queued.headers.location).toBe(`/api/v1/jobs/${queued.json<{ job_id: string }>().job_id}`);

    const hook = await t.app.inject({ method: 'POST', url: '/api/v1/webhooks', payload: { url: 'https://hooks.example.com/argus', events: ['job.completed'] }, headers: headers() });
    expect(hook.statusCode, hook.body).toBe(201);
    expect(hook.headers.location).toBe(`/api/v1/webhooks/${hook.json<{ id: string }>().id}`);

    const made = await t.app.inject({ method: 'POST', url: '/api/v1/keys', payload: { name: 'ci', owner_id: 'someone' }, headers: { 'x-api-key': admin } });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.headers.location).toBe(`/api/v1/keys/${made.json<{ api_key: { id: string } }>().api_key.id}`);
  });

  it('takes model, classes, threshold and max_detections on /detect/batch as on /detect', async () => {
    const photo = await readFile(testdata('images/person_horse_dog.jpg'));
    const plain = await multipart({ files: { data: photo, filename: 'phd.jpg' } });
    const all = await t.app.inject({ method: 'POST', url: '/api/v1/detect/batch', payload: plain.payload, headers: headers(plain.headers) });
    expect(all.statusCode, all.body).toBe(202);
    const everything = (await waitFor(all.json<{ job_id: string }>().job_id)).result!.items[0]!.detect!.detections;
    expect(new Set(everything.map((d) => d.label))).toEqual(new Set(['person', 'horse', 'dog']));

    const narrowed = await multipart({ classes: 'dog,horse', threshold: '0.5', max_detections: '1', files: { data: photo, filename: 'phd.jpg' } });
    const some = await t.app.inject({ method: 'POST', url: '/api/v1/detect/batch', payload: narrowed.payload, headers: headers(narrowed.headers) });
    expect(some.statusCode, some.body).toBe(202);
    const kept = (await waitFor(some.json<{ job_id: string }>().job_id)).result!.items[0]!.detect!.detections;
    expect(kept).toHaveLength(1);
    expect(['dog', 'horse']).toContain(kept[0]!.label);
    expect(kept[0]!.confidence).toBeGreaterThanOrEqual(0.5);

    const unknown = await multipart({ model: 'no_such_model', files: { data: photo, filename: 'phd.jpg' } });
    const refused = await t.app.inject({ method: 'POST', url: '/api/v1/detect/batch', payload: unknown.payload, headers: headers(unknown.headers) });
    expect(refused.statusCode, refused.body).toBe(422);
    // A field /detect does not take is still refused on the batch.
    const extra = await multipart({ tiling: 'off', files: { data: photo, filename: 'phd.jpg' } });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/detect/batch', payload: extra.payload, headers: headers(extra.headers) })).statusCode).toBe(422);
  });
});

/**
 * HTTP conventions of the v1 contract: 405 with Allow for a wrong method, Location on every 201/202, the fields
 * /detect/batch shares with /detect, and Idempotency-Key on the POSTs that create work.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/adapters/db/vector-sql.js';
import { DB_MODES, multipart, waitForJob, startTestApp, testdata, type TestApp } from './helper.js';

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

  const waitFor = (id: string): Promise<Job> => waitForJob<Job>(t, key, id);

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

  it('shows a failed job with its reason and a null result (a failed job once answered 500)', async () => {
    const text = await multipart({ file: { data: Buffer.from('not an image at all, but long enough to be sniffed as text'), filename: 'x.jpg' } });
    // Stored media that later cannot be decoded: a PNG header with nothing after it.
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000100000001008020000009091683600000000', 'hex');
    const broken = await multipart({ file: { data: png, filename: 'broken.png' } });
    const stored = await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: broken.payload, headers: headers(broken.headers) });
    expect(stored.statusCode, stored.body).toBe(201);
    const accepted = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { media_id: stored.json<{ id: string }>().id, tasks: ['detect'] }, headers: headers() });
    expect(accepted.statusCode, accepted.body).toBe(202);
    const job = await waitFor(accepted.json<{ task_id: string }>().task_id);
    expect(job.status).toBe('FAILED');
    const view = await t.app.inject({ url: `/api/v1/jobs/${accepted.json<{ task_id: string }>().task_id}`, headers: headers() });
    expect(view.statusCode, view.body).toBe(200);
    expect(view.json()).toMatchObject({ status: 'FAILED', result: null, error: expect.any(String) });
    expect(text.payload.length).toBeGreaterThan(0);
  });

  it('points a video sent to an image endpoint at /analyze', async () => {
    const form = await multipart({ file: { data: await readFile(testdata('video/Megamind.avi')), filename: 'Megamind.avi' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/detect', payload: form.payload, headers: headers(form.headers) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('POST /api/v1/analyze') });
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

  describe('Idempotency-Key', () => {
    async function count(table: string): Promise<number> {
      const rows = rowsOf<{ n: number }>(await t.database.db.execute(`select count(*)::int as n from ${table}`));
      return rows[0]!.n;
    }

    it('answers a retry of /analyze with the first answer, and the same key with another body with 409', async () => {
      const photo = await readFile(testdata('images/dog.jpg'));
      const up = await multipart({ file: { data: photo, filename: 'dog.jpg' } });
      const id = (await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: up.payload, headers: headers(up.headers) })).json<{ id: string }>().id;
      const jobs = await count('jobs');
      const send = (body: object, k = 'retry-1'): Promise<import('light-my-request').Response> =>
        t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: body, headers: headers({ 'idempotency-key': k }) });
      const first = await send({ media_id: id, tasks: ['blur'] });
      expect(first.statusCode, first.body).toBe(202);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      // Same body with its keys in another order: the same request.
      const again = await send({ tasks: ['blur'], media_id: id });
      expect(again.statusCode).toBe(202);
      expect(again.json()).toEqual(first.json());
      expect(again.headers.location).toBe(first.headers.location);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await count('jobs')).toBe(jobs + 1);

      const other = await send({ media_id: id, tasks: ['detect'] });
      expect(other.statusCode).toBe(409);
      expect(other.json().error).toMatchObject({ code: 'CONFLICT', details: [{ field: 'Idempotency-Key', problem: 'reused with another request' }] });
      expect(await count('jobs')).toBe(jobs + 1);

      // Keys belong to their owner: another owner's same key is a new request.
      const stranger = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { image_url: 'https://example.com/a.jpg', tasks: ['blur'] }, headers: { 'x-api-key': await t.keyFor('contract-other'), 'idempotency-key': 'retry-1' } });
      expect(stranger.statusCode, stranger.body).toBe(202);
      expect(stranger.json().task_id).not.toBe(first.json().task_id);

      const bad = await send({ media_id: id, tasks: ['blur'] }, 'has spaces in it');
      expect(bad.statusCode).toBe(422);
    });

    it('forgets the key of a request that failed, so that a retry runs', async () => {
      // No face on a photo of a dog: the enrollment fails inside the work the key guards.
      const enroll = async (file: string): Promise<number> => {
        const f = await multipart({ person_name: 'Retry', collection: 'idem', file: { data: await readFile(testdata(file)), filename: 'p.jpg' } });
        return (await t.app.inject({ method: 'POST', url: '/api/v1/faces/enroll', payload: f.payload, headers: headers({ ...f.headers, 'idempotency-key': 'after-failure' }) })).statusCode;
      };
      expect(await enroll('images/dog.jpg')).toBe(422);
      expect(await enroll('faces/person02_ref_01.jpg')).toBe(201);
    });

    it('replays a batch upload without storing its files again or queueing a second job', async () => {
      const photo = await readFile(testdata('images/HappyFish.jpg'));
      const form = async (): Promise<{ payload: Buffer; headers: Record<string, string> }> => multipart({ files: { data: photo, filename: 'fish.jpg' } });
      const jobs = await count('jobs');
      const a = await form();
      const first = await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect/batch', payload: a.payload, headers: headers({ ...a.headers, 'idempotency-key': 'batch-1' }) });
      expect(first.statusCode, first.body).toBe(202);
      const staging = async (): Promise<string[]> => (await import('node:fs/promises')).readdir(t.dir, { recursive: true }).then((f) => f.filter((n) => String(n).includes('.partial-')));
      expect(await staging(), 'after the first').toEqual([]);
      // Another multipart boundary, the same form: the same request.
      const b = await form();
      const again = await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect/batch', payload: b.payload, headers: headers({ ...b.headers, 'idempotency-key': 'batch-1' }) });
      expect(again.statusCode).toBe(202);
      expect(again.json()).toEqual(first.json());
      expect(await count('jobs')).toBe(jobs + 1);
      const left = await staging();
      expect(left, JSON.stringify(left)).toEqual([]);
      // The same key on another route is another request.
      const c = await form();
      const elsewhere = await t.app.inject({ method: 'POST', url: '/api/v1/detect/batch', payload: c.payload, headers: headers({ ...c.headers, 'idempotency-key': 'batch-1' }) });
      expect(elsewhere.statusCode).toBe(409);
      expect(await staging()).toEqual([]);
    });

    it('enrolls a face once for a retried enrollment', async () => {
      const photo = await readFile(testdata('faces/person01_ref_01.jpg'));
      const enroll = async (): Promise<import('light-my-request').Response> => {
        const f = await multipart({ person_name: 'Once', collection: 'idem', file: { data: photo, filename: 'p.jpg' } });
        return t.app.inject({ method: 'POST', url: '/api/v1/faces/enroll', payload: f.payload, headers: headers({ ...f.headers, 'idempotency-key': 'enroll-1' }) });
      };
      const first = await enroll();
      expect(first.statusCode, first.body).toBe(201);
      const again = await enroll();
      expect(again.statusCode).toBe(201);
      expect(again.json()).toEqual(first.json());
      const person = await t.app.inject({ url: first.headers.location as string, headers: headers() });
      expect(person.json().faces).toHaveLength(1);
    });
  });
});

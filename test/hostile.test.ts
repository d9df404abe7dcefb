/**
 * The hostile suite: what a hostile user sends — malformed and cut-short multipart, oversized and duplicated fields,
 * wrong types, huge and negative numbers, traversal and control characters, bombs, crafted files that share a media
 * id, credentials in the wrong place, and probes of another owner's every resource. Each case asserts the status,
 * the error envelope, and that no row and no file changed.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaIdOf } from '../src/domain/media-id.js';
import { buildApp } from '../src/http/app.js';
import { DB_MODES, multipart, startTestApp, testdata, type TestApp } from './helper.js';

/** Every table whose rows a request could leave behind. */
const TABLES = ['media', 'media_analyses', 'jobs', 'job_events', 'job_frames', 'webhooks', 'deliveries', 'delivery_attempts', 'persons', 'face_embeddings', 'bib_sightings', 'media_faces', 'ai_settings', 'api_keys', 'owner_secrets'];

type Reply = { statusCode: number; headers: Record<string, unknown>; json(): any; body: string };

describe.each(DB_MODES)('hostile requests on %s', (mode) => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  let base: string;
  /** Alice's resources, which Bob probes. */
  const theirs = { mediaId: '', jobId: '', personId: '', faceId: '', webhookId: '' };

  beforeAll(async () => {
    t = await startTestApp(mode, {
      ARGUS_AUTH_FAILURES_PER_MINUTE: '0',
      ARGUS_MIN_UPLOAD_RATE: '200',
      ARGUS_MIN_UPLOAD_RATE_WINDOW_MS: '1500',
      ARGUS_HEADERS_TIMEOUT_MS: '1500',
    });
    alice = await t.keyFor('alice');
    bob = await t.keyFor('bob');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;

    // Alice's media, job, person and webhook.
    const dog = await readFile(testdata('images/dog.jpg'));
    const up = await send(alice, 'POST', '/api/v1/media', { file: { data: dog, filename: 'dog.jpg' } });
    theirs.mediaId = up.json().id;
    const job = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { media_id: theirs.mediaId, tasks: ['blur'] }, headers: { 'x-api-key': alice } });
    theirs.jobId = job.json().task_id;
    const face = await readFile(testdata('faces/person01_ref_01.jpg'));
    const enrolled = await send(alice, 'POST', '/api/v1/faces/enroll', { person_name: 'Alice A', file: { data: face, filename: 'a.jpg' } });
    theirs.personId = enrolled.json().person_id;
    theirs.faceId = enrolled.json().face_id;
    const hook = await t.app.inject({ method: 'POST', url: '/api/v1/webhooks', payload: { url: 'https://hooks.example.com/argus' }, headers: { 'x-api-key': alice } });
    theirs.webhookId = hook.json().id;
    for (const id of Object.values(theirs)) expect(id).toBeTruthy();
    // Let Alice's job end, so the state snapshots below do not move by themselves.
    for (let i = 0; i < 300; i++) {
      const j = (await t.app.inject({ url: `/api/v1/jobs/${theirs.jobId}`, headers: { 'x-api-key': alice } })).json();
      if (j.status !== 'PENDING' && j.status !== 'PROCESSING') break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(() => t.close());

  async function send(key: string, method: string, url: string, parts: Parameters<typeof multipart>[0]): Promise<Reply> {
    const body = await multipart(parts);
    return t.app.inject({ method: method as 'POST', url, payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
  }

  /** Row counts of every table and every file under the media directories (partial files included). */
  async function state(): Promise<{ rows: Record<string, number>; files: string[] }> {
    const rows: Record<string, number> = {};
    for (const table of TABLES) {
      const res: unknown = await t.database.db.execute(`select count(*)::int as n from ${table}`);
      rows[table] = Number((res as { rows: { n: number }[] }).rows[0]?.n);
    }
    const files = (await Promise.all([t.config.imagesDir, t.config.videosDir].map(async (d) => (await readdir(d)).map((f) => path.join(d, f))))).flat().sort();
    return { rows, files };
  }

  /** Runs `request`, expects the status and code in the envelope, and that nothing was stored or removed. */
  async function refused(request: () => Promise<Reply>, status: number, code?: string): Promise<Reply> {
    const before = await state();
    const res = await request();
    expect(res.statusCode, res.body).toBe(status);
    const error = res.json().error;
    expect(error).toMatchObject({ request_id: expect.any(String), message: expect.any(String) });
    if (code) expect(error.code).toBe(code);
    expect(await state()).toEqual(before);
    return res;
  }

  const png = (w = 64, h = 64, colour = '#3a7') => sharp({ create: { width: w, height: h, channels: 3, background: colour } }).png().toBuffer();

  describe('malformed multipart is a 400 on every multipart route', () => {
    const routes = [
      '/api/v1/media',
      '/api/v1/analyze',
      '/api/v1/blur/detect',
      '/api/v1/detect',
      '/api/v1/detect/batch',
      '/api/v1/blur/detect/batch',
      '/api/v1/bibs/recognize/batch',
      '/api/v1/faces/search/batch',
      '/api/v1/faces/detect',
      '/api/v1/faces/enroll',
      '/api/v1/faces/search',
      '/api/v1/faces/compare',
      '/api/v1/faces/media/search',
      '/api/v1/text/recognize',
      '/api/v1/bibs/recognize',
    ];
    it.each(routes)('%s without a boundary', async (url) => {
      await refused(() => t.app.inject({ method: 'POST', url, payload: 'garbage', headers: { 'content-type': 'multipart/form-data', 'x-api-key': bob } }), 400, 'BAD_REQUEST');
    });
    it.each(routes)('%s with a body cut short in its file', async (url) => {
      const field = url.includes('/batch') ? 'files' : url.endsWith('/compare') ? 'image1' : 'file';
      const body = await multipart({ ...(url.endsWith('/enroll') ? { person_name: 'X' } : {}), [field]: { data: await png(), filename: 'x.png' } });
      const cut = body.payload.subarray(0, body.payload.length - 200);
      await refused(() => t.app.inject({ method: 'POST', url, payload: cut, headers: { ...body.headers, 'x-api-key': bob } }), 400, 'BAD_REQUEST');
    });
  });

  describe('a refused upload leaves nothing behind, whatever comes after the file', () => {
    it('/analyze with tasks=bogus after the file', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/analyze', { file: { data: await png(), filename: 'a.png' }, tasks: 'bogus' }), 422, 'VALIDATION_ERROR');
    });
    it('/analyze with a private callback_url after the file', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/analyze', { file: { data: await png(), filename: 'a.png' }, callback_url: 'http://127.0.0.1:9/hook' }), 400, 'BAD_REQUEST');
    });
    it('/analyze with two files', async () => {
      const body = new FormData();
      body.append('file', new Blob([await png()]), 'a.png');
      body.append('file', new Blob([await png(64, 64, '#f00')]), 'b.png');
      const res = new Response(body);
      const payload = Buffer.from(await res.arrayBuffer());
      await refused(() => t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload, headers: { 'content-type': res.headers.get('content-type')!, 'x-api-key': bob } }), 422, 'VALIDATION_ERROR');
    });
    it('/analyze with an unknown field after the file', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/analyze', { file: { data: await png(), filename: 'a.png' }, colour: 'blue' }), 422, 'VALIDATION_ERROR');
    });
    it('/analyze with collection=../x', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/analyze', { file: { data: await png(), filename: 'a.png' }, tasks: 'faces', collection: '../x' }), 422, 'VALIDATION_ERROR');
    });
    it('/analyze of a streamed video refused by a field after the file', async () => {
      const avi = await readFile(testdata('video/Megamind.avi'));
      await refused(() => send(bob, 'POST', '/api/v1/analyze', { file: { data: avi, filename: 'clip.avi' }, tasks: 'bogus' }), 422, 'VALIDATION_ERROR');
    });
    it('/media with the file followed by 60 fields', async () => {
      const parts: Record<string, string | { data: Uint8Array; filename: string }> = { file: { data: await png(), filename: 'a.png' } };
      for (let i = 0; i < 60; i++) parts[`f${i}`] = 'x';
      await refused(() => send(bob, 'POST', '/api/v1/media', parts), 413);
    });
    it('a batch whose last file is not an image', async () => {
      const body = new FormData();
      body.append('files', new Blob([await png()]), 'a.png');
      body.append('files', new Blob([Buffer.from('hello '.repeat(1000))]), 'b.png');
      const res = new Response(body);
      const payload = Buffer.from(await res.arrayBuffer());
      const reply = await refused(() => t.app.inject({ method: 'POST', url: '/api/v1/detect/batch', payload, headers: { 'content-type': res.headers.get('content-type')!, 'x-api-key': bob } }), 400, 'UNSUPPORTED_MEDIA_TYPE');
      expect(reply.json().error.message).toContain('file 2 (b.png)');
      expect(reply.json().error.details).toEqual([expect.objectContaining({ field: 'files', index: 1 })]);
    });
  });

  describe('fields', () => {
    it('a 2 MB callback_url is refused, not cut', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/analyze', { file: { data: await png(), filename: 'a.png' }, callback_url: `https://example.com/${'a'.repeat(2 * 1024 * 1024)}` }), 413, 'PAYLOAD_TOO_LARGE');
    });
    it('a field sent twice', async () => {
      const body = new FormData();
      body.append('tasks', 'detect');
      body.append('tasks', 'blur');
      body.append('file', new Blob([await png()]), 'a.png');
      const res = new Response(body);
      const payload = Buffer.from(await res.arrayBuffer());
      await refused(() => t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload, headers: { 'content-type': res.headers.get('content-type')!, 'x-api-key': bob } }), 422, 'VALIDATION_ERROR');
    });
    it.each([
      ['threshold', 'abc'],
      ['threshold', '2'],
      ['threshold', '-1'],
      ['threshold', 'NaN'],
      ['classes', 'people'],
      ['model', '../../etc/passwd'],
      ['tiling', 'maybe'],
      ['store', 'perhaps'],
    ])('/detect with %s=%s', async (field, value) => {
      await refused(async () => send(bob, 'POST', '/api/v1/detect', { file: { data: await png(), filename: 'a.png' }, [field]: value }), 422, 'VALIDATION_ERROR');
    });
    it('a file in a field the route does not take, named in the answer', async () => {
      const res = await refused(async () => send(bob, 'POST', '/api/v1/blur/detect', { image: { data: await png(), filename: 'a.png' } }), 422, 'VALIDATION_ERROR');
      expect(res.json().error.message).toContain("'file'");
    });
    it('a face index past the faces of the photo', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/faces/enroll', { person_name: 'B', face_index: '99', file: { data: await readFile(testdata('faces/person02_ref_01.jpg')), filename: 'b.jpg' } }), 422);
    });
    it('an empty person name', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/faces/enroll', { person_name: '   ', file: { data: await readFile(testdata('faces/person02_ref_01.jpg')), filename: 'b.jpg' } }), 422, 'VALIDATION_ERROR');
    });
    it('min_digits above max_digits', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/bibs/recognize', { min_digits: '5', max_digits: '2', file: { data: await png(), filename: 'a.png' } }), 422, 'VALIDATION_ERROR');
    });
  });

  describe('files', () => {
    it('an empty file', async () => {
      await refused(() => send(bob, 'POST', '/api/v1/media', { file: { data: new Uint8Array(0), filename: 'e.png' } }), 400);
    });
    it('a truncated JPEG to /detect with store=true', async () => {
      const jpeg = await readFile(testdata('images/dog.jpg'));
      await refused(() => send(bob, 'POST', '/api/v1/detect', { store: 'true', file: { data: jpeg.subarray(0, Math.floor(jpeg.length / 2)), filename: 'half.jpg' } }), 400, 'INVALID_IMAGE');
    });
    it('a decompression bomb (a PNG header claiming 100,000 x 100,000)', async () => {
      const bomb = await png(32, 32);
      // IHDR width and height sit at bytes 16-23; the CRC is not checked before the size is.
      bomb.writeUInt32BE(100_000, 16);
      bomb.writeUInt32BE(100_000, 20);
      await refused(() => send(bob, 'POST', '/api/v1/blur/detect', { file: { data: bomb, filename: 'bomb.png' } }), 400);
    });
    it('an image too small', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/faces/detect', { file: { data: await png(8, 8), filename: 'tiny.png' } }), 400, 'IMAGE_TOO_SMALL');
    });
    it('an image under a video name', async () => {
      await refused(async () => send(bob, 'POST', '/api/v1/media', { file: { data: await png(), filename: 'movie.mp4' } }), 400, 'UNSUPPORTED_MEDIA_TYPE');
    });
    it('a raw image body instead of a form, with what to send', async () => {
      const res = await refused(async () => t.app.inject({ method: 'POST', url: '/api/v1/detect', payload: await png(), headers: { 'content-type': 'image/png', 'x-api-key': bob } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(res.json().error.message).toContain('multipart/form-data');
    });
    it('keeps a traversal and a right-to-left override out of the stored name', async () => {
      const res = await send(bob, 'POST', '/api/v1/media', { file: { data: await png(41, 41), filename: '../../evil\u202egnp.exe.png' } });
      expect(res.statusCode).toBe(201);
      expect(res.json().name).toBe('evilgnp.exe.png');
      await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${res.json().id}`, headers: { 'x-api-key': bob } });
    });
    it('accepts a TIFF whose directory is at the end of the file', async () => {
      const tiff = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#48c' } }).tiff().toBuffer();
      expect(tiff.readUInt32LE(4)).toBeGreaterThan(4100);
      const res = await send(bob, 'POST', '/api/v1/blur/detect', { file: { data: tiff, filename: 'scan.tif' } });
      expect(res.statusCode).toBe(200);
    });
  });

  describe('same media id, other content', () => {
    /** Two PNGs of 6,000 bytes that differ only at byte 1,500, outside the three sampled windows of seed 001's id. */
    async function twins(colour: string): Promise<[Buffer, Buffer]> {
      const img = await png(16, 16, colour);
      const a = Buffer.concat([img, Buffer.alloc(6000 - img.length, 1)]);
      const b = Buffer.from(a);
      b[1500] = 2;
      expect(mediaIdOf(a)).toBe(mediaIdOf(b));
      return [a, b];
    }

    it("never hands one owner's bytes to another, in either order", async () => {
      const [mine, crafted] = await twins('#123');
      // Alice first, then Bob with the crafted twin: Bob gets his own bytes back, not Alice's.
      const a = await send(alice, 'POST', '/api/v1/media', { file: { data: mine, filename: 'mine.png' } });
      const b = await send(bob, 'POST', '/api/v1/media', { file: { data: crafted, filename: 'crafted.png' } });
      expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
      expect(a.json().id).toBe(b.json().id);
      expect(a.json().sha256).not.toBe(b.json().sha256);
      const bobs = await t.app.inject({ url: `/api/v1/media/${b.json().id}/content`, headers: { 'x-api-key': bob } });
      expect(bobs.rawPayload.equals(crafted)).toBe(true);
      const alices = await t.app.inject({ url: `/api/v1/media/${a.json().id}/content`, headers: { 'x-api-key': alice } });
      expect(alices.rawPayload.equals(mine)).toBe(true);

      // Bob first this time: Alice's later upload is stored and analysed as her own content.
      const [theirsFirst, hers] = await twins('#456');
      const b2 = await send(bob, 'POST', '/api/v1/media', { file: { data: theirsFirst, filename: 'bait.png' } });
      const a2 = await send(alice, 'POST', '/api/v1/media', { file: { data: hers, filename: 'hers.png' } });
      expect([b2.statusCode, a2.statusCode]).toEqual([201, 201]);
      const got = await t.app.inject({ url: `/api/v1/media/${a2.json().id}/content`, headers: { 'x-api-key': alice } });
      expect(createHash('sha256').update(got.rawPayload).digest('hex')).toBe(createHash('sha256').update(hers).digest('hex'));
    });

    it("refuses one owner's second file with the id of their first: 409 naming both hashes", async () => {
      const [first, second] = await twins('#789');
      expect((await send(bob, 'POST', '/api/v1/media', { file: { data: first, filename: 'one.png' } })).statusCode).toBe(201);
      const res = await refused(() => send(bob, 'POST', '/api/v1/media', { file: { data: second, filename: 'two.png' } }), 409, 'CONFLICT');
      expect(res.json().error.details).toEqual({
        media_id: mediaIdOf(first),
        stored_sha256: createHash('sha256').update(first).digest('hex'),
        uploaded_sha256: createHash('sha256').update(second).digest('hex'),
      });
    });
  });

  describe('numbers out of range', () => {
    it.each([
      '/api/v1/media?offset=100000000000000000000',
      '/api/v1/media?offset=9223372036854775808',
      '/api/v1/media?offset=-1',
      '/api/v1/media?limit=1000000000',
      '/api/v1/media?limit=-5',
      '/api/v1/jobs?offset=9223372036854775808',
      '/api/v1/faces/persons?offset=1e300',
      '/api/v1/media?status=99',
    ])('%s', async (url) => {
      await refused(() => t.app.inject({ url, headers: { 'x-api-key': bob } }), 422, 'VALIDATION_ERROR');
    });
  });

  describe('JSON bodies', () => {
    it.each([
      [{ video_url: 'file:///etc/passwd' }, 422],
      [{ video_url: 'http://127.0.0.1/v.mp4' }, 400],
      [{ video_url: 'http://[::1]/v.mp4' }, 400],
      [{ image_url: 'http://169.254.169.254/latest/meta-data' }, 400],
      [{ media_id: '../../etc/passwd' }, 422],
      [{ video_url: 'https://example.com/a.mp4', image_url: 'https://example.com/a.jpg' }, 422],
      [{ video_url: 'https://example.com/a.mp4', owner_id: 'alice' }, 422],
      [{ media_id: '0123456789abcdef', settings: { probability_threshold: 7 } }, 422],
      [{ media_id: '0123456789abcdef', tasks: ['detect', 'mine-bitcoin'] }, 422],
      [{ media_id: '0123456789abcdef' }, 404],
    ])('/analyze %j → %i', async (payload, status) => {
      await refused(() => t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload, headers: { 'x-api-key': bob } }), status);
    });
    it('malformed JSON', async () => {
      await refused(() => t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: '{"video_url": ', headers: { 'content-type': 'application/json', 'x-api-key': bob } }), 400, 'BAD_REQUEST');
    });
    it('a webhook to a private address', async () => {
      await refused(() => t.app.inject({ method: 'POST', url: '/api/v1/webhooks', payload: { url: 'http://10.0.0.5/hook' }, headers: { 'x-api-key': bob } }), 400, 'BAD_REQUEST');
    });
    it('a key for the token users namespace', async () => {
      const admin = await t.keyFor('root', 'admin');
      await refused(() => t.app.inject({ method: 'POST', url: '/api/v1/keys', payload: { name: 'x', owner_id: 'jwt:alice' }, headers: { 'x-api-key': admin } }), 422, 'VALIDATION_ERROR');
    });
  });

  describe("another owner's resources are out of reach", () => {
    const probes: [string, string, () => Record<string, unknown> | undefined, number[]][] = [
      ['GET', '/api/v1/media/:media', () => undefined, [404]],
      ['GET', '/api/v1/media/:media/content', () => undefined, [404]],
      ['GET', '/api/v1/media/:media/detections', () => undefined, [404]],
      ['DELETE', '/api/v1/media/:media', () => undefined, [404]],
      ['GET', '/api/v1/jobs/:job', () => undefined, [404]],
      ['GET', '/api/v1/results/:job', () => undefined, [404]],
      ['GET', '/api/v1/jobs/:job/events', () => undefined, [404]],
      ['GET', '/api/v1/jobs/:job/deliveries', () => undefined, [404]],
      ['GET', '/api/v1/jobs/:job/frames', () => undefined, [404]],
      ['DELETE', '/api/v1/jobs/:job', () => undefined, [404]],
      ['GET', '/api/v1/faces/persons/:person', () => undefined, [404]],
      ['DELETE', '/api/v1/faces/persons/:person', () => undefined, [404]],
      ['DELETE', '/api/v1/faces/persons/:person/faces/:face', () => undefined, [404]],
      ['DELETE', '/api/v1/webhooks/:webhook', () => undefined, [404]],
      ['GET', '/api/v1/webhooks/:webhook/deliveries', () => undefined, [404]],
      ['POST', '/api/v1/analyze', () => ({ media_id: theirs.mediaId }), [404]],
      ['PATCH', '/api/v1/users/alice/ai-settings', () => ({ probability_threshold: 0.9 }), [403]],
      ['GET', '/api/v1/users/alice/ai-settings', () => undefined, [403]],
    ];
    it.each(probes)('%s %s', async (method, template, payload, codes) => {
      const url = template.replace(':media', theirs.mediaId).replace(':job', theirs.jobId).replace(':person', theirs.personId).replace(':face', theirs.faceId).replace(':webhook', theirs.webhookId);
      const body = payload();
      const res = await refused(() => t.app.inject({ method: method as 'GET', url, ...(body ? { payload: body } : {}), headers: { 'x-api-key': bob } }), codes[0] as number);
      expect(res.body).not.toContain('dog.jpg');
    });
    it("adding a face to another owner's person", async () => {
      const face = await readFile(testdata('faces/person03_ref_01.jpg'));
      await refused(() => send(bob, 'POST', `/api/v1/faces/persons/${theirs.personId}/faces`, { file: { data: face, filename: 'f.jpg' } }), 404, 'NOT_FOUND');
    });
    it("enrolling into another owner's person by id", async () => {
      const face = await readFile(testdata('faces/person03_ref_01.jpg'));
      await refused(() => send(bob, 'POST', '/api/v1/faces/enroll', { person_id: theirs.personId, file: { data: face, filename: 'f.jpg' } }), 404, 'NOT_FOUND');
    });
  });

  describe('credentials and HTTP edges', () => {
    it('a key in the query string is refused, and its value never reaches the log', async () => {
      const lines: string[] = [];
      const logged = await buildApp({ ...t.deps, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) });
      const res = await refused(() => logged.inject({ url: `/api/v1/media?limit=5&api_key=${alice}` }), 401, 'UNAUTHORIZED');
      expect(res.body).not.toContain(alice);
      expect(lines.some((l) => l.includes('api_key=[REDACTED]'))).toBe(true);
      expect(lines.join('\n')).not.toContain(alice);
      await logged.close();
    });
    it('an OPTIONS preflight without Origin gets the envelope, not plain text', async () => {
      const res = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/media' });
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.json().error.code).toBeTruthy();
    });
    it('headers that are too large: 431 in the envelope', async () => {
      const res = await fetch(`${base}/api/v1/media`, { headers: { 'x-api-key': bob, 'x-filler': 'a'.repeat(40_000) } });
      expect(res.status).toBe(431);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HEADERS_TOO_LARGE');
    });
    it('headers sent too slowly: 408 in the envelope', async () => {
      const answer = await rawExchange(async (socket) => {
        socket.write('GET /api/v1/media HTTP/1.1\r\nHost: x\r\n');
        await new Promise((r) => setTimeout(r, 8000));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
    });
    it('a body that drips in at 1 byte/s is cut off with 408, and leaves no file', async () => {
      const before = await state();
      const answer = await rawExchange(async (socket) => {
        socket.write(`POST /api/v1/media HTTP/1.1\r\nHost: x\r\nX-API-Key: ${bob}\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n--XX\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n`);
        socket.write(await png());
        for (let i = 0; i < 8 && !socket.destroyed; i++) {
          socket.write('a');
          await new Promise((r) => setTimeout(r, 1000));
        }
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      await new Promise((r) => setTimeout(r, 500));
      expect(await state()).toEqual(before);
    });
  });

  /** Opens a raw connection, lets `talk` write to it, and returns everything the server answered. */
  function rawExchange(talk: (socket: ReturnType<typeof connect>) => Promise<void>): Promise<string> {
    const { port } = new URL(base);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => (answer += d.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(answer));
      socket.on('connect', () => {
        talk(socket)
          .then(() => socket.end())
          .catch(reject);
      });
    });
  }
});

describe('failed authentications are limited per client address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ARGUS_AUTH_FAILURES_PER_MINUTE: '5' });
  });
  afterAll(() => t.close());

  it('answers 429 with Retry-After after 5 bad keys, and still lets a good key from elsewhere in', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 8; i++) codes.push((await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': `argus_guess${i}` }, remoteAddress: '203.0.113.7' })).statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    const limited = await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': 'argus_guess' }, remoteAddress: '203.0.113.7' });
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const good = await t.keyFor('legit');
    expect((await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': good }, remoteAddress: '198.51.100.9' })).statusCode).toBe(200);
  });
});

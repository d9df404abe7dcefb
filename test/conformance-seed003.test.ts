/**
 * Conformance with seed 003 (the asynchronous video-analysis API: POST /analyze, GET /results/{task_id}): one test
 * per item of its "Validation and Testing Plan" (§6), plus the behaviour its §4 endpoint specification states,
 * through the real HTTP app on PGlite and PostgreSQL, on the real clip of ../shared/testdata served over HTTP.
 *
 * Deliberate changes, asserted as Argus documents them (README, "API"): paths are under /api/v1 and need
 * credentials; `status_endpoint` is the API path of /results; /results keeps seed 003's four states (a cancelled job
 * shows there as FAILED with error_message 'cancelled'); the seed's unit tests "with mock services" run here against
 * the real services (the plan's integration test needs them anyway); ARQ/Redis is Argus's durable jobs table.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_MODES, ROOT, startTestApp, testdata, type TestApp } from './helper.js';

type Accepted = { task_id: string; status_endpoint: string };
type TaskStatus = { task_id: string; status: string; result: unknown; error_message: string | null };
type VideoResult = { video: { width: number; height: number; fps: number }; sampling: { analysed_frames: number }; frames_analysed: number; tracks: { label: string }[] };

/** A local web server: serves the clip (and a corrupt "video") and records the callbacks POSTed to it. */
async function origin(): Promise<{ url: string; callbacks: { path: string; body: string }[]; close: () => void }> {
  const clip = await readFile(testdata('video/Megamind.avi'));
  const callbacks: { path: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method === 'POST') {
        callbacks.push({ path: req.url ?? '/', body });
        res.writeHead(200).end('ok');
      } else if (req.url === '/Megamind.avi') {
        res.writeHead(200, { 'content-type': 'video/x-msvideo', 'content-length': clip.length }).end(clip);
      } else if (req.url === '/broken.avi') {
        // A RIFF/AVI header followed by garbage: recognised as a video, undecodable.
        const broken = Buffer.concat([clip.subarray(0, 64), Buffer.alloc(200_000, 0x5a)]);
        res.writeHead(200, { 'content-type': 'video/x-msvideo', 'content-length': broken.length }).end(broken);
      } else {
        res.writeHead(404).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, callbacks, close: () => server.close() };
}

describe.each(DB_MODES)('seed 003 conformance on %s', (mode) => {
  let t: TestApp;
  let key: string;
  let web: Awaited<ReturnType<typeof origin>>;
  beforeAll(async () => {
    // The clip is served from 127.0.0.1: let Argus fetch from (and call back to) a private address.
    t = await startTestApp(mode, { ARGUS_ALLOW_PRIVATE_URLS: 'true' });
    key = await t.keyFor('seed-003');
    web = await origin();
  }, 180_000); // model warm-up on a busy 2-core machine can take longer than the default hook timeout
  afterAll(async () => {
    web.close();
    await t.close();
  });

  const analyze = (payload: object) => t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload, headers: { 'x-api-key': key } });
  const results = (taskId: string) => t.app.inject({ url: `/api/v1/results/${taskId}`, headers: { 'x-api-key': key } });
  /** Ends a task this test no longer needs (so the 2 shared cores analyse only the clips that matter). */
  async function cancel(taskId: string): Promise<void> {
    const res = await t.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${taskId}`, headers: { 'x-api-key': key } });
    expect([200, 409], res.body).toContain(res.statusCode);
  }
  /** The seed's client loop: poll GET /results/{task_id} while the job is PENDING or PROCESSING. */
  async function pollResults(taskId: string): Promise<TaskStatus> {
    for (let i = 0; i < 3000; i++) {
      const res = await results(taskId);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<TaskStatus>();
      expect(['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED']).toContain(body.status);
      if (body.status === 'SUCCESS' || body.status === 'FAILED') return body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`task ${taskId} did not end`);
  }

  describe('§6 unit tests: /analyze and /results/{task_id}', () => {
    it('POST /analyze with a video_url → 202 Accepted with AnalyzeResponse {task_id, status_endpoint}', async () => {
      const res = await analyze({ video_url: `${web.url}/Megamind.avi` });
      expect(res.statusCode, res.body).toBe(202);
      const body = res.json<Accepted>();
      expect(body.task_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(body.status_endpoint).toBe(`/api/v1/results/${body.task_id}`);
      // The job is stored before the 202: its status is readable at once.
      expect((await results(body.task_id)).statusCode).toBe(200);
      await cancel(body.task_id);
    });

    it('GET /results/{task_id} → 200 with TaskStatusResponse {task_id, status, result, error_message}', async () => {
      const { task_id: taskId } = (await analyze({ video_url: `${web.url}/Megamind.avi` })).json<Accepted>();
      const res = await results(taskId);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json<TaskStatus>();
      expect(Object.keys(body).sort()).toEqual(['error_message', 'result', 'status', 'task_id']);
      expect(body.task_id).toBe(taskId);
      expect(['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED']).toContain(body.status);
      await cancel(taskId);
    });

    it('GET /results/{task_id} of a task that does not exist → 404 Not Found', async () => {
      const res = await results(randomUUID());
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
      // Another owner's task does not exist for you either.
      const { task_id: taskId } = (await analyze({ video_url: `${web.url}/Megamind.avi` })).json<Accepted>();
      const other = await t.app.inject({ url: `/api/v1/results/${taskId}`, headers: { 'x-api-key': await t.keyFor('someone-else') } });
      expect(other.statusCode).toBe(404);
      await cancel(taskId);
    });

    it('POST /analyze with an invalid body → 422 Unprocessable Entity', async () => {
      const cases: object[] = [
        {}, // video_url is required (AnalyzeRequest.video_url: HttpUrl)
        { video_url: 'not a url' },
        { video_url: 'ftp://example.com/clip.avi' },
        { video_url: 42 },
        { video_url: `${web.url}/Megamind.avi`, callback_url: 'not a url' }, // callback_url: Optional[HttpUrl]
      ];
      for (const payload of cases) {
        const res = await analyze(payload);
        expect(res.statusCode, `${JSON.stringify(payload)}: ${res.body}`).toBe(422);
        expect(res.json().error.code).toBe('VALIDATION_ERROR');
      }
      const notJson = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: '{"video_url": ', headers: { 'x-api-key': key, 'content-type': 'application/json' } });
      expect(notJson.statusCode).toBeGreaterThanOrEqual(400);
      expect(notJson.statusCode).toBeLessThan(500);
    });

    it('the AnalyzeRequest model rejects requests with extra fields (extra = forbid) → 422', async () => {
      const res = await analyze({ video_url: `${web.url}/Megamind.avi`, priority: 'high' });
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
      expect(JSON.stringify(res.json().error)).toContain('priority');
      // Nothing was queued for the refused request.
      const jobs = (await t.app.inject({ url: '/api/v1/jobs?limit=200', headers: { 'x-api-key': key } })).json<{ items: { inputs: { url?: string }[]; created_at: string }[] }>();
      const before = jobs.items.length;
      await analyze({ video_url: `${web.url}/Megamind.avi`, colour: 'red' });
      expect((await t.app.inject({ url: '/api/v1/jobs?limit=200', headers: { 'x-api-key': key } })).json<{ items: unknown[] }>().items).toHaveLength(before);
    });
  });

  describe('§6 integration test', () => {
    it('submits a job to /analyze, polls /results/{task_id}, and the final status is SUCCESS', async () => {
      const res = await analyze({ video_url: `${web.url}/Megamind.avi` });
      expect(res.statusCode, res.body).toBe(202);
      const final = await pollResults(res.json<Accepted>().task_id);
      expect(final.status, final.error_message ?? '').toBe('SUCCESS');
      expect(final.error_message).toBeNull();
      // The result is the analysis of the clip: 720x528 at 23.98 fps, every 4th of its 270 frames analysed.
      const result = final.result as VideoResult;
      expect(result.video).toMatchObject({ width: 720, height: 528 });
      expect(result.video.fps).toBeCloseTo(23.98, 1);
      expect(result.sampling.analysed_frames).toBe(68);
      expect(result.frames_analysed).toBe(68);
      expect(Array.isArray(result.tracks)).toBe(true);
    });
  });

  describe('§4 specification', () => {
    it('TaskStatus PENDING: a queued task reads PENDING with no result', async () => {
      // Hold the runner so the task stays queued.
      await t.services.runner?.stop();
      try {
        const res = await analyze({ video_url: `${web.url}/Megamind.avi` });
        expect(res.statusCode, res.body).toBe(202);
        const taskId = res.json<Accepted>().task_id;
        expect((await results(taskId)).json()).toEqual({ task_id: taskId, status: 'PENDING', result: null, error_message: null });
        await cancel(taskId);
      } finally {
        await t.services.runner?.start();
      }
    });

    it('TaskStatus FAILED: a video that cannot be analysed ends FAILED with an error_message and no result', async () => {
      const res = await analyze({ video_url: `${web.url}/broken.avi` });
      expect(res.statusCode, res.body).toBe(202);
      const final = await pollResults(res.json<Accepted>().task_id);
      expect(final.status).toBe('FAILED');
      expect(final.result).toBeNull();
      expect(final.error_message).toEqual(expect.any(String));
      expect(final.error_message!.length).toBeGreaterThan(0);
    });

    it('callback_url (optional): the task\'s outcome is POSTed to it when the task ends', async () => {
      const res = await analyze({ video_url: `${web.url}/Megamind.avi`, callback_url: `${web.url}/hooks/seed003` });
      expect(res.statusCode, res.body).toBe(202);
      const taskId = res.json<Accepted>().task_id;
      expect((await pollResults(taskId)).status).toBe('SUCCESS');
      let delivered: { path: string; body: string } | undefined;
      for (let i = 0; i < 300 && !delivered; i++) {
        delivered = web.callbacks.find((c) => c.path === '/hooks/seed003' && c.body.includes(taskId));
        if (!delivered) await new Promise((r) => setTimeout(r, 100));
      }
      expect(delivered, 'no callback arrived').toBeDefined();
      expect(JSON.parse(delivered!.body)).toMatchObject({ data: { task_id: taskId, status: 'SUCCESS', error_message: null } });
    });

    it('/results keeps the four TaskStatus values: a cancelled task reads FAILED with error_message "cancelled"', async () => {
      await t.services.runner?.stop();
      try {
        const taskId = (await analyze({ video_url: `${web.url}/Megamind.avi` })).json<Accepted>().task_id;
        const cancelled = await t.app.inject({ method: 'DELETE', url: `/api/v1/jobs/${taskId}`, headers: { 'x-api-key': key } });
        expect(cancelled.json()).toMatchObject({ status: 'CANCELLED' }); // seed 004's job view has CANCELLED
        expect((await results(taskId)).json()).toEqual({ task_id: taskId, status: 'FAILED', result: null, error_message: 'cancelled' });
      } finally {
        await t.services.runner?.start();
      }
    });
  });
});

describe('seed 003 §6: the Settings object loads from environment variables (and .env)', () => {
  it('a setting from the environment changes what the HTTP API does', async () => {
    const t = await startTestApp('pglite', { ARGUS_BLUR_THRESHOLD: '150', ARGUS_WARMUP: 'false' }, { runner: false });
    try {
      const form = new FormData();
      // ultraface_9.jpg has a Laplacian variance of ~137: sharp at the default 100, blurry at 150.
      form.append('file', new Blob([await readFile(testdata('images/ultraface_9.jpg'))], { type: 'image/jpeg' }), 'u.jpg');
      const r = new Response(form);
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect', payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, 'x-api-key': await t.keyFor('settings') } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ threshold: 150, is_blurry: true });
    } finally {
      await t.close();
    }
  });

  it('the argus command reads .env in its working directory; the environment wins over it; a bad value names the variable', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-seed003-env-'));
    const run = (env: Record<string, string>): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ARGUS_') && k !== 'DATABASE_URL' && k !== 'REDIS_URL'));
        const p = spawn(process.execPath, [path.join(ROOT, 'bin/argus.js'), 'models', 'list'], { cwd: dir, env: { ...base, ...env } });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (out += d.toString()));
        p.on('close', (code) => resolve({ code, out }));
      });
    try {
      await writeFile(path.join(dir, '.env'), `ARGUS_DATA_DIR=${path.join(dir, 'data')}\nARGUS_BLUR_THRESHOLD=not-a-number\n`);
      const bad = await run({});
      expect(bad.code, bad.out).toBe(1);
      expect(bad.out).toContain('ARGUS_BLUR_THRESHOLD');
      const overridden = await run({ ARGUS_BLUR_THRESHOLD: '120' });
      expect(overridden.code, overridden.out).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

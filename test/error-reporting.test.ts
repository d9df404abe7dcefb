/**
 * Error reporting to Sentry, against a fake Sentry server on 127.0.0.1 that takes envelopes as Sentry does
 * (`POST /api/<project>/envelope/`), with a DSN pointing at it: a 500 answer, a crashed job and a crashed `argus serve`
 * (and `argus worker`) process arrive with their context and without credentials; 4xx and 503 answers do not arrive.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noopErrorReporter } from '../src/app/error-reporter.js';
import { buildApp } from '../src/http/app.js';
import { loadConfig } from '../src/main/config.js';
import { scrubText } from '../src/adapters/telemetry/sentry-reporter.js';
import { startRedis, startWorkerProcess, type RedisServer } from './cluster.js';
import { freshPostgres, multipart, startServer, startTestApp, testdata, type TestApp } from './helper.js';

/** One envelope as received: its raw text, and its error events. */
interface Received {
  raw: string;
  path: string;
  events: SentryEvent[];
}
interface SentryEvent {
  tags?: Record<string, string>;
  user?: { id?: string };
  environment?: string;
  exception?: { values: { type: string; value: string; mechanism?: { type: string; handled: boolean } }[] };
  request?: unknown;
  breadcrumbs?: unknown;
}

/** A fake Sentry ingest endpoint: keeps every envelope posted to /api/<project>/envelope/. */
async function fakeSentry(): Promise<{ dsn: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      // The SDK gzips bodies over 32 KiB.
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const raw = body.toString('utf8');
      // An envelope: a header line, then pairs of item header and payload lines.
      const lines = raw.split('\n').filter(Boolean);
      const events: SentryEvent[] = [];
      for (let i = 1; i + 1 < lines.length; i += 2) {
        if ((JSON.parse(lines[i]!) as { type: string }).type === 'event') events.push(JSON.parse(lines[i + 1]!) as SentryEvent);
      }
      received.push({ raw, path: req.url ?? '', events });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  return { dsn: `http://publickey@127.0.0.1:${port}/1`, received, close: () => new Promise((r) => server.close(() => r())) };
}

/** Polls until `fn` finds something. */
async function until<T>(what: string, fn: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const eventsOf = (received: Received[]): SentryEvent[] => received.flatMap((r) => r.events);

describe('error reporting to a Sentry DSN (a fake Sentry on 127.0.0.1)', () => {
  let sentry: Awaited<ReturnType<typeof fakeSentry>>;
  let t: TestApp;

  beforeAll(async () => {
    sentry = await fakeSentry();
    t = await startTestApp('pglite', { ARGUS_SENTRY_DSN: sentry.dsn, ARGUS_SENTRY_ENVIRONMENT: 'test', ARGUS_JWT_SECRET: 'a-test-secret-of-enough-length' });
  });
  afterAll(async () => {
    await t?.close();
    await sentry?.close();
  });

  it('is off unless a DSN is set, and refuses a malformed DSN or rate', () => {
    expect(loadConfig({ ARGUS_DATA_DIR: t.dir }).sentry).toBeNull();
    expect(loadConfig({ ARGUS_DATA_DIR: t.dir, ARGUS_SENTRY_DSN: '' }).sentry).toBeNull();
    expect(t.config.sentry).toEqual({ dsn: sentry.dsn, environment: 'test', sampleRate: 1 });
    expect(t.deps.errors).not.toBe(noopErrorReporter);
    expect(() => loadConfig({ ARGUS_DATA_DIR: t.dir, ARGUS_SENTRY_DSN: 'not a dsn' })).toThrow(/ARGUS_SENTRY_DSN/);
    expect(() => loadConfig({ ARGUS_DATA_DIR: t.dir, ARGUS_SENTRY_DSN: sentry.dsn, ARGUS_SENTRY_SAMPLE_RATE: '2' })).toThrow(/ARGUS_SENTRY_SAMPLE_RATE/);
  });

  it('reports a 500 with its request id, route, method and owner, and without credentials', async () => {
    const key = await t.keyFor('reported-owner');
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzb21lb25lIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
    // A driver that quotes its connection string and the caller's credentials in its message.
    const fault = new Error(`connection to postgres://argus:hunter2@10.0.0.7/argus refused; password=hunter2 key ${key} token ${jwt}`);
    const broken = await buildApp({ ...t.deps, media: { ...t.deps.media, list: () => Promise.reject(fault) } });
    const before = sentry.received.length;
    const res = await broken.inject({ url: '/api/v1/media?limit=5', headers: { 'x-api-key': key, cookie: 'session=cookie-secret', 'x-forwarded-for': '203.0.113.9' } });
    expect(res.statusCode).toBe(500);
    const requestId = res.headers['x-request-id'] as string;
    const envelope = await until('the 500 report', () => sentry.received.slice(before).find((r) => r.events.some((e) => e.tags?.request_id === requestId)));
    await broken.close();

    // Sentry's ingest address for project 1, authenticated by the DSN's public key.
    expect(envelope.path).toMatch(/^\/api\/1\/envelope\/\?.*sentry_key=publickey/);
    const event = envelope.events[0]!;
    expect(event.tags).toMatchObject({ source: 'http', process_role: 'api', request_id: requestId, route: '/api/v1/media', method: 'GET' });
    expect(event.user).toEqual({ id: 'reported-owner' });
    expect(event.environment).toBe('test');
    expect(event.exception!.values[0]).toMatchObject({ type: 'Error', mechanism: { type: 'argus.http', handled: true } });
    expect(event.exception!.values[0]!.value).toContain('connection to postgres://[REDACTED]@10.0.0.7/argus refused');
    expect(event.breadcrumbs).toBeUndefined();
    expect(event.request).toBeUndefined();
    // Nowhere in the envelope: the key, the JWT, the password, the cookie, the client's address.
    for (const secret of [key, key.slice(6), jwt, 'hunter2', 'cookie-secret', '203.0.113.9']) expect(envelope.raw).not.toContain(secret);
  });

  it('reports nothing for 4xx answers and for 503 (a backing service restarting)', async () => {
    const key = await t.keyFor('quiet-owner');
    const unavailable = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const flaky = await buildApp({ ...t.deps, media: { ...t.deps.media, list: () => Promise.reject(unavailable) } });
    await t.deps.errors!.flush();
    const before = sentry.received.length;
    const answers = [
      (await t.app.inject({ url: '/api/v1/media/ffffffffffffffff', headers: { 'x-api-key': key } })).statusCode,
      (await t.app.inject({ url: '/api/v1/media' })).statusCode,
      (await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { colour: 'red' }, headers: { 'x-api-key': key } })).statusCode,
      (await t.app.inject({ url: '/no/such/route' })).statusCode,
      (await flaky.inject({ url: '/api/v1/media', headers: { 'x-api-key': key } })).statusCode,
    ];
    await flaky.close();
    expect(answers).toEqual([404, 401, 422, 404, 503]);
    await t.deps.errors!.flush();
    // A moment more for anything in flight on the socket.
    await new Promise((r) => setTimeout(r, 300));
    expect(sentry.received.slice(before)).toEqual([]);
  });

  it('reports a crashed job handler with the job id, kind and attempt; the retry then succeeds', async () => {
    const key = await t.keyFor('job-owner');
    // One storage fault when the job writes that it runs: the handler cannot record it and crashes.
    const jobs = t.deps.jobs as { appendEvent: typeof t.deps.jobs.appendEvent };
    const original = jobs.appendEvent.bind(t.deps.jobs);
    let armed = true;
    jobs.appendEvent = (...args) => {
      if (armed && args[1] === 'status' && args[2].status === 'PROCESSING') {
        armed = false;
        return Promise.reject(new Error('simulated storage fault while writing a job event'));
      }
      return original(...args);
    };
    try {
      const body = await multipart({ tasks: 'blur', file: { data: await readFile(testdata('images/text_defocus.jpg')), filename: 'text.jpg' } });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
      expect(res.statusCode).toBe(202);
      const jobId = res.json<{ task_id: string }>().task_id;
      const event = await until('the job crash report', () => eventsOf(sentry.received).find((e) => e.tags?.job_id === jobId));
      expect(event.tags).toMatchObject({ source: 'job', process_role: 'api', job_id: jobId, job_kind: 'image', attempt: '1' });
      expect(event.user).toEqual({ id: 'job-owner' });
      expect(event.exception!.values.at(-1)!.value).toBe('simulated storage fault while writing a job event');
      // The crash is reported, not fatal: the job is retried and finishes.
      const deadline = Date.now() + 60_000;
      let status = '';
      while (Date.now() < deadline && status !== 'SUCCESS') {
        status = (await t.app.inject({ url: `/api/v1/jobs/${jobId}`, headers: { 'x-api-key': key } })).json<{ status: string }>().status;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('SUCCESS');
    } finally {
      jobs.appendEvent = original;
    }
  });

  it('scrubs credentials from any text it sends', () => {
    expect(scrubText('GET https://user:pa55@host/x?password=abc&x=1 Authorization: Bearer abc.def key=argus_0123456789abcdef whsec_c2VjcmV0c2VjcmV0')).toBe(
      'GET https://[REDACTED]@host/x?password=[REDACTED]&x=1 Authorization: Bearer [REDACTED] key=argus_[REDACTED] whsec_[REDACTED]',
    );
  });
});

/**
 * Preloaded into a real process (NODE_OPTIONS=--import): SIGWINCH (a signal close-with-grace leaves alone) throws an
 * uncaught exception in its main thread.
 */
const CRASH_ON_SIGNAL = `import { isMainThread } from 'node:worker_threads';
if (isMainThread) process.on('SIGWINCH', () => setImmediate(() => { throw new Error('provoked crash for the error-reporting test'); }));
`;

describe('a crashing argus process reports its crash to the DSN, then exits', () => {
  let sentry: Awaited<ReturnType<typeof fakeSentry>>;
  let dir: string;
  let preload: string;

  beforeAll(async () => {
    sentry = await fakeSentry();
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-errors-'));
    preload = path.join(dir, 'crash-on-signal.mjs');
    await writeFile(preload, CRASH_ON_SIGNAL);
  });
  afterAll(async () => {
    await sentry?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('argus serve', async () => {
    const server = await startServer({ ARGUS_DATA_DIR: path.join(dir, 'data'), ARGUS_WARMUP: 'false', LOG_LEVEL: 'info', ARGUS_SENTRY_DSN: sentry.dsn, ARGUS_SENTRY_ENVIRONMENT: 'process-test', NODE_OPTIONS: `--import ${preload}` });
    try {
      server.proc.kill('SIGWINCH');
      expect(await server.exited).toBe(1);
      const event = eventsOf(sentry.received).find((e) => e.tags?.source === 'process');
      expect(event, server.lines.slice(-20).join('\n')).toBeDefined();
      expect(event!.tags).toMatchObject({ source: 'process', process_role: 'api' });
      expect(event!.environment).toBe('process-test');
      expect(event!.exception!.values[0]).toMatchObject({ value: 'provoked crash for the error-reporting test', mechanism: { type: 'argus.process', handled: false } });
    } finally {
      server.proc.kill('SIGKILL');
    }
  });

  it('argus worker', async () => {
    let redis: RedisServer | null = null;
    const db = await freshPostgres();
    try {
      redis = await startRedis();
      const worker = await startWorkerProcess({ DATABASE_URL: db.url, REDIS_URL: redis.url, ARGUS_DATA_DIR: path.join(dir, 'shared'), ARGUS_WARMUP: 'false', ARGUS_SENTRY_DSN: sentry.dsn, NODE_OPTIONS: `--import ${preload}` });
      try {
        worker.proc.kill('SIGWINCH');
        expect(await worker.exited).toBe(1);
        const event = eventsOf(sentry.received).find((e) => e.tags?.source === 'process' && e.tags.process_role === 'worker');
        expect(event, worker.lines.slice(-20).join('\n')).toBeDefined();
        expect(event!.exception!.values[0]!.value).toBe('provoked crash for the error-reporting test');
      } finally {
        worker.proc.kill('SIGKILL');
      }
    } finally {
      await redis?.stop();
      await db.drop();
    }
  });
});

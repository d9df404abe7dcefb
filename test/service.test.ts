import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { buildApp } from '../src/http/app.js';
import { ConfigError, loadConfig } from '../src/main/config.js';
import { DB_MODES, multipart, startTestApp, type TestApp } from './helper.js';

describe.each(DB_MODES)('service plumbing on %s', (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(mode, { ARGUS_CORS_ORIGINS: 'https://app.example' });
  });
  afterAll(() => t.close());

  it('answers liveness and readiness with the database and storage checks', async () => {
    expect((await t.app.inject({ url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await t.app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', checks: { database: { status: 'ok' }, storage: { status: 'ok' } }, degraded: [] });
    expect(ready.json().models.yolox_nano).toMatchObject({ task: 'detect', state: 'ok' });
    // Where files live is for admins: an anonymous probe sees states only.
    expect(JSON.stringify(ready.json())).not.toContain(t.dir);
    expect(JSON.stringify(ready.json())).not.toMatch(/\/shared\/models|\.onnx/);
    const admin = await t.app.inject({ url: '/health/ready', headers: { 'x-api-key': await t.keyFor('ops', 'admin') } });
    expect(admin.json().models.yolox_nano.file).toMatch(/yolox_nano\.onnx$/);
  });

  it('honours a well-formed X-Request-Id and makes one otherwise', async () => {
    const mine = await t.app.inject({ url: '/api/v1/media/zzz', headers: { 'x-request-id': 'trace-abc.123' } });
    expect(mine.headers['x-request-id']).toBe('trace-abc.123');
    expect(mine.json().error.request_id).toBe('trace-abc.123');
    const made = await t.app.inject({ url: '/health/live', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with the envelope', async () => {
    const res = await t.app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /nope', request_id: res.headers['x-request-id'] } });
  });

  it('publishes OpenAPI 3 built from the route schemas, and Swagger UI', async () => {
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(spec.openapi).toMatch(/^3\./);
    for (const p of ['/api/v1/media', '/api/v1/media/{id}', '/api/v1/media/{id}/content', '/api/v1/blur/detect', '/health/ready']) expect(spec.paths).toHaveProperty([p]);
    expect(spec.paths['/api/v1/blur/detect'].post.requestBody.content).toHaveProperty(['multipart/form-data']);
    expect(spec.paths['/api/v1/media/{id}'].get.responses).toHaveProperty(['404']);
    expect(spec.components.securitySchemes.apiKey).toMatchObject({ in: 'header', name: 'X-API-Key' });
    // Face answers are described field by field (seed 004's search shape), not as a loose object.
    const deref = (s: { $ref?: string }): any => (s.$ref ? spec.components.schemas[s.$ref.split('/').pop()!] : s);
    const search = deref(spec.paths['/api/v1/faces/search'].post.responses['200'].content['application/json'].schema);
    expect(deref(search.properties.faces.items.properties.matches.items).properties).toHaveProperty(['similarity']);
    const docs = await t.app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('publishes a document that is valid OpenAPI 3.1, with every operation named and tagged', async () => {
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(spec.openapi).toMatch(/^3\.1\./);
    const checked = await new Validator().validate(structuredClone(spec));
    expect(checked.errors ?? [], JSON.stringify(checked.errors)).toEqual([]);
    expect(checked.valid).toBe(true);
    const ops = Object.entries(spec.paths as Record<string, Record<string, { operationId?: string; tags?: string[] }>>).flatMap(([p, item]) => Object.entries(item).map(([m, op]) => ({ at: `${m} ${p}`, ...op })));
    expect(ops.filter((o) => !o.operationId || !o.tags?.length).map((o) => o.at)).toEqual([]);
    // The event stream, metrics and health are documented as what they are.
    expect(Object.keys(spec.paths['/api/v1/jobs/{id}/events'].get.responses['200'].content)).toEqual(['text/event-stream']);
    expect(spec.paths['/api/v1/jobs/{id}/events'].get.description).toMatch(/progress.*item.*frame.*track.*status/s);
    expect(Object.keys(spec.paths['/metrics'].get.responses['200'].content)).toEqual(['text/plain']);
    expect(spec.paths['/health/live'].get.operationId).toBeTruthy();
    // The Idempotency-Key header is offered where work is created.
    for (const p of ['/api/v1/analyze', '/api/v1/detect/batch', '/api/v1/faces/enroll']) {
      expect(spec.paths[p].post.parameters.map((x: { name: string; in: string }) => `${x.in}:${x.name}`)).toContain('header:idempotency-key');
    }
    // No seed numbers in what users read.
    expect(JSON.stringify(spec)).not.toMatch(/seed \d{3}/i);
  });

  it('counts requests and their latency by route and status in /metrics', async () => {
    const key = await t.keyFor('metrics');
    await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': key } });
    await t.app.inject({ url: '/api/v1/media/0123456789abcdef', headers: { 'x-api-key': key } });
    // Anyone may not scrape; an admin key may.
    const anonymous = await t.app.inject({ url: '/metrics' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('UNAUTHORIZED');
    expect((await t.app.inject({ url: '/metrics', headers: { 'x-api-key': key } })).statusCode).toBe(401);
    const text = (await t.app.inject({ url: '/metrics', headers: { 'x-api-key': await t.keyFor('ops', 'admin') } })).body;
    expect(text).toMatch(/argus_http_requests_total\{method="GET",route="\/api\/v1\/media",status_code="200"\} [1-9]/);
    expect(text).toMatch(/argus_http_requests_total\{method="GET",route="\/api\/v1\/media\/:id",status_code="404"\} 1/);
    expect(text).toContain('argus_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/media",status_code="200"}');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('sends CORS headers for the configured origin only', async () => {
    const ok = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/media', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    const other = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/media', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS by default', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', {}, { runner: false });
  });
  afterAll(() => t.close());

  it('allows no other origin unless ARGUS_CORS_ORIGINS names it (same-origin only)', async () => {
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/media', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const get = await t.app.inject({ url: '/api/v1/media', headers: { origin: 'https://evil.example', 'x-api-key': await t.keyFor('cors') } });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('failures', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ARGUS_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());

  it('hides the internals of a 500 from the client', async () => {
    const broken = await buildApp({
      ...t.deps,
      media: { ...t.deps.media, list: () => Promise.reject(new Error('connection to 10.0.0.7 refused: password=hunter2')) },
      auth: null,
    });
    const res = await broken.inject({ url: '/api/v1/media' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toEqual({ code: 'INTERNAL_ERROR', message: 'internal server error', request_id: res.headers['x-request-id'] });
    expect(res.body).not.toContain('hunter2');
    await broken.close();
  });

  it('reports not-ready with 503 when storage is not writable', async () => {
    const app = await buildApp({ ...t.deps, readiness: [...t.deps.readiness.filter((c) => c.name !== 'storage'), { name: 'storage', check: () => Promise.reject(new Error('EROFS: read-only file system')) }] });
    const res = await app.inject({ url: '/health/ready' });
    expect(res.statusCode).toBe(503);
    // The reason is for admins; a load balancer sees the state.
    expect(res.json().checks.storage).toEqual({ status: 'fail' });
    const admin = await app.inject({ url: '/health/ready', headers: { 'x-api-key': await t.keyFor('ops', 'admin') } });
    expect(admin.json().checks.storage).toEqual({ status: 'fail', error: 'EROFS: read-only file system' });
    await app.close();
  });

  it('rate-limits each key with 429 in the envelope', async () => {
    const key = await t.keyFor('busy');
    const other = await t.keyFor('calm');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': key } })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const limited = await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': key } });
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect((await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': other } })).statusCode).toBe(200);
  });

  it('refuses a JSON body where a multipart upload is expected, saying what to send', async () => {
    const key = await t.keyFor('json');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: { file: 'x' }, headers: { 'x-api-key': await t.keyFor('json2') } });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.message).toContain("multipart/form-data with the file in the field 'file'");
    const img = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#0ff' } }).png().toBuffer();
    const body = await multipart({ file: { data: img, filename: 'c.png' } });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } })).statusCode).toBe(201);
  });
});

describe('configuration', () => {
  it('keeps the packaged OCR models on the search path when ARGUS_MODELS_PATH is set', () => {
    const c = loadConfig({ ARGUS_MODELS_PATH: '/srv/models' });
    expect(c.modelSearchPath).toContain('/srv/models');
    expect(c.modelSearchPath.some((d) => d.endsWith(path.join('@gutenye', 'ocr-models', 'assets')))).toBe(true);
    expect(c.modelSearchPath.some((d) => d.endsWith(path.join('shared', 'models')))).toBe(false);
  });

  it('has defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, auth: true, maxUploadBytes: 2 * 1024 ** 3, maxPixels: 100_000_000, blurThreshold: 100, databaseUrl: undefined });
    expect(c.imagesDir.endsWith('/data/images')).toBe(true);
    expect(loadConfig({ ARGUS_VECTOR_M: '24', ARGUS_VECTOR_EF_SEARCH: '300' }).vectorIndex).toMatchObject({ m: 24, efSearch: 300 });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ ARGUS_AUTH: 'maybe' }, 'ARGUS_AUTH'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ARGUS_MAX_UPLOAD_BYTES: '-5' }, 'ARGUS_MAX_UPLOAD_BYTES'],
    [{ ARGUS_JWT_SECRET: 'short' }, 'ARGUS_JWT_SECRET'],
    [{ ARGUS_VECTOR_EF_SEARCH: '0' }, 'ARGUS_VECTOR_EF_SEARCH'],
  ])('refuses %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});

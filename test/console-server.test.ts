/**
 * The console's server side, through the real app: sign-in with a key or token → an HttpOnly, SameSite=Strict
 * session cookie that acts as the same owner; CSRF on state-changing requests; sign-out and key revocation end
 * the session; expiry; thumbnails of photos and videos (cached, owner-scoped); the console's files, deep links and
 * policy, and the API's own 404s left alone.
 */
import { mkdtemp, readdir, readFile, mkdir, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/http/app.js';
import { hashSessionId } from '../src/app/sessions.js';
import { DB_MODES, multipart, startTestApp, testdata, type TestApp } from './helper.js';

const JWT_SECRET = 'console-test-secret-0123456789';

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const set = res.headers['set-cookie'];
  const line = (Array.isArray(set) ? set[0] : set) as string;
  return line.split(';')[0]!;
}

describe.each(DB_MODES)('console server (%s)', (mode) => {
  let t: TestApp;
  let key: string;
  let other: string;

  beforeAll(async () => {
    t = await startTestApp(mode, { ARGUS_JWT_SECRET: JWT_SECRET, ARGUS_SESSION_TTL_S: '3600' }, { runner: false });
    key = await t.keyFor('alice');
    other = await t.keyFor('bob');
  });
  afterAll(async () => t?.close());

  async function signIn(headers: Record<string, string>) {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers });
    expect(res.statusCode, res.body).toBe(201);
    return { res, cookie: cookieOf(res), body: res.json() };
  }

  async function uploadAs(cookieOrKey: Record<string, string>, file: string) {
    const body = await multipart({ file: { data: await readFile(testdata(file)), filename: path.basename(file) } });
    return t.app.inject({ method: 'POST', url: '/api/v1/media', ...body, headers: { ...body.headers, ...cookieOrKey } });
  }

  it('signs in with a key: HttpOnly, SameSite=Strict cookie on /api/, not Secure over http, CSRF token in the answer', async () => {
    const { res, body } = await signIn({ 'x-api-key': key });
    const set = String(res.headers['set-cookie']);
    expect(set).toMatch(/^argus_session=[A-Za-z0-9_-]{43};/);
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    expect(set).toContain('Path=/api/');
    expect(set).not.toContain('Secure');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(body).toMatchObject({ owner_id: 'alice', role: 'user', via: 'api_key', auth: true });
    expect(body.csrf_token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    // The key is nowhere in the answer.
    expect(res.body).not.toContain(key);
  });

  it('marks the cookie Secure when the request came over https (behind a proxy that says so)', async () => {
    const app = await buildApp({ ...t.deps, settings: { ...t.deps.settings, trustProxy: true } });
    try {
      const res = await app.inject({ method: 'POST', url: '/api/v1/session', headers: { 'x-api-key': key, 'x-forwarded-proto': 'https' } });
      expect(String(res.headers['set-cookie'])).toContain('Secure');
    } finally {
      await app.close();
    }
  });

  it('the cookie acts as the key\'s owner, and only as that owner', async () => {
    const { cookie } = await signIn({ 'x-api-key': key });
    const up = await uploadAs({ 'x-api-key': key }, 'images/dog.jpg');
    expect([200, 201]).toContain(up.statusCode);
    const mine = await t.app.inject({ method: 'GET', url: '/api/v1/media', headers: { cookie } });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().items.map((m: { id: string }) => m.id)).toContain(up.json().id);
    const bob = await signIn({ 'x-api-key': other });
    const theirs = await t.app.inject({ method: 'GET', url: '/api/v1/media', headers: { cookie: bob.cookie } });
    expect(theirs.json().total).toBe(0);
    const read = await t.app.inject({ method: 'GET', url: `/api/v1/media/${up.json().id}`, headers: { cookie: bob.cookie } });
    expect(read.statusCode).toBe(404);
  });

  it('needs the CSRF token for requests that change something', async () => {
    const { cookie, body } = await signIn({ 'x-api-key': key });
    const up = await uploadAs({ 'x-api-key': key }, 'images/messi5.jpg');
    const id = up.json().id as string;
    const none = await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { cookie } });
    expect(none.statusCode).toBe(403);
    expect(none.json().error.message).toContain('X-CSRF-Token');
    const wrong = await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { cookie, 'x-csrf-token': 'x'.repeat(32) } });
    expect(wrong.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/media/${id}`, headers: { cookie } })).statusCode).toBe(200);
    const right = await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { cookie, 'x-csrf-token': body.csrf_token } });
    expect(right.statusCode).toBe(204);
    // A multipart upload with the cookie and the token works as with the key.
    const form = await uploadAs({ cookie, 'x-csrf-token': body.csrf_token }, 'images/messi5.jpg');
    expect(form.statusCode).toBe(201);
  });

  it('GET /session gives the owner, role and CSRF token; DELETE signs out and the cookie is dead', async () => {
    const { cookie, body } = await signIn({ 'x-api-key': key });
    const read = await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(read.json()).toMatchObject({ owner_id: 'alice', csrf_token: body.csrf_token });
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(403);
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': body.csrf_token } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/argus_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/media', headers: { cookie } })).statusCode).toBe(401);
  });

  it('a session cannot make another session, and an unknown cookie is no credential', async () => {
    const { cookie, body } = await signIn({ 'x-api-key': key });
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: { cookie, 'x-csrf-token': body.csrf_token } });
    expect(again.statusCode).toBe(400);
    const bogus = await t.app.inject({ method: 'GET', url: '/api/v1/media', headers: { cookie: 'argus_session=' + 'a'.repeat(43) } });
    expect(bogus.statusCode).toBe(401);
  });

  it('revoking the key ends the sessions made from it', async () => {
    const admin = await t.keyFor('root', 'admin');
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/keys', headers: { 'x-api-key': admin }, payload: { name: 'temp', owner_id: 'carol' } });
    const { cookie } = await signIn({ 'x-api-key': created.json().key });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/media', headers: { cookie } })).statusCode).toBe(200);
    await t.app.inject({ method: 'DELETE', url: `/api/v1/keys/${created.json().api_key.id}`, headers: { 'x-api-key': admin } });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/media', headers: { cookie } })).statusCode).toBe(401);
  });

  it('an expired session is refused', async () => {
    const { cookie } = await signIn({ 'x-api-key': key });
    const id = cookie.split('=')[1]!;
    const sessions = t.deps.console!.sessions;
    const record = await sessions.find(hashSessionId(id), new Date());
    await sessions.delete(hashSessionId(id));
    await sessions.insert({ ...record!, expiresAt: new Date(Date.now() - 1000) });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/media', headers: { cookie } })).statusCode).toBe(401);
  });

  it('signs in with a JWT: the token user\'s owner, and the session ends with the token', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await new SignJWT({ sub: 'dave' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(JWT_SECRET));
    const { body } = await signIn({ authorization: `Bearer ${token}` });
    expect(body).toMatchObject({ owner_id: 'jwt:dave', via: 'jwt' });
    expect(Date.parse(body.expires_at)).toBe(exp * 1000);
  });

  it('makes thumbnails of photos and videos, caches them, and serves them only to their owner', async () => {
    // The video's poster is made by ffmpeg started through the spawn helper (not by forking this process).
    expect(t.deps.console?.spawnTool).toBeDefined();
    const photo = (await uploadAs({ 'x-api-key': key }, 'images/person_horse_dog.jpg')).json();
    const video = (await uploadAs({ 'x-api-key': key }, 'video/Megamind.avi')).json();
    for (const m of [photo, video]) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/media/${m.id}/thumbnail`, headers: { 'x-api-key': key } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('image/webp');
      expect(res.headers['cache-control']).toBe('private, max-age=86400');
      const meta = await sharp(res.rawPayload).metadata();
      expect(meta.format).toBe('webp');
      expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(480);
      expect(res.rawPayload.length).toBeLessThan(m.size);
    }
    const files = await readdir(path.join(t.dir, 'thumbnails'));
    expect(files.filter((f) => f.endsWith('.webp'))).toHaveLength(2);
    expect(files.some((f) => f.endsWith('.partial'))).toBe(false);
    const again = await t.app.inject({ method: 'GET', url: `/api/v1/media/${photo.id}/thumbnail`, headers: { 'x-api-key': key } });
    expect(again.statusCode).toBe(200);
    const theirs = await t.app.inject({ method: 'GET', url: `/api/v1/media/${photo.id}/thumbnail`, headers: { 'x-api-key': other } });
    expect(theirs.statusCode).toBe(404);
  });

  it('serves the console: index.html for every view URL with its CSP, hashed assets cached for a year, API 404s untouched', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'argus-console-'));
    await mkdir(path.join(root, 'assets'));
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>Argus</title>');
    await writeFile(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    const app = await buildApp({ ...t.deps, console: { ...t.deps.console!, root } });
    try {
      for (const url of ['/', '/media', '/media/0123456789abcdef', '/jobs/1f0e', '/faces', '/bibs', '/settings', '/sign-in']) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(200);
        expect(res.headers['content-type']).toContain('text/html');
        expect(res.headers['cache-control']).toBe('no-cache');
        expect(res.headers['content-security-policy']).toContain("script-src 'self'");
        expect(res.body).toContain('<title>Argus</title>');
      }
      const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      for (const url of ['/api/v1/nothing', '/api', '/health/nothing', '/metricsx', '/nothing', '/assets/missing.js']) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(404);
        expect(res.headers['content-type'], url).toContain('application/json');
      }
      expect((await app.inject({ method: 'GET', url: '/openapi.json' })).json().openapi).toMatch(/^3\.1/);
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/docs/' })).headers['content-type']).toContain('text/html');
    } finally {
      await app.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('console server with ARGUS_AUTH=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ARGUS_AUTH: 'off' }, { runner: false });
  });
  afterAll(async () => t?.close());

  it('needs no sign-in: the session says so', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/session' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ owner_id: 'default', auth: false, csrf_token: null });
  });
});

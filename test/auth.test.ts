import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipart, startTestApp, type TestApp } from './helper.js';

const SECRET = 'a-test-secret-of-enough-length-0123456789';

describe('identity: API keys and HS256 JWT', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ARGUS_JWT_SECRET: SECRET });
  });
  afterAll(() => t.close());

  const hs256 = (claims: Record<string, unknown>, secret = SECRET) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(secret));

  it('refuses requests without credentials or with bad ones (401 in the envelope)', async () => {
    for (const headers of [{}, { 'x-api-key': 'argus_nope' }, { 'x-api-key': 'garbage' }, { authorization: 'Bearer not.a.jwt' }, { authorization: `Bearer ${await hs256({ sub: 'u1' }, 'another-secret-of-enough-length-xx')}` }]) {
      const res = await t.app.inject({ url: '/api/v1/media', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
  });

  it('refuses an expired token', async () => {
    const expired = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(new TextEncoder().encode(SECRET));
    expect((await t.app.inject({ url: '/api/v1/media', headers: { authorization: `Bearer ${expired}` } })).statusCode).toBe(401);
  });

  it('takes the user id from sub, else nameid or userId', async () => {
    const img = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#00f' } }).png().toBuffer();
    for (const [claims, owner] of [
      [{ sub: 'user-sub' }, 'jwt:user-sub'],
      [{ nameid: 'user-nameid' }, 'jwt:user-nameid'],
      [{ userId: 'user-camel' }, 'jwt:user-camel'],
    ] as const) {
      const token = await hs256(claims);
      const body = await multipart({ file: { data: img, filename: 'b.png' } });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: body.payload, headers: { ...body.headers, authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(201);
      expect(res.json().owner_id).toBe(owner);
    }
    expect((await t.app.inject({ url: '/api/v1/media', headers: { authorization: `Bearer ${await hs256({ email: 'x@y' })}` } })).statusCode).toBe(401);
  });

  it('refuses a token issued in the future and one that never expires', async () => {
    const now = Math.floor(Date.now() / 1000);
    const future = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now + 3600).setExpirationTime(now + 7200).sign(new TextEncoder().encode(SECRET));
    const forever = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().sign(new TextEncoder().encode(SECRET));
    for (const token of [future, forever]) {
      const res = await t.app.inject({ url: '/api/v1/media', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
    // A small clock skew is tolerated.
    const skewed = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now + 10).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    expect((await t.app.inject({ url: '/api/v1/media', headers: { authorization: `Bearer ${skewed}` } })).statusCode).toBe(200);
  });

  it("keeps token users apart from key owners: a token naming a key owner's id never reaches their media", async () => {
    const victimKey = await t.keyFor('owner_4f1c2b7e-victim');
    const img = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#a0a' } }).png().toBuffer();
    const body = await multipart({ file: { data: img, filename: 'private.png' } });
    const stored = await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: body.payload, headers: { ...body.headers, 'x-api-key': victimKey } });
    expect(stored.statusCode).toBe(201);
    const token = await hs256({ sub: 'owner_4f1c2b7e-victim' });
    const headers = { authorization: `Bearer ${token}` };
    expect((await t.app.inject({ url: '/api/v1/media', headers })).json().total).toBe(0);
    expect((await t.app.inject({ url: `/api/v1/media/${stored.json().id}`, headers })).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/api/v1/media/${stored.json().id}/content`, headers })).statusCode).toBe(404);
    // Its user id still names itself: its own settings, not the key owner's.
    const mine = await t.app.inject({ method: 'PATCH', url: '/api/v1/users/owner_4f1c2b7e-victim/ai-settings', payload: { probability_threshold: 0.77 }, headers });
    expect(mine.statusCode).toBe(200);
    const victims = await t.app.inject({ url: '/api/v1/users/me/ai-settings', headers: { 'x-api-key': victimKey } });
    expect(victims.json().probability_threshold).not.toBe(0.77);
    // And no key can be made to act in the token users' namespace.
    const admin = await t.keyFor('root', 'admin');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/keys', payload: { name: 'x', owner_id: 'jwt:someone' }, headers: { 'x-api-key': admin } });
    expect(res.statusCode).toBe(422);
  });

  it("takes 'me' as the caller wherever a user id is expected", async () => {
    const key = await t.keyFor('me-user');
    const patched = await t.app.inject({ method: 'PATCH', url: '/api/v1/users/me/ai-settings', payload: { probability_threshold: 0.61 }, headers: { 'x-api-key': key } });
    expect(patched.statusCode).toBe(200);
    const read = await t.app.inject({ url: '/api/v1/users/me-user/ai-settings', headers: { 'x-api-key': key } });
    expect(read.json().probability_threshold).toBe(0.61);
    // Nobody's settings were stored under the literal name 'me'.
    const rows = await t.database.db.execute(`select owner_id from ai_settings where owner_id = 'me'`);
    expect((rows as { rows: unknown[] }).rows).toHaveLength(0);
  });

  it('lets admins manage keys, and only admins', async () => {
    const admin = await t.keyFor('root', 'admin');
    const user = await t.keyFor('someone');
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/keys', payload: { name: 'x' }, headers: { 'x-api-key': user } })).statusCode).toBe(403);
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/keys', payload: { name: 'ci', owner_id: 'team-a' }, headers: { 'x-api-key': admin } });
    expect(created.statusCode).toBe(201);
    const { key, api_key } = created.json();
    expect(key).toMatch(/^argus_/);
    expect(key.startsWith(api_key.prefix)).toBe(true);
    // The new key works and acts as its owner.
    expect((await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    // The secret is never listed; a revoked key stops working.
    const list = await t.app.inject({ url: '/api/v1/keys', headers: { 'x-api-key': admin } });
    expect(JSON.stringify(list.json())).not.toContain(key);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/keys', payload: { name: 'x', extra: 1 }, headers: { 'x-api-key': admin } })).statusCode).toBe(422);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/keys/${api_key.id}`, headers: { 'x-api-key': admin } })).statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': key } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/keys/not-a-uuid', headers: { 'x-api-key': admin } })).statusCode).toBe(422);
  });

  it('stores keys hashed, never in clear', async () => {
    const key = await t.keyFor('hashcheck');
    const rows = await t.database.db.execute<{ key_hash: string }>(`select key_hash from api_keys`);
    const hashes = (rows as { rows: { key_hash: string }[] }).rows.map((r) => r.key_hash);
    expect(hashes.length).toBeGreaterThan(0);
    expect(hashes).not.toContain(key);
    expect(hashes.every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
  });
});

describe('identity: RS256 JWT', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ARGUS_JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
  });
  afterAll(() => t.close());

  it('accepts a token signed with the private key and refuses an HS256 one', async () => {
    const pk = await importPKCS8(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'RS256');
    const token = await new SignJWT({ sub: 'rs-user' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('5m').sign(pk);
    const res = await t.app.inject({ url: '/api/v1/media', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const hs = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    expect((await t.app.inject({ url: '/api/v1/media', headers: { authorization: `Bearer ${hs}` } })).statusCode).toBe(401);
  });
});

describe('ARGUS_AUTH=off', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ARGUS_AUTH: 'off' });
  });
  afterAll(() => t.close());

  it('acts as one default owner without credentials', async () => {
    const img = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#0f0' } }).png().toBuffer();
    const body = await multipart({ file: { data: img, filename: 'g.png' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: body.payload, headers: body.headers });
    expect(res.statusCode).toBe(201);
    expect(res.json().owner_id).toBe('default');
  });
});

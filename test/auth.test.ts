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
      [{ sub: 'user-sub' }, 'user-sub'],
      [{ nameid: 'user-nameid' }, 'user-nameid'],
      [{ userId: 'user-camel' }, 'user-camel'],
    ] as const) {
      const token = await hs256(claims);
      const body = await multipart({ file: { data: img, filename: 'b.png' } });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: body.payload, headers: { ...body.headers, authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(201);
      expect(res.json().owner_id).toBe(owner);
    }
    expect((await t.app.inject({ url: '/api/v1/media', headers: { authorization: `Bearer ${await hs256({ email: 'x@y' })}` } })).statusCode).toBe(401);
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
    const hs = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
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

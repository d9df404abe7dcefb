import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../src/app/webhook-signing.js';
import { DB_MODES, startTestApp, testdata, type TestApp } from './helper.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local receiver: records every POST; answers 500 to the first `failFirst` of each path. */
async function receiver(failFirst = 0): Promise<{ url: string; received: Received[]; close: () => void }> {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (req.method === 'GET') {
        // Serves a photo for image_url jobs.
        void readFile(testdata('images/dog.jpg')).then((data) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(data));
        return;
      }
      received.push({ path, headers: req.headers, body });
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      res.writeHead(n <= failFirst ? 500 : 200).end(n <= failFirst ? 'try later' : 'ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, close: () => server.close() };
}

async function until<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(DB_MODES)('webhooks and callbacks on %s', (mode) => {
  let t: TestApp;
  let key: string;
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    t = await startTestApp(mode, { ARGUS_ALLOW_PRIVATE_URLS: 'true', ARGUS_WEBHOOK_RETRY_SCHEDULE: '200,200' });
    key = await t.keyFor('integrator');
    hook = await receiver(1);
  });
  afterAll(() => {
    hook.close();
    return t.close();
  });
  const headers = (): Record<string, string> => ({ 'x-api-key': key });

  it('delivers signed job.completed messages to a webhook and a callback, retrying failures, and shows every attempt', async () => {
    const reg = await t.app.inject({ method: 'POST', url: '/api/v1/webhooks', payload: { url: `${hook.url}/hook`, events: ['job.completed'] }, headers: headers() });
    expect(reg.statusCode).toBe(201);
    const webhook = reg.json<{ id: string; secret: string }>();
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const listed = (await t.app.inject({ url: '/api/v1/webhooks', headers: headers() })).json<{ items: Record<string, unknown>[] }>();
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]!.secret).toBeUndefined();
    const callbackSecret = (await t.app.inject({ url: '/api/v1/webhooks/callback-secret', headers: headers() })).json<{ secret: string }>().secret;

    // An image_url job (fetched from the local server) with a callback.
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { image_url: `${hook.url}/dog.jpg`, callback_url: `${hook.url}/callback` }, headers: headers() });
    expect(res.statusCode).toBe(202);
    const id = res.json<{ task_id: string }>().task_id;

    // Each target fails once (500), then gets the message on the retry.
    const got = await until(async () => {
      const ok = hook.received.filter((r) => r.body.includes(id));
      return ok.length >= 4 ? ok : undefined;
    }, 'deliveries');
    for (const [path, secret] of [['/hook', webhook.secret], ['/callback', callbackSecret]] as const) {
      const msgs = got.filter((r) => r.path === path);
      expect(msgs).toHaveLength(2);
      // Standard Webhooks: the same message id on a retry, a valid signature over id.timestamp.body.
      expect(msgs[0]!.headers['webhook-id']).toBe(msgs[1]!.headers['webhook-id']);
      for (const m of msgs) expect(verifySignature(secret, m.headers as Record<string, string>, m.body)).toBe(true);
      expect(verifySignature(secret, msgs[0]!.headers as Record<string, string>, msgs[0]!.body.replace('SUCCESS', 'FAILED'))).toBe(false);
      const payload = JSON.parse(msgs[1]!.body) as { type: string; data: { task_id: string; status: string; result: { items: { detect: { detections: { label: string }[] } }[] } } };
      expect(payload.type).toBe('job.completed');
      expect(payload.data).toMatchObject({ task_id: id, status: 'SUCCESS' });
      expect(payload.data.result.items[0]!.detect.detections.map((d) => d.label)).toContain('dog');
    }

    const deliveries = await until(async () => {
      const d = (await t.app.inject({ url: `/api/v1/jobs/${id}/deliveries`, headers: headers() })).json<{ items: { status: string; webhook_id: string | null; attempts: { status_code: number; error: string | null }[] }[] }>();
      return d.items.every((i) => i.status === 'DELIVERED') && d.items.length === 2 ? d : undefined;
    }, 'delivered status');
    for (const d of deliveries.items) expect(d.attempts.map((a) => a.status_code)).toEqual([500, 200]);
    expect(deliveries.items.map((d) => d.webhook_id).sort()).toEqual([null, webhook.id].sort());
    const byHook = (await t.app.inject({ url: `/api/v1/webhooks/${webhook.id}/deliveries`, headers: headers() })).json<{ items: unknown[] }>();
    expect(byHook.items.length).toBeGreaterThanOrEqual(1);

    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${webhook.id}`, headers: headers() })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${webhook.id}`, headers: headers() })).statusCode).toBe(404);
  });

  it('refuses bad registrations with 422', async () => {
    for (const payload of [{ url: 'ftp://x/y' }, { url: 'http://x/y', events: ['job.exploded'] }, { url: 'http://x/y', secret: 'mine' }, {}]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/webhooks', payload, headers: headers() });
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
    }
  });
});

describe('private addresses without ARGUS_ALLOW_PRIVATE_URLS', () => {
  let t: TestApp;
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ARGUS_WEBHOOK_RETRY_SCHEDULE: '100' });
    hook = await receiver();
  });
  afterAll(() => {
    hook.close();
    return t.close();
  });

  it('refuses to fetch from or deliver to loopback, and says why', async () => {
    const key = await t.keyFor('someone');
    // A literal loopback address is refused at once; a name is judged by the address it resolves to.
    for (const payload of [{ image_url: `${hook.url}/dog.jpg` }, { media_id: '0123456789abcdef', callback_url: `${hook.url}/cb` }, { video_url: 'http://169.254.169.254/latest/meta-data' }]) {
      const refused = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload, headers: { 'x-api-key': key } });
      expect(refused.statusCode, JSON.stringify(payload)).toBe(400);
      expect(refused.json().error.message).toMatch(/ARGUS_ALLOW_PRIVATE_URLS/);
    }
    const named = hook.url.replace('127.0.0.1', 'localhost');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { image_url: `${named}/dog.jpg`, callback_url: `${named}/cb` }, headers: { 'x-api-key': key } });
    expect(res.statusCode).toBe(202);
    const id = res.json<{ task_id: string }>().task_id;
    const result = await until(async () => {
      const r = (await t.app.inject({ url: `/api/v1/results/${id}`, headers: { 'x-api-key': key } })).json<{ status: string; error_message: string | null }>();
      return r.status === 'FAILED' ? r : undefined;
    }, 'the job to fail');
    expect(result.error_message).toMatch(/private|loopback/i);
    const deliveries = await until(async () => {
      const d = (await t.app.inject({ url: `/api/v1/jobs/${id}/deliveries`, headers: { 'x-api-key': key } })).json<{ items: { status: string; attempts: { error: string | null }[] }[] }>();
      return d.items[0]?.status === 'FAILED' ? d : undefined;
    }, 'the delivery to give up');
    expect(deliveries.items[0]!.attempts).toHaveLength(2);
    expect(deliveries.items[0]!.attempts[0]!.error).toMatch(/private|loopback/i);
    expect(hook.received).toHaveLength(0);
  });
});

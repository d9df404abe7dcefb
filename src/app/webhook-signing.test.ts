import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newWebhookSecret, signedHeaders, verifySignature } from './webhook-signing.js';

/** The signature computed by hand from the spec, independent of the standardwebhooks package. */
function referenceSignature(secret: string, id: string, ts: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
}

describe('webhook signing', () => {
  it('makes whsec_ secrets of 24 random bytes', () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(24);
    expect(a).not.toBe(b);
  });

  it('signs id.timestamp.body with HMAC-SHA256 and whole-second timestamps', () => {
    const secret = newWebhookSecret();
    const at = new Date('2025-03-04T05:06:07.890Z');
    const body = JSON.stringify({ type: 'media.analysed', data: { id: 'med_1', note: 'ünïcödé' } });
    const h = signedHeaders(secret, 'msg_abc', body, at);
    const ts = Math.floor(at.getTime() / 1000);
    expect(h).toEqual({
      'webhook-id': 'msg_abc',
      'webhook-timestamp': String(ts),
      'webhook-signature': referenceSignature(secret, 'msg_abc', ts, body),
    });
  });

  it('verifies its own signatures and rejects a changed body, id, secret or stale timestamp', () => {
    const secret = newWebhookSecret();
    const body = '{"type":"ping"}';
    const h = signedHeaders(secret, 'msg_1', body, new Date());
    expect(verifySignature(secret, h, body)).toBe(true);
    // Header names arrive in any case through proxies.
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifySignature(secret, upper, body)).toBe(true);

    expect(verifySignature(secret, h, '{"type":"pong"}')).toBe(false);
    expect(verifySignature(secret, { ...h, 'webhook-id': 'msg_2' }, body)).toBe(false);
    expect(verifySignature(newWebhookSecret(), h, body)).toBe(false);
    expect(verifySignature('whsec_not*base64', h, body)).toBe(false);
    expect(verifySignature(secret, { 'webhook-id': 'msg_1' }, body)).toBe(false);

    const old = new Date(Date.now() - 10 * 60_000);
    expect(verifySignature(secret, signedHeaders(secret, 'msg_1', body, old), body)).toBe(false);
  });

  it('accepts a signature list where one entry matches, as during secret rotation', () => {
    const secret = newWebhookSecret();
    const body = 'x';
    const h = signedHeaders(secret, 'msg_r', body, new Date());
    const other = signedHeaders(newWebhookSecret(), 'msg_r', body, new Date());
    const both = { ...h, 'webhook-signature': `${other['webhook-signature']} ${h['webhook-signature']}` };
    expect(verifySignature(secret, both, body)).toBe(true);
    expect(verifySignature(secret, { ...h, 'webhook-signature': [h['webhook-signature']] }, body)).toBe(true);
  });
});

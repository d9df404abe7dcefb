/**
 * Bounds on one request's cost: a huge image is cut into a bounded number of tiles, and image requests share a
 * budget of decoded pixels — beyond it they wait, and past the wait they are refused with 503 and Retry-After.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TILES } from '../src/app/detect-objects.js';
import { multipart, startTestApp, type TestApp } from './helper.js';

describe('a 9900 x 9900 image', () => {
  let t: TestApp;
  let key: string;
  let huge: Buffer;
  beforeAll(async () => {
    // Under the default pixel limit (100 MP), and tiny on the wire: a flat PNG.
    t = await startTestApp('pglite', { ARGUS_IMAGE_BUDGET_MP: '100', ARGUS_IMAGE_WAIT_MS: '200' }, { runner: false });
    key = await t.keyFor('big');
    huge = await sharp({ create: { width: 9900, height: 9900, channels: 3, background: '#5a8' } }).png({ compressionLevel: 9 }).toBuffer();
  });
  afterAll(() => t.close());

  const post = async (url: string): Promise<{ statusCode: number; headers: Record<string, unknown>; json(): any }> => {
    const body = await multipart({ file: { data: huge, filename: 'huge.png' } });
    return t.app.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
  };

  it(`is detected in at most ${MAX_TILES} tiles`, async () => {
    const res = await post('/api/v1/detect');
    expect(res.statusCode).toBe(200);
    expect(res.json().tiles).toBeGreaterThan(0);
    expect(res.json().tiles).toBeLessThanOrEqual(MAX_TILES);
  });

  it('takes the whole pixel budget: a second one at the same time waits, then gets 503 with Retry-After', async () => {
    const [a, b] = await Promise.all([post('/api/v1/blur/detect'), post('/api/v1/blur/detect')]);
    const codes = [a.statusCode, b.statusCode].sort();
    expect(codes).toEqual([200, 503]);
    const refused = a.statusCode === 503 ? a : b;
    expect(refused.json().error.code).toBe('SERVICE_UNAVAILABLE');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The budget is given back: the next one runs.
    expect((await post('/api/v1/blur/detect')).statusCode).toBe(200);
    expect(t.deps.imageBudget.inUse).toBe(0);
  });
});

describe('ARGUS_MAX_BATCH_FILES above 100', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('pglite', { ARGUS_MAX_BATCH_FILES: '120' }, { runner: false });
  });
  afterAll(() => t.close());

  const batch = async (n: number): Promise<{ statusCode: number; json(): any }> => {
    const form = new FormData();
    for (let i = 0; i < n; i++) {
      const img = await sharp({ create: { width: 40, height: 40, channels: 3, background: { r: i, g: 100, b: 200 } } }).png().toBuffer();
      form.append('files', new Blob([img]), `${i}.png`);
    }
    const res = new Response(form);
    return t.app.inject({ method: 'POST', url: '/api/v1/blur/detect/batch', payload: Buffer.from(await res.arrayBuffer()), headers: { 'content-type': res.headers.get('content-type')!, 'x-api-key': await t.keyFor('batcher') } });
  };

  it('takes 110 files, and refuses 121 naming the limit', async () => {
    const ok = await batch(110);
    expect(ok.statusCode).toBe(202);
    expect(ok.json().total).toBe(110);
    const over = await batch(121);
    expect(over.statusCode).toBe(422);
    expect(over.json().error.message).toContain('at most 120');
  });
});

import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_MODES, multipart, startTestApp, testdata, type TestApp } from './helper.js';

describe.each(DB_MODES)('POST /api/v1/blur/detect on %s', (mode) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp(mode, { ARGUS_MAX_PIXELS: '50000000' });
    key = await t.keyFor('photographer');
  });
  afterAll(() => t.close());

  async function blur(data: Uint8Array, filename = 'x.jpg', fields: Record<string, string> = {}) {
    const body = await multipart({ ...fields, file: { data, filename } });
    return t.app.inject({ method: 'POST', url: '/api/v1/blur/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
  }

  it.each([
    ['text_defocus.jpg', true, 11],
    ['text_motion.jpg', true, 33],
    ['messi5.jpg', false, 791],
    ['ultraface_9.jpg', false, 137],
  ])('%s is blurry: %s (OpenCV Laplacian variance %i)', async (file, blurry, opencvVar) => {
    const res = await blur(await readFile(testdata(`images/${file}`)), file);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.is_blurry).toBe(blurry);
    expect(body.threshold).toBe(100);
    // Same metric as OpenCV's Laplacian().var(), up to JPEG decoder differences.
    expect(body.laplacian_variance).toBeGreaterThan(opencvVar * 0.95);
    expect(body.laplacian_variance).toBeLessThan(opencvVar * 1.05);
    expect(body.confidence).toBeGreaterThanOrEqual(0);
    expect(body.confidence).toBeLessThanOrEqual(1);
    expect(body.hf_ratio).toBeGreaterThan(0);
    expect(body.hf_ratio).toBeLessThan(1);
  });

  it('reports the size after EXIF orientation', async () => {
    const rotated = await sharp(await readFile(testdata('images/messi5.jpg'))).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const body = (await blur(rotated)).json();
    expect([body.width, body.height]).toEqual([342, 548]);
  });

  it('is more confident far from the threshold, and the FFT ratio separates defocus from sharp', async () => {
    const defocus = (await blur(await readFile(testdata('images/text_defocus.jpg')))).json();
    const messi = (await blur(await readFile(testdata('images/messi5.jpg')))).json();
    const borderline = (await blur(await readFile(testdata('images/ultraface_9.jpg')))).json();
    expect(defocus.confidence).toBeGreaterThan(0.9);
    expect(messi.confidence).toBeGreaterThan(0.9);
    expect(borderline.confidence).toBeLessThan(0.5);
    expect(defocus.hf_ratio).toBeLessThan(messi.hf_ratio / 2);
  });

  it('takes a threshold per request', async () => {
    const res = await blur(await readFile(testdata('images/ultraface_9.jpg')), 'u.jpg', { threshold: '200' });
    expect(res.json()).toMatchObject({ is_blurry: true, threshold: 200 });
    const bad = await blur(await readFile(testdata('images/ultraface_9.jpg')), 'u.jpg', { threshold: 'abc' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe('VALIDATION_ERROR');
    expect((await blur(await readFile(testdata('images/ultraface_9.jpg')), 'u.jpg', { threshold: '-1' })).statusCode).toBe(422);
  });

  it('blurring a sharp photo makes it blurry', async () => {
    const blurred = await sharp(await readFile(testdata('images/messi5.jpg'))).blur(4).jpeg().toBuffer();
    expect((await blur(blurred)).json().is_blurry).toBe(true);
  });

  it('accepts PNG and WebP', async () => {
    const png = await sharp(await readFile(testdata('images/imageTextN.png'))).png().toBuffer();
    expect((await blur(png, 'a.png')).statusCode).toBe(200);
    const webp = await sharp(await readFile(testdata('images/dog.jpg'))).webp().toBuffer();
    expect((await blur(webp, 'a.webp')).statusCode).toBe(200);
  });

  describe('validation (seed 004 Phase 2)', () => {
    it('a non-image → 400 UNSUPPORTED_MEDIA_TYPE (seed 004)', async () => {
      const res = await blur(Buffer.from('%PDF-1.7\n' + 'x'.repeat(4000)), 'doc.pdf');
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect((await blur(Buffer.from('hello world'), 'a.txt')).statusCode).toBe(400);
    });

    it('a corrupt image → 400', async () => {
      const jpeg = await readFile(testdata('images/messi5.jpg'));
      const corrupt = Buffer.concat([jpeg.subarray(0, 200), Buffer.alloc(5000, 0x55)]);
      const res = await blur(corrupt);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('INVALID_IMAGE');
    });

    it('a truncated image → 400', async () => {
      const jpeg = await readFile(testdata('images/messi5.jpg'));
      const res = await blur(jpeg.subarray(0, Math.floor(jpeg.length / 2)));
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('INVALID_IMAGE');
    });

    it('an image smaller than 32x32 → 400', async () => {
      const tiny = await sharp({ create: { width: 31, height: 64, channels: 3, background: '#808080' } }).png().toBuffer();
      const res = await blur(tiny, 'tiny.png');
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('IMAGE_TOO_SMALL');
      const ok = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#808080' } }).png().toBuffer();
      expect((await blur(ok, 'ok.png')).statusCode).toBe(200);
    });

    it('no file → 422', async () => {
      const body = await multipart({ threshold: '100' });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
      expect(res.statusCode).toBe(422);
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect', headers: { 'x-api-key': key } })).statusCode).toBe(422);
    });

    it('more pixels than ARGUS_MAX_PIXELS → 400 from the header alone (a decompression bomb)', async () => {
      // 10000x10000 = 100 MP of one colour: a small PNG that would need 300 MB decoded.
      const bomb = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#000000' } }).png({ compressionLevel: 9 }).toBuffer();
      expect(bomb.length).toBeLessThan(1_000_000);
      const before = process.memoryUsage().rss;
      const res = await blur(bomb, 'bomb.png');
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'IMAGE_TOO_LARGE' });
      expect(res.json().error.message).toContain('10000x10000');
      // Not decoded: a decode would have taken hundreds of MB.
      expect(process.memoryUsage().rss - before).toBeLessThan(150 * 1024 * 1024);
    });
  });
});

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { referenceMediaId } from './reference/xxh64.js';
import { DB_MODES, multipart, startTestApp, testdata, type TestApp } from './helper.js';

describe.each(DB_MODES)('media on %s', (mode) => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    t = await startTestApp(mode, { ARGUS_MAX_UPLOAD_BYTES: String(2 * 1024 * 1024) });
    alice = await t.keyFor('alice');
    bob = await t.keyFor('bob');
  });
  afterAll(() => t.close());

  async function upload(key: string, data: Uint8Array, filename: string, field = 'file') {
    const body = await multipart({ [field]: { data, filename } });
    return t.app.inject({ method: 'POST', url: '/api/v1/media', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
  }

  /** Every file in the media directories, partial files included. */
  async function storedFiles(): Promise<string[]> {
    const lists = await Promise.all([t.config.imagesDir, t.config.videosDir].map((d) => readdir(d)));
    return lists.flat().sort();
  }

  it('stores messi5.jpg under the id an independent implementation computes, then answers 200 for the same content', async () => {
    const messi = await readFile(testdata('images/messi5.jpg'));
    const first = await upload(alice, messi, 'messi5.jpg');
    expect(first.statusCode).toBe(201);
    const record = first.json();
    expect(record).toMatchObject({ id: referenceMediaId(messi), name: 'messi5.jpg', kind: 'image', size: messi.length, content_type: 'image/jpeg', status: 1, status_name: 'New', owner_id: 'alice' });
    // Stored under the SHA-256 of the whole content, which the API shows too.
    const sha = createHash('sha256').update(messi).digest('hex');
    expect(record.sha256).toBe(sha);
    expect(await storedFiles()).toContain(`${sha}.jpg`);

    const again = await upload(alice, messi, 'renamed.jpg');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: record.id, name: 'messi5.jpg', created_at: record.created_at });
    expect((await storedFiles()).filter((f) => f.startsWith(sha))).toHaveLength(1);
  });

  it.each([1000, 3072, 5000])('computes the pinned id for a %i-byte image', async (size) => {
    // A PNG padded with trailing bytes to an exact size (PNG decoders ignore data after IEND).
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#4080c0' } }).png().toBuffer();
    const data = Buffer.concat([png, Buffer.alloc(size - png.length, 7)]);
    expect(data.length).toBe(size);
    const res = await upload(alice, data, `pad-${size}.png`);
    expect(res.statusCode).toBe(201);
    expect(res.json().id).toBe(referenceMediaId(data));
  });

  it('keeps owners apart: same content gives each owner their own record, and one never sees the other\'s', async () => {
    const img = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#ff0000' } }).jpeg().toBuffer();
    const a = await upload(alice, img, 'red.jpg');
    const b = await upload(bob, img, 'red.jpg');
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    const id = a.json().id as string;
    const file = `${createHash('sha256').update(img).digest('hex')}.jpg`;
    const bobList = await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': bob } });
    expect(bobList.json().items.map((m: { id: string }) => m.id)).toEqual([id]);
    expect((await t.app.inject({ url: `/api/v1/media/${referenceMediaId(await readFile(testdata('images/messi5.jpg')))}`, headers: { 'x-api-key': bob } })).statusCode).toBe(404);

    // Bob deleting his record leaves Alice's record and the shared file in place.
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { 'x-api-key': bob } })).statusCode).toBe(204);
    expect(await storedFiles()).toContain(file);
    const content = await t.app.inject({ url: `/api/v1/media/${id}/content`, headers: { 'x-api-key': alice } });
    expect(content.statusCode).toBe(200);
    expect(content.rawPayload.equals(img)).toBe(true);
    // Alice deleting hers removes the file too.
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { 'x-api-key': alice } })).statusCode).toBe(204);
    expect(await storedFiles()).not.toContain(file);
    expect((await t.app.inject({ url: `/api/v1/media/${id}`, headers: { 'x-api-key': alice } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${id}`, headers: { 'x-api-key': alice } })).statusCode).toBe(404);
  });

  it('serves byte ranges of the content', async () => {
    const messi = await readFile(testdata('images/messi5.jpg'));
    const id = referenceMediaId(messi);
    const res = await t.app.inject({ url: `/api/v1/media/${id}/content`, headers: { 'x-api-key': alice, range: 'bytes=100-199' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 100-199/${messi.length}`);
    expect(res.rawPayload.equals(messi.subarray(100, 200))).toBe(true);
    const bad = await t.app.inject({ url: `/api/v1/media/${id}/content`, headers: { 'x-api-key': alice, range: `bytes=${messi.length + 10}-` } });
    expect(bad.statusCode).toBe(416);
  });

  it('lists with paging and filters by kind and status', async () => {
    const video = await readFile(testdata('video/Megamind.avi'));
    expect((await upload(alice, video.subarray(0, 1024 * 1024), 'clip.avi')).statusCode).toBe(201);
    const all = (await t.app.inject({ url: '/api/v1/media?limit=2', headers: { 'x-api-key': alice } })).json();
    expect(all.total).toBeGreaterThanOrEqual(5);
    expect(all.items).toHaveLength(2);
    const page2 = (await t.app.inject({ url: '/api/v1/media?limit=2&offset=2', headers: { 'x-api-key': alice } })).json();
    expect(page2.items[0].id).not.toBe(all.items[0].id);
    const videos = (await t.app.inject({ url: '/api/v1/media?kind=video', headers: { 'x-api-key': alice } })).json();
    expect(videos.items.map((m: { kind: string; content_type: string }) => [m.kind, m.content_type])).toEqual([['video', 'video/vnd.avi']]);
    expect((await t.app.inject({ url: '/api/v1/media?status=3', headers: { 'x-api-key': alice } })).json().total).toBe(0);
    expect((await t.app.inject({ url: '/api/v1/media?status=4', headers: { 'x-api-key': alice } })).statusCode).toBe(422);
    expect((await t.app.inject({ url: '/api/v1/media?limit=0', headers: { 'x-api-key': alice } })).statusCode).toBe(422);
  });

  describe('bad input is refused and leaves nothing behind', () => {
    async function expectNothingChanged(res: { statusCode: number; json(): any }, status: number, code: string, before: { files: string[]; total: number }) {
      expect(res.statusCode).toBe(status);
      expect(res.json().error).toMatchObject({ code });
      expect(res.json().error.request_id).toBeTruthy();
      expect(await storedFiles()).toEqual(before.files);
      const list = (await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': alice } })).json();
      expect(list.total).toBe(before.total);
    }
    async function snapshot() {
      return { files: await storedFiles(), total: (await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': alice } })).json().total as number };
    }

    it('a text file → 400', async () => {
      const before = await snapshot();
      await expectNothingChanged(await upload(alice, Buffer.from('just some text\n'.repeat(100)), 'notes.txt'), 400, 'UNSUPPORTED_MEDIA_TYPE', before);
    });

    it('a PDF → 400', async () => {
      const before = await snapshot();
      await expectNothingChanged(await upload(alice, Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(5000, 32)]), 'doc.pdf'), 400, 'UNSUPPORTED_MEDIA_TYPE', before);
    });

    it('image content under a video name → 400', async () => {
      const before = await snapshot();
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00ff00' } }).png().toBuffer();
      await expectNothingChanged(await upload(alice, png, 'movie.mp4'), 400, 'UNSUPPORTED_MEDIA_TYPE', before);
    });

    it('a file over ARGUS_MAX_UPLOAD_BYTES → 413 while streaming', async () => {
      const before = await snapshot();
      const big = Buffer.concat([await readFile(testdata('images/messi5.jpg')), Buffer.alloc(3 * 1024 * 1024, 1)]);
      await expectNothingChanged(await upload(alice, big, 'big.jpg'), 413, 'PAYLOAD_TOO_LARGE', before);
    });

    it('no file → 422', async () => {
      const before = await snapshot();
      const body = await multipart({ note: 'hello' });
      await expectNothingChanged(
        await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: body.payload, headers: { ...body.headers, 'x-api-key': alice } }),
        422,
        'VALIDATION_ERROR',
        before,
      );
      await expectNothingChanged(await t.app.inject({ method: 'POST', url: '/api/v1/media', headers: { 'x-api-key': alice } }), 422, 'VALIDATION_ERROR', before);
    });

    it('a file in the wrong field → 422', async () => {
      const before = await snapshot();
      await expectNothingChanged(await upload(alice, await readFile(testdata('images/dog.jpg')), 'dog.jpg', 'image'), 422, 'VALIDATION_ERROR', before);
    });

    it('an empty file → 400', async () => {
      const before = await snapshot();
      await expectNothingChanged(await upload(alice, Buffer.alloc(0), 'empty.jpg'), 400, 'BAD_REQUEST', before);
    });

    it('a bad id → 422, an unknown one → 404', async () => {
      expect((await t.app.inject({ url: '/api/v1/media/..%2F..%2Fetc', headers: { 'x-api-key': alice } })).statusCode).toBe(422);
      expect((await t.app.inject({ url: '/api/v1/media/0123456789abcdef', headers: { 'x-api-key': alice } })).json().error.code).toBe('NOT_FOUND');
    });
  });

  it('sanitises the original name and never uses it as a path', async () => {
    const img = await sharp({ create: { width: 33, height: 33, channels: 3, background: '#123456' } }).png().toBuffer();
    const res = await upload(alice, img, '../../etc/pass\u0001wd.png');
    expect(res.statusCode).toBe(201);
    expect(res.json().name).toBe('passwd.png');
    expect(await storedFiles()).toContain(`${res.json().sha256}.png`);
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBibImages, pinBib } from '../src/bench/bib-images.js';
import { DB_MODES, multipart, startTestApp, testdata, type TestApp } from './helper.js';

type Bib = { bib_number: string; confidence: number; box: { x1: number; y1: number; x2: number; y2: number }; person_box: unknown };
type BibBody = { media_id?: string; bibs_detected: number; detections: Bib[]; mode: string; indexed?: { bibs: number; faces: number; faces_with_bib: number } };
type BibMedia = { bib_number: string; total: number; media: { media_id: string; inferred: boolean; source: string; confidence: number }[] };

const face = (n: number, k: number): string => testdata(`faces/person${String(n).padStart(2, '0')}_ref_0${k}.jpg`);

async function post(t: TestApp, key: string, url: string, parts: Record<string, string | Buffer>, contentType = 'image/jpeg') {
  const form = new FormData();
  for (const [name, v] of Object.entries(parts)) {
    if (typeof v === 'string') form.append(name, v);
    else form.append(name, new Blob([v], { type: contentType }), `${name}.jpg`);
  }
  const res = new Response(form);
  return t.app.inject({ method: 'POST', url, payload: Buffer.from(await res.arrayBuffer()), headers: { 'content-type': res.headers.get('content-type')!, 'x-api-key': key } });
}

/** A photo of a person with a bib pinned on the chest, below the face. */
async function withBib(file: string, number: string): Promise<Buffer> {
  const photo = await readFile(file);
  const { width = 0, height = 0 } = await sharp(photo).metadata();
  return pinBib(photo, { x1: Math.round(width * 0.3), y1: Math.round(height * 0.68), x2: Math.round(width * 0.7), y2: Math.round(height * 0.86) }, number);
}

describe('text recognition', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    key = await t.keyFor('reader');
  });
  afterAll(() => t.close());

  it('reads imageTextN.png as its paragraph, line by line, with boxes and polygons', async () => {
    const res = await post(t, key, '/api/v1/text/recognize', { file: await readFile(testdata('images/imageTextN.png')) }, 'image/png');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ text: string; lines: { text: string; confidence: number; box: { x1: number; y1: number; x2: number; y2: number }; polygon: [number, number][] }[] }>();
    expect(body.text).toContain('In teaching our courses');
    expect(body.text).toContain('inspiration from three high-level approaches');
    expect(body.lines.length).toBeGreaterThanOrEqual(13);
    for (const l of body.lines) {
      expect(l.polygon).toHaveLength(4);
      expect(l.box.x2).toBeGreaterThan(l.box.x1);
      expect(l.confidence).toBeGreaterThan(0.5);
    }
    const missing = await post(t, key, '/api/v1/text/recognize', {});
    expect(missing.statusCode).toBe(422);
  });
});

describe('bib recognition on generated photos', () => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    key = await t.keyFor('race-photographer');
  });
  afterAll(() => t.close());

  it('reads >= 95% of generated bibs (1-5 digits, shirts and cards, sizes, angles, blur); blanks give none', async () => {
    const images = await generateBibImages({ count: 80, seed: 7 });
    let read = 0;
    let wrong = 0;
    const misses: string[] = [];
    let numbered = 0;
    for (const img of images) {
      const res = await post(t, key, '/api/v1/bibs/recognize', { file: img.data });
      expect(res.statusCode, res.body).toBe(200);
      const got = res.json<BibBody>().detections.map((d) => d.bib_number);
      if (img.kind === 'blank') {
        expect(got, img.name).toEqual([]);
        continue;
      }
      numbered++;
      if (got.includes(img.number)) read++;
      else misses.push(`${img.name}: ${img.number} read as [${got.join(', ')}]`);
      wrong += got.filter((n) => n !== img.number).length;
    }
    console.log(`bibs: ${read}/${numbered} read, ${wrong} other numbers reported; misses: ${misses.join('; ') || 'none'}`);
    expect(numbered).toBeGreaterThan(50);
    expect(read / numbered).toBeGreaterThanOrEqual(0.95);
  });

  it('validates its input as seed 004 did', async () => {
    const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#ffffff' } }).jpeg().toBuffer();
    const blankRes = await post(t, key, '/api/v1/bibs/recognize', { file: blank });
    expect(blankRes.statusCode).toBe(200);
    expect(blankRes.json()).toMatchObject({ bibs_detected: 0, detections: [] });

    const png = await sharp((await generateBibImages({ count: 1, seed: 3, kinds: ['card'] }))[0]!.data).png().toBuffer();
    const pngRes = await post(t, key, '/api/v1/bibs/recognize', { file: png }, 'image/png');
    expect(pngRes.statusCode, pngRes.body).toBe(200);

    const cases: [Record<string, string | Buffer>, number, string][] = [
      [{ file: Buffer.from('%PDF-1.4 not an image at all') }, 400, 'UNSUPPORTED_MEDIA_TYPE'],
      [{ file: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]) }, 400, 'INVALID_IMAGE'],
      [{}, 422, 'VALIDATION_ERROR'],
      [{ file: await sharp({ create: { width: 16, height: 16, channels: 3, background: '#fff' } }).jpeg().toBuffer() }, 400, 'IMAGE_TOO_SMALL'],
      [{ file: blank, min_digits: 'many' }, 422, 'VALIDATION_ERROR'],
      [{ file: blank, min_digits: '5', max_digits: '3' }, 422, 'VALIDATION_ERROR'],
    ];
    for (const [parts, status, code] of cases) {
      const res = await post(t, key, '/api/v1/bibs/recognize', parts);
      expect(res.statusCode, `${code}: ${res.body}`).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    // Nothing was stored by refused requests.
    const media = await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': key } });
    expect(media.json<{ total: number }>().total).toBe(0);
  });
});

describe.each(DB_MODES)('bib search on %s', (mode) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp(mode);
    key = await t.keyFor('runner-photos');
  });
  afterAll(() => t.close());

  it('finds a runner\'s photos by bib number, and those where only their face shows (inferred)', async () => {
    // Person 1 wears bib 4217 in one photo; another photo shows only her face. Person 4 wears 88; person 7 has no bib.
    const a = await post(t, key, '/api/v1/bibs/recognize', { file: await withBib(face(1, 1), '4217'), store: 'true' });
    expect(a.statusCode, a.body).toBe(200);
    const aBody = a.json<BibBody>();
    expect(aBody.detections.map((d) => d.bib_number)).toEqual(['4217']);
    expect(aBody.indexed).toMatchObject({ bibs: 1, faces_with_bib: 1 });

    const upload = async (file: Buffer) => {
      const res = await post(t, key, '/api/v1/bibs/recognize', { file, store: 'true' });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<BibBody>();
    };
    const b = await upload(await readFile(face(1, 3)));
    expect(b.bibs_detected).toBe(0);
    const c = await upload(await withBib(face(4, 1), '88'));
    expect(c.detections.map((d) => d.bib_number)).toEqual(['88']);
    const d = await upload(await readFile(face(7, 1)));

    const search = await t.app.inject({ url: '/api/v1/bibs/4217/media', headers: { 'x-api-key': key } });
    expect(search.statusCode, search.body).toBe(200);
    const found = search.json<BibMedia>();
    expect(found.media[0]).toMatchObject({ media_id: aBody.media_id, inferred: false, source: 'bib' });
    expect(found.media.find((m) => m.media_id === b.media_id)).toMatchObject({ inferred: true, source: 'face' });
    const ids = found.media.map((m) => m.media_id);
    expect(ids).not.toContain(c.media_id);
    expect(ids).not.toContain(d.media_id);

    const other = (await t.app.inject({ url: '/api/v1/bibs/88/media', headers: { 'x-api-key': key } })).json<BibMedia>();
    expect(other.media.map((m) => m.media_id)).toEqual([c.media_id]);
    const none = (await t.app.inject({ url: '/api/v1/bibs/999/media', headers: { 'x-api-key': key } })).json<BibMedia>();
    expect(none).toMatchObject({ total: 0, media: [] });
    expect((await t.app.inject({ url: '/api/v1/bibs/12ab/media', headers: { 'x-api-key': key } })).statusCode).toBe(422);
    // Another owner sees nothing; deleting the photo removes its bibs.
    const stranger = await t.keyFor('someone-else');
    expect((await t.app.inject({ url: '/api/v1/bibs/4217/media', headers: { 'x-api-key': stranger } })).json<BibMedia>().total).toBe(0);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/media/${c.media_id}`, headers: { 'x-api-key': key } })).statusCode).toBe(204);
    expect((await t.app.inject({ url: '/api/v1/bibs/88/media', headers: { 'x-api-key': key } })).json<BibMedia>().total).toBe(0);
  });

  it('reads bibs in batches and /analyze jobs, and indexes them', async () => {
    const form = new FormData();
    for (const [file, n] of [[face(2, 1), '305'], [face(5, 1), '7']] as const) form.append('files', new Blob([await withBib(file, n)]), 'runner.jpg');
    const r = new Response(form);
    const batch = await t.app.inject({ method: 'POST', url: '/api/v1/bibs/recognize/batch', payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, 'x-api-key': key } });
    expect(batch.statusCode, batch.body).toBe(202);
    const job = await waitForJob(t, key, batch.json<{ job_id: string }>().job_id);
    expect(job.status).toBe('SUCCESS');
    expect(job.items.map((i) => (i.bibs as BibBody).detections.map((d) => d.bib_number))).toEqual([['305'], ['7']]);
    const byNumber = (await t.app.inject({ url: '/api/v1/bibs/305/media', headers: { 'x-api-key': key } })).json<BibMedia>();
    expect(byNumber.media[0]?.media_id).toBe(job.items[0]!.media_id);

    const form2 = new FormData();
    form2.append('file', new Blob([await withBib(face(9, 1), '5150')]), 'finish.jpg');
    form2.append('tasks', 'bibs,detect');
    const r2 = new Response(form2);
    const analyze = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: Buffer.from(await r2.arrayBuffer()), headers: { 'content-type': r2.headers.get('content-type')!, 'x-api-key': key } });
    expect(analyze.statusCode, analyze.body).toBe(202);
    const done = await waitForJob(t, key, analyze.json<{ task_id: string }>().task_id);
    expect((done.items[0]!.bibs as BibBody).detections[0]?.bib_number).toBe('5150');
    expect((await t.app.inject({ url: '/api/v1/bibs/5150/media', headers: { 'x-api-key': key } })).json<BibMedia>().total).toBe(1);
  });
});

describe('bibs with a registered bib detector, and in video', () => {
  let t: TestApp;
  let key: string;
  let dir: string;
  beforeAll(async () => {
    // No open bib detector exists, so a stand-in is registered the way a user registers theirs: a manifest of task
    // bib-detect beside its .onnx. It is YOLOX-nano relabelled (COCO's person boxes become "bibs"), which shows that
    // reading follows the detector's boxes: a bib on a person is read, a card on a table with nobody is not.
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-bibmodel-'));
    await symlink(testdata('../models/yolox_nano.onnx'), path.join(dir, 'yolox_nano.onnx'));
    const manifest = { id: 'stand_in_bibs', task: 'bib-detect', file: 'yolox_nano.onnx', licence: 'Apache-2.0', decoder: 'yolox', input: { name: 'images', width: 416, height: 416, colour: 'bgr', resize: 'letterbox', pad: 114 }, labels: Array.from({ length: 80 }, (_, i) => (i === 0 ? 'bib' : `other_${i}`)) };
    await writeFile(path.join(dir, 'stand_in_bibs.model.json'), JSON.stringify(manifest));
    t = await startTestApp('pglite', { ARGUS_MODELS_DIR: dir });
    key = await t.keyFor('timing-company');
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads inside the bib detector\'s boxes when one is registered (auto), and falls back to OCR with none', async () => {
    const runner = await post(t, key, '/api/v1/bibs/recognize', { file: await withBib(face(3, 1), '642') });
    expect(runner.statusCode, runner.body).toBe(200);
    expect(runner.json()).toMatchObject({ mode: 'detector', models: { bib_detector: 'stand_in_bibs' } });
    expect(runner.json<BibBody>().detections.map((d) => d.bib_number)).toEqual(['642']);

    const cards = (await generateBibImages({ count: 40, seed: 5, kinds: ['card'], photos: false })).filter((i) => i.params.layout === 'card-table');
    expect(cards.length).toBeGreaterThan(0);
    const card = cards[0]!;
    const withDetector = (await post(t, key, '/api/v1/bibs/recognize', { file: card.data })).json<BibBody>();
    expect(withDetector).toMatchObject({ mode: 'detector', bibs_detected: 0 });
    const settings = await t.app.inject({ method: 'PATCH', url: '/api/v1/users/timing-company/ai-settings', payload: { bibDetectionModel: 'none' }, headers: { 'x-api-key': key } });
    expect(settings.statusCode, settings.body).toBe(200);
    const fallback = (await post(t, key, '/api/v1/bibs/recognize', { file: card.data })).json<BibBody>();
    expect(fallback.mode).toBe('ocr');
    expect(fallback.detections.map((d) => d.bib_number)).toEqual([card.number]);
    const bad = await t.app.inject({ method: 'PATCH', url: '/api/v1/users/timing-company/ai-settings', payload: { bib_detection_model: 'yolox_nano' }, headers: { 'x-api-key': key } });
    expect(bad.statusCode).toBe(422);
  });

  it('reads a runner\'s bib in a video once per person track and indexes the sightings with their times', async () => {
    await t.app.inject({ method: 'PATCH', url: '/api/v1/users/timing-company/ai-settings', payload: { bib_detection_model: 'none' }, headers: { 'x-api-key': key } });
    const still = path.join(dir, 'runner.jpg');
    await writeFile(still, await withBib(face(1, 1), '4217'));
    const video = path.join(dir, 'runner.avi');
    // 3 s at 10 fps of the runner standing at the start line.
    const ff = spawnSync('ffmpeg', ['-v', 'error', '-loop', '1', '-i', still, '-t', '3', '-r', '10', '-vf', 'scale=640:-2', '-c:v', 'mpeg4', '-q:v', '3', '-y', video]);
    expect(ff.status, ff.stderr.toString()).toBe(0);
    const body = await multipart({ tasks: 'bibs', file: { data: await readFile(video), filename: 'runner.avi' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
    expect(res.statusCode, res.body).toBe(202);
    const { task_id: id, media_id: mediaId } = res.json<{ task_id: string; media_id: string }>();
    await waitForJob(t, key, id);
    const out = (await t.app.inject({ url: `/api/v1/results/${id}`, headers: { 'x-api-key': key } })).json<{
      status: string;
      result: { bibs: { bib_number: string; frames: number }[]; bib_tracks: { track_id: number; bib_number: string; readings: number }[]; frames_url: string };
    }>();
    expect(out.status).toBe('SUCCESS');
    expect(out.result.bibs.map((b) => b.bib_number)).toEqual(['4217']);
    expect(out.result.bib_tracks[0]).toMatchObject({ bib_number: '4217' });
    // Settled after two agreeing readings: the track is not read on every one of its frames.
    const frames = (await t.app.inject({ url: `${out.result.frames_url}?limit=1000`, headers: { 'x-api-key': key } })).json<{ items: { bibs?: { bib_number: string }[] }[] }>().items;
    const readFrames = frames.filter((f) => f.bibs?.length).length;
    expect(readFrames).toBeGreaterThanOrEqual(2);
    expect(readFrames).toBeLessThan(frames.length);
    const found = (await t.app.inject({ url: '/api/v1/bibs/4217/media', headers: { 'x-api-key': key } })).json<{ media: { media_id: string; kind: string; frame_index: number | null; timestamp: number | null; sightings: number }[] }>();
    expect(found.media[0]).toMatchObject({ media_id: mediaId, kind: 'video' });
    expect(found.media[0]!.timestamp).not.toBeNull();

    // The runner's face was kept with her bib's track: a photo showing only her face is found through the video.
    const portrait = await post(t, key, '/api/v1/bibs/recognize', { file: await readFile(face(1, 3)), store: 'true' });
    expect(portrait.json<BibBody>().bibs_detected).toBe(0);
    const stranger = await post(t, key, '/api/v1/bibs/recognize', { file: await readFile(face(7, 1)), store: 'true' });
    const withFace = (await t.app.inject({ url: '/api/v1/bibs/4217/media', headers: { 'x-api-key': key } })).json<BibMedia>();
    expect(withFace.media[0]).toMatchObject({ media_id: mediaId, inferred: false });
    expect(withFace.media.find((m) => m.media_id === portrait.json<BibBody>().media_id)).toMatchObject({ inferred: true, source: 'face' });
    expect(withFace.media.map((m) => m.media_id)).not.toContain(stranger.json<BibBody>().media_id);
  });
});

async function waitForJob(t: TestApp, key: string, id: string): Promise<{ status: string; items: ({ media_id: string } & Record<string, unknown>)[] }> {
  for (;;) {
    const job = (await t.app.inject({ url: `/api/v1/jobs/${id}`, headers: { 'x-api-key': key } })).json<{ status: string; items: ({ media_id: string } & Record<string, unknown>)[] }>();
    if (job.status !== 'PENDING' && job.status !== 'PROCESSING') return job;
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

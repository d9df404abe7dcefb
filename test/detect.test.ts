import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COCO80_LABELS } from '../src/domain/detection/coco-labels.js';
import { iou, type Box } from '../src/domain/geometry.js';
import { MediaStatus } from '../src/domain/media-status.js';
import { DB_MODES, multipart, SHARED, startTestApp, testdata, type TestApp } from './helper.js';

/**
 * Reference boxes: what the default detector returned, drawn over each photo and checked by eye (every box sits
 * on its object). A detection matches when its label agrees and its IoU with the reference is at least 0.8.
 */
const REFERENCE: Record<string, [string, [number, number, number, number]][]> = {
  'dog.jpg': [
    ['dog', [133, 207, 325, 542]],
    ['bicycle', [46, 132, 572, 431]],
    ['car', [467, 78, 692, 172]],
  ],
  'person_horse_dog.jpg': [
    ['person', [189, 98, 277, 375]],
    ['dog', [62, 263, 200, 351]],
    ['horse', [403, 138, 603, 345]],
  ],
  'coco_000000000139.jpg': [
    ['tv', [7, 166, 156, 263]],
    ['person', [428, 164, 471, 297]],
    ['clock', [449, 121, 461, 142]],
    ['chair', [369, 213, 442, 317]],
  ],
  'messi5.jpg': [
    ['sports ball', [338, 292, 386, 338]],
    ['person', [67, 60, 486, 337]],
  ],
  'coco_000000000724.jpg': [['stop sign', [121, 71, 255, 228]]],
};

type Det = { label: string; class_id: number; confidence: number; box: Box };

const box = ([x1, y1, x2, y2]: [number, number, number, number]): Box => ({ x1, y1, x2, y2 });

describe.each(DB_MODES)('POST /api/v1/detect on %s', (mode) => {
  let t: TestApp;
  let key: string;
  beforeAll(async () => {
    t = await startTestApp(mode);
    key = await t.keyFor('spotter');
  });
  afterAll(() => t.close());

  async function detect(data: Uint8Array, fields: Record<string, string> = {}, filename = 'photo.jpg', apiKey = key) {
    const body = await multipart({ ...fields, file: { data, filename } });
    return t.app.inject({ method: 'POST', url: '/api/v1/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': apiKey } });
  }

  it.each(Object.keys(REFERENCE))('finds the objects in %s where they are', async (file) => {
    const res = await detect(await readFile(testdata(`images/${file}`)));
    expect(res.statusCode).toBe(200);
    const body = res.json<{ width: number; height: number; model: string; detections: Det[]; timings: Record<string, number> }>();
    expect(body.model).toBe('yolox_nano');
    for (const [label, ref] of REFERENCE[file]!) {
      const best = Math.max(0, ...body.detections.filter((d) => d.label === label).map((d) => iou(d.box, box(ref))));
      expect(best, `${label} in ${file}`).toBeGreaterThan(0.8);
    }
    for (const d of body.detections) {
      expect(d.confidence).toBeGreaterThanOrEqual(0.3);
      expect(d.box.x1).toBeGreaterThanOrEqual(0);
      expect(d.box.y1).toBeGreaterThanOrEqual(0);
      expect(d.box.x2).toBeLessThanOrEqual(body.width);
      expect(d.box.y2).toBeLessThanOrEqual(body.height);
    }
    expect(body.timings.inference_ms).toBeGreaterThan(0);
  });

  it('finds no person on the negatives', async () => {
    for (const file of ['HappyFish.jpg', 'starry_night.jpg']) {
      const body = (await detect(await readFile(testdata(`images/${file}`)))).json<{ detections: Det[] }>();
      expect(body.detections.filter((d) => d.label === 'person')).toEqual([]);
    }
  });

  it('maps boxes back through EXIF orientation and PNG', async () => {
    const jpeg = await readFile(testdata('images/person_horse_dog.jpg'));
    // Stored rotated 90° with orientation 6, so viewers (and Argus) show it upright as in the original.
    const sideways = await sharp(jpeg).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const a = (await detect(sideways)).json<{ width: number; detections: Det[] }>();
    expect(a.width).toBe(640);
    const horse = a.detections.find((d) => d.label === 'horse');
    expect(iou(horse!.box, box([403, 138, 603, 345]))).toBeGreaterThan(0.8);
    const png = await sharp(jpeg).png().toBuffer();
    const b = (await detect(png, {}, 'photo.png')).json<{ detections: Det[] }>();
    expect(b.detections.map((d) => d.label)).toEqual(expect.arrayContaining(['person', 'horse', 'dog']));
  });

  it('keeps only the requested classes and honours the threshold', async () => {
    const dog = await readFile(testdata('images/dog.jpg'));
    const only = (await detect(dog, { classes: 'car, bicycle' })).json<{ detections: Det[] }>();
    expect(new Set(only.detections.map((d) => d.label))).toEqual(new Set(['car', 'bicycle']));
    const strict = (await detect(dog, { threshold: '0.8' })).json<{ detections: Det[] }>();
    const loose = (await detect(dog, { threshold: '0.05' })).json<{ detections: Det[] }>();
    expect(strict.detections.every((d) => d.confidence >= 0.8)).toBe(true);
    expect(loose.detections.length).toBeGreaterThan(strict.detections.length);
  });

  it('runs the alternative NanoDet model when asked', async () => {
    const res = await detect(await readFile(testdata('images/dog.jpg')), { model: 'nanodet_m' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ model: string; detections: Det[] }>();
    expect(body.model).toBe('nanodet_m');
    const dog = body.detections.find((d) => d.label === 'dog');
    expect(iou(dog!.box, box([133, 207, 325, 542]))).toBeGreaterThan(0.6);
  });

  it("uses a user's own model dropped into the models directory with its manifest, without a restart", async () => {
    await mkdir(t.config.modelsDir, { recursive: true });
    await copyFile(path.join(SHARED, 'models', 'yolox_nano.onnx'), path.join(t.config.modelsDir, 'porch-detector.onnx'));
    const manifest = {
      id: 'porch-detector',
      task: 'detect',
      file: 'porch-detector.onnx',
      licence: 'Apache-2.0',
      input: { width: 416, height: 416, colour: 'bgr', resize: 'letterbox', pad: 114 },
      decoder: 'yolox',
      labels: COCO80_LABELS.map((l) => (l === 'dog' ? 'good boy' : l)),
    };
    await writeFile(path.join(t.config.modelsDir, 'porch-detector.model.json'), JSON.stringify(manifest));
    const res = await detect(await readFile(testdata('images/dog.jpg')), { model: 'porch-detector' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ model: string; detections: Det[] }>().detections.map((d) => d.label)).toContain('good boy');
  });

  it('refuses bad requests with the envelope and 4xx', async () => {
    const dog = await readFile(testdata('images/dog.jpg'));
    const cases: [Promise<{ statusCode: number; json: () => { error: { code: string; message: string } } }>, number, string][] = [
      [detect(Buffer.from('%PDF-1.4 not an image')), 400, 'UNSUPPORTED_MEDIA_TYPE'],
      [detect(dog.subarray(0, 2000)), 400, 'INVALID_IMAGE'],
      [detect(await sharp({ create: { width: 20, height: 20, channels: 3, background: 'red' } }).png().toBuffer(), {}, 'a.png'), 400, 'IMAGE_TOO_SMALL'],
      [detect(dog, { classes: 'unicorn' }), 422, 'VALIDATION_ERROR'],
      [detect(dog, { model: 'no_such_model' }), 422, 'VALIDATION_ERROR'],
      [detect(dog, { model: 'yunet' }), 422, 'VALIDATION_ERROR'],
      [detect(dog, { threshold: '2' }), 422, 'VALIDATION_ERROR'],
      [detect(dog, { colour: 'red' }), 422, 'VALIDATION_ERROR'],
    ];
    for (const [pending, status, code] of cases) {
      const res = await pending;
      expect(res.statusCode).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    const body = await multipart({ threshold: '0.5' });
    const none = await t.app.inject({ method: 'POST', url: '/api/v1/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
    expect(none.statusCode).toBe(422);
  });

  it('with store=true keeps the image, its detections and its status', async () => {
    const owner = await t.keyFor('archivist');
    const data = await readFile(testdata('images/person_horse_dog.jpg'));
    const res = await detect(data, { store: 'true' }, 'field.jpg', owner);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ media_id: string; detections: Det[] }>();
    expect(body.media_id).toMatch(/^[0-9a-f]{16}$/);

    const media = await t.app.inject({ url: `/api/v1/media/${body.media_id}`, headers: { 'x-api-key': owner } });
    expect(media.json()).toMatchObject({ id: body.media_id, name: 'field.jpg', kind: 'image', status: MediaStatus.AIProcessed });
    const stored = await t.app.inject({ url: `/api/v1/media/${body.media_id}/detections`, headers: { 'x-api-key': owner } });
    expect(stored.statusCode).toBe(200);
    expect(stored.json()).toMatchObject({ media_id: body.media_id, model: 'yolox_nano', width: 640, height: 424, detections: body.detections });

    // Another owner sees nothing; a medium never analysed has no detections; a bad image stores nothing.
    expect((await t.app.inject({ url: `/api/v1/media/${body.media_id}/detections`, headers: { 'x-api-key': key } })).statusCode).toBe(404);
    const bad = await detect(data.subarray(0, 3000), { store: 'true' }, 'cut.jpg', owner);
    expect(bad.statusCode).toBe(400);
    const list = await t.app.inject({ url: '/api/v1/media', headers: { 'x-api-key': owner } });
    expect(list.json().total).toBe(1);
  });

  it('tiles a large image and finds small objects one downscaled pass misses', async () => {
    // A 4000x3000 field with five copies of a 320 px photo: each object is ~10x smaller than the model input can see.
    const small = await sharp(await readFile(testdata('images/person_horse_dog.jpg'))).resize(320).toBuffer();
    const places: [number, number][] = [[300, 400], [1800, 900], [3200, 2400], [900, 2200], [2600, 300]];
    const mosaic = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 120, g: 130, b: 110 } } })
      .composite(places.map(([left, top]) => ({ input: small, left, top })))
      .jpeg({ quality: 90 })
      .toBuffer();
    const once = (await detect(mosaic, { tiling: 'off' })).json<{ tiles: number; detections: Det[] }>();
    const tiled = (await detect(mosaic)).json<{ tiles: number; detections: Det[] }>();
    expect(once.tiles).toBe(0);
    expect(tiled.tiles).toBeGreaterThan(1);
    const persons = (r: { detections: Det[] }) => r.detections.filter((d) => d.label === 'person');
    expect(persons(once)).toHaveLength(0);
    // The person stands at (189..277, 98..375) of 640 px: a factor 0.5 in the 320 px copies.
    for (const [left, top] of places) {
      const expected = { x1: left + 94.5, y1: top + 49, x2: left + 138.5, y2: top + 187.5 };
      const hits = persons(tiled).filter((d) => iou(d.box, expected) > 0.6);
      expect(hits, `person at ${left},${top}`).toHaveLength(1);
    }
    // A 640x480 photo is never tiled.
    const normal = (await detect(await readFile(testdata('images/dog.jpg')))).json<{ tiles: number }>();
    expect(normal.tiles).toBe(0);
  });
});

describe('a missing model', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Nothing on the search path: the data dir's empty models folder only.
    t = await startTestApp('pglite', { ARGUS_MODELS_PATH: '' });
  });
  afterAll(() => t.close());

  it('answers 503 naming the file and the fix, while the rest keeps working', async () => {
    const key = await t.keyFor('someone');
    const body = await multipart({ file: { data: await readFile(testdata('images/dog.jpg')), filename: 'dog.jpg' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
    expect(res.statusCode).toBe(503);
    const error = res.json().error;
    expect(error.code).toBe('MODEL_UNAVAILABLE');
    expect(error.message).toContain('yolox_nano.onnx');
    expect(error.message).toContain('argus models pull yolox_nano');

    const blur = await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
    expect(blur.statusCode).toBe(200);
    const ready = await t.app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().models.yolox_nano.state).toBe('missing');
    expect(ready.json().degraded).toContain('yolox_nano');
  });
});

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_MODES, multipart, startTestApp, testdata, type TestApp } from './helper.js';

describe.each(DB_MODES)('/api/v1/users/{userId}/ai-settings on %s', (mode) => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp(mode);
    alice = await t.keyFor('alice');
    bob = await t.keyFor('bob');
    admin = await t.keyFor('root', 'admin');
  });
  afterAll(() => t.close());

  const get = (user: string, key: string) => t.app.inject({ url: `/api/v1/users/${user}/ai-settings`, headers: { 'x-api-key': key } });
  const put = (user: string, key: string, payload: object, method: 'PUT' | 'PATCH' = 'PUT') =>
    t.app.inject({ method, url: `/api/v1/users/${user}/ai-settings`, payload, headers: { 'x-api-key': key } });

  it('starts from the defaults', async () => {
    const res = await get('alice', alice);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ probability_threshold: 0.3, detection_model: 'yolox_nano', classes: [], big_image_tile_overlap_percent: 20, model_batch_size: 4, blur_threshold: 100 });
  });

  it.each([
    ['snake_case', { probability_threshold: 0.6, frame_period_recognition: 10, classes: ['dog'] }],
    ['camelCase', { probabilityThreshold: 0.6, framePeriodRecognition: 10, classes: ['dog'] }],
    ['PascalCase', { ProbabilityThreshold: 0.6, FramePeriodRecognition: 10, Classes: ['dog'] }],
  ])('round-trips %s and answers in snake_case', async (_casing, payload) => {
    const res = await put('alice', alice, payload);
    expect(res.statusCode).toBe(200);
    const expected = { probability_threshold: 0.6, frame_period_recognition: 10, classes: ['dog'], model_batch_size: 4 };
    expect(res.json()).toMatchObject(expected);
    expect((await get('alice', alice)).json()).toMatchObject(expected);
  });

  it('PUT resets keys left out; PATCH keeps them', async () => {
    await put('alice', alice, { probability_threshold: 0.6, model_batch_size: 8 });
    expect((await put('alice', alice, { modelBatchSize: 2 }, 'PATCH')).json()).toMatchObject({ probability_threshold: 0.6, model_batch_size: 2 });
    expect((await put('alice', alice, { model_batch_size: 2 })).json()).toMatchObject({ probability_threshold: 0.3, model_batch_size: 2 });
  });

  it('refuses unknown keys, bad values and unknown models with 422, changing nothing', async () => {
    await put('alice', alice, { probability_threshold: 0.5 });
    for (const payload of [{ probabilty: 0.4 }, { probability_threshold: 7 }, { detection_model: 'nope' }, { detection_model: 'yunet' }, { classes: 'dog' }, { bib_min_digits: 5, bib_max_digits: 3 }, { bib_min_digits: 7 }]) {
      const res = await put('alice', alice, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(res.json().error.code).toBe('VALIDATION_ERROR');
    }
    expect((await put('alice', alice, { probabilty: 0.4 })).json().error.message).toContain('probabilty');
    expect((await get('alice', alice)).json().probability_threshold).toBe(0.5);
  });

  it("keeps users to their own settings; an admin may change anyone's", async () => {
    expect((await get('alice', bob)).statusCode).toBe(403);
    expect((await put('alice', bob, { probability_threshold: 0.9 })).statusCode).toBe(403);
    expect((await put('bob', admin, { probability_threshold: 0.9 })).statusCode).toBe(200);
    expect((await get('bob', bob)).json().probability_threshold).toBe(0.9);
  });

  it('changes what detection returns, and a request parameter overrides them', async () => {
    const dog = await readFile(testdata('images/dog.jpg'));
    const detect = async (key: string, fields: Record<string, string> = {}) => {
      const body = await multipart({ ...fields, file: { data: dog, filename: 'dog.jpg' } });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
      return res.json<{ model: string; detections: { label: string; confidence: number }[] }>();
    };
    const carol = await t.keyFor('carol');
    const before = await detect(carol);
    expect(before.detections.map((d) => d.label)).toEqual(expect.arrayContaining(['dog', 'bicycle', 'car']));

    await put('carol', carol, { Classes: ['dog'], probabilityThreshold: 0.5 });
    const after = await detect(carol);
    expect(after.detections.map((d) => d.label)).toEqual(['dog']);

    await put('carol', carol, { detection_model: 'nanodet_m' });
    expect((await detect(carol)).model).toBe('nanodet_m');
    const overridden = await detect(carol, { model: 'yolox_nano', classes: 'car', threshold: '0.2' });
    expect(overridden.model).toBe('yolox_nano');
    expect(overridden.detections.map((d) => d.label)).toEqual(['car']);

    // The blur threshold setting reaches /blur/detect too.
    await put('carol', carol, { BlurThreshold: 1000 });
    const body = await multipart({ file: { data: await readFile(testdata('images/messi5.jpg')), filename: 'm.jpg' } });
    const blur = await t.app.inject({ method: 'POST', url: '/api/v1/blur/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': carol } });
    expect(blur.json()).toMatchObject({ threshold: 1000, is_blurry: true });
  });
});

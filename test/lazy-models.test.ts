import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseWarmup } from '../src/main/config.js';
import { multipart, runCli, startTestApp, testdata, type TestApp } from './helper.js';

type ModelItem = { id: string; loaded: boolean; state: string };

async function loadedModels(t: TestApp, key: string): Promise<string[]> {
  const res = await t.app.inject({ method: 'GET', url: '/api/v1/models', headers: { 'x-api-key': key } });
  expect(res.statusCode).toBe(200);
  return res.json<{ items: ModelItem[] }>().items.filter((m) => m.loaded).map((m) => m.id).sort();
}

describe('ARGUS_WARMUP and ARGUS_EXECUTION_PROVIDER settings', () => {
  it('reads all, none, true, false and lists', () => {
    expect(parseWarmup('all')).toBe('all');
    expect(parseWarmup('true')).toBe('all');
    expect(parseWarmup('none')).toEqual([]);
    expect(parseWarmup('false')).toEqual([]);
    expect(parseWarmup('yunet, mobilefacenet,yunet')).toEqual(['yunet', 'mobilefacenet']);
    expect(loadConfig({}).warmup).toBe('all');
    expect(loadConfig({}).executionProvider).toBe('cpu');
    expect(loadConfig({ ARGUS_EXECUTION_PROVIDER: 'cuda' }).executionProvider).toBe('cuda');
  });

  it.each([[{ ARGUS_EXECUTION_PROVIDER: 'gpu' }, 'ARGUS_EXECUTION_PROVIDER'], [{ ARGUS_WARMUP: 'a;b' }, 'ARGUS_WARMUP']])('refuses %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });
});

describe('lazy model loading', () => {
  describe('ARGUS_WARMUP=none', () => {
    let t: TestApp;
    let key: string;
    beforeAll(async () => {
      t = await startTestApp('pglite', { ARGUS_WARMUP: 'none' });
      key = await t.keyFor('lazy');
      await t.services.warmUp();
    });
    afterAll(() => t.close());

    it('loads nothing at startup, then only the model a request uses', async () => {
      expect(await loadedModels(t, key)).toEqual([]);
      const body = await multipart({ file: { data: await readFile(testdata('images/dog.jpg')), filename: 'dog.jpg' } });
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/detect', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
      expect(res.statusCode).toBe(200);
      // The lazily loaded model gives the same answer as a warmed one (test/detect.test.ts holds the reference boxes).
      expect(res.json<{ detections: { label: string }[] }>().detections.map((d) => d.label)).toEqual(expect.arrayContaining(['dog', 'bicycle', 'car']));
      expect(await loadedModels(t, key)).toEqual(['yolox_nano']);
    });
  });

  describe('ARGUS_WARMUP=<list>', () => {
    let t: TestApp;
    let key: string;
    beforeAll(async () => {
      t = await startTestApp('pglite', { ARGUS_WARMUP: 'yunet,mobilefacenet' });
      key = await t.keyFor('listed');
      await t.services.warmUp();
    });
    afterAll(() => t.close());

    it('loads exactly the listed models', async () => {
      expect(await loadedModels(t, key)).toEqual(['mobilefacenet', 'yunet']);
    });
  });

  it('refuses an unknown model id in ARGUS_WARMUP, naming it', async () => {
    const t = await startTestApp('pglite', { ARGUS_WARMUP: 'yolox_nano,no_such_model' });
    try {
      await expect(t.services.warmUp()).rejects.toThrow(/ARGUS_WARMUP names 'no_such_model'/);
    } finally {
      await t.close();
    }
  });
});

describe('argus serve with ARGUS_EXECUTION_PROVIDER=cuda and no CUDA build', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-cuda-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stops at startup with the setting and the fix in the message', async () => {
    const { code, stderr } = await runCli(['serve'], { ARGUS_DATA_DIR: dir, ARGUS_EXECUTION_PROVIDER: 'cuda', PORT: '0', HOST: '127.0.0.1' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/argus: invalid configuration: ARGUS_EXECUTION_PROVIDER=cuda but onnxruntime cannot use it/);
    expect(stderr).toMatch(/onnxruntime-node-install=cuda12/);
  });
});

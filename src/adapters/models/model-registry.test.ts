import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors.js';
import { BUILTIN_MANIFESTS } from './builtin-manifests.js';
import { FileModelRegistry, sha256File } from './model-registry.js';

const SHARED_MODELS = path.resolve(import.meta.dirname, '../../../../shared/models');
const yolox = BUILTIN_MANIFESTS.filter((m) => m.id === 'yolox_nano');

describe('FileModelRegistry', () => {
  let dir: string;
  let other: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-models-'));
    other = await mkdtemp(path.join(os.tmpdir(), 'argus-models-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  });

  async function refusal(registry: FileModelRegistry, id: string, task: 'detect' | 'face-detect' = 'detect'): Promise<AppError> {
    try {
      await registry.require(id, task);
    } catch (err) {
      if (err instanceof AppError) return err;
      throw err;
    }
    throw new Error('not refused');
  }

  it('reports a missing model with the fix, and finds it once it is there', async () => {
    const registry = await FileModelRegistry.open([dir, other], yolox);
    expect(registry.get('yolox_nano')?.state).toBe('missing');
    const err = await refusal(registry, 'yolox_nano');
    expect(err.statusCode).toBe(503);
    expect(err.message).toContain('yolox_nano.onnx');
    expect(err.message).toContain('argus models pull yolox_nano');

    // Dropped in later (e.g. by `argus models pull`): the next request finds it without a restart.
    await copyFile(path.join(SHARED_MODELS, 'yolox_nano.onnx'), path.join(other, 'yolox_nano.onnx'));
    const found = await registry.require('yolox_nano', 'detect');
    expect(found.path).toBe(path.join(other, 'yolox_nano.onnx'));
    expect(registry.get('yolox_nano')?.state).toBe('ok');
  });

  it('refuses a corrupt file by its checksum', async () => {
    await writeFile(path.join(dir, 'yolox_nano.onnx'), 'not a model');
    const registry = await FileModelRegistry.open([dir, other], yolox);
    // The first directory on the search path wins, even when its copy is bad.
    expect(registry.get('yolox_nano')).toMatchObject({ state: 'checksum_mismatch', path: path.join(dir, 'yolox_nano.onnx') });
    expect((await refusal(registry, 'yolox_nano')).message).toContain('fails its checksum');
    await rm(path.join(dir, 'yolox_nano.onnx'));
  });

  it('refuses unknown ids and models of another task with 422', async () => {
    const registry = await FileModelRegistry.open([other], yolox);
    expect((await refusal(registry, 'nope')).statusCode).toBe(422);
    expect((await refusal(registry, 'yolox_nano', 'face-detect')).statusCode).toBe(422);
  });

  it("takes the user's own model from a manifest beside the file, and reports bad manifests", async () => {
    await copyFile(path.join(SHARED_MODELS, 'yolox_nano.onnx'), path.join(dir, 'my-detector.onnx'));
    const sha256 = await sha256File(path.join(dir, 'my-detector.onnx'));
    const manifest = {
      id: 'my-detector',
      task: 'detect',
      file: 'my-detector.onnx',
      sha256,
      licence: 'MIT',
      input: { width: 416, height: 416, colour: 'bgr', resize: 'letterbox', pad: 114 },
      decoder: 'yolox',
      labels: ['a', 'b'],
    };
    await writeFile(path.join(dir, 'my-detector.model.json'), JSON.stringify(manifest));
    await writeFile(path.join(dir, 'unsigned.model.json'), JSON.stringify({ ...manifest, id: 'unsigned', sha256: undefined }));
    await writeFile(path.join(dir, 'broken.model.json'), '{ "id": "broken", ');
    await writeFile(path.join(dir, 'clash.model.json'), JSON.stringify({ ...manifest, id: 'yolox_nano' }));
    await writeFile(path.join(dir, 'typo.model.json'), JSON.stringify({ ...manifest, id: 'typo', tsak: 'detect' }));
    const registry = await FileModelRegistry.open([dir, other], yolox);
    expect(registry.get('my-detector')).toMatchObject({ state: 'ok', source: path.join(dir, 'my-detector.model.json') });
    // Without a checksum the model is usable but reported as unverified.
    expect(registry.get('unsigned')?.state).toBe('unverified');
    expect((await registry.require('unsigned', 'detect')).path).toBe(path.join(dir, 'my-detector.onnx'));
    const invalid = registry.list().filter((m) => m.state === 'invalid_manifest');
    expect(invalid.map((m) => path.basename(m.source)).sort()).toEqual(['broken.model.json', 'clash.model.json', 'typo.model.json']);
    expect(invalid.find((m) => m.source.endsWith('clash.model.json'))?.detail).toContain('already defined');
    expect((await registry.require('my-detector', 'detect')).manifest.labels).toEqual(['a', 'b']);
  });
});

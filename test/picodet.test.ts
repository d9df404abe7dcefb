/**
 * PP-PicoDet-S 416 as a built-in detector through the API (its own calibrated threshold, settings and request
 * fields over it), `argus models pull` fetching it like the others, and the cap on detections per image.
 */
import { createReadStream } from 'node:fs';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_MANIFESTS } from '../src/adapters/models/builtin-manifests.js';
import { iou, type Box } from '../src/domain/geometry.js';
import { multipart, runCli, SHARED, startTestApp, testdata, type TestApp } from './helper.js';

type Det = { label: string; confidence: number; box: Box };
const box = ([x1, y1, x2, y2]: [number, number, number, number]): Box => ({ x1, y1, x2, y2 });

describe('picodet_s_416 and the detection cap through /detect', () => {
  let t: TestApp;
  let key: string;
  let dog: Buffer;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    key = await t.keyFor('picker');
    dog = await readFile(testdata('images/dog.jpg'));
  });
  afterAll(() => t.close());

  async function detect(fields: Record<string, string>, data: Uint8Array = dog): Promise<{ status: number; body: { model: string; detections: Det[] } }> {
    const form = await multipart({ ...fields, file: { data, filename: 'photo.jpg' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/detect', payload: form.payload, headers: { ...form.headers, 'x-api-key': key } });
    return { status: res.statusCode, body: res.json() };
  }
  const settings = (payload: Record<string, unknown>) =>
    t.app.inject({ method: 'PUT', url: '/api/v1/users/picker/ai-settings', payload, headers: { 'x-api-key': key } });

  it("finds dog.jpg's objects at its own threshold (0.4) while probability_threshold is at the default", async () => {
    const { status, body } = await detect({ model: 'picodet_s_416' });
    expect(status).toBe(200);
    expect(body.model).toBe('picodet_s_416');
    // The boxes test/detect.test.ts checked by eye; PicoDet draws the bicycle a little tighter on the left.
    for (const [label, ref, min] of [['dog', [133, 207, 325, 542], 0.8], ['car', [467, 78, 692, 172], 0.8], ['bicycle', [46, 132, 572, 431], 0.7]] as const) {
      const best = Math.max(0, ...body.detections.filter((d) => d.label === label).map((d) => iou(d.box, box([...ref]))));
      expect(best, label).toBeGreaterThan(min);
    }
    expect(Math.min(...body.detections.map((d) => d.confidence))).toBeGreaterThanOrEqual(0.4);
  });

  it("gives way to the request's threshold and to a probability_threshold the user set", async () => {
    const loose = (await detect({ model: 'picodet_s_416', threshold: '0.1' })).body;
    expect(loose.detections.length).toBeGreaterThan(4);
    expect(loose.detections.some((d) => d.confidence < 0.4)).toBe(true);
    expect((await settings({ probability_threshold: 0.75 })).statusCode).toBe(200);
    const strict = (await detect({ model: 'picodet_s_416' })).body;
    expect(strict.detections.map((d) => d.label).sort()).toEqual(['car', 'dog']);
    expect((await settings({})).statusCode).toBe(200);
  });

  it('caps detections per image at 100 by default, at max_detections from settings, and at the request field', async () => {
    // NanoDet at 0.01 scores several hundred boxes on this photo.
    const capped = (await detect({ model: 'nanodet_m', threshold: '0.01' })).body;
    expect(capped.detections).toHaveLength(100);
    const raised = (await detect({ model: 'nanodet_m', threshold: '0.01', max_detections: '10000' })).body;
    expect(raised.detections.length).toBeGreaterThan(100);
    // The cap keeps the best: the first 100 of the uncapped answer.
    expect(capped.detections).toEqual(raised.detections.slice(0, 100));
    expect((await detect({ model: 'nanodet_m', threshold: '0.01', max_detections: '3' })).body.detections).toHaveLength(3);
    expect((await settings({ MaxDetections: 7 })).statusCode).toBe(200);
    expect((await detect({ model: 'nanodet_m', threshold: '0.01' })).body.detections).toHaveLength(7);
    expect((await detect({ model: 'nanodet_m', threshold: '0.01', max_detections: '20' })).body.detections).toHaveLength(20);
    expect((await settings({})).statusCode).toBe(200);
    for (const bad of ['0', '-1', '10001', 'many']) {
      const res = await detect({ max_detections: bad });
      expect(res.status, bad).toBe(422);
    }
  });
});

describe('argus models pull picodet_s_416', () => {
  let dir: string;
  let server: http.Server;
  let mirror: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-pull-picodet-'));
    // A stand-in for the upstream address (no internet here): serves ../shared/models by file name.
    server = http.createServer((req, res) => {
      const file = path.join(SHARED, 'models', path.basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      stat(file).then(
        (s) => {
          res.writeHead(200, { 'content-length': s.size });
          createReadStream(file).pipe(res);
        },
        () => res.writeHead(404).end(),
      );
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('names the pinned upstream file, downloads it and checks its sha256', async () => {
    const manifest = BUILTIN_MANIFESTS.find((m) => m.id === 'picodet_s_416');
    expect(manifest?.url).toBe('https://github.com/hpc203/picodet-onnxruntime/raw/dfe4d6cd0a18cd4126ee381e81df8a0b1e6ad97b/coco/picodet_s_416_coco.onnx');
    const env = { ARGUS_DATA_DIR: dir, ARGUS_MODELS_PATH: '' };
    expect((await runCli(['models', 'list'], env)).stdout).toMatch(/picodet_s_416\s+detect\s+missing/);
    const pull = await runCli(['models', 'pull', 'picodet_s_416', '--mirror', mirror], env);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain('sha256 verified');
    await access(path.join(dir, 'models', 'picodet_s_416_coco.onnx'));
    expect((await runCli(['models', 'list'], env)).stdout).toMatch(/picodet_s_416\s+detect\s+ok/);
  });
});

import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { UsableModel } from '../../app/ports.js';
import { BUILTIN_MANIFESTS } from '../models/builtin-manifests.js';
import { OnnxEngine } from './onnx-engine.js';

const MODELS = path.resolve(import.meta.dirname, '../../../../shared/models');
const manifest = BUILTIN_MANIFESTS.find((m) => m.id === 'yolox_nano')!;
const yolox: UsableModel = { manifest, path: path.join(MODELS, manifest.file) };
const DIMS = [1, 3, 416, 416];

describe('OnnxEngine', () => {
  const metrics = new Registry();
  const engine = new OnnxEngine({ threads: 1, intraOpThreads: 0, interOpThreads: 1, metrics });
  afterAll(() => engine.close());

  it('runs the real model and hands the input buffer back', async () => {
    const input = new Float32Array(3 * 416 * 416).fill(114);
    const out = await engine.run(yolox, { data: input, dims: DIMS });
    expect(out.outputs.get('output')?.dims).toEqual([1, 3549, 85]);
    expect(out.runMs).toBeGreaterThan(0);
    // The buffer travelled to the inference thread and back, intact and reusable.
    expect(out.input.length).toBe(3 * 416 * 416);
    expect(out.input[12345]).toBe(114);
    expect(input.length).toBe(0);
  });

  it('reuses released output buffers for the next run, and leaves unreleased ones alone', async () => {
    const grey = (): Float32Array => new Float32Array(3 * 416 * 416).fill(114);
    const first = await engine.run(yolox, { data: grey(), dims: DIMS });
    const kept = first.outputs.get('output')!.data;
    const expected = Float32Array.from(kept);
    // Not released: a later run does not touch it.
    await engine.run(yolox, { data: grey(), dims: DIMS });
    expect(kept).toEqual(expected);
    // Released: the buffer is lent to the next run (so it leaves this thread) and comes back holding that run's outputs.
    first.release!();
    const next = await engine.run(yolox, { data: grey(), dims: DIMS });
    expect(kept.length).toBe(0);
    expect(next.outputs.get('output')!.data).toEqual(expected);
  });

  it('keeps the event loop free while a model runs', async () => {
    let data: Float32Array = new Float32Array(3 * 416 * 416);
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    for (let i = 0; i < 5; i++) data = (await engine.run(yolox, { data, dims: DIMS })).input;
    running = false;
    // Were session.run on this thread, the loop would turn about once per run; off-thread it turns freely.
    expect(turns).toBeGreaterThan(50);
  });

  it('records a latency histogram per model', async () => {
    const text = await metrics.metrics();
    expect(text).toMatch(/argus_inference_duration_seconds_count\{model="yolox_nano"\} [1-9]/);
  });

  it('reports a file that will not load, and recovers for the next model', async () => {
    const broken: UsableModel = { manifest: { ...manifest, id: 'broken' }, path: path.join(MODELS, 'MODELS.md') };
    await expect(engine.run(broken, { data: new Float32Array(8), dims: [8] })).rejects.toThrow();
    const ok = await engine.run(yolox, { data: new Float32Array(3 * 416 * 416), dims: DIMS });
    expect(ok.outputs.size).toBe(1);
  });
});

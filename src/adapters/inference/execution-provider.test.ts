import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { checkExecutionProvider, identityModel } from './execution-provider.js';

// Where onnxruntime-node's install script puts the CUDA provider when asked for its CUDA build.
const ortBin = path.join(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', 'linux', 'x64');
const cudaInstalled = existsSync(path.join(ortBin, 'libonnxruntime_providers_cuda.so'));

describe('execution provider check', () => {
  it('probes with a hand-encoded model onnxruntime accepts and runs', async () => {
    const session = await ort.InferenceSession.create(identityModel());
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(3.5), [1]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([3.5]);
    await session.release();
  });

  it('accepts the CPU provider', async () => {
    await expect(checkExecutionProvider('cpu')).resolves.toBeUndefined();
  });

  it.skipIf(cudaInstalled)('refuses CUDA without onnxruntime-node\'s CUDA build, naming the setting and the fix', async () => {
    const err = await checkExecutionProvider('cuda').then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/ARGUS_EXECUTION_PROVIDER=cuda/);
    expect(err?.message).toMatch(/--onnxruntime-node-install=cuda12/);
    expect(err?.message).toMatch(/ARGUS_EXECUTION_PROVIDER=cpu/);
  });
});

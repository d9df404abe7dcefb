/**
 * `npm run bench -- video [file]`: video analysis throughput on one clip (default Megamind.avi), in one run:
 *   1. ffmpeg decode alone: the sampled frames (every 4th, scaled to the model input) pulled as fast as possible;
 *   2. the model alone on those frames: bare `session.run` on tensors prepared beforehand (onnxruntime defaults);
 *   3. the whole video job: stored clip → job runner → decode, detect, track, events, result.
 * Each in analysed frames per second (median of 3); the job's ratio is to the slower of 1 and 2 (target ≥ 0.9).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import { decodeFrames } from '../adapters/media/ffmpeg-video.js';
import { ingestMedia } from '../app/ingest-media.js';
import { submitJob } from '../app/submit-job.js';
import { writeChw } from '../domain/image-tensor.js';
import { loadConfig } from '../main/config.js';
import { createServices } from '../main/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Runs the video benchmark on `file`. */
export async function benchVideo(file = path.join(ROOT, '../shared/testdata/video/Megamind.avi')): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-bench-video-'));
  const config = loadConfig({ ...process.env, ARGUS_DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const services = await createServices(config, pino({ level: 'silent' }));
  const { deps } = services;
  try {
    const model = await deps.models.require('yolox_nano', 'detect');
    const { width: W, height: H } = model.manifest.input;
    const sampling = { everyNth: 4, minSeconds: 0, maxSide: Math.max(W, H) };

    // 1. ffmpeg decode alone.
    const decodeRates: number[] = [];
    let frames: { data: Uint8Array; width: number; height: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const got: typeof frames = [];
      const t0 = performance.now();
      for await (const f of decodeFrames(file, sampling)) got.push(f);
      decodeRates.push(got.length / ((performance.now() - t0) / 1000));
      frames = got;
    }

    // 2. The model alone on the same frames.
    const session = await ort.InferenceSession.create(model.path);
    const tensors = frames.map((f) => {
      const place = { width: W, height: H, x: 0, y: 0, pad: 114 };
      return new ort.Tensor('float32', writeChw(f, { colour: 'bgr' }, new Float32Array(3 * W * H), 0, place), [1, 3, H, W]);
    });
    await session.run({ images: tensors[0]! });
    const modelRates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      for (const t of tensors) await session.run({ images: t });
      modelRates.push(tensors.length / ((performance.now() - t0) / 1000));
    }
    await session.release();

    // 3. The whole job through the runner.
    await services.warmUp();
    await services.runner?.start();
    const { record } = await ingestMedia(deps, { ownerId: 'bench', filename: path.basename(file), content: createReadStream(file) });
    const jobRates: number[] = [];
    let analysed = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      const job = await submitJob(
        { ...deps, settings: deps.aiSettings, defaults: deps.settings.aiDefaults, maxAttempts: 1 },
        { ownerId: 'bench', kind: 'video', inputs: [{ mediaId: record.id }], tasks: ['detect'], settings: { frame_period_recognition: sampling.everyNth } },
      );
      let done = await deps.jobs.get(job.id);
      while (done && (done.status === 'queued' || done.status === 'running')) {
        await new Promise((ok) => setTimeout(ok, 20));
        done = await deps.jobs.get(job.id);
      }
      if (done?.status !== 'succeeded') throw new Error(`video job ${done?.status ?? 'missing'}: ${done?.error ?? ''}`);
      analysed = (done.result?.frames as unknown[]).length;
      jobRates.push(analysed / ((performance.now() - t0) / 1000));
    }

    const decode = median(decodeRates);
    const modelAlone = median(modelRates);
    const whole = median(jobRates);
    const floor = Math.min(decode, modelAlone);
    console.log(`video, ${path.basename(file)}: ${frames.length} frames analysed (every ${sampling.everyNth}th, scaled to ${frames[0]?.width}x${frames[0]?.height}), median of ${ROUNDS}, ${os.availableParallelism()} cores`);
    console.log(`  ffmpeg decode alone           ${decode.toFixed(1).padStart(7)} frames/s`);
    console.log(`  model alone (bare session.run) ${modelAlone.toFixed(1).padStart(6)} frames/s`);
    console.log(`  whole video job                ${whole.toFixed(1).padStart(6)} frames/s   ${(whole / floor).toFixed(2)} x the slower of the two (${analysed} frames)`);
  } finally {
    await services.close();
    await rm(dir, { recursive: true, force: true });
  }
}

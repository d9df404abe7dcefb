/**
 * `npm run bench -- detect`: object detection throughput on the test photos, in one run:
 *   1. bare `session.run` on ready tensors: one stream with onnxruntime's default threads (the baseline, as a
 *      Python service runs it), and Argus's own layout (N threads, one single-threaded session each) as a ceiling;
 *   2. the in-process pipeline (decode, letterbox, inference thread, decode outputs, NMS), one and two at a time;
 *   3. the HTTP endpoint of a real server process at concurrency 1, 2, 4 and 8, with the server's CPU time per image.
 *      The client is node:http with keep-alive and each photo's multipart body built once: it shares the 2 cores with
 *      the server, and undici's fetch with a FormData per request cost 2.6-4.3 ms of CPU per request here against
 *      0.7-1 ms for this one — time that would be billed to the server;
 *   4. the machine's limit for any pipeline of decoding and inference on these cores: sharp's part alone (sniff,
 *      header, decode and resize to the model input, as /detect does it) with every core busy, inference alone
 *      (the N-thread line of 1), and 1/(1/decode + 1/infer), since the two share the cores.
 * Each figure is printed in images/s with its ratio to bare inference; HTTP at concurrency 4 also as a ratio to
 * the limit. Targets: HTTP >= 0.9 of bare and of the limit.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import { detectObjects, type DetectOptions } from '../app/detect-objects.js';
import { checkImage } from '../app/load-image.js';
import { writeChw } from '../domain/image-tensor.js';
import { planLetterbox } from '../domain/geometry.js';
import { loadConfig } from '../main/config.js';
import { createServices } from '../main/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IMAGES = ['dog.jpg', 'person_horse_dog.jpg', 'coco_000000000139.jpg', 'coco_000000000285.jpg', 'coco_000000000632.jpg', 'coco_000000000724.jpg', 'messi5.jpg', 'ultraface_9.jpg'];
const OPTS: DetectOptions = { model: 'yolox_nano', threshold: 0.3, classes: [], tileOverlapPercent: 20, batchSize: 4, tiling: 'auto' };

/** Runs `task(i)` for i in 0..n-1 with `concurrency` in flight; returns images per second. */
async function throughput(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

const STREAM = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
(async () => {
  const s = await ort.InferenceSession.create(workerData.model, { intraOpNumThreads: workerData.intra, interOpNumThreads: 1 });
  const t = new ort.Tensor('float32', workerData.input, [1, 3, 416, 416]);
  for (let i = 0; i < 3; i++) await s.run({ images: t });
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  for (let i = 0; i < workerData.runs; i++) await s.run({ images: t });
  parentPort.postMessage('done');
})();
`;

/** Bare throughput of `streams` threads, each running its own session on one tensor: images per second. */
async function bareStreams(modelPath: string, input: Float32Array, streams: number, intra: number, n: number): Promise<number> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const runs = Math.ceil(n / streams);
  const workers = Array.from({ length: streams }, () => new Worker(STREAM, { eval: true, workerData: { ort: ortPath, model: modelPath, intra, input, runs } }));
  await Promise.all(workers.map((w) => once(w, 'message')));
  const started = performance.now();
  const done = Promise.all(workers.map((w) => once(w, 'message')));
  for (const w of workers) w.postMessage('go');
  await done;
  const rate = (runs * streams) / ((performance.now() - started) / 1000);
  await Promise.all(workers.map((w) => w.terminate()));
  return rate;
}

/** CPU time (user + system) of a process so far, in ms, from /proc; 0 where there is none. */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    // utime and stime are the 12th and 13th fields after the name, in clock ticks (100 per second).
    return ((f[11] ?? 0) + (f[12] ?? 0)) * 10;
  } catch {
    return 0;
  }
}

/** Runs the benchmark with `rounds` passes over the test photos per figure. */
export async function benchDetect(rounds = 8): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-bench-detect-'));
  const config = loadConfig({ ...process.env, ARGUS_DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const photos = await Promise.all(IMAGES.map((f) => readFile(path.join(ROOT, '../shared/testdata/images', f))));
  const n = photos.length * rounds;
  const services = await createServices(config, pino({ level: 'silent' }));
  const deps = { ...services.deps, limits: services.deps.settings.imageLimits };
  const model = await deps.models.require('yolox_nano', 'detect');
  const results: [string, number][] = [];
  /** Server CPU ms per image, by HTTP concurrency. */
  const serverCpu = new Map<number, number>();
  let decodeAlone: number;
  let inferAlone: number;

  try {
    // 1. Bare session.run on tensors prepared beforehand, as a Python service's inner loop would see it.
    const session = await ort.InferenceSession.create(model.path);
    const tensors = await Promise.all(
      photos.map(async (p) => {
        const info = await deps.decoder.probe(p);
        const lb = planLetterbox(info.width, info.height, 416, 416);
        const img = await deps.decoder.resizeRgb(p, null, lb.width, lb.height);
        const place = { width: 416, height: 416, x: 0, y: 0, pad: 114 };
        return new ort.Tensor('float32', writeChw(img, { colour: 'bgr' }, new Float32Array(3 * 416 * 416), 0, place), [1, 3, 416, 416]);
      }),
    );
    for (const t of tensors) await session.run({ images: t });
    const bare = await throughput(n, 1, (i) => session.run({ images: tensors[i % tensors.length]! }));
    await session.release();
    results.push(['bare session.run, default threads', bare]);
    const streams = config.inferenceThreads;
    inferAlone = await bareStreams(model.path, tensors[0]!.data, streams, config.intraOpThreads, n);
    results.push([`bare session.run, ${streams} x ${config.intraOpThreads}-thread`, inferAlone]);

    // 4a. Decoding alone, with as many images in flight as HTTP's highest concurrency (libvips threads on every core).
    const decodeOnce = async (i: number): Promise<void> => {
      const p = photos[i % photos.length]!;
      const info = await checkImage(p, deps.sniffer, deps.decoder, deps.limits);
      const lb = planLetterbox(info.width, info.height, 416, 416);
      await deps.decoder.resizeRgb(p, null, lb.width, lb.height);
    };
    for (let i = 0; i < photos.length; i++) await decodeOnce(i);
    decodeAlone = await throughput(n, 4, decodeOnce);

    // 2. The in-process pipeline, as /detect runs it.
    for (const p of photos) await detectObjects(deps, p, OPTS);
    results.push(['pipeline, 1 at a time', await throughput(n, 1, (i) => detectObjects(deps, photos[i % photos.length]!, OPTS))]);
    results.push(['pipeline, 2 at a time', await throughput(n, 2, (i) => detectObjects(deps, photos[i % photos.length]!, OPTS))]);
    results.push(['pipeline, 4 at a time', await throughput(n, 4, (i) => detectObjects(deps, photos[i % photos.length]!, OPTS))]);
  } finally {
    await services.close();
  }

  // 3. A real server process over HTTP.
  const port = 21_000 + Math.floor(Math.random() * 9000);
  const server = spawn(process.execPath, [path.join(ROOT, 'dist/main/api.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ARGUS_AUTH: 'off', ARGUS_DATA_DIR: dir, LOG_LEVEL: 'warn', ARGUS_RATE_LIMIT_PER_MINUTE: '0', ARGUS_WARMUP: 'yolox_nano' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    // Up to two minutes: a first start creates the embedded database, slow on a busy machine.
    for (let i = 0; i < 1200; i++) {
      if (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const boundary = 'argus-bench-boundary';
    const bodies = photos.map((p, i) =>
      Buffer.concat([Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${IMAGES[i]}"\r\ncontent-type: image/jpeg\r\n\r\n`), p, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const post = (i: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const body = bodies[i % bodies.length]!;
        const req = http.request(`${url}/api/v1/detect`, { method: 'POST', agent, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
    // A warm-up the size of one figure (the server's JIT and buffers settle), then three times as many requests per
    // figure as the in-process lines: a server's figure moves more from run to run.
    await throughput(n, 4, post);
    const requests = 3 * n;
    for (const c of [1, 2, 4, 8]) {
      const cpu0 = cpuMsOf(server.pid ?? 0);
      results.push([`HTTP /api/v1/detect, concurrency ${c}`, await throughput(requests, c, post)]);
      serverCpu.set(c, (cpuMsOf(server.pid ?? 0) - cpu0) / requests);
    }
    agent.destroy();
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }

  const bare = results[0]![1];
  console.log(`object detection, yolox_nano 416x416, ${photos.length} test photos x ${rounds} rounds per figure, ${os.availableParallelism()} cores`);
  console.log(`  (Argus: ${config.inferenceThreads} inference thread(s) x ${config.intraOpThreads} intra-op thread(s); ratios are to the first line)`);
  for (const [name, rate] of results) {
    const c = Number(/concurrency (\d+)/.exec(name)?.[1]);
    const cpu = serverCpu.get(c);
    console.log(`  ${name.padEnd(38)} ${rate.toFixed(1).padStart(7)} images/s   ${(rate / bare).toFixed(2)} x bare${cpu ? `   server CPU ${cpu.toFixed(1)} ms/image` : ''}`);
  }
  // Decoding and inference share the cores, so per image their times add: no pipeline of the two beats this.
  const limit = 1 / (1 / decodeAlone + 1 / inferAlone);
  const cores = os.availableParallelism();
  const best = results.filter(([name]) => name.startsWith('HTTP')).reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0] as [string, number]);
  console.log(`  the image limit on ${os.availableParallelism()} cores (each part alone with every core busy):`);
  console.log(`    sharp decode + resize alone, 4 at a time ${decodeAlone.toFixed(1).padStart(7)} images/s`);
  console.log(`    inference alone, ${config.inferenceThreads} x ${config.intraOpThreads}-thread         ${inferAlone.toFixed(1).padStart(7)} images/s`);
  console.log(`    limit 1/(1/decode + 1/infer)           ${limit.toFixed(1).padStart(7)} images/s   (${((cores * 1000) / limit).toFixed(1)} ms of CPU per image on ${cores} cores)`);
  console.log(`    best HTTP line (${best[0].replace(/.*, /, '')})          ${best[1].toFixed(1).padStart(7)} images/s   ${(best[1] / limit).toFixed(2)} x limit (target >= 0.90)`);
}

/**
 * `npm run bench -- scale [images] [videos]`: the same workload — a batch of images (detect) and video jobs
 * (Megamind.avi, detect) — through real processes in three set-ups, in one run: embedded (`argus serve` alone,
 * the baseline), 1 API + 1 worker, and 1 API + 2 workers (PostgreSQL on BENCH_DATABASE_URL's server, default the
 * local one; a redis-server of the bench's own). Prints wall time, images/s, video frames/s, each set-up's ratio
 * to embedded, and per-core capacity figures for the README's capacity model.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const SHARED = fileURLToPath(new URL('../../../shared/testdata/', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/argus.js', import.meta.url));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Started {
  proc: ChildProcess;
  out: string[];
}

function start(args: string[], env: Record<string, string>, ready: RegExp): Promise<Started> {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MALLOC_ARENA_MAX: '2', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  proc.stdout.on('data', (d: Buffer) => out.push(d.toString()));
  proc.stderr.on('data', (d: Buffer) => out.push(d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (ready.test(out.join(''))) {
        clearInterval(timer);
        resolve({ proc, out });
      } else if (proc.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`${args.join(' ')} exited:\n${out.join('')}`));
      }
    }, 100);
  });
}

async function stop(p: Started): Promise<void> {
  if (p.proc.exitCode !== null) return;
  p.proc.kill('SIGTERM');
  await once(p.proc, 'exit');
}

interface Outcome {
  /** The batch alone, then the videos alone. */
  imageSeconds: number;
  videoSeconds: number;
  images: number;
  frames: number;
}

/** Submits the workload to an API — first the batch, then the videos — and times each part to its last job's end. */
async function workload(base: string, key: string, images: Buffer[], videos: number): Promise<Outcome> {
  const headers = { 'x-api-key': key };
  const avi = await readFile(path.join(SHARED, 'video/Megamind.avi'));
  // Stored first (not timed): the workload is the analysis.
  const up = new FormData();
  up.append('file', new Blob([avi]), 'Megamind.avi');
  const media = ((await (await fetch(`${base}/media`, { method: 'POST', headers, body: up })).json()) as { id: string }).id;
  const wait = async (ids: string[]): Promise<number> => {
    let frames = 0;
    for (const id of ids) {
      for (;;) {
        const job = (await (await fetch(`${base}/jobs/${id}`, { headers })).json()) as { status: string; kind: string; progress: { done: number } };
        if (job.status === 'succeeded' || job.status === 'failed') {
          if (job.status === 'failed') throw new Error(`job ${id} failed`);
          if (job.kind === 'video') frames += job.progress.done;
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return frames;
  };
  let t0 = performance.now();
  const form = new FormData();
  images.forEach((img, i) => form.append('files', new Blob([img]), `${i}.jpg`));
  const batch = await fetch(`${base}/detect/batch`, { method: 'POST', headers, body: form });
  await wait([((await batch.json()) as { job_id: string }).job_id]);
  const imageSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const ids: string[] = [];
  for (let v = 0; v < videos; v++) {
    const res = await fetch(`${base}/analyze`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ media_id: media, tasks: ['detect'] }) });
    ids.push(((await res.json()) as { task_id: string }).task_id);
  }
  const frames = await wait(ids);
  return { imageSeconds, videoSeconds: (performance.now() - t0) / 1000, images: images.length, frames };
}

const keyOf = (p: Started): string => /"api_key":"(argus_[^"]+)"/.exec(p.out.join(''))?.[1] ?? '';

/** Runs the benchmark and prints its figures. */
export async function benchScale(imageCount: number, videos: number): Promise<void> {
  const files = ['dog.jpg', 'person_horse_dog.jpg', 'coco_000000000139.jpg', 'messi5.jpg', 'coco_000000000632.jpg'];
  const photos = await Promise.all(files.map((f) => readFile(path.join(SHARED, 'images', f))));
  const images = Array.from({ length: imageCount }, (_, i) => photos[i % photos.length] as Buffer);
  const results: { name: string; outcome: Outcome; cores: number }[] = [];
  const port = (): string => String(30_000 + Math.floor(Math.random() * 10_000));

  // 1. Embedded: one process, PGlite, jobs in-process (two at a time, the default).
  {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-scale-'));
    const p = port();
    const api = await start(['serve'], { PORT: p, HOST: '127.0.0.1', ARGUS_DATA_DIR: dir, ARGUS_RATE_LIMIT_PER_MINUTE: '0' }, /Server listening/);
    try {
      results.push({ name: 'embedded (1 process)', outcome: await workload(`http://127.0.0.1:${p}/api/v1`, keyOf(api), images, videos), cores: os.availableParallelism() });
    } finally {
      await stop(api);
      await rm(dir, { recursive: true, force: true });
    }
  }

  // 2 and 3. Scale-out: a fresh database and a Redis of our own each time.
  for (const workerCount of [1, 2]) {
    const name = `argus_bench_scale_${process.pid}_${workerCount}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const dbUrl = new URL(ADMIN_URL);
    dbUrl.pathname = `/${name}`;
    const redisPort = port();
    const redis = spawn('redis-server', ['--port', redisPort, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-scale-'));
    const env = { DATABASE_URL: dbUrl.toString(), REDIS_URL: `redis://127.0.0.1:${redisPort}`, ARGUS_DATA_DIR: dir, ARGUS_RATE_LIMIT_PER_MINUTE: '0' };
    const p = port();
    const procs: Started[] = [];
    try {
      procs.push(await start(['serve'], { ...env, PORT: p, HOST: '127.0.0.1' }, /Server listening/));
      for (let w = 0; w < workerCount; w++) procs.push(await start(['worker', '--concurrency', '2'], env, /worker taking jobs/));
      results.push({ name: `1 API + ${workerCount} worker${workerCount > 1 ? 's' : ''}`, outcome: await workload(`http://127.0.0.1:${p}/api/v1`, keyOf(procs[0] as Started), images, videos), cores: os.availableParallelism() });
    } finally {
      for (const proc of procs.reverse()) await stop(proc);
      redis.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      const cleanup = new pg.Client({ connectionString: ADMIN_URL });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    }
  }

  const base = results[0]!.outcome;
  const cores = os.availableParallelism();
  console.log(`\nscale: a batch of ${imageCount} images (detect), then ${videos} x Megamind.avi (detect, every 4th frame), on ${cores} cores shared by every process\n`);
  console.log('set-up                   batch s   images/s  ratio   videos s  frames/s  ratio');
  for (const r of results) {
    const o = r.outcome;
    console.log(
      `${r.name.padEnd(22)} ${o.imageSeconds.toFixed(1).padStart(8)} ${(o.images / o.imageSeconds).toFixed(1).padStart(10)} ${(base.imageSeconds / o.imageSeconds).toFixed(2).padStart(6)}x ${o.videoSeconds.toFixed(1).padStart(9)} ${(o.frames / o.videoSeconds).toFixed(1).padStart(9)} ${(base.videoSeconds / o.videoSeconds).toFixed(2).padStart(6)}x`,
    );
  }
  // Per core: what analysis does with the whole machine, divided by its cores (the capacity model's unit).
  const framesPerS = base.frames / base.videoSeconds;
  console.log(`\nper core (embedded): ${(base.images / base.imageSeconds / cores).toFixed(1)} images/s; ${(framesPerS / cores).toFixed(1)} analysed frames/s = ${((framesPerS / cores) * 3600 / (24 / 4) / 60).toFixed(0)} video-minutes/hour at 24 fps, every 4th frame analysed`);
}

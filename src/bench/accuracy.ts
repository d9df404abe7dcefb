/**
 * `npm run bench -- accuracy`: accuracy per cost of every built-in detector, so a user can choose. For each one,
 * COCO mAP@[.5:.95] (and AP50, AP75) on ../shared/testdata/coco128-train through the real detection path
 * (`detectObjects`, threshold 0.01, tiling off, pycocotools' rules), next to its images/s through the same path at
 * its default threshold, two images at a time (one per inference thread on two cores).
 *
 * The loading and evaluation helpers are shared with test/coco-map.test.ts, which holds each detector to a floor.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxEngine } from '../adapters/inference/onnx-engine.js';
import { FileTypeSniffer } from '../adapters/media/file-type-sniffer.js';
import { SharpImageDecoder } from '../adapters/media/sharp-image-decoder.js';
import { BUILTIN_MANIFESTS } from '../adapters/models/builtin-manifests.js';
import { FileModelRegistry } from '../adapters/models/model-registry.js';
import { detectObjects, type DetectObjectsDeps, type DetectOptions } from '../app/detect-objects.js';
import { TensorPool } from '../app/tensor-pool.js';
import { COCO80_LABELS } from '../domain/detection/coco-labels.js';
import { cocoMap, type CocoMapResult, type GroundTruthBox, type ScoredBox } from '../domain/detection/coco-map.js';
import { loadConfig, type Config } from '../main/config.js';

/** ../shared/testdata/coco128-train beside the repository. */
export const COCO128_DIR = fileURLToPath(new URL('../../../shared/testdata/coco128-train/', import.meta.url));

/** The built-in COCO detectors, in the order the bench prints them. */
export const BUILTIN_DETECTORS: readonly string[] = BUILTIN_MANIFESTS.filter((m) => m.task === 'detect').map((m) => m.id);

/** A COCO-style evaluation set: its images (by id, sorted as pycocotools sorts them) and ground truth. */
export interface CocoSet {
  readonly dir: string;
  readonly images: readonly { readonly id: number; readonly file: string }[];
  readonly truth: readonly GroundTruthBox[];
}

interface InstancesFile {
  images: { id: number; file_name: string }[];
  categories: { id: number; name: string }[];
  annotations: { image_id: number; category_id: number; bbox: [number, number, number, number]; iscrowd: number }[];
}

/** Reads `dir`/instances_train2017.json; class ids become indices into `labels` by category name. */
export async function loadCocoSet(dir = COCO128_DIR, labels: readonly string[] = COCO80_LABELS): Promise<CocoSet> {
  const file = path.join(dir, 'instances_train2017.json');
  const json = JSON.parse(await readFile(file, 'utf8')) as InstancesFile;
  const classOf = new Map<number, number>();
  for (const c of json.categories) {
    const id = labels.indexOf(c.name);
    if (id < 0) throw new Error(`${file}: category '${c.name}' is not among the model's labels`);
    classOf.set(c.id, id);
  }
  const truth = json.annotations.map((a) => {
    const [x, y, w, h] = a.bbox;
    return { imageId: a.image_id, classId: classOf.get(a.category_id) ?? -1, box: { x1: x, y1: y, x2: x + w, y2: y + h }, crowd: a.iscrowd === 1 };
  });
  const images = json.images.map((i) => ({ id: i.id, file: path.join(dir, 'images', i.file_name) })).sort((a, b) => a.id - b.id);
  return { dir, images, truth };
}

/** Detection's dependencies built straight from the adapters (no database), and how to release them. */
export async function openDetectDeps(config: Config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' })): Promise<{ deps: DetectObjectsDeps; close: () => Promise<void> }> {
  const models = await FileModelRegistry.open(config.modelSearchPath, BUILTIN_MANIFESTS);
  const engine = new OnnxEngine({ threads: config.inferenceThreads, intraOpThreads: config.intraOpThreads, interOpThreads: config.interOpThreads });
  const deps: DetectObjectsDeps = {
    sniffer: new FileTypeSniffer(),
    decoder: new SharpImageDecoder(config.maxPixels),
    models,
    engine,
    limits: { maxPixels: config.maxPixels, minSide: 32 },
    tensors: new TensorPool(),
  };
  return { deps, close: () => engine.close() };
}

/** One detector's run over a set. */
export interface DetectorRun {
  readonly model: string;
  readonly result: CocoMapResult;
  readonly imagesPerSecond: number;
  /** The most detections one image got. */
  readonly mostDetections: number;
  /** Mean time inside session.run per image, in ms. */
  readonly inferenceMs: number;
}

/** Runs `task` for each index with `concurrency` in flight; returns the wall time in seconds. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
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
 * Detects in every image of `set` through `detectObjects` with `opts` (`concurrency` images at a time) and scores
 * the answers against the ground truth by COCO's rules.
 */
export async function evaluateDetector(deps: DetectObjectsDeps, set: CocoSet, opts: DetectOptions, concurrency = 2): Promise<DetectorRun> {
  const photos = await Promise.all(set.images.map((i) => readFile(i.file)));
  const found: ScoredBox[][] = [];
  let mostDetections = 0;
  let inferenceMs = 0;
  const seconds = await pool(photos.length, concurrency, async (i) => {
    const report = await detectObjects(deps, photos[i]!, opts);
    mostDetections = Math.max(mostDetections, report.detections.length);
    inferenceMs += report.timings.inference_ms;
    found[i] = report.detections.map((d) => ({ imageId: set.images[i]!.id, classId: d.class_id, box: d.box, score: d.confidence }));
  });
  const result = cocoMap(
    set.images.map((i) => i.id),
    set.truth,
    found.flat(),
  );
  return { model: opts.model, result, imagesPerSecond: photos.length / seconds, mostDetections, inferenceMs: inferenceMs / photos.length };
}

/** The options of an accuracy run: COCO's way (every box down to 0.01, up to 100 per image), no tiling. */
export function accuracyOptions(model: string): DetectOptions {
  return { model, threshold: 0.01, maxDetections: 100, classes: [], tileOverlapPercent: 20, batchSize: 1, tiling: 'off' };
}

/** Prints mAP and images/s for each of `models` (default: every built-in detector). */
export async function benchAccuracy(models: readonly string[] = BUILTIN_DETECTORS, rounds = 2): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const set = await loadCocoSet();
  const { deps, close } = await openDetectDeps(config);
  const rows: string[] = [];
  try {
    for (const model of models) {
      const manifest = BUILTIN_MANIFESTS.find((m) => m.id === model);
      const accuracy = await evaluateDetector(deps, set, accuracyOptions(model));
      // Speed as a user gets it: the model's default threshold, warm sessions, best of `rounds` passes.
      const speedOpts: DetectOptions = { ...accuracyOptions(model), threshold: undefined };
      let rate = 0;
      let inferenceMs = Number.POSITIVE_INFINITY;
      for (let r = 0; r < rounds; r++) {
        const run = await evaluateDetector(deps, set, speedOpts);
        rate = Math.max(rate, run.imagesPerSecond);
        inferenceMs = Math.min(inferenceMs, run.inferenceMs);
      }
      const { map, map50, map75 } = accuracy.result;
      const pct = (v: number): string => (v * 100).toFixed(1).padStart(5);
      rows.push(
        `  ${model.padEnd(16)} mAP ${pct(map)}   AP50 ${pct(map50)}   AP75 ${pct(map75)}   ${rate.toFixed(1).padStart(6)} images/s` +
          `   ${inferenceMs.toFixed(1).padStart(5)} ms inference` +
          `   (default threshold ${manifest?.threshold ?? 0.3}; at most ${accuracy.mostDetections} boxes an image at 0.01)`,
      );
    }
  } finally {
    await close();
  }
  console.log(`accuracy per cost: ${set.images.length} COCO train2017 images (coco128), ${os.availableParallelism()} cores, ${config.inferenceThreads} inference thread(s)`);
  console.log('  mAP@[.5:.95] by pycocotools rules through detectObjects (threshold 0.01, 100 per image, tiling off);');
  console.log(`  images/s: the same path at the default threshold, 2 at a time, best of ${rounds} rounds; inference: mean session.run per image`);
  for (const row of rows) console.log(row);
}

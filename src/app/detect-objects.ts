/**
 * Object detection on one image: the model from the registry, letterboxed (or stretched) input, decoder, boxes
 * mapped to original pixels and clipped, NMS, and a cap on their number. Images much larger than the model input
 * are also cut into overlapping tiles, so objects that one downscaled pass would lose are still found; tiles run in
 * batches when the model allows it.
 */
import { decoderFor, isDecoderName } from '../domain/detection/decoders.js';
import type { Candidate, Detection, DetectionDecoder } from '../domain/detection/detection.js';
import { mergeTileDetections } from '../domain/detection/nms.js';
import { DEFAULT_MAX_DETECTIONS, passDetections } from '../domain/detection/postprocess.js';
import { planTiles, shouldTile } from '../domain/detection/tiling.js';
import { AppError } from '../domain/errors.js';
import { planLetterbox, roundBox, type Letterbox } from '../domain/geometry.js';
import { writeChw, type RgbImage } from '../domain/image-tensor.js';
import { checkImage, type ImageLimits } from './load-image.js';
import type { ContentSniffer, ImageDecoder, InferenceEngine, ModelCatalog, PixelRegion, UsableModel } from './ports.js';
import type { TensorPool } from './tensor-pool.js';

/** Class-aware NMS IoU within one pass for a model whose manifest names none (YOLOX's own value). */
const NMS_IOU = 0.45;
/** Confidence threshold for a model whose manifest names none (YOLOX-nano's calibrated value). */
export const DEFAULT_DETECTION_THRESHOLD = 0.3;
/** Tile side in image pixels, as a multiple of the model input: objects are seen at half scale or better. */
const TILE_SCALE = 2;
/** The most tiles one image is cut into. */
export const MAX_TILES = 64;

/** Dependencies of detection. */
export interface DetectObjectsDeps {
  readonly sniffer: ContentSniffer;
  readonly decoder: ImageDecoder;
  readonly models: ModelCatalog;
  readonly engine: InferenceEngine;
  readonly limits: ImageLimits;
  /** Input buffers shared across requests. */
  readonly tensors: TensorPool;
}

/** How to detect: the effective settings for this call. */
export interface DetectOptions {
  readonly model: string;
  /** Minimum confidence; absent: the model's own calibrated threshold (its manifest's), else 0.3. */
  readonly threshold?: number | undefined;
  /** Keep at most this many detections, the highest-scored (default 100). */
  readonly maxDetections?: number | undefined;
  /** Class names to keep; empty keeps all. */
  readonly classes: readonly string[];
  readonly tileOverlapPercent: number;
  readonly batchSize: number;
  /** auto: tile only images much larger than the model input. */
  readonly tiling: 'auto' | 'off' | 'on';
  /** The kind of detector: COCO-style objects (default) or race bibs. */
  readonly task?: 'detect' | 'bib-detect';
}

/** What detection found, in the API's field names. */
export interface DetectionReport {
  width: number;
  height: number;
  model: string;
  detections: { label: string; class_id: number; confidence: number; box: { x1: number; y1: number; x2: number; y2: number } }[];
  tiles: number;
  timings: { preprocess_ms: number; inference_ms: number; postprocess_ms: number; total_ms: number };
}

/** One model input to fill: the whole image or one tile. */
interface Pass {
  readonly region: PixelRegion | null;
  readonly lb: Letterbox;
}

/** Resolves a detection model and its decoder; VALIDATION_ERROR / MODEL_UNAVAILABLE otherwise. */
export async function requireDetector(
  models: ModelCatalog,
  id: string,
  task: 'detect' | 'bib-detect' = 'detect',
): Promise<{ model: UsableModel; decode: DetectionDecoder; labels: readonly string[] }> {
  const model = await models.require(id, task);
  const { decoder, labels } = model.manifest;
  if (!isDecoderName(decoder)) throw new AppError('MODEL_UNAVAILABLE', `model '${id}' names decoder '${decoder}', which Argus does not have`);
  if (!labels?.length) throw new AppError('MODEL_UNAVAILABLE', `model '${id}' has no labels in its manifest`);
  return { model, decode: decoderFor(decoder), labels };
}

/** Class ids for the requested names; VALIDATION_ERROR naming any the model does not know. */
export function classFilter(labels: readonly string[], classes: readonly string[]): Set<number> | null {
  if (classes.length === 0) return null;
  const ids = new Set<number>();
  const unknown: string[] = [];
  for (const name of classes) {
    const id = labels.indexOf(name.trim().toLowerCase());
    if (id < 0) unknown.push(name);
    else ids.add(id);
  }
  if (unknown.length) throw new AppError('VALIDATION_ERROR', `unknown class${unknown.length > 1 ? 'es' : ''}: ${unknown.join(', ')}`);
  return ids;
}

/** Detects objects in an encoded image. */
export async function detectObjects(deps: DetectObjectsDeps, data: Uint8Array, opts: DetectOptions): Promise<DetectionReport> {
  const started = performance.now();
  const detector = await requireDetector(deps.models, opts.model, opts.task);
  const info = await checkImage(data, deps.sniffer, deps.decoder, deps.limits);
  return detectIn(deps, detector, data, info.width, info.height, opts, started);
}

/** Detects objects in decoded pixels (a video frame): no format checks, no decoding. */
export async function detectInPixels(deps: DetectObjectsDeps, image: RgbImage, opts: DetectOptions): Promise<DetectionReport> {
  const started = performance.now();
  const detector = await requireDetector(deps.models, opts.model, opts.task);
  return detectIn(deps, detector, image, image.width, image.height, opts, started);
}

async function detectIn(
  deps: DetectObjectsDeps,
  detector: Awaited<ReturnType<typeof requireDetector>>,
  data: Uint8Array | RgbImage,
  width: number,
  height: number,
  opts: DetectOptions,
  started: number,
): Promise<DetectionReport> {
  const { model, decode, labels } = detector;
  const wanted = classFilter(labels, opts.classes);
  const spec = model.manifest.input;
  const threshold = detectionThreshold(opts.threshold, model.manifest.threshold);
  const maxDetections = opts.maxDetections ?? DEFAULT_MAX_DETECTIONS;
  const nmsIou = model.manifest.nmsIou ?? NMS_IOU;
  const align = spec.resize === 'stretch' ? 'stretch' : spec.resize === 'letterbox-centre' ? 'centre' : 'top-left';

  const passes: Pass[] = [{ region: null, lb: planLetterbox(width, height, spec.width, spec.height, align) }];
  const tiled = opts.tiling === 'on' || (opts.tiling === 'auto' && shouldTile(width, height, spec.width, spec.height));
  if (tiled) {
    let tileSize = Math.min(Math.max(spec.width, spec.height) * TILE_SCALE, Math.max(width, height));
    let regions = planTiles(width, height, tileSize, opts.tileOverlapPercent);
    // The time of one image is bounded too: a huge image gets larger tiles (each seen at a smaller scale) rather
    // than hundreds of them (a 9900x9900 PNG would otherwise be 225 tiles).
    while (regions.length > MAX_TILES) {
      tileSize = Math.ceil(tileSize * 1.25);
      regions = planTiles(width, height, tileSize, opts.tileOverlapPercent);
    }
    for (const region of regions) passes.push({ region, lb: planLetterbox(region.width, region.height, spec.width, spec.height, align) });
  }

  // Decode once: a single pass reads straight from the file (libvips shrinks JPEGs while decoding); tiles
  // share one decoded copy.
  const source: Uint8Array | RgbImage = passes.length > 1 && data instanceof Uint8Array ? await deps.decoder.decodeRgb(data) : data;
  const batch = spec.dynamicBatch ? Math.max(1, opts.batchSize) : 1;
  const groups: Pass[][] = [];
  for (let i = 0; i < passes.length; i += batch) groups.push(passes.slice(i, i + batch));

  let preprocessMs = 0;
  let inferenceMs = 0;
  let postprocessMs = 0;
  const perPass: Candidate[][] = [];
  const prepare = async (group: Pass[]): Promise<Float32Array> => {
    const t0 = performance.now();
    const plane = 3 * spec.width * spec.height;
    const tensor = deps.tensors.take(plane * group.length);
    const images = await Promise.all(group.map((p) => deps.decoder.resizeRgb(source, p.region, p.lb.width, p.lb.height)));
    images.forEach((img, i) => {
      const { lb } = group[i] as Pass;
      writeChw(img, spec, tensor, i * plane, { width: lb.dstWidth, height: lb.dstHeight, x: lb.padX, y: lb.padY, pad: spec.pad ?? 114 });
    });
    preprocessMs += performance.now() - t0;
    return tensor;
  };

  // Prepare the next group while the current one runs, so tiles keep the model busy.
  let next = groups[0] ? prepare(groups[0]) : null;
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g] as Pass[];
    const tensor = await (next as Promise<Float32Array>);
    next = groups[g + 1] ? prepare(groups[g + 1] as Pass[]) : null;
    const result = await deps.engine.run(model, { data: tensor, dims: [group.length, 3, spec.height, spec.width] });
    inferenceMs += result.runMs;
    deps.tensors.give(result.input);
    const t0 = performance.now();
    group.forEach((pass, i) => {
      const raw = decode(result.outputs, { width: spec.width, height: spec.height, numClasses: labels.length }, threshold, i);
      const kept = wanted ? raw.filter((c) => wanted.has(c.classId)) : raw;
      // A single pass can stop at the cap; tiles cannot, since merging removes boxes from each pass's best.
      perPass.push(passDetections(kept, pass, width, height, { iouThreshold: nmsIou, maxDetections: tiled ? undefined : maxDetections }));
    });
    // Every output has been read into candidates: its buffers go back to the engine for the next run.
    result.release?.();
    postprocessMs += performance.now() - t0;
  }

  const t0 = performance.now();
  const merged = perPass.length > 1 ? mergeTileDetections(perPass.flat(), { iouThreshold: nmsIou, minOverlapThreshold: 0.6 }) : (perPass[0] ?? []);
  const detections = merged
    .filter((c) => c.box.x2 - c.box.x1 >= 1 && c.box.y2 - c.box.y1 >= 1)
    .sort((a, b) => b.score - a.score)
    .slice(0, maxDetections)
    .map((c) => toApi(named(c, labels)));
  postprocessMs += performance.now() - t0;

  return {
    width,
    height,
    model: model.manifest.id,
    detections,
    tiles: passes.length - 1,
    timings: { preprocess_ms: ms(preprocessMs), inference_ms: ms(inferenceMs), postprocess_ms: ms(postprocessMs), total_ms: ms(performance.now() - started) },
  };
}

/** The threshold a call uses: its own, else the model's calibrated one, else {@link DEFAULT_DETECTION_THRESHOLD}. */
export function detectionThreshold(requested: number | undefined, modelDefault: number | undefined): number {
  return requested ?? modelDefault ?? DEFAULT_DETECTION_THRESHOLD;
}

function named(c: Candidate, labels: readonly string[]): Detection {
  return { label: labels[c.classId] ?? `class_${c.classId}`, classId: c.classId, confidence: c.score, box: c.box };
}

function toApi(d: Detection): DetectionReport['detections'][number] {
  return { label: d.label, class_id: d.classId, confidence: Math.round(d.confidence * 10_000) / 10_000, box: roundBox(d.box) };
}

function ms(x: number): number {
  return Math.round(x * 100) / 100;
}


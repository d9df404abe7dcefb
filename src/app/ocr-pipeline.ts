/**
 * Reading text in an image with PP-OCR models on Argus's own inference engine: the DB detector finds text
 * lines as rotated boxes, each box is sampled into a horizontal strip, an optional angle classifier turns
 * upside-down strips, and the CTC recognizer reads them, long lines one per call and short ones together, all
 * calls at once so the engine's threads share them. Lines come back in reading order.
 * Pre- and post-processing follow PaddleOCR's reference (DetResizeForTest, NormalizeImage, DBPostProcess,
 * ClsPostProcess, CTCLabelDecode); the values that differ were chosen by measurement (see the constants).
 */
import { AppError } from '../domain/errors.js';
import { writeChw, type RgbImage } from '../domain/image-tensor.js';
import type { ModelInputSpec } from '../domain/model-manifest.js';
import { ctcCharset, ctcDecodeBest, ctcGreedyDecode } from '../domain/ocr/ctc.js';
import { flipQuad, quadSize, sampleQuad, uprightQuad } from '../domain/ocr/crop-line.js';
import { DB_DEFAULTS, dbBoxes, type DbOptions } from '../domain/ocr/db-postprocess.js';
import { paddedDetInput, planDetInput, type DetResizeRule } from '../domain/ocr/det-resize.js';
import type { Point, Quad } from '../domain/ocr/min-area-rect.js';
import { joinRows, readingOrder } from '../domain/ocr/reading-order.js';
import { checkImage, type ImageLimits } from './load-image.js';
import type { ContentSniffer, ImageDecoder, InferenceEngine, ModelCatalog, PixelRegion, UsableModel } from './ports.js';

/**
 * Detector input size: PaddleOCR's rule (long side at most 960, no upscale). Measured on imageTextN.png (556x257,
 * ~10 px letters) and its 10°-rotated twin: RapidOCR's upscale of the short side to 736 gave 96.3% / 90.0%
 * character accuracy at 5-10x the detection time, because the DB boxes come out tighter at that scale and the
 * recognizer then drops the spaces between words; no upscale gave 100% / 93.7%. Clean digits 12 px tall in a
 * 48x64 crop (a bib region) are found without upscaling too.
 */
export const DET_RESIZE: DetResizeRule = { minSide: 0, maxSide: 960 };
/**
 * The grey level around an unscaled detector input: mid-grey, near the normaliser's mean, so the padding reads as
 * nothing. Measured: black (PaddleOCR's resize_type 2) lost a character on imageTextN.png (99.91%), white lost a
 * rendered line; grey read imageTextN 100%, imageTextR 94.66% (93.73% resized), and 85 of 85 generated bibs (83).
 */
const DET_PAD = 128;
/** DB thresholds: PaddleOCR's (unclip 1.5 and 1.6 measured alike; 1.8-2.0 lost spaces on the rotated page). */
export const DB_OPTIONS: DbOptions = { ...DB_DEFAULTS, thresh: 0.3, boxThresh: 0.6, unclipRatio: 1.5 };
/** At most this many lines per recognizer or classifier call (PaddleOCR's rec_batch_num and cls_batch_num). */
const BATCH = 6;
/**
 * At most this many columns (lines x width at the model height) per recognizer call. Measured for PP-OCRv4 rec on
 * one core of this machine: 75-80 us per column for calls of up to ~2,000 columns, 115-130 us for 3,000-9,000
 * (the activations outgrow the cache), so the 6 x 1,500-px batches PaddleOCR makes of a page cost 1.6x what
 * running those lines one by one does. Short lines (at least 320 px, as PaddleOCR pads them) still share calls.
 */
const REC_COLUMNS = 2048;
/** A line is turned when the classifier says '180' with more confidence than this (PaddleOCR's cls_thresh). */
const CLS_THRESH = 0.9;
/** Boxes narrower or shorter than this many image pixels are dropped (PaddleOCR's filter_tag_det_res). */
const MIN_BOX_SIDE = 3;

/** Reads a recognizer's character dictionary (cached by the adapter). */
export interface CharacterDictionaries {
  /** The dictionary entries of `model`, in class order (class i + 1 is entry i). */
  dictionary(model: UsableModel): Promise<readonly string[]>;
}

/** Dependencies of OCR. */
export interface OcrDeps {
  readonly sniffer: ContentSniffer;
  readonly decoder: ImageDecoder;
  readonly models: ModelCatalog;
  readonly engine: InferenceEngine;
  readonly limits: ImageLimits;
  readonly dictionaries: CharacterDictionaries;
}

/** Which models and threshold to use. */
export interface OcrOptions {
  readonly detector: string;
  readonly recognizer: string;
  /** The angle classifier, or null to read every line as it stands. */
  readonly classifier: string | null;
  /** Lines whose mean character confidence is below this are dropped. */
  readonly minConfidence: number;
  /** analyse only this part of the image; results in whole-image coordinates */
  readonly region?: PixelRegion;
}

/** One line of text. */
export interface TextLine {
  readonly text: string;
  readonly confidence: number;
  /** The axis-aligned box around the polygon, whole-image pixels. */
  readonly box: { x1: number; y1: number; x2: number; y2: number };
  /** 4 corners clockwise from top-left, whole-image px */
  readonly polygon: [number, number][];
}

/** The text of an image. */
export interface TextReport {
  readonly width: number;
  readonly height: number;
  /** Every line in reading order: lines of a row joined by a space, rows by '\n'. */
  readonly text: string;
  readonly lines: TextLine[];
  readonly timings: { detect_ms: number; classify_ms: number; recognize_ms: number; total_ms: number };
}

/**
 * The defaults. The angle classifier is off: on imageTextN.png it wrongly turned one upright line (character
 * accuracy 100% -> 91%) and helped nothing on the rotated page; turn it on for photos that may be upside down.
 */
export const DEFAULT_OCR_OPTIONS: OcrOptions = {
  detector: 'ppocr_v4_det',
  recognizer: 'ppocr_v4_rec',
  classifier: null,
  minConfidence: 0.5,
};

interface OcrModels {
  readonly detector: UsableModel;
  readonly recognizer: UsableModel;
  readonly classifier: UsableModel | null;
  readonly charset: readonly string[];
}

/** Reads the text of an encoded image (checked against the limits first). */
export async function recognizeText(deps: OcrDeps, data: Uint8Array, opts: OcrOptions): Promise<TextReport> {
  const models = await requireModels(deps, opts);
  await checkImage(data, deps.sniffer, deps.decoder, deps.limits);
  return textIn(deps, models, await deps.decoder.decodeRgb(data), opts);
}

/** Reads the text of decoded pixels (a video frame, or a region of a photo such as a runner's torso). */
export async function recognizeTextInPixels(deps: OcrDeps, image: RgbImage, opts: OcrOptions): Promise<TextReport> {
  return textIn(deps, await requireModels(deps, opts), image, opts);
}

async function requireModels(deps: OcrDeps, opts: OcrOptions): Promise<OcrModels> {
  const detector = await deps.models.require(opts.detector, 'text-detect');
  if (detector.manifest.decoder !== 'db') throw new AppError('VALIDATION_ERROR', `text detector '${opts.detector}' has decoder '${detector.manifest.decoder}'; only 'db' is supported`);
  const recognizer = await deps.models.require(opts.recognizer, 'text-recognize');
  if (recognizer.manifest.decoder !== 'ctc') throw new AppError('VALIDATION_ERROR', `text recognizer '${opts.recognizer}' has decoder '${recognizer.manifest.decoder}'; only 'ctc' is supported`);
  const classifier = opts.classifier ? await deps.models.require(opts.classifier, 'text-classify') : null;
  const dictionary = await deps.dictionaries.dictionary(recognizer);
  let charset = charsets.get(dictionary);
  if (!charset) charsets.set(dictionary, (charset = ctcCharset(dictionary)));
  return { detector, recognizer, classifier, charset };
}

/**
 * Model inputs reused across calls instead of a fresh multi-megabyte array per call. OCR inputs change size with
 * every image and line, so a buffer is lent as a view of the length asked for (onnxruntime reads views as they
 * are), on the smallest free buffer that holds it and is at most a quarter larger: the whole buffer travels to
 * the inference thread and back, so a much larger one would only move more.
 */
class TensorViews {
  private readonly free: Float32Array[] = [];

  /** @param keep how many free buffers to keep; @param maxLength larger ones are not kept. */
  constructor(
    private readonly keep: number,
    private readonly maxLength: number,
  ) {}

  /** A view of exactly `length` elements (contents undefined). */
  take(length: number): Float32Array {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i] as Float32Array;
      if (f.length >= length && f.length <= length * 1.25 && (best < 0 || f.length < (this.free[best] as Float32Array).length)) best = i;
    }
    if (best < 0) return new Float32Array(length);
    const [buffer] = this.free.splice(best, 1);
    return (buffer as Float32Array).subarray(0, length);
  }

  /** Takes back a view the engine returned; the oldest free buffer is dropped when more than `keep` are free. */
  give(view: Float32Array): void {
    // A detached buffer (the engine kept it) has length 0.
    if (view.length === 0) return;
    const buffer = new Float32Array(view.buffer, 0, view.buffer.byteLength / Float32Array.BYTES_PER_ELEMENT);
    if (buffer.length > this.maxLength) return;
    this.free.push(buffer);
    if (this.free.length > this.keep) this.free.shift();
  }
}

/** Up to 8 free buffers of at most 3 x 960 x 960 floats (a detector input at the 960-px limit). */
const tensors = new TensorViews(8, 3 * 960 * 960);

/** Recognizer files whose output has been seen to have one class per dictionary entry (plus blank and space). */
const checkedRecognizers = new Set<string>();

/** The CTC classes of each dictionary the loader has handed out (6,625 entries: built once, not per call). */
const charsets = new WeakMap<readonly string[], readonly string[]>();

/** A detected line on its way through the pipeline. */
interface Candidate {
  /** Corners in the order the line is read (the first edge is the top of the text). */
  quad: Quad;
  /** The box as detected, clockwise from the top-left, for the report. */
  readonly polygon: Quad;
}

async function textIn(deps: OcrDeps, models: OcrModels, image: RgbImage, opts: OcrOptions): Promise<TextReport> {
  const started = performance.now();
  const region = clipRegion(opts.region, image);
  const empty = (): TextReport => ({ width: image.width, height: image.height, text: '', lines: [], timings: { detect_ms: 0, classify_ms: 0, recognize_ms: 0, total_ms: ms(started) } });
  if (!region) return empty();

  const polygons = await detect(deps, models.detector, image, region);
  const detectMs = ms(started);
  const lines: Candidate[] = polygons.map((p) => ({ quad: uprightQuad(p), polygon: p }));

  const clsStarted = performance.now();
  if (models.classifier && lines.length) await classify(deps, models.classifier, image, lines);
  const classifyMs = lines.length && models.classifier ? ms(clsStarted) : 0;

  const recStarted = performance.now();
  const read = lines.length ? await recognize(deps, models, image, lines) : [];
  const recognizeMs = lines.length ? ms(recStarted) : 0;

  const kept = lines
    .map((line, i) => ({ ...line, ...(read[i] as { text: string; confidence: number }) }))
    .map((l) => ({ ...l, text: l.text.trim() }))
    .filter((l) => l.text.length > 0 && l.confidence >= opts.minConfidence);
  const rows = readingOrder(kept.map((l) => ({ ...l, quad: l.polygon })));
  const out: TextLine[] = rows.flat().map((l) => toTextLine(l.text, l.confidence, l.polygon));
  return {
    width: image.width,
    height: image.height,
    text: joinRows(rows),
    lines: out,
    timings: { detect_ms: round1(detectMs), classify_ms: round1(classifyMs), recognize_ms: round1(recognizeMs), total_ms: round1(ms(started)) },
  };
}

/** Text boxes of the region, as quads clockwise from the top-left in whole-image coordinates. */
async function detect(deps: OcrDeps, model: UsableModel, image: RgbImage, region: PixelRegion): Promise<Quad[]> {
  // A region that needs no scaling (a runner's torso, most pages) is written into the tensor straight from the
  // image, padded to the network's stride: a resize through the image library cost ~2 ms of fixed overhead per call.
  const padded = paddedDetInput(region.width, region.height, DET_RESIZE);
  const plan = padded ?? planDetInput(region.width, region.height, DET_RESIZE);
  const tensor = tensors.take(3 * plan.width * plan.height);
  if (padded) {
    writeChw(image, model.manifest.input, tensor, 0, { width: plan.width, height: plan.height, x: 0, y: 0, pad: DET_PAD }, region);
  } else {
    const whole = region.left === 0 && region.top === 0 && region.width === image.width && region.height === image.height;
    writeChw(await deps.decoder.resizeRgb(image, whole ? null : region, plan.width, plan.height), model.manifest.input, tensor);
  }
  const result = await deps.engine.run(model, { data: tensor, dims: [1, 3, plan.height, plan.width] });
  tensors.give(result.input);
  const map = result.outputs.values().next().value;
  if (!map || map.data.length !== plan.width * plan.height) throw new AppError('MODEL_UNAVAILABLE', `text detector '${model.manifest.id}' gave no 1x1x${plan.height}x${plan.width} probability map`);
  const boxes = dbBoxes({ data: map.data, width: plan.width, height: plan.height }, DB_OPTIONS);
  // The probability map has been read into boxes: its buffer goes back to the engine for the next run.
  result.release?.();
  const x0 = region.left;
  const y0 = region.top;
  const x1 = region.left + region.width;
  const y1 = region.top + region.height;
  // Map pixel i's centre is at i + 0.5 in continuous coordinates; scale to the region, then offset into the image.
  const toImage = (p: Point): Point => [clamp(x0 + (p[0] + 0.5) * plan.scaleX, x0, x1), clamp(y0 + (p[1] + 0.5) * plan.scaleY, y0, y1)];
  const quads: Quad[] = [];
  for (const b of boxes) {
    const [a, c, d, e] = b.rect.corners;
    const q: Quad = [toImage(a), toImage(c), toImage(d), toImage(e)];
    const size = quadSize(q);
    if (size.width <= MIN_BOX_SIDE || size.height <= MIN_BOX_SIDE) continue;
    quads.push(q);
  }
  return quads;
}

/** Turns lines the angle classifier reads as upside down (PaddleOCR: '180' with score > 0.9). */
async function classify(deps: OcrDeps, model: UsableModel, image: RgbImage, lines: Candidate[]): Promise<void> {
  const spec = model.manifest.input;
  for (let start = 0; start < lines.length; start += BATCH) {
    const batch = lines.slice(start, start + BATCH);
    const tensor = tensors.take(batch.length * 3 * spec.height * spec.width);
    batch.forEach((line, i) => writeLine(image, line.quad, spec, spec.width, tensor, i));
    const result = await deps.engine.run(model, { data: tensor, dims: [batch.length, 3, spec.height, spec.width] });
    tensors.give(result.input);
    const probs = result.outputs.values().next().value;
    if (!probs || probs.data.length !== batch.length * 2) throw new AppError('MODEL_UNAVAILABLE', `text classifier '${model.manifest.id}' gave no Nx2 output`);
    batch.forEach((line, i) => {
      const p180 = probs.data[i * 2 + 1] as number;
      if (p180 > (probs.data[i * 2] as number) && p180 > CLS_THRESH) line.quad = flipQuad(line.quad);
    });
  }
}

/**
 * Reads every line. Lines are sorted by width and grouped while a call stays within REC_COLUMNS (so short lines
 * share a call and long ones run alone, with little padding), and every call is handed to the engine at once so
 * its threads read lines in parallel, widest first.
 */
async function recognize(deps: OcrDeps, models: OcrModels, image: RgbImage, lines: readonly Candidate[]): Promise<{ text: string; confidence: number }[]> {
  const model = models.recognizer;
  const spec = model.manifest.input;
  const ratios = lines.map((l) => aspect(l.quad));
  const order = lines.map((_, i) => i).sort((a, b) => (ratios[a] as number) - (ratios[b] as number));
  // PaddleOCR: a call is as wide as its widest line at the model height, and at least the nominal width.
  const callWidth = (ids: readonly number[]): number => Math.floor(spec.height * Math.max(spec.width / spec.height, ...ids.map((i) => ratios[i] as number)));
  const groups: number[][] = [];
  for (const id of order) {
    const last = groups[groups.length - 1];
    if (last && last.length < BATCH && (last.length + 1) * callWidth([...last, id]) <= REC_COLUMNS) last.push(id);
    else groups.push([id]);
  }
  // Largest calls first (by columns, which is what a call costs), so the engine's threads finish close together.
  groups.sort((a, b) => b.length * callWidth(b) - a.length * callWidth(a));
  const out = new Array<{ text: string; confidence: number }>(lines.length);
  await Promise.all(
    groups.map(async (ids) => {
      const width = callWidth(ids);
      const tensor = tensors.take(ids.length * 3 * spec.height * width);
      ids.forEach((id, slot) => writeLine(image, (lines[id] as Candidate).quad, spec, width, tensor, slot));
      // Only each step's best class is used: the engine reduces the T x C scores to T x 2 where it runs the model,
      // once the model's first full answer has shown that its classes match the dictionary.
      const argmax = checkedRecognizers.has(model.path);
      const result = await deps.engine.run(model, { data: tensor, dims: [ids.length, 3, spec.height, width], argmax });
      tensors.give(result.input);
      const probs = result.outputs.values().next().value;
      const [n, steps, classes] = probs?.dims ?? [];
      if (!probs || n !== ids.length || !steps || !classes) throw new AppError('MODEL_UNAVAILABLE', `text recognizer '${model.manifest.id}' gave no NxTxC output`);
      if (classes === models.charset.length) {
        checkedRecognizers.add(model.path);
        ids.forEach((id, slot) => (out[id] = ctcGreedyDecode(probs.data, steps, classes, models.charset, slot * steps * classes)));
      } else if (argmax && classes === 2) {
        ids.forEach((id, slot) => (out[id] = ctcDecodeBest(probs.data, steps, models.charset, slot * steps)));
      } else {
        throw new AppError('MODEL_UNAVAILABLE', `text recognizer '${model.manifest.id}' has ${classes} classes but its dictionary gives ${models.charset.length} (with blank and space)`);
      }
    }),
  );
  return out;
}

/**
 * Samples one line at the model height, as wide as its aspect ratio asks (at most `width`), into batch slot
 * `slot` of a `width`-wide tensor; the rest of the row is padding that normalises to 0, as PaddleOCR pads.
 */
function writeLine(image: RgbImage, quad: Quad, spec: ModelInputSpec, width: number, out: Float32Array, slot: number): void {
  const w = Math.max(1, Math.min(width, Math.ceil(spec.height * aspect(quad))));
  const strip = sampleQuad(image, quad, w, spec.height);
  const pad = spec.mean?.[0] ?? 0;
  writeChw(strip, spec, out, slot * 3 * spec.height * width, { width, height: spec.height, x: 0, y: 0, pad });
}

/** Width over height of a line as read. */
function aspect(q: Quad): number {
  const { width, height } = quadSize(q);
  return height > 0 ? width / height : 1;
}

function toTextLine(text: string, confidence: number, q: Quad): TextLine {
  const polygon = q.map(([x, y]) => [round1(x), round1(y)] as [number, number]);
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  return {
    text,
    confidence: Math.round(confidence * 10_000) / 10_000,
    box: { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) },
    polygon,
  };
}

/** The region clipped to the image in whole pixels, or null when nothing of it is left. */
function clipRegion(region: PixelRegion | undefined, image: RgbImage): PixelRegion | null {
  if (!region) return { left: 0, top: 0, width: image.width, height: image.height };
  const left = clamp(Math.floor(region.left), 0, image.width);
  const top = clamp(Math.floor(region.top), 0, image.height);
  const right = clamp(Math.ceil(region.left + region.width), 0, image.width);
  const bottom = clamp(Math.ceil(region.top + region.height), 0, image.height);
  return right - left >= 1 && bottom - top >= 1 ? { left, top, width: right - left, height: bottom - top } : null;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

function ms(since: number): number {
  return performance.now() - since;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

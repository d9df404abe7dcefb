/**
 * Race-bib numbers in one image (seed 004, phase 4). With a bib detector registered (task `bib-detect`), its boxes
 * are cropped and read by OCR. Without one — the usual case, no open bib detector exists — the OCR-only fallback
 * reads the torso of every person the object detector finds, or the whole image when it finds none, and keeps the
 * readings that are digit strings of a plausible length with enough confidence. When no torso gives a bib, the
 * whole image is read as well.
 */
import { bibsFromLines, dedupeBibs, torsoRegion, type BibCandidate, type BibRules } from '../domain/bibs/bib-number.js';
import { clipBox, roundBox, type Box } from '../domain/geometry.js';
import type { RgbImage } from '../domain/image-tensor.js';
import { detectInPixels, type DetectObjectsDeps, type DetectOptions } from './detect-objects.js';
import { checkImage } from './load-image.js';
import { recognizeTextInPixels, type OcrDeps, type OcrOptions } from './ocr-pipeline.js';
import type { PixelRegion } from './ports.js';
import { chosenDetectionThreshold, type AiSettings } from '../domain/ai-settings.js';
import type { ModelStatus } from '../domain/model-manifest.js';

/** Persons shorter than this (px) are too small to carry a readable bib. */
const MIN_PERSON_HEIGHT = 48;
/** Margin added around a detected bib before reading it, as a share of its size. */
const BIB_MARGIN = 0.15;

/** Dependencies of bib recognition. */
export type BibDeps = DetectObjectsDeps & OcrDeps;

/** How to read bibs: the effective settings of one call. */
export interface BibOptions {
  readonly ocr: OcrOptions;
  readonly rules: BibRules;
  /** The object detector and threshold that find persons. */
  readonly persons: DetectOptions;
  /** A bib-detect model id, 'auto' (one if registered) or 'none'. */
  readonly bibDetector: string;
}

/** One bib as the API reports it. */
export interface BibReading {
  bib_number: string;
  confidence: number;
  box: Box;
  /** The person box the bib was read in, or null when read on the whole image. */
  person_box: Box | null;
}

/** The bibs of one image. */
export interface BibReport {
  width: number;
  height: number;
  bibs_detected: number;
  detections: BibReading[];
  /** How they were found: a bib detector, or OCR on torsos / the whole image. */
  mode: 'detector' | 'ocr';
  /** The persons found (their boxes), used for torsos and for linking bibs to faces. */
  persons: Box[];
  models: { persons: string; bib_detector: string | null; text_detector: string; text_recognizer: string };
  /** With store: what the bib index holds for the image. */
  indexed?: { bibs: number; faces: number; faces_with_bib: number };
  timings: { total_ms: number };
}

/** Reads the bibs in an encoded image. */
export async function recognizeBibs(deps: BibDeps, data: Uint8Array, opts: BibOptions): Promise<BibReport> {
  await checkImage(data, deps.sniffer, deps.decoder, deps.limits);
  return recognizeBibsInPixels(deps, await deps.decoder.decodeRgb(data), opts);
}

/** Reads the bibs in decoded pixels (a photo or a video frame); `persons` skips person detection when known. */
export async function recognizeBibsInPixels(deps: BibDeps, image: RgbImage, opts: BibOptions, persons?: readonly Box[]): Promise<BibReport> {
  const started = performance.now();
  const bibModel = bibDetectorId(deps, opts.bibDetector);
  const people = persons ? [...persons] : (await detectInPixels(deps, image, { ...opts.persons, classes: ['person'] })).detections.map((d) => d.box);
  const tall = people.filter((p) => p.y2 - p.y1 >= MIN_PERSON_HEIGHT);

  const found: (BibCandidate & { personBox: Box | null })[] = [];
  if (bibModel) {
    const report = await detectInPixels(deps, image, { ...opts.persons, model: bibModel, classes: [], task: 'bib-detect' });
    // Every region is read at once (results kept in order): the engine's threads share the regions of a photo.
    const reads = await Promise.all(report.detections.map((d) => readRegion(deps, image, grow(d.box, BIB_MARGIN), opts)));
    report.detections.forEach((d, k) => {
      const best = tallest(reads[k] ?? []);
      if (best) found.push({ ...best, box: d.box, personBox: holder(d.box, tall) });
    });
  } else {
    // One bib per person: the tallest number on the torso (sponsor lines and dates are smaller or not digits).
    const reads = await Promise.all(tall.map((person) => readRegion(deps, image, torsoRegion(person), opts)));
    tall.forEach((person, k) => {
      const best = tallest(reads[k] ?? []);
      if (best) found.push({ ...best, personBox: person });
    });
    // No person, or none of them carried a readable bib (a card held up beside them, a runner the detector
    // missed next to a bystander it found): the whole image is read.
    if (found.length === 0) for (const c of await readRegion(deps, image, null, opts)) found.push({ ...c, personBox: holder(c.box, people) });
  }

  const detections = dedupeBibs(found).map((b) => ({
    bib_number: b.number,
    confidence: Math.round(b.confidence * 10_000) / 10_000,
    box: roundBox(b.box),
    person_box: b.personBox ? roundBox(b.personBox) : null,
  }));
  return {
    width: image.width,
    height: image.height,
    bibs_detected: detections.length,
    detections,
    mode: bibModel ? 'detector' : 'ocr',
    persons: people.map((p) => roundBox(p)),
    models: { persons: opts.persons.model, bib_detector: bibModel, text_detector: opts.ocr.detector, text_recognizer: opts.ocr.recognizer },
    timings: { total_ms: Math.round((performance.now() - started) * 100) / 100 },
  };
}

/** The bib detector to use: the named one, the first usable registered one for 'auto', or none. */
function bibDetectorId(deps: BibDeps, setting: string): string | null {
  if (setting === 'none') return null;
  if (setting !== 'auto') return setting;
  const registered = deps.models.list().find((m: ModelStatus) => m.manifest.task === 'bib-detect' && (m.state === 'ok' || m.state === 'unverified'));
  return registered?.manifest.id ?? null;
}

/** The bib candidates OCR reads in one region (null: the whole image). */
async function readRegion(deps: BibDeps, image: RgbImage, box: Box | null, opts: BibOptions): Promise<BibCandidate[]> {
  let region: PixelRegion | undefined;
  if (box) {
    const c = clipBox(box, image.width, image.height);
    const left = Math.floor(c.x1);
    const top = Math.floor(c.y1);
    const width = Math.ceil(c.x2) - left;
    const height = Math.ceil(c.y2) - top;
    if (width < 8 || height < 8) return [];
    region = { left, top, width, height };
  }
  const text = await recognizeTextInPixels(deps, image, { ...opts.ocr, ...(region ? { region } : {}) });
  return bibsFromLines(text.lines, opts.rules);
}

function tallest(cands: readonly BibCandidate[]): BibCandidate | null {
  let best: BibCandidate | null = null;
  for (const c of cands) {
    const h = c.box.y2 - c.box.y1;
    if (!best || h > (best.box.y2 - best.box.y1) * 1.1 || (h >= (best.box.y2 - best.box.y1) * 0.9 && c.confidence > best.confidence)) best = c;
  }
  return best;
}

/** The smallest person box holding the centre of `box`, if any. */
function holder(box: Box, persons: readonly Box[]): Box | null {
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  let best: Box | null = null;
  for (const p of persons) {
    if (cx < p.x1 || cx > p.x2 || cy < p.y1 || cy > p.y2) continue;
    if (!best || (p.x2 - p.x1) * (p.y2 - p.y1) < (best.x2 - best.x1) * (best.y2 - best.y1)) best = p;
  }
  return best;
}

function grow(b: Box, k: number): Box {
  const dx = (b.x2 - b.x1) * k;
  const dy = (b.y2 - b.y1) * k;
  return { x1: b.x1 - dx, y1: b.y1 - dy, x2: b.x2 + dx, y2: b.y2 + dy };
}

/** OCR options from a user's AI settings. */
export function ocrOptionsFrom(s: AiSettings): OcrOptions {
  return {
    detector: s.text_detection_model,
    recognizer: s.text_recognition_model,
    classifier: s.text_classification_model === 'none' ? null : s.text_classification_model,
    minConfidence: s.text_min_confidence,
  };
}

/** Bib options from a user's AI settings (a request's own fields are applied by the caller). */
export function bibOptionsFrom(s: AiSettings): BibOptions {
  return {
    ocr: ocrOptionsFrom(s),
    rules: { minDigits: s.bib_min_digits, maxDigits: s.bib_max_digits, minConfidence: s.bib_min_confidence },
    persons: { model: s.detection_model, threshold: chosenDetectionThreshold(s), maxDetections: s.max_detections, classes: ['person'], tileOverlapPercent: s.big_image_tile_overlap_percent, batchSize: s.model_batch_size, tiling: 'auto' },
    bibDetector: s.bib_detection_model,
  };
}

/**
 * Faces in one image: YuNet finds each face and its 5 landmarks, a similarity transform aligns it to the
 * ArcFace 112x112 template, and the embedding model turns it into an L2-normalised vector tagged with the model
 * that made it. Each face also reports its quality (size, sharpness of the aligned crop, pose from the landmarks).
 */
import { AppError } from '../domain/errors.js';
import { alignFace } from '../domain/faces/align.js';
import { l2normalize } from '../domain/faces/embedding.js';
import { faceQuality } from '../domain/faces/quality.js';
import { decodeYunet, mapFace, type FaceCandidate } from '../domain/faces/yunet.js';
import { clipBox, planLetterbox, roundBox, type Box } from '../domain/geometry.js';
import { writeChw, type RgbImage } from '../domain/image-tensor.js';
import { checkImage, type ImageLimits } from './load-image.js';
import type { ContentSniffer, ImageDecoder, InferenceEngine, ModelCatalog, UsableModel } from './ports.js';

/** YuNet's longer input side: faces down to ~10 px in a 640 px image are found. */
const DETECT_SIDE = 640;

/** Dependencies of the face pipeline. */
export interface FacePipelineDeps {
  readonly sniffer: ContentSniffer;
  readonly decoder: ImageDecoder;
  readonly models: ModelCatalog;
  readonly engine: InferenceEngine;
  readonly limits: ImageLimits;
}

/** Which models and thresholds to use. */
export interface FaceOptions {
  readonly detector: string;
  readonly embedder: string;
  readonly minScore: number;
  /** Compute embeddings (search, enroll, compare) or only detect. */
  readonly embed: boolean;
  /** Keep each face's aligned 112x112 crop (video keeps the best one per track, to embed once). */
  readonly keepAligned?: boolean;
}

/** One face as the pipeline finds it. */
export interface FoundFace {
  readonly box: Box;
  readonly landmarks: [number, number][];
  readonly score: number;
  readonly quality: ReturnType<typeof faceQuality>;
  readonly embedding: Float32Array | null;
  readonly aligned?: RgbImage;
}

/** The faces of an image, largest first. */
export interface FaceReport {
  readonly width: number;
  readonly height: number;
  readonly detector: string;
  readonly embedder: string | null;
  readonly faces: FoundFace[];
}

/** Finds, aligns and (optionally) embeds every face in an encoded image. */
export async function findFaces(deps: FacePipelineDeps, data: Uint8Array, opts: FaceOptions): Promise<FaceReport> {
  const detector = await deps.models.require(opts.detector, 'face-detect');
  if (detector.manifest.decoder !== 'yunet') throw new AppError('MODEL_UNAVAILABLE', `face detector '${opts.detector}' has no landmarks; use yunet`);
  const embedder = opts.embed ? await deps.models.require(opts.embedder, 'face-embed') : null;
  await checkImage(data, deps.sniffer, deps.decoder, deps.limits);
  return facesIn(deps, detector, embedder, await deps.decoder.decodeRgb(data), opts);
}

/** The same on decoded pixels (a video frame). */
export async function findFacesInPixels(deps: FacePipelineDeps, image: RgbImage, opts: FaceOptions): Promise<FaceReport> {
  const detector = await deps.models.require(opts.detector, 'face-detect');
  if (detector.manifest.decoder !== 'yunet') throw new AppError('MODEL_UNAVAILABLE', `face detector '${opts.detector}' has no landmarks; use yunet`);
  const embedder = opts.embed ? await deps.models.require(opts.embedder, 'face-embed') : null;
  return facesIn(deps, detector, embedder, image, opts);
}

async function facesIn(deps: FacePipelineDeps, detector: UsableModel, embedder: UsableModel | null, image: RgbImage, opts: FaceOptions): Promise<FaceReport> {
  const faces = await detect(deps, detector, image, opts.minScore);
  const out: FoundFace[] = [];
  for (const f of faces) {
    const aligned = alignFace(image, f.landmarks, 112);
    const quality = faceQuality(image, f, aligned);
    const embedding = embedder ? await embedAligned(deps, embedder, aligned) : null;
    out.push({
      box: roundBox(f.box),
      landmarks: f.landmarks.map(([x, y]) => [round1(x), round1(y)]),
      score: Math.round(f.score * 10_000) / 10_000,
      quality,
      embedding,
      ...(opts.keepAligned ? { aligned } : {}),
    });
  }
  out.sort((a, b) => area(b.box) - area(a.box));
  return { width: image.width, height: image.height, detector: detector.manifest.id, embedder: embedder?.manifest.id ?? null, faces: out };
}

async function detect(deps: FacePipelineDeps, model: UsableModel, image: RgbImage, minScore: number): Promise<FaceCandidate[]> {
  // YuNet takes any size in multiples of 32: scale the longer side to 640 and pad right/bottom to the next multiple.
  const lb0 = planLetterbox(image.width, image.height, DETECT_SIDE, DETECT_SIDE, 'top-left');
  const inW = Math.ceil(lb0.width / 32) * 32;
  const inH = Math.ceil(lb0.height / 32) * 32;
  const lb = { ...lb0, dstWidth: inW, dstHeight: inH };
  const small = await deps.decoder.resizeRgb(image, null, lb.width, lb.height);
  const tensor = writeChw(small, model.manifest.input, new Float32Array(3 * inW * inH), 0, { width: inW, height: inH, x: 0, y: 0, pad: model.manifest.input.pad ?? 0 });
  const result = await deps.engine.run(model, { data: tensor, dims: [1, 3, inH, inW] });
  return decodeYunet(result.outputs, { width: inW, height: inH }, minScore).map((f) => {
    const mapped = mapFace(f, (x, y) => [x / lb.scale, y / lb.scale]);
    return { ...mapped, box: clipBox(mapped.box, image.width, image.height) };
  });
}

/** The L2-normalised embedding of an aligned face crop. */
export async function embedAligned(deps: FacePipelineDeps, model: UsableModel, aligned: RgbImage): Promise<Float32Array> {
  const spec = model.manifest.input;
  const tensor = writeChw(aligned, spec, new Float32Array(3 * spec.width * spec.height));
  const result = await deps.engine.run(model, { data: tensor, dims: [1, 3, spec.height, spec.width] });
  const first = result.outputs.values().next().value;
  if (!first) throw new AppError('MODEL_UNAVAILABLE', `embedder '${model.manifest.id}' gave no output`);
  return l2normalize(first.data);
}

function area(b: Box): number {
  return (b.x2 - b.x1) * (b.y2 - b.y1);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * Decoder for YuNet (libfacedetection.train's yunet_n_dynamic.onnx): face boxes, scores and 5 landmarks from its
 * twelve per-stride outputs. Pure and synchronous; coordinates stay in model-input pixels, the caller maps them back
 * with {@link mapFace}.
 */
import type { Box } from '../geometry.js';
import type { PixelSpec } from '../image-tensor.js';
import type { Candidate, OutputTensor } from '../detection/detection.js';
import { batchSlice, describeOutputs, type BatchSlice } from '../detection/yolov5.js';
import { nms } from '../detection/nms.js';

/** A point in pixels, [x, y]. */
export type Point = [number, number];

/**
 * One face as YuNet sees it. `landmarks` holds 5 points in YuNet's order: right eye, left eye, nose tip, right mouth
 * corner, left mouth corner (the subject's right and left: in the image the first eye is the left-most).
 */
export interface FaceCandidate {
  readonly box: Box;
  readonly score: number;
  readonly landmarks: Point[];
}

/** The strides of YuNet's three heads; each has outputs `cls_s`, `obj_s`, `bbox_s` and `kps_s`. */
export const YUNET_STRIDES = [8, 16, 32] as const;

/** How YuNet wants its pixels (for `writeChw`): BGR, 0..255, no normalisation; H and W multiples of 32. */
export const YUNET_PIXELS: PixelSpec = { colour: 'bgr' };

/** Number of landmarks per face. */
export const FACE_LANDMARKS = 5;

/** The named output `name` sliced to one image, checked to have `cols` values per grid cell and `cells` cells. */
function head(outputs: ReadonlyMap<string, OutputTensor>, name: string, cols: number, cells: number, batchIndex: number): BatchSlice {
  const t = outputs.get(name);
  if (!t) throw new RangeError(`yunet: missing output ${name}; the model gave ${describeOutputs(outputs)}`);
  const s = batchSlice(t, batchIndex, 'yunet');
  if (s.cols !== cols || s.rows !== cells) {
    throw new RangeError(`yunet: ${name} is [${t.dims.join(', ')}], expected [batch, ${cells}, ${cols}] for this input size`);
  }
  return s;
}

/** Clamps to 0..1: the score heads are sigmoids, but the reference decoder clamps anyway (OpenCV FaceDetectorYN). */
function unit(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * Decodes YuNet's outputs for a `width` x `height` input into faces scoring at least `scoreThreshold`, after
 * class-agnostic NMS at `nmsIou`, best score first. Per stride s the grid is ceil(H/s) x ceil(W/s) cells in row-major
 * order (exact for the multiples of 32 the model needs); for cell (row r, col c): score = sqrt(cls * obj), box centre
 * ((c + bbox0) s, (r + bbox1) s), size (exp(bbox2) s, exp(bbox3) s), landmark n ((c + kps[2n]) s, (r + kps[2n+1]) s).
 */
export function decodeYunet(
  outputs: ReadonlyMap<string, OutputTensor>,
  input: { readonly width: number; readonly height: number },
  scoreThreshold: number,
  nmsIou = 0.3,
  batchIndex = 0,
): FaceCandidate[] {
  const faces: FaceCandidate[] = [];
  const cands: Candidate[] = [];
  for (const s of YUNET_STRIDES) {
    const cols = Math.ceil(input.width / s);
    const cells = cols * Math.ceil(input.height / s);
    const cls = head(outputs, `cls_${s}`, 1, cells, batchIndex).data;
    const obj = head(outputs, `obj_${s}`, 1, cells, batchIndex).data;
    const bbox = head(outputs, `bbox_${s}`, 4, cells, batchIndex).data;
    const kps = head(outputs, `kps_${s}`, 2 * FACE_LANDMARKS, cells, batchIndex).data;
    for (let i = 0; i < cells; i++) {
      const score = Math.sqrt(unit(cls[i]!) * unit(obj[i]!));
      // `!(>=)` also drops NaN scores from a broken model.
      if (!(score >= scoreThreshold)) continue;
      const c = i % cols;
      const r = (i - c) / cols;
      const b = 4 * i;
      const cx = (c + bbox[b]!) * s;
      const cy = (r + bbox[b + 1]!) * s;
      const w = Math.exp(bbox[b + 2]!) * s;
      const h = Math.exp(bbox[b + 3]!) * s;
      const landmarks: Point[] = [];
      for (let n = 0, k = 2 * FACE_LANDMARKS * i; n < FACE_LANDMARKS; n++, k += 2) {
        landmarks.push([(c + kps[k]!) * s, (r + kps[k + 1]!) * s]);
      }
      const box: Box = { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 };
      faces.push({ box, score, landmarks });
      cands.push({ box, classId: 0, score });
    }
  }
  // nms hands back the very Candidate objects it was given, so they lead back to their faces.
  const faceOf = new Map<Candidate, FaceCandidate>(cands.map((c, i) => [c, faces[i]!]));
  return nms(cands, nmsIou, { classAware: false }).map((c) => faceOf.get(c)!);
}

/**
 * Maps a face's box and landmarks through `fn` (e.g. from model-input pixels back to the image through a letterbox).
 * The box is the bounding box of its two mapped corners, so a mapping that flips an axis still gives x1 <= x2.
 */
export function mapFace<F extends FaceCandidate>(face: F, fn: (x: number, y: number) => Point): F {
  const [ax, ay] = fn(face.box.x1, face.box.y1);
  const [bx, by] = fn(face.box.x2, face.box.y2);
  const box: Box = { x1: Math.min(ax, bx), y1: Math.min(ay, by), x2: Math.max(ax, bx), y2: Math.max(ay, by) };
  return { ...face, box, landmarks: face.landmarks.map(([x, y]) => fn(x, y)) };
}

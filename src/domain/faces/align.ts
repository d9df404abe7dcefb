/**
 * Face alignment for embedders: a least-squares similarity transform from the 5 detected landmarks to the ArcFace
 * template, and a bilinear affine warp of the image through it (what insightface does with skimage + cv2.warpAffine).
 * Pure and synchronous.
 */
import type { RgbImage } from '../image-tensor.js';
import type { Point } from './yunet.js';

/**
 * A 2x3 affine matrix in row-major order [a, b, c, d, e, f], as cv2 stores it: x' = a x + b y + c,
 * y' = d x + e y + f.
 */
export type AffineMatrix = readonly [number, number, number, number, number, number];

/**
 * Where the 5 landmarks (right eye, left eye, nose tip, right mouth corner, left mouth corner; YuNet's order) go in a
 * 112x112 aligned face: insightface's ArcFace template, the one MobileFaceNet/ArcFace embedders were trained on.
 */
export const ARCFACE_TEMPLATE_112: readonly (readonly [number, number])[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** Applies `m` to the point (x, y). */
export function applyAffine(m: AffineMatrix, x: number, y: number): Point {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/**
 * The similarity (rotation, uniform scale, translation; no reflection or shear) that maps `src` onto `dst` with the
 * least sum of squared distances. Treating points as complex numbers, the best z = scale·e^(iθ) for centred points
 * p → q is Σ conj(p)q / Σ|p|², which is the same minimiser as Umeyama's method (skimage SimilarityTransform) and
 * cv2.estimateAffinePartial2D without RANSAC, in closed form. Needs at least 2 points that are not all equal.
 */
export function similarityTransform(src: readonly (readonly [number, number])[], dst: readonly (readonly [number, number])[]): AffineMatrix {
  const n = src.length;
  if (n !== dst.length) throw new RangeError(`similarityTransform: ${n} source points but ${dst.length} destination points`);
  if (n < 2) throw new RangeError('similarityTransform: needs at least 2 point pairs');
  let sx = 0;
  let sy = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let re = 0;
  let im = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - sx;
    const py = src[i]![1] - sy;
    const qx = dst[i]![0] - dx;
    const qy = dst[i]![1] - dy;
    re += px * qx + py * qy;
    im += px * qy - py * qx;
    norm += px * px + py * py;
  }
  // `!(> 0)` also catches NaN from non-finite input.
  if (!(norm > 0) || !Number.isFinite(re) || !Number.isFinite(im)) {
    throw new RangeError('similarityTransform: source points are all equal or not finite');
  }
  const a = re / norm;
  const b = im / norm;
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

/** The inverse of an affine matrix; throws when it is singular (it collapses the plane onto a line or a point). */
export function invertAffine(m: AffineMatrix): AffineMatrix {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError('invertAffine: matrix is singular');
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * Warps `src` by `m` (which maps source pixels to destination pixels) into a `width` x `height` image, like
 * cv2.warpAffine with INTER_LINEAR and a constant 0 border: each destination pixel (x, y) samples the source at
 * m⁻¹(x, y) bilinearly, pixel centres at whole coordinates, and neighbours outside the source count as black (so
 * edges fade rather than smear). cv2 quantises the sample position to 1/32 pixel; this does not, so values can differ
 * from it by one level. Writes into `out` when given (reused buffers), which must hold width·height·3 bytes.
 */
export function warpAffineRgb(src: RgbImage, m: AffineMatrix, width: number, height: number, out?: Uint8Array): RgbImage {
  const { data: s, width: sw, height: sh } = src;
  if (s.length !== sw * sh * 3) throw new RangeError(`warpAffineRgb: expected ${sw * sh * 3} RGB bytes, got ${s.length}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`warpAffineRgb: bad output size ${width}x${height}`);
  }
  const data = out ?? new Uint8Array(width * height * 3);
  if (data.length !== width * height * 3) throw new RangeError(`warpAffineRgb: out holds ${data.length} bytes, need ${width * height * 3}`);
  const [a, b, c, d, e, f] = invertAffine(m);
  const stride = sw * 3;
  for (let y = 0, o = 0; y < height; y++) {
    // Source position of (0, y); stepping x adds (a, d).
    let px = b * y + c;
    let py = e * y + f;
    for (let x = 0; x < width; x++, o += 3, px += a, py += d) {
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      if (x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh || Number.isNaN(px + py)) {
        data[o] = data[o + 1] = data[o + 2] = 0;
        continue;
      }
      const fx = px - x0;
      const fy = py - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const inX0 = x0 >= 0;
      const inX1 = x0 + 1 < sw;
      const inY0 = y0 >= 0;
      const inY1 = y0 + 1 < sh;
      const i00 = y0 * stride + x0 * 3;
      const i10 = i00 + stride;
      for (let ch = 0; ch < 3; ch++) {
        let v = 0;
        if (inY0) {
          if (inX0) v += w00 * s[i00 + ch]!;
          if (inX1) v += w01 * s[i00 + 3 + ch]!;
        }
        if (inY1) {
          if (inX0) v += w10 * s[i10 + ch]!;
          if (inX1) v += w11 * s[i10 + 3 + ch]!;
        }
        // Weights sum to 1, so v <= 255 up to rounding; a Uint8Array store would wrap 256 to 0, hence the min.
        data[o + ch] = Math.min(255, Math.round(v));
      }
    }
  }
  return { data, width, height };
}

/**
 * Cuts out the face with these 5 landmarks (YuNet's order, image pixels) as a `size` x `size` crop aligned to the
 * ArcFace template (scaled by size/112), ready for an embedder.
 */
export function alignFace(img: RgbImage, landmarks: readonly (readonly [number, number])[], size = 112, out?: Uint8Array): RgbImage {
  if (landmarks.length !== ARCFACE_TEMPLATE_112.length) {
    throw new RangeError(`alignFace: expected ${ARCFACE_TEMPLATE_112.length} landmarks, got ${landmarks.length}`);
  }
  const k = size / 112;
  const dst = ARCFACE_TEMPLATE_112.map(([x, y]) => [x * k, y * k] as const);
  return warpAffineRgb(img, similarityTransform(landmarks, dst), size, size, out);
}

import FFT from 'fft.js';

/** A single-channel 8-bit image, row-major. */
export interface GreyImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Variance of the 3x3 Laplacian ([0,1,0],[1,-4,1],[0,1,0]) of a grey image, with reflect-101 borders —
 * the same figure as OpenCV's `cv2.Laplacian(gray, cv2.CV_64F).var()`, the seed's blur metric.
 * One pass with running sums; integer arithmetic keeps it exact and fast.
 */
export function laplacianVariance(img: GreyImage): number {
  const { data, width: w, height: h } = img;
  if (w < 2 || h < 2) throw new RangeError('image must be at least 2x2');
  let sum = 0;
  let sumSq = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const up = (y === 0 ? 1 : y - 1) * w;
    const down = (y === h - 1 ? h - 2 : y + 1) * w;
    // Left border column (reflect-101: x = -1 reads x = 1).
    let v = data[up]! + data[down]! + 2 * data[row + 1]! - 4 * data[row]!;
    sum += v;
    sumSq += v * v;
    for (let x = 1; x < w - 1; x++) {
      const i = row + x;
      v = data[up + x]! + data[down + x]! + data[i - 1]! + data[i + 1]! - 4 * data[i]!;
      sum += v;
      sumSq += v * v;
    }
    const last = row + w - 1;
    v = data[up + w - 1]! + data[down + w - 1]! + 2 * data[last - 1]! - 4 * data[last]!;
    sum += v;
    sumSq += v * v;
  }
  const n = w * h;
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

/** Side of the square the FFT measure works on; the caller resizes the grey image to it. */
export const HF_SIZE = 256;
/** Radius (in frequency bins) separating low from high frequencies for the HF ratio. */
const HF_CUTOFF = HF_SIZE / 8;

/**
 * Share of the spectral energy (DC excluded) above a radius of 1/8 of the sampling frequency, from a 2-D FFT
 * of a `HF_SIZE`-square grey image. Sharp images keep more energy in the high frequencies (0..1).
 */
export function highFrequencyRatio(img: GreyImage): number {
  const n = HF_SIZE;
  if (img.width !== n || img.height !== n || img.data.length !== n * n) throw new RangeError(`HF ratio needs a ${n}x${n} single-channel image`);
  const fft = new FFT(n);
  let mean = 0;
  for (let i = 0; i < img.data.length; i++) mean += img.data[i]!;
  mean /= img.data.length;
  // A Hann window: without it the jump between opposite image borders floods the spectrum with
  // high frequencies and every image looks sharp.
  const hann = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  // Row transforms, kept as interleaved complex rows.
  const rows: number[][] = [];
  const input = new Array<number>(n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) input[x] = (img.data[y * n + x]! - mean) * hann[x]! * hann[y]!;
    const out = fft.createComplexArray() as number[];
    fft.realTransform(out, input);
    fft.completeSpectrum(out);
    rows.push(out);
  }
  // Column transforms, accumulating energy by radius as each column is finished.
  const col = fft.createComplexArray() as number[];
  const colOut = fft.createComplexArray() as number[];
  let total = 0;
  let high = 0;
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      col[2 * y] = rows[y]![2 * x]!;
      col[2 * y + 1] = rows[y]![2 * x + 1]!;
    }
    fft.transform(colOut, col);
    const fx = x <= n / 2 ? x : n - x;
    for (let y = 0; y < n; y++) {
      const fy = y <= n / 2 ? y : n - y;
      if (fx === 0 && fy === 0) continue;
      const re = colOut[2 * y]!;
      const im = colOut[2 * y + 1]!;
      const e = re * re + im * im;
      total += e;
      if (fx * fx + fy * fy > HF_CUTOFF * HF_CUTOFF) high += e;
    }
  }
  return total > 0 ? high / total : 0;
}

/** The verdict on one image. */
export interface BlurVerdict {
  readonly isBlurry: boolean;
  /** How far the metric sits from the threshold, 0 (at it) .. 1 (far from it), on a log scale. */
  readonly confidence: number;
}

/** Blurry when the Laplacian variance is below the threshold; confidence grows with the log-distance from it. */
export function judgeBlur(laplacianVar: number, threshold: number): BlurVerdict {
  const d = Math.log(Math.max(laplacianVar, 1e-6) / threshold);
  return { isBlurry: laplacianVar < threshold, confidence: Math.tanh(Math.abs(d)) };
}

/** Luma of 8-bit interleaved RGB(A) pixels with OpenCV's BT.601 fixed-point weights (as cv2.COLOR_BGR2GRAY). */
export function rgbToGrey(pixels: Uint8Array, channels: number, width: number, height: number): GreyImage {
  const n = width * height;
  const out = new Uint8Array(n);
  for (let i = 0, p = 0; i < n; i++, p += channels) {
    out[i] = (pixels[p]! * 4899 + pixels[p + 1]! * 9617 + pixels[p + 2]! * 1868 + 8192) >> 14;
  }
  return { data: out, width, height };
}

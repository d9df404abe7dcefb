import { HF_SIZE, highFrequencyRatio, judgeBlur, laplacianVariance } from '../domain/blur.js';
import { checkImage, type ImageLimits } from './load-image.js';
import type { ContentSniffer, ImageDecoder } from './ports.js';

/** The blur analysis of one image, in the seed's field names. */
export interface BlurResult {
  is_blurry: boolean;
  confidence: number;
  laplacian_variance: number;
  hf_ratio: number;
  threshold: number;
  width: number;
  height: number;
}

/** Dependencies of the blur use case. */
export interface DetectBlurDeps {
  readonly sniffer: ContentSniffer;
  readonly decoder: ImageDecoder;
  readonly limits: ImageLimits;
}

/** Measures how blurry an image is: Laplacian variance against `threshold`, plus the FFT high-frequency ratio. */
export async function detectBlur(deps: DetectBlurDeps, data: Uint8Array, threshold: number): Promise<BlurResult> {
  await checkImage(data, deps.sniffer, deps.decoder, deps.limits);
  const grey = await deps.decoder.decodeGrey(data);
  const lapVar = laplacianVariance(grey);
  const small = await deps.decoder.resizeGrey(grey, HF_SIZE, HF_SIZE);
  const verdict = judgeBlur(lapVar, threshold);
  return {
    is_blurry: verdict.isBlurry,
    confidence: round(verdict.confidence, 4),
    laplacian_variance: round(lapVar, 2),
    hf_ratio: round(highFrequencyRatio(small), 5),
    threshold,
    width: grey.width,
    height: grey.height,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

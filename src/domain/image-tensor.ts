/**
 * Packs 8-bit interleaved RGB pixels into the planar float tensor a model reads (NCHW), in the model's colour
 * order and normalisation. One pass over the pixels, written into a caller-owned array so buffers are reused.
 */

/** Interleaved 8-bit RGB pixels (HWC). */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** How a model wants its pixels. */
export interface PixelSpec {
  readonly colour: 'rgb' | 'bgr';
  /** Per-channel mean and std in the model's channel order; value = (pixel - mean) / std. */
  readonly mean?: readonly [number, number, number] | undefined;
  readonly std?: readonly [number, number, number] | undefined;
}

/**
 * Writes `img` as one CHW plane set into `out` starting at element `offset` (the batch slot). Returns `out`.
 * The image must be exactly the model's input size.
 */
export function writeChw(img: RgbImage, spec: PixelSpec, out: Float32Array, offset = 0): Float32Array {
  const { data, width, height } = img;
  const plane = width * height;
  if (data.length !== plane * 3) throw new RangeError(`expected ${plane * 3} RGB bytes, got ${data.length}`);
  if (offset + plane * 3 > out.length) throw new RangeError('tensor too small for this image');
  const bgr = spec.colour === 'bgr';
  // Channel c of the model reads source channel src[c].
  const src = bgr ? [2, 1, 0] : [0, 1, 2];
  const mean = spec.mean ?? [0, 0, 0];
  const std = spec.std ?? [1, 1, 1];
  for (let c = 0; c < 3; c++) {
    const s = src[c] as number;
    const m = mean[c] as number;
    const k = 1 / (std[c] as number);
    const base = offset + c * plane;
    for (let i = 0, j = s; i < plane; i++, j += 3) out[base + i] = ((data[j] as number) - m) * k;
  }
  return out;
}

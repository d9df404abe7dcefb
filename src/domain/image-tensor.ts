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

/** Where a smaller image goes in the model input, and the grey value around it (a letterbox). */
export interface Placement {
  readonly width: number;
  readonly height: number;
  readonly x: number;
  readonly y: number;
  readonly pad: number;
}

/**
 * Writes `img` as one CHW plane set into `out` starting at element `offset` (the batch slot). Returns `out`.
 * Without `place` the image must be exactly the model's input size; with it, the image is drawn at
 * (`place.x`, `place.y`) of a `place.width` x `place.height` input filled with `place.pad` — the letterbox is
 * made here rather than by the image library, which saves a copy of every image.
 */
export function writeChw(img: RgbImage, spec: PixelSpec, out: Float32Array, offset = 0, place?: Placement): Float32Array {
  const { data, width, height } = img;
  const dstW = place?.width ?? width;
  const dstH = place?.height ?? height;
  const x0 = place?.x ?? 0;
  const y0 = place?.y ?? 0;
  if (data.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} RGB bytes, got ${data.length}`);
  if (x0 < 0 || y0 < 0 || x0 + width > dstW || y0 + height > dstH) throw new RangeError('image does not fit the input');
  const plane = dstW * dstH;
  if (offset + plane * 3 > out.length) throw new RangeError('tensor too small for this image');
  // Channel c of the model reads source channel src[c].
  const src = spec.colour === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const mean = spec.mean ?? [0, 0, 0];
  const std = spec.std ?? [1, 1, 1];
  for (let c = 0; c < 3; c++) {
    const s = src[c] as number;
    const m = mean[c] as number;
    const k = 1 / (std[c] as number);
    const base = offset + c * plane;
    if (place && (width !== dstW || height !== dstH)) out.fill((place.pad - m) * k, base, base + plane);
    for (let y = 0; y < height; y++) {
      const row = base + (y + y0) * dstW + x0;
      for (let x = 0, j = y * width * 3 + s; x < width; x++, j += 3) out[row + x] = ((data[j] as number) - m) * k;
    }
  }
  return out;
}

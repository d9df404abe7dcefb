import sharp, { type Sharp } from 'sharp';
import type { ImageDecoder, ImageInfo, PixelRegion } from '../../app/ports.js';
import { rgbToGrey, type GreyImage } from '../../domain/blur.js';
import { AppError } from '../../domain/errors.js';
import type { RgbImage } from '../../domain/image-tensor.js';

/** Decoder options. */
export interface SharpDecoderOptions {
  /**
   * Let libjpeg decode a JPEG at 1/2, 1/4 or 1/8 scale in the DCT domain when the target is that much smaller
   * (default true; sharp does it from a shrink of 3). False decodes every pixel first: the reference the
   * equivalence tests compare against.
   */
  readonly shrinkOnLoad?: boolean;
}

/** Decodes images with sharp (libvips), EXIF orientation applied, truncated files refused. */
export class SharpImageDecoder implements ImageDecoder {
  private readonly shrinkOnLoad: boolean;

  constructor(
    private readonly maxPixels: number,
    options: SharpDecoderOptions = {},
  ) {
    this.shrinkOnLoad = options.shrinkOnLoad ?? true;
  }

  async probe(data: Uint8Array): Promise<ImageInfo> {
    try {
      const meta = await sharp(data, { limitInputPixels: false }).metadata();
      if (!meta.width || !meta.height) throw new Error('no dimensions');
      const swap = (meta.orientation ?? 1) >= 5;
      return { format: meta.format ?? 'unknown', width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height };
    } catch (err) {
      throw invalid(err);
    }
  }

  async decodeGrey(data: Uint8Array): Promise<GreyImage> {
    try {
      const { data: pixels, info } = await sharp(data, { failOn: 'truncated', limitInputPixels: this.maxPixels })
        .rotate()
        .removeAlpha()
        .toColourspace('srgb')
        .raw()
        .toBuffer({ resolveWithObject: true });
      return rgbToGrey(pixels, info.channels, info.width, info.height);
    } catch (err) {
      throw invalid(err);
    }
  }

  async resizeGrey(img: GreyImage, width: number, height: number): Promise<GreyImage> {
    const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 1 } })
      .resize(width, height, { fit: 'fill', kernel: 'linear' })
      // libvips would otherwise hand back 3 channels for 1-channel raw input.
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
  }

  async decodeRgb(data: Uint8Array): Promise<RgbImage> {
    try {
      const { data: pixels, info } = await this.open(data).raw().toBuffer({ resolveWithObject: true });
      return { data: pixels, width: info.width, height: info.height };
    } catch (err) {
      throw invalid(err);
    }
  }

  async faceCrop(data: Uint8Array, box: { x1: number; y1: number; x2: number; y2: number }, size: number): Promise<Uint8Array> {
    const img = sharp(data, { limitInputPixels: false }).rotate();
    const meta = await img.clone().metadata();
    // Oriented size: EXIF orientations 5-8 swap width and height (boxes are in oriented pixels).
    const [width, height] = (meta.orientation ?? 1) >= 5 ? [meta.height ?? 0, meta.width ?? 0] : [meta.width ?? 0, meta.height ?? 0];
    // A margin of a quarter of the face around it, clipped to the photo.
    const mx = (box.x2 - box.x1) / 4;
    const my = (box.y2 - box.y1) / 4;
    const left = Math.max(0, Math.floor(box.x1 - mx));
    const top = Math.max(0, Math.floor(box.y1 - my));
    const right = Math.min(width, Math.ceil(box.x2 + mx));
    const bottom = Math.min(height, Math.ceil(box.y2 + my));
    // One pipeline: sharp applies the orientation before the extract, since rotate() is called first.
    const out = await img
      .extract({ left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) })
      .resize(size, size, { fit: 'cover' })
      .webp({ quality: 80 })
      .toBuffer();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  async resizeRgb(source: Uint8Array | RgbImage, region: PixelRegion | null, width: number, height: number): Promise<RgbImage> {
    const encoded = source instanceof Uint8Array;
    const input = source instanceof Uint8Array && !this.shrinkOnLoad ? await this.decodeRgb(source) : source;
    let pipeline = input instanceof Uint8Array ? this.open(input) : sharp(input.data, { raw: { width: input.width, height: input.height, channels: 3 } });
    if (region) pipeline = pipeline.extract(region);
    // Bilinear, as the detectors' own pre-processing (cv2.resize) does. From encoded bytes, sharp has libjpeg shrink
    // in the DCT domain when the target is at least 3x smaller (not from 2x to 3x: sharp's guard against libjpeg's
    // rounding; forcing it there through a temporary file measured 9.3 ms of CPU per 1024x768 image against 8.9).
    pipeline = pipeline.resize(width, height, { fit: 'fill', kernel: 'linear' });
    try {
      const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
      return { data, width: info.width, height: info.height };
    } catch (err) {
      throw encoded ? invalid(err) : err;
    }
  }

  /** An oriented, 3-channel sRGB pipeline over encoded bytes; truncated files fail. */
  private open(data: Uint8Array): Sharp {
    return sharp(data, { failOn: 'truncated', limitInputPixels: this.maxPixels }).rotate().removeAlpha().toColourspace('srgb');
  }
}

function invalid(err: unknown): AppError {
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new AppError('INVALID_IMAGE', `the image is corrupt or truncated (${detail})`);
}

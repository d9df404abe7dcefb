import sharp, { type Sharp } from 'sharp';
import type { ImageDecoder, ImageInfo, PixelRegion } from '../../app/ports.js';
import { rgbToGrey, type GreyImage } from '../../domain/blur.js';
import { AppError } from '../../domain/errors.js';
import type { RgbImage } from '../../domain/image-tensor.js';

/** Decodes images with sharp (libvips), EXIF orientation applied, truncated files refused. */
export class SharpImageDecoder implements ImageDecoder {
  constructor(private readonly maxPixels: number) {}

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

  async resizeRgb(source: Uint8Array | RgbImage, region: PixelRegion | null, width: number, height: number): Promise<RgbImage> {
    const encoded = source instanceof Uint8Array;
    let pipeline = encoded ? this.open(source) : sharp(source.data, { raw: { width: source.width, height: source.height, channels: 3 } });
    if (region) pipeline = pipeline.extract(region);
    // Bilinear, as the detectors' own pre-processing (cv2.resize) does; libvips shrinks JPEGs on load here.
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

import sharp from 'sharp';
import type { ImageDecoder, ImageInfo } from '../../app/ports.js';
import { rgbToGrey, type GreyImage } from '../../domain/blur.js';
import { AppError } from '../../domain/errors.js';

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
}

function invalid(err: unknown): AppError {
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new AppError('INVALID_IMAGE', `the image is corrupt or truncated (${detail})`);
}

import { AppError } from '../domain/errors.js';
import { kindOfMime } from '../domain/media-kind.js';
import type { ContentSniffer, ImageDecoder, ImageInfo } from './ports.js';

/** Limits every image analyzer applies before decoding. */
export interface ImageLimits {
  /** Images with more pixels than this are refused from their header, never decoded (decompression bombs). */
  readonly maxPixels: number;
  /** Images narrower or shorter than this are refused. */
  readonly minSide: number;
}

/**
 * Checks that `data` is an image Argus can analyze — by its magic bytes, its header dimensions and the
 * limits — and returns its header facts. Throws the catalog's 415/400 errors otherwise.
 */
export async function checkImage(
  data: Uint8Array,
  sniffer: ContentSniffer,
  decoder: ImageDecoder,
  limits: ImageLimits,
): Promise<ImageInfo> {
  if (data.length === 0) throw new AppError('INVALID_IMAGE', 'the file is empty');
  const type = await sniffer.sniff(data.subarray(0, sniffer.headLength));
  if (!type?.mime.startsWith('image/')) {
    // A video sent here is a common mistake: say where videos go.
    if (type && kindOfMime(type.mime) === 'video') {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `this endpoint takes one image; ${type.mime} is a video: send it to POST /api/v1/analyze (a job), or upload it with POST /api/v1/media`);
    }
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `expected an image (JPEG, PNG, WebP, GIF, TIFF, AVIF), got ${type?.mime ?? 'an unknown format'}`);
  }
  const info = await decoder.probe(data);
  if (info.width * info.height > limits.maxPixels) {
    throw new AppError('IMAGE_TOO_LARGE', `image is ${info.width}x${info.height} = ${info.width * info.height} pixels; the limit is ${limits.maxPixels}`);
  }
  if (info.width < limits.minSide || info.height < limits.minSide) {
    throw new AppError('IMAGE_TOO_SMALL', `image is ${info.width}x${info.height}; at least ${limits.minSide}x${limits.minSide} is needed`);
  }
  return info;
}

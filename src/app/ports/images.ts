/** Ports: decoding images into pixels. */
import type { GreyImage } from '../../domain/blur.js';
import type { Box } from '../../domain/geometry.js';
import type { RgbImage } from '../../domain/image-tensor.js';

/** Header facts about an image, read without decoding its pixels. */
export interface ImageInfo {
  readonly format: string;
  /** Width and height after EXIF orientation. */
  readonly width: number;
  readonly height: number;
}

/** Decodes still images (with EXIF orientation applied). Throws AppError INVALID_IMAGE on corrupt input. */
export interface ImageDecoder {
  probe(data: Uint8Array): Promise<ImageInfo>;
  /** Decodes to 8-bit grey (BT.601 luma), oriented. */
  decodeGrey(data: Uint8Array): Promise<GreyImage>;
  /** Resizes a grey image to exactly `width` x `height`. */
  resizeGrey(img: GreyImage, width: number, height: number): Promise<GreyImage>;
  /** Decodes to 8-bit interleaved RGB, oriented. */
  decodeRgb(data: Uint8Array): Promise<RgbImage>;
  /**
   * Scales `source` (encoded bytes, decoded in the same pass, or decoded pixels), or its `region`, to
   * `width` x `height` (ignoring the aspect ratio).
   */
  resizeRgb(source: Uint8Array | RgbImage, region: PixelRegion | null, width: number, height: number): Promise<RgbImage>;
  /** A small WebP of `box` (with a margin) cut from an encoded image, oriented, `size` x `size`: a face's picture. */
  faceCrop(data: Uint8Array, box: Box, size: number): Promise<Uint8Array>;
}

/** A rectangle of an image in whole pixels. */
export interface PixelRegion {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

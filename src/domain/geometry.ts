/**
 * Boxes and the letterbox transform that maps between an image and a model's fixed input. Pure maths, no I/O.
 */

/** An axis-aligned box in pixels: (x1, y1) top-left, (x2, y2) bottom-right. */
export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** Area of a box; zero for an empty or inverted box. */
export function boxArea(b: Box): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

/** Intersection over union of two boxes, 0..1. */
export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = boxArea(a) + boxArea(b) - inter;
  // Boxes under ~1e-154 px a side have areas that underflow to 0, and 0 / 0 is NaN, not an IoU.
  return union > 0 ? inter / union : 0;
}

/** Intersection over the smaller box's area: 1 when one box lies inside the other. */
export function intersectionOverMin(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const smaller = Math.min(boxArea(a), boxArea(b));
  return smaller > 0 ? (iw * ih) / smaller : 0;
}

/** Clips a box to a `width` x `height` image. */
export function clipBox(b: Box, width: number, height: number): Box {
  return {
    x1: Math.min(Math.max(b.x1, 0), width),
    y1: Math.min(Math.max(b.y1, 0), height),
    x2: Math.min(Math.max(b.x2, 0), width),
    y2: Math.min(Math.max(b.y2, 0), height),
  };
}

/** A box from its centre and size. */
export function boxFromCentre(cx: number, cy: number, w: number, h: number): Box {
  return { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 };
}

/** Rounds a box's corners to `digits` decimals, for stable JSON. */
export function roundBox(b: Box, digits = 1): Box {
  const f = 10 ** digits;
  const r = (v: number): number => Math.round(v * f) / f;
  return { x1: r(b.x1), y1: r(b.y1), x2: r(b.x2), y2: r(b.y2) };
}

/**
 * How an image of `srcWidth` x `srcHeight` is placed into a `dstWidth` x `dstHeight` model input keeping its
 * aspect ratio: scaled by `scale`, drawn at (`padX`, `padY`), the rest filled with padding.
 */
export interface Letterbox {
  readonly scale: number;
  readonly padX: number;
  readonly padY: number;
  /** Size of the scaled image inside the input, in whole pixels. */
  readonly width: number;
  readonly height: number;
  readonly dstWidth: number;
  readonly dstHeight: number;
}

/** Where the image sits in the padded input: top-left (YOLOX) or centred (Ultralytics YOLO, NanoDet). */
export type LetterboxAlign = 'top-left' | 'centre';

/** Plans a letterbox; `stretch` ignores the aspect ratio and scales each axis on its own (padX = padY = 0). */
export function planLetterbox(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  align: LetterboxAlign | 'stretch' = 'top-left',
): Letterbox & { readonly scaleY: number } {
  if (align === 'stretch') {
    return { scale: dstWidth / srcWidth, scaleY: dstHeight / srcHeight, padX: 0, padY: 0, width: dstWidth, height: dstHeight, dstWidth, dstHeight };
  }
  const scale = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  const width = Math.min(dstWidth, Math.max(1, Math.round(srcWidth * scale)));
  const height = Math.min(dstHeight, Math.max(1, Math.round(srcHeight * scale)));
  const padX = align === 'centre' ? Math.floor((dstWidth - width) / 2) : 0;
  const padY = align === 'centre' ? Math.floor((dstHeight - height) / 2) : 0;
  return { scale, scaleY: scale, padX, padY, width, height, dstWidth, dstHeight };
}

/** Maps a box from model-input pixels back to source-image pixels (not clipped). */
export function unletterbox(b: Box, lb: Letterbox & { readonly scaleY?: number }): Box {
  const sy = lb.scaleY ?? lb.scale;
  return {
    x1: (b.x1 - lb.padX) / lb.scale,
    y1: (b.y1 - lb.padY) / sy,
    x2: (b.x2 - lb.padX) / lb.scale,
    y2: (b.y2 - lb.padY) / sy,
  };
}

/** Moves a box by (dx, dy): maps a box found in a tile back to the whole image. */
export function offsetBox(b: Box, dx: number, dy: number): Box {
  return { x1: b.x1 + dx, y1: b.y1 + dy, x2: b.x2 + dx, y2: b.y2 + dy };
}

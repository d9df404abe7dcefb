/**
 * From one model pass's candidates to detections in image pixels: map back through the letterbox (and the tile's
 * offset), clip, drop what is left under a pixel, then NMS. Clipping comes first because NMS must judge the boxes
 * the caller will see: two same-class boxes running off the image edge may overlap little beyond it (IoU under the
 * threshold) yet almost coincide once clipped, and clipping after NMS returned both.
 */
import { clipBox, offsetBox, unletterbox, type Box, type Letterbox } from '../geometry.js';
import type { Candidate } from './detection.js';
import { nms } from './nms.js';
import type { TileRegion } from './tiling.js';

/** Detections per image unless a setting or request says otherwise (COCO's maxDets). */
export const DEFAULT_MAX_DETECTIONS = 100;

/** Where one pass's input came from: the whole image (region null) or a tile, and how it was fitted to the model. */
export interface PassPlacement {
  readonly lb: Letterbox & { readonly scaleY?: number };
  readonly region: TileRegion | null;
}

/** Options of {@link passDetections}. */
export interface PassOptions {
  /** Class-aware NMS IoU threshold. */
  readonly iouThreshold: number;
  /** Keep at most this many, the highest-scored (default: no limit). */
  readonly maxDetections?: number;
}

/** Maps a box from model-input pixels to image pixels, clipped to the pass's region (a tile) and to the image. */
export function toImagePixels(b: Box, pass: PassPlacement, width: number, height: number): Box {
  let box = unletterbox(b, pass.lb);
  if (pass.region) box = offsetBox(clipBox(box, pass.region.width, pass.region.height), pass.region.left, pass.region.top);
  return clipBox(box, width, height);
}

/**
 * One pass's detections in a `width` x `height` image: each candidate mapped and clipped ({@link toImagePixels}),
 * those narrower or shorter than a pixel dropped, then class-aware NMS. Best score first.
 */
export function passDetections(cands: readonly Candidate[], pass: PassPlacement, width: number, height: number, opts: PassOptions): Candidate[] {
  const mapped: Candidate[] = [];
  for (const c of cands) {
    const box = toImagePixels(c.box, pass, width, height);
    if (box.x2 - box.x1 >= 1 && box.y2 - box.y1 >= 1) mapped.push({ ...c, box });
  }
  return nms(mapped, opts.iouThreshold, opts.maxDetections === undefined ? {} : { maxDetections: opts.maxDetections });
}

/**
 * The detector's input size, after PaddleOCR's DetResizeForTest: the image is scaled so its shorter side
 * reaches `minSide` (small text needs the upscale), but never so far that the longer side passes `maxSide`
 * (big photos stay affordable), then each side is rounded to a multiple of 32 (the network's stride).
 */

/** The resize rule. */
export interface DetResizeRule {
  /** Scale up until the shorter side is at least this (RapidOCR: limit_type 'min', 736). */
  readonly minSide: number;
  /** ...but keep the longer side at most this; larger images are scaled down to it. */
  readonly maxSide: number;
}

/** The detector input for one image and the scale factors from input back to image pixels. */
export interface DetInputPlan {
  readonly width: number;
  readonly height: number;
  /** Image pixels per input pixel, per axis (rounding to 32 makes them differ slightly). */
  readonly scaleX: number;
  readonly scaleY: number;
}

/** Plans the detector input for a `width` x `height` image. */
export function planDetInput(width: number, height: number, rule: DetResizeRule): DetInputPlan {
  let ratio = 1;
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  if (short < rule.minSide) ratio = rule.minSide / short;
  if (long * ratio > rule.maxSide) ratio = rule.maxSide / long;
  const w = Math.max(32, Math.round((width * ratio) / 32) * 32);
  const h = Math.max(32, Math.round((height * ratio) / 32) * 32);
  return { width: w, height: h, scaleX: width / w, scaleY: height / h };
}

/**
 * The detector input for an image that needs no scaling under `rule` (its longer side within `maxSide`, its
 * shorter side at least `minSide`): the image as it is, padded on the right and bottom to the next multiple of
 * 32 (PaddleOCR's resize_type 2 pads the same way). Null when the image must be scaled. Reading at the image's
 * own scale costs no resampling pass; rounding to the nearest multiple instead stretches the image by up to 3%.
 */
export function paddedDetInput(width: number, height: number, rule: DetResizeRule): DetInputPlan | null {
  if (Math.max(width, height) > rule.maxSide || Math.min(width, height) < rule.minSide) return null;
  return { width: Math.max(32, Math.ceil(width / 32) * 32), height: Math.max(32, Math.ceil(height / 32) * 32), scaleX: 1, scaleY: 1 };
}

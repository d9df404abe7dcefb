/**
 * The registry of detection decoders, by the name a model manifest gives its output format.
 */
import type { DetectionDecoder } from './detection.js';
import { nanodet } from './nanodet.js';
import { picodet } from './picodet.js';
import { yolov5 } from './yolov5.js';
import { yolov8 } from './yolov8.js';
import { yolox } from './yolox.js';

/** Every known decoder by name. */
export const DECODERS = { yolox, yolov5, yolov8, nanodet, picodet } as const satisfies Record<string, DetectionDecoder>;

/** The name of a known decoder. */
export type DecoderName = keyof typeof DECODERS;

/** True when `s` names a known decoder (an own key: 'toString' and the like are not decoders). */
export function isDecoderName(s: string): s is DecoderName {
  return Object.hasOwn(DECODERS, s);
}

/** The decoder called `name`. */
export function decoderFor(name: DecoderName): DetectionDecoder {
  return DECODERS[name];
}

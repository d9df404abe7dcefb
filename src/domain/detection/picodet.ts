/**
 * Decoder for PP-PicoDet exports without post-processing (PaddleDetection's legacy PicoDet-S 416 export,
 * picodet_s_416_coco.onnx): eight outputs, four class-score maps [batch, N_s, C] (sigmoid already applied) then four
 * distance distributions [batch, N_s, 4 * 8], for strides 8, 16, 32 and 64 (grids 52, 26, 13, 7 at 416). The head is
 * GFL like NanoDet's (gfl.ts), with one more stride: softmax over 8 bins per side, expectation x stride from the cell
 * centre ((col + 0.5) s, (row + 0.5) s).
 */
import type { Candidate, DetectionDecoder, OutputTensor } from './detection.js';
import { decodeGfl } from './gfl.js';
import type { DecoderInput } from './yolov5.js';

/** The strides of PicoDet's four heads. */
export const PICODET_STRIDES = [8, 16, 32, 64] as const;

/** Decodes a PicoDet GFL head over strides 8, 16, 32, 64 (see gfl.ts): one candidate per cell, its best class. */
export function decodePicodet(
  outputs: ReadonlyMap<string, OutputTensor>,
  input: DecoderInput,
  threshold: number,
  batchIndex = 0,
): Candidate[] {
  return decodeGfl(outputs, input, threshold, batchIndex, PICODET_STRIDES, 'picodet');
}

/** The PicoDet decoder as a {@link DetectionDecoder}. */
export const picodet: DetectionDecoder = decodePicodet;

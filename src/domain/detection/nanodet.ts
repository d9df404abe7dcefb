/**
 * Decoder for NanoDet (v0.x, GFL head) exports such as nanodet_m_416.onnx from hpc203/nanodet-opncv-dnn-cpp-python:
 * per stride 8, 16, 32 a class-score output [batch, N_s, C] and a distance-distribution output
 * [batch, N_s, 4 * (reg_max + 1)], N_s = (H/s)(W/s) in row-major grid order.
 *
 * Checked on the real model (dog.jpg): class scores come out of the graph already sigmoided (all in 0..1); each side's
 * distance is the expectation of a softmax over reg_max + 1 = 8 bins, times the stride, sides in the order left, top,
 * right, bottom; the anchor is the cell centre ((col + 0.5) s, (row + 0.5) s), as in NanoDet's GFL head (gfl.ts).
 */
import type { Candidate, DetectionDecoder, OutputTensor } from './detection.js';
import { decodeGfl } from './gfl.js';
import type { DecoderInput } from './yolov5.js';

/** The strides of NanoDet-m's three heads. */
export const NANODET_STRIDES = [8, 16, 32] as const;

/** Decodes a NanoDet GFL head over strides 8, 16, 32 (see gfl.ts): one candidate per cell, its best class. */
export function decodeNanodet(
  outputs: ReadonlyMap<string, OutputTensor>,
  input: DecoderInput,
  threshold: number,
  batchIndex = 0,
): Candidate[] {
  return decodeGfl(outputs, input, threshold, batchIndex, NANODET_STRIDES, 'nanodet');
}

/** The NanoDet decoder as a {@link DetectionDecoder}. */
export const nanodet: DetectionDecoder = decodeNanodet;

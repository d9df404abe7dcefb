/**
 * What a detector finds, before and after it is named. Decoders produce `Candidate`s in model-input pixels;
 * the pipeline maps them to image pixels and names them.
 */
import type { Box } from '../geometry.js';

/** One scored box of one class, as a decoder sees it. */
export interface Candidate {
  readonly box: Box;
  readonly classId: number;
  readonly score: number;
}

/** A named detection in original-image pixels, as the API returns it. */
export interface Detection {
  readonly label: string;
  readonly classId: number;
  readonly confidence: number;
  readonly box: Box;
}

/** A model output tensor as the decoders read it: flat data in row-major order and its dimensions. */
export interface OutputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/**
 * Turns a detector's raw outputs into candidates above `threshold`, in the coordinates of the model input
 * (`inputWidth` x `inputHeight`). Outputs are given by name, in the order the model declares them; `batchIndex`
 * picks one image of a batched run.
 */
export type DetectionDecoder = (
  outputs: ReadonlyMap<string, OutputTensor>,
  input: { readonly width: number; readonly height: number; readonly numClasses: number },
  threshold: number,
  batchIndex?: number,
) => Candidate[];

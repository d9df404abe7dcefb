/**
 * Decoder for NanoDet (v0.x, GFL head) exports such as nanodet_m_416.onnx from hpc203/nanodet-opncv-dnn-cpp-python:
 * per stride 8, 16, 32 a class-score output [batch, N_s, C] and a distance-distribution output
 * [batch, N_s, 4 * (reg_max + 1)], N_s = (H/s)(W/s) in row-major grid order.
 *
 * Checked on the real model (dog.jpg): class scores come out of the graph already sigmoided (all in 0..1); each side's
 * distance is the expectation of a softmax over reg_max + 1 = 8 bins, times the stride, sides in the order left, top,
 * right, bottom; the anchor is the cell centre ((col + 0.5) s, (row + 0.5) s), as in NanoDet's GFL head.
 */
import type { Candidate, DetectionDecoder, OutputTensor } from './detection.js';
import { assertNumClasses, batchSlice, describeOutputs, type DecoderInput } from './yolov5.js';

/** The strides of NanoDet-m's three heads. */
export const NANODET_STRIDES = [8, 16, 32] as const;

/** One head's pair of outputs. */
interface Head {
  readonly stride: number;
  readonly scores: OutputTensor;
  readonly dists: OutputTensor;
}

/**
 * Pairs outputs with strides by shape, not name (names are exporter numbering, and OpenCV and onnxruntime list them
 * in different orders): a head's outputs are the two with N_s rows; the one C wide holds the class scores, the other
 * the distributions. When C is itself 4 * (reg_max + 1) the shapes cannot tell, and the first declared is taken as
 * the scores, as onnxruntime lists this model's outputs.
 */
function findHeads(outputs: ReadonlyMap<string, OutputTensor>, input: DecoderInput): Head[] {
  const all = [...outputs.values()].filter((t) => t.dims.length === 3);
  return NANODET_STRIDES.map((stride) => {
    const n = Math.ceil(input.width / stride) * Math.ceil(input.height / stride);
    const same = all.filter((t) => t.dims[1] === n);
    const scores = same.find((t) => t.dims[2] === input.numClasses);
    const dists = same.find((t) => t !== scores && (t.dims[2] ?? 0) % 4 === 0 && (t.dims[2] ?? 0) > 0);
    if (!scores || !dists) {
      throw new RangeError(
        `nanodet: stride ${stride} needs outputs [batch, ${n}, ${input.numClasses}] and [batch, ${n}, 4 * bins]; ` +
          `the model gave ${describeOutputs(outputs)}`,
      );
    }
    return { stride, scores, dists };
  });
}

/** Expected value of the softmax over `bins` logits at `data[at..at+bins)`, max-subtracted so exp cannot overflow. */
function expectation(data: Float32Array, at: number, bins: number): number {
  let max = data[at]!;
  for (let k = 1; k < bins; k++) max = Math.max(max, data[at + k]!);
  let sum = 0;
  let weighted = 0;
  for (let k = 0; k < bins; k++) {
    const e = Math.exp(data[at + k]! - max);
    sum += e;
    weighted += k * e;
  }
  return weighted / sum;
}

/**
 * Decodes a NanoDet GFL head (see the module comment): for each cell, the best class (score = its sigmoided score);
 * for cells at or above `threshold` only, box = centre -/+ the expected distances (left, top, right, bottom) x stride.
 * Boxes are not clipped to the input, like the other decoders'.
 */
export function decodeNanodet(
  outputs: ReadonlyMap<string, OutputTensor>,
  input: DecoderInput,
  threshold: number,
  batchIndex = 0,
): Candidate[] {
  assertNumClasses(input.numClasses, 'nanodet');
  const out: Candidate[] = [];
  for (const head of findHeads(outputs, input)) {
    const sc = batchSlice(head.scores, batchIndex, 'nanodet');
    const ds = batchSlice(head.dists, batchIndex, 'nanodet');
    const bins = ds.cols / 4;
    const gridW = Math.ceil(input.width / head.stride);
    const st = head.stride;
    for (let i = 0, b = 0; i < sc.rows; i++, b += sc.cols) {
      let classId = 0;
      let score = sc.data[b]!;
      for (let c = 1; c < input.numClasses; c++) {
        const v = sc.data[b + c]!;
        if (v > score) {
          score = v;
          classId = c;
        }
      }
      if (score < threshold) continue;
      const col = i % gridW;
      const cx = (col + 0.5) * st;
      const cy = ((i - col) / gridW + 0.5) * st;
      const r = i * ds.cols;
      const box = {
        x1: cx - expectation(ds.data, r, bins) * st,
        y1: cy - expectation(ds.data, r + bins, bins) * st,
        x2: cx + expectation(ds.data, r + 2 * bins, bins) * st,
        y2: cy + expectation(ds.data, r + 3 * bins, bins) * st,
      };
      out.push({ box, classId, score });
    }
  }
  return out;
}

/** The NanoDet decoder as a {@link DetectionDecoder}. */
export const nanodet: DetectionDecoder = decodeNanodet;

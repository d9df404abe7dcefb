/**
 * The GFL (Generalized Focal Loss) head shared by NanoDet and PP-PicoDet exports: per stride s a class-score output
 * [batch, N_s, C] (already sigmoided) and a distance-distribution output [batch, N_s, 4 * bins], N_s = ceil(H/s) x
 * ceil(W/s) cells in row-major grid order. Each side's distance (left, top, right, bottom) is the expectation of a
 * softmax over its bins, in units of the stride, from the cell centre ((col + 0.5) s, (row + 0.5) s).
 */
import type { Candidate, OutputTensor } from './detection.js';
import { assertNumClasses, batchSlice, describeOutputs, type DecoderInput } from './yolov5.js';

/** One head's pair of outputs. */
interface Head {
  readonly stride: number;
  readonly scores: OutputTensor;
  readonly dists: OutputTensor;
}

/**
 * Pairs outputs with strides by shape, not name (names are exporter numbering, and OpenCV and onnxruntime list them
 * in different orders): a head's outputs are the two with N_s rows; the one C wide holds the class scores, the other
 * the distributions. When C is itself 4 * bins the shapes cannot tell, and the first declared is taken as the
 * scores, as onnxruntime lists both NanoDet's and PicoDet's outputs.
 */
function findHeads(outputs: ReadonlyMap<string, OutputTensor>, input: DecoderInput, strides: readonly number[], name: string): Head[] {
  const all = [...outputs.values()].filter((t) => t.dims.length === 3);
  return strides.map((stride) => {
    const n = Math.ceil(input.width / stride) * Math.ceil(input.height / stride);
    const same = all.filter((t) => t.dims[1] === n);
    const scores = same.find((t) => t.dims[2] === input.numClasses);
    const dists = same.find((t) => t !== scores && (t.dims[2] ?? 0) % 4 === 0 && (t.dims[2] ?? 0) > 0);
    if (!scores || !dists) {
      throw new RangeError(
        `${name}: stride ${stride} needs outputs [batch, ${n}, ${input.numClasses}] and [batch, ${n}, 4 * bins]; ` +
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
 * Decodes the GFL heads of `strides` (see the module comment): for each cell, the best class (score = its sigmoided
 * score); for cells at or above `threshold` only, box = centre -/+ the expected distances x stride. Boxes are not
 * clipped to the input, like the other decoders'. `name` labels error messages.
 */
export function decodeGfl(
  outputs: ReadonlyMap<string, OutputTensor>,
  input: DecoderInput,
  threshold: number,
  batchIndex: number,
  strides: readonly number[],
  name: string,
): Candidate[] {
  assertNumClasses(input.numClasses, name);
  const out: Candidate[] = [];
  for (const head of findHeads(outputs, input, strides, name)) {
    const sc = batchSlice(head.scores, batchIndex, name);
    const ds = batchSlice(head.dists, batchIndex, name);
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

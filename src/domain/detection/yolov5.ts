/**
 * Decoder for Ultralytics YOLOv5 exports, plus the small output-reading helpers the other single-tensor decoders
 * (YOLOX, YOLOv8) share.
 */
import { boxFromCentre } from '../geometry.js';
import type { Candidate, DetectionDecoder, OutputTensor } from './detection.js';

/** One image's part of a rank-3 output [batch, rows, cols]: a view on the data (no copy) and its shape. */
export interface BatchSlice {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** The model's input as a decoder sees it. */
export type DecoderInput = Parameters<DetectionDecoder>[1];

/** Describes the outputs' shapes for an error message. */
export function describeOutputs(outputs: ReadonlyMap<string, OutputTensor>): string {
  return [...outputs].map(([name, t]) => `${name} [${t.dims.join(', ')}]`).join(', ') || 'none';
}

/** The first rank-3 output whose dims satisfy `fits`, or a RangeError naming `expected` and what there was. */
export function pickOutput(
  outputs: ReadonlyMap<string, OutputTensor>,
  decoder: string,
  expected: string,
  fits: (dims: readonly [number, number, number]) => boolean,
): OutputTensor {
  for (const t of outputs.values()) {
    if (t.dims.length === 3 && fits(t.dims as readonly [number, number, number])) return t;
  }
  throw new RangeError(`${decoder}: expected an output shaped ${expected}; the model gave ${describeOutputs(outputs)}`);
}

/** Throws unless `numClasses` is a positive whole number (a decoder reads at least one class score per row). */
export function assertNumClasses(numClasses: number, decoder: string): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new RangeError(`${decoder}: numClasses must be a positive integer, got ${numClasses}`);
  }
}

/** Checks that `batchIndex` exists and the data is as long as the dims say, and returns that image's slice. */
export function batchSlice(t: OutputTensor, batchIndex: number, decoder: string): BatchSlice {
  const [batch = 0, rows = 0, cols = 0] = t.dims;
  if (t.dims.length !== 3) throw new RangeError(`${decoder}: expected a rank-3 output, got [${t.dims.join(', ')}]`);
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= batch) {
    throw new RangeError(`${decoder}: batch index ${batchIndex} is outside the output's batch of ${batch}`);
  }
  const size = rows * cols;
  if (t.data.length < batch * size) {
    throw new RangeError(`${decoder}: output holds ${t.data.length} values, its dims [${t.dims.join(', ')}] need ${batch * size}`);
  }
  return { data: t.data.subarray(batchIndex * size, (batchIndex + 1) * size), rows, cols };
}

/**
 * Scans rows laid out [x, y, w, h, objectness, C class scores] (YOLOv5 and YOLOX) and calls `emit` for each row
 * whose objectness x best class score reaches `threshold`. Class scores are at most 1, so a row whose objectness is
 * already below the threshold is skipped before its classes are read.
 */
export function scanObjectnessRows(
  s: BatchSlice,
  numClasses: number,
  threshold: number,
  emit: (row: number, base: number, classId: number, score: number) => void,
): void {
  const { data, rows, cols } = s;
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const obj = data[base + 4]!;
    if (obj < threshold) continue;
    let best = 0;
    let bestScore = data[base + 5]!;
    for (let c = 1; c < numClasses; c++) {
      const v = data[base + 5 + c]!;
      if (v > bestScore) {
        bestScore = v;
        best = c;
      }
    }
    const score = obj * bestScore;
    if (score >= threshold) emit(r, base, best, score);
  }
}

/**
 * Decodes a YOLOv5 export [batch, N, 5 + C]: rows [cx, cy, w, h, objectness, C class probabilities], boxes already
 * in input pixels and scores already sigmoided; score = objectness x best class. One candidate per row, best class.
 */
export function decodeYolov5(
  outputs: ReadonlyMap<string, OutputTensor>,
  input: DecoderInput,
  threshold: number,
  batchIndex = 0,
): Candidate[] {
  assertNumClasses(input.numClasses, 'yolov5');
  const cols = 5 + input.numClasses;
  // Older YOLOv5 exports also emit the raw rank-5 head maps; the decoded one is the rank-3 output of this width.
  const t = pickOutput(outputs, 'yolov5', `[batch, N, ${cols}]`, (d) => d[2] === cols);
  const s = batchSlice(t, batchIndex, 'yolov5');
  const out: Candidate[] = [];
  scanObjectnessRows(s, input.numClasses, threshold, (_row, b, classId, score) => {
    const d = s.data;
    out.push({ box: boxFromCentre(d[b]!, d[b + 1]!, d[b + 2]!, d[b + 3]!), classId, score });
  });
  return out;
}

/** The YOLOv5 decoder as a {@link DetectionDecoder}. */
export const yolov5: DetectionDecoder = decodeYolov5;

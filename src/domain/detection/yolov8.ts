/**
 * Decoder for Ultralytics YOLOv8 / YOLO11 detection exports: [batch, 4 + C, N] (the default, channels first) or the
 * transposed [batch, N, 4 + C]. No objectness; boxes [cx, cy, w, h] in input pixels, class scores sigmoided.
 */
import { boxFromCentre } from '../geometry.js';
import type { Candidate, DetectionDecoder, OutputTensor } from './detection.js';
import { assertNumClasses, batchSlice, pickOutput, type BatchSlice, type DecoderInput } from './yolov5.js';

/** How the output is laid out: 'channels' = [batch, 4 + C, N], 'rows' = [batch, N, 4 + C]. */
export type Yolov8Layout = 'channels' | 'rows';

/**
 * Tells the layout from the dims: the axis of size 4 + C holds the channels. When both axes are 4 + C (a square
 * output, N = 4 + C) the shape cannot tell, and the Ultralytics default, channels first, is assumed.
 */
export function yolov8Layout(dims: readonly number[], numClasses: number): Yolov8Layout | undefined {
  const k = 4 + numClasses;
  if (dims.length !== 3) return undefined;
  if (dims[1] === k) return 'channels';
  return dims[2] === k ? 'rows' : undefined;
}

/**
 * Channels first, a class's scores are contiguous over anchors, so the best class is found class by class over the
 * whole anchor range (sequential reads) into two arrays of N, and boxes are built only for anchors that pass.
 */
function decodeChannels(s: BatchSlice, numClasses: number, threshold: number): Candidate[] {
  const { data, cols: n } = s;
  const best = data.slice(4 * n, 5 * n);
  const bestId = new Int32Array(n);
  for (let c = 1; c < numClasses; c++) {
    const base = (4 + c) * n;
    for (let i = 0; i < n; i++) {
      const v = data[base + i]!;
      if (v > best[i]!) {
        best[i] = v;
        bestId[i] = c;
      }
    }
  }
  const out: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    const score = best[i]!;
    if (score < threshold) continue;
    const box = boxFromCentre(data[i]!, data[n + i]!, data[2 * n + i]!, data[3 * n + i]!);
    out.push({ box, classId: bestId[i]!, score });
  }
  return out;
}

/** Rows: each anchor's values are contiguous; the class max is taken before anything is built. */
function decodeRows(s: BatchSlice, numClasses: number, threshold: number): Candidate[] {
  const { data, rows, cols } = s;
  const out: Candidate[] = [];
  for (let r = 0, b = 0; r < rows; r++, b += cols) {
    let classId = 0;
    let score = data[b + 4]!;
    for (let c = 1; c < numClasses; c++) {
      const v = data[b + 4 + c]!;
      if (v > score) {
        score = v;
        classId = c;
      }
    }
    if (score >= threshold) out.push({ box: boxFromCentre(data[b]!, data[b + 1]!, data[b + 2]!, data[b + 3]!), classId, score });
  }
  return out;
}

/**
 * Decodes a YOLOv8/YOLO11 export in either layout (see {@link yolov8Layout}); one candidate per anchor for its best
 * class, score = that class's score. A class count that fits neither axis is an error, not a guess: labels would be
 * wrong.
 */
export function decodeYolov8(
  outputs: ReadonlyMap<string, OutputTensor>,
  input: DecoderInput,
  threshold: number,
  batchIndex = 0,
): Candidate[] {
  assertNumClasses(input.numClasses, 'yolov8');
  const k = 4 + input.numClasses;
  const t = pickOutput(outputs, 'yolov8', `[batch, ${k}, N] or [batch, N, ${k}]`, (d) => yolov8Layout(d, input.numClasses) !== undefined);
  const s = batchSlice(t, batchIndex, 'yolov8');
  return yolov8Layout(t.dims, input.numClasses) === 'channels'
    ? decodeChannels(s, input.numClasses, threshold)
    : decodeRows(s, input.numClasses, threshold);
}

/** The YOLOv8/YOLO11 decoder as a {@link DetectionDecoder}. */
export const yolov8: DetectionDecoder = decodeYolov8;

/**
 * Decoder for YOLOX exports with the grid decoding left to the caller (the Megvii/Kazuhito00 ONNX files, e.g.
 * yolox_nano.onnx): one output [batch, N, 5 + C] over the grid cells of strides 8, 16 and 32.
 */
import { boxFromCentre } from '../geometry.js';
import type { Candidate, DetectionDecoder, OutputTensor } from './detection.js';
import { assertNumClasses, batchSlice, pickOutput, scanObjectnessRows, type DecoderInput } from './yolov5.js';

/** The strides of YOLOX's three heads, in the order their rows appear. */
export const YOLOX_STRIDES = [8, 16, 32] as const;

/** One head's grid: its stride, width in cells, and the index of its first row in the output. */
interface Level {
  readonly stride: number;
  readonly cols: number;
  readonly first: number;
}

/**
 * The grids of the strides over a `width` x `height` input. Each stride-2 convolution gives ceil(in / 2), and
 * ceil(ceil(x / a) / b) = ceil(x / ab), so a stride-s map is ceil(W / s) wide.
 */
function levels(width: number, height: number): { levels: Level[]; rows: number } {
  let first = 0;
  const out: Level[] = [];
  for (const stride of YOLOX_STRIDES) {
    const cols = Math.ceil(width / stride);
    out.push({ stride, cols, first });
    first += cols * Math.ceil(height / stride);
  }
  return { levels: out, rows: first };
}

/**
 * Decodes YOLOX [batch, N, 5 + C], N = sum over strides 8, 16, 32 of (H/s)(W/s), rows in stride order then
 * row-major; row = [dx, dy, log w, log h, objectness, C class scores], sigmoids already applied. Box centre
 * ((dx + col) s, (dy + row) s), size (exp(log w) s, exp(log h) s); score = objectness x best class.
 */
export function decodeYolox(
  outputs: ReadonlyMap<string, OutputTensor>,
  input: DecoderInput,
  threshold: number,
  batchIndex = 0,
): Candidate[] {
  assertNumClasses(input.numClasses, 'yolox');
  const cols = 5 + input.numClasses;
  const t = pickOutput(outputs, 'yolox', `[batch, N, ${cols}]`, (d) => d[2] === cols);
  const s = batchSlice(t, batchIndex, 'yolox');
  const grid = levels(input.width, input.height);
  if (s.rows !== grid.rows) {
    throw new RangeError(
      `yolox: output has ${s.rows} rows, a ${input.width}x${input.height} input with strides 8/16/32 has ${grid.rows}`,
    );
  }
  const out: Candidate[] = [];
  const d = s.data;
  scanObjectnessRows(s, input.numClasses, threshold, (r, b, classId, score) => {
    // Rows of a coarser head come after all rows of the finer ones: find the last level starting at or before r.
    let lv = grid.levels[0]!;
    for (const l of grid.levels) if (r >= l.first) lv = l;
    const cell = r - lv.first;
    const col = cell % lv.cols;
    const row = (cell - col) / lv.cols;
    const st = lv.stride;
    const box = boxFromCentre((d[b]! + col) * st, (d[b + 1]! + row) * st, Math.exp(d[b + 2]!) * st, Math.exp(d[b + 3]!) * st);
    out.push({ box, classId, score });
  });
  return out;
}

/** The YOLOX decoder as a {@link DetectionDecoder}. */
export const yolox: DetectionDecoder = decodeYolox;

/**
 * CTC greedy decoding of a text recognizer's per-step class probabilities (PaddleOCR's CTCLabelDecode): take
 * the best class at each step, collapse runs of the same class, drop the blank. Pure, no I/O.
 */

/** A decoded line: its text and confidence (mean best probability of the characters kept). */
export interface DecodedText {
  readonly text: string;
  readonly confidence: number;
}

/**
 * The recognizer's classes from its dictionary lines: blank at index 0, the dictionary at 1..n, then a space
 * (PaddleOCR's use_space_char).
 */
export function ctcCharset(dictionary: readonly string[]): string[] {
  return ['', ...dictionary, ' '];
}

/**
 * Each row of `classes` scores reduced to its best class: `[index, score]` pairs, the first index on ties (as a
 * plain scan from class 0 finds it). Lets the inference thread hand back T x 2 numbers per line instead of a CTC
 * recognizer's T x 6,625.
 */
export function bestClasses(scores: Float32Array, classes: number): Float32Array {
  const rows = Math.floor(scores.length / classes);
  const out = new Float32Array(rows * 2);
  for (let r = 0, row = 0; r < rows; r++, row += classes) {
    let best = 0;
    let bestP = scores[row] as number;
    for (let c = 1; c < classes; c++) {
      const p = scores[row + c] as number;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    out[r * 2] = best;
    out[r * 2 + 1] = bestP;
  }
  return out;
}

/**
 * Decodes one sequence from its steps' best classes (`[index, probability]` pairs as bestClasses gives them),
 * `steps` pairs starting at pair `offset` (one item of a batch). `charset[0]` is the blank.
 */
export function ctcDecodeBest(best: Float32Array, steps: number, charset: readonly string[], offset = 0): DecodedText {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const c = best[(offset + t) * 2] as number;
    if (c !== 0 && c !== previous) {
      text += charset[c] ?? '';
      sum += best[(offset + t) * 2 + 1] as number;
      kept++;
    }
    previous = c;
  }
  return { text, confidence: kept ? sum / kept : 0 };
}

/**
 * Decodes one sequence: `probs` holds `steps` rows of `classes` probabilities starting at `offset` (one item of
 * a batch). `charset[0]` is the blank.
 */
export function ctcGreedyDecode(probs: Float32Array, steps: number, classes: number, charset: readonly string[], offset = 0): DecodedText {
  return ctcDecodeBest(bestClasses(probs.subarray(offset, offset + steps * classes), classes), steps, charset);
}

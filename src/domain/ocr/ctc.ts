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
 * Decodes one sequence: `probs` holds `steps` rows of `classes` probabilities starting at `offset` (one item of
 * a batch). `charset[0]` is the blank.
 */
export function ctcGreedyDecode(probs: Float32Array, steps: number, classes: number, charset: readonly string[], offset = 0): DecodedText {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    let best = 0;
    let bestP = probs[row] as number;
    for (let c = 1; c < classes; c++) {
      const p = probs[row + c] as number;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += charset[best] ?? '';
      sum += bestP;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept ? sum / kept : 0 };
}

import { describe, expect, it } from 'vitest';
import { bestClasses, ctcCharset, ctcDecodeBest, ctcGreedyDecode } from './ctc.js';

const charset = ctcCharset(['a', 'b', 'c']); // blank, a, b, c, space

/** One-hot-ish rows: each step puts `p` on its class and spreads the rest. */
function steps(classes: number[], p = 0.9): Float32Array {
  const out = new Float32Array(classes.length * charset.length);
  classes.forEach((c, t) => {
    for (let k = 0; k < charset.length; k++) out[t * charset.length + k] = k === c ? p : (1 - p) / (charset.length - 1);
  });
  return out;
}

describe('ctcGreedyDecode', () => {
  it('has blank first and space last', () => {
    expect(charset).toEqual(['', 'a', 'b', 'c', ' ']);
  });

  it('collapses repeats, drops blanks, keeps a repeat split by a blank', () => {
    const probs = steps([1, 1, 0, 1, 2, 2, 0, 0, 4, 3, 3]);
    const r = ctcGreedyDecode(probs, 11, charset.length, charset);
    expect(r.text).toBe('aab c');
    expect(r.confidence).toBeCloseTo(0.9);
  });

  it('averages the best probabilities of the characters kept only', () => {
    const probs = new Float32Array([...steps([1], 0.8), ...steps([1], 0.99), ...steps([0], 0.5), ...steps([2], 0.6)]);
    const r = ctcGreedyDecode(probs, 4, charset.length, charset);
    expect(r.text).toBe('ab');
    expect(r.confidence).toBeCloseTo(0.7);
  });

  it('reads one item of a batch and gives empty text with confidence 0 for all blanks', () => {
    const batch = new Float32Array([...steps([0, 0]), ...steps([3, 0])]);
    expect(ctcGreedyDecode(batch, 2, charset.length, charset)).toEqual({ text: '', confidence: 0 });
    expect(ctcGreedyDecode(batch, 2, charset.length, charset, 2 * charset.length).text).toBe('c');
  });

  it('decodes the same from best-class pairs, and takes the first class on ties', () => {
    const probs = new Float32Array([...steps([1, 1, 0, 1, 2, 2, 0, 0, 4, 3, 3], 0.7), 0.2, 0.4, 0.4, 0, 0]);
    const best = bestClasses(probs, charset.length);
    expect(best.length).toBe(12 * 2);
    expect([best[22], best[23]]).toEqual([1, Math.fround(0.4)]);
    expect(ctcDecodeBest(best, 11, charset)).toEqual(ctcGreedyDecode(probs, 11, charset.length, charset));
    expect(ctcDecodeBest(best, 1, charset, 11).text).toBe('a');
  });
});

/**
 * Properties of greedy CTC decoding over arbitrary recognizer outputs: the text is the best class of each step with
 * runs collapsed and blanks dropped, never longer than the steps, with a confidence in 0..1 that is the mean score of
 * the characters kept; both entry points (full scores, and best-class pairs from the inference thread) agree, and one
 * item of a batch decodes as if alone. Charsets are small, scores often tie, so that collapsing and tie-breaking are
 * exercised on every run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bestClasses, ctcCharset, ctcDecodeBest, ctcGreedyDecode } from './ctc.js';

/** A dictionary of 1..6 distinct single characters; the charset adds the blank before and a space after it. */
const dictionary = fc.uniqueArray(fc.constantFrom(...'abcxyz0189'), { minLength: 1, maxLength: 6 });
/** Scores as a softmax gives them, from a few values much more often than chance so that rows tie. */
const prob = fc.oneof(fc.constantFrom(0, 0.25, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true }));

/** A dictionary and `steps` rows of one score per class. */
const recognizerOutput = dictionary.chain((dict) => {
  const classes = dict.length + 2;
  return fc.integer({ min: 0, max: 30 }).chain((steps) =>
    fc
      .array(prob, { minLength: steps * classes, maxLength: steps * classes })
      .map((p) => ({ charset: ctcCharset(dict), classes, steps, probs: Float32Array.from(p) })),
  );
});

/** The textbook decode, from scratch: argmax per row (first on ties), collapse runs, drop blanks (class 0). */
function referenceDecode(probs: Float32Array, steps: number, classes: number, charset: readonly string[]): { text: string; scores: number[] } {
  const symbols: number[] = [];
  const scores: number[] = [];
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = Array.from(probs.subarray(t * classes, (t + 1) * classes));
    const best = row.indexOf(Math.max(...row));
    if (best !== 0 && best !== previous) {
      symbols.push(best);
      scores.push(row[best]!);
    }
    previous = best;
  }
  return { text: symbols.map((s) => charset[s]).join(''), scores };
}

describe('CTC greedy decoding properties', () => {
  it('agrees with the textbook decode: best class per step, runs collapsed, blanks dropped', () => {
    fc.assert(
      fc.property(recognizerOutput, ({ charset, classes, steps, probs }) => {
        const ref = referenceDecode(probs, steps, classes, charset);
        const got = ctcGreedyDecode(probs, steps, classes, charset);
        expect(got.text).toBe(ref.text);
        const mean = ref.scores.length ? ref.scores.reduce((a, b) => a + b, 0) / ref.scores.length : 0;
        expect(got.confidence).toBeCloseTo(mean, 12);
      }),
      { numRuns: 500 },
    );
  });

  it('never emits a blank or more symbols than steps, and never repeats a symbol without a blank between', () => {
    fc.assert(
      fc.property(recognizerOutput, ({ charset, classes, steps, probs }) => {
        const { text } = ctcGreedyDecode(probs, steps, classes, charset);
        // Every charset entry is one character here, so characters are symbols.
        expect(text.length).toBeLessThanOrEqual(steps);
        for (const ch of text) expect(charset.indexOf(ch)).toBeGreaterThan(0);
        const best = bestClasses(probs, classes);
        const path = Array.from({ length: steps }, (_, t) => best[t * 2]!);
        // Without a blank anywhere in the best path, two equal neighbours in the text would be an uncollapsed run.
        if (!path.includes(0)) for (let i = 1; i < text.length; i++) expect(text[i]).not.toBe(text[i - 1]);
        // The text has exactly one symbol per run of a non-blank class.
        const runs = path.filter((c, t) => c !== 0 && c !== path[t - 1]).length;
        expect(text.length).toBe(runs);
      }),
      { numRuns: 500 },
    );
  });

  it('has a confidence in 0..1, 0 exactly when nothing was read, and at most the best score kept', () => {
    fc.assert(
      fc.property(recognizerOutput, ({ charset, classes, steps, probs }) => {
        const { text, confidence } = ctcGreedyDecode(probs, steps, classes, charset);
        expect(confidence).toBeGreaterThanOrEqual(0);
        expect(confidence).toBeLessThanOrEqual(1);
        if (text === '') expect(confidence).toBe(0);
        const { scores } = referenceDecode(probs, steps, classes, charset);
        if (scores.length) {
          expect(confidence).toBeLessThanOrEqual(Math.max(...scores) + 1e-12);
          expect(confidence).toBeGreaterThanOrEqual(Math.min(...scores) - 1e-12);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('decodes the same from best-class pairs as from the full scores', () => {
    fc.assert(
      fc.property(recognizerOutput, ({ charset, classes, steps, probs }) => {
        const best = bestClasses(probs, classes);
        expect(best).toHaveLength(steps * 2);
        for (let t = 0; t < steps; t++) {
          const row = Array.from(probs.subarray(t * classes, (t + 1) * classes));
          // The first class holding the row's maximum, and that maximum.
          expect([best[t * 2], best[t * 2 + 1]]).toEqual([row.indexOf(Math.max(...row)), Math.max(...row)]);
        }
        expect(ctcDecodeBest(best, steps, charset)).toEqual(ctcGreedyDecode(probs, steps, classes, charset));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes one item of a batch as if it were alone', () => {
    const batch = dictionary.chain((dict) => {
      const classes = dict.length + 2;
      return fc.integer({ min: 0, max: 12 }).chain((steps) =>
        fc
          .array(fc.array(prob, { minLength: steps * classes, maxLength: steps * classes }), { minLength: 1, maxLength: 4 })
          .map((items) => ({ charset: ctcCharset(dict), classes, steps, items: items.map((p) => Float32Array.from(p)) })),
      );
    });
    fc.assert(
      fc.property(batch, ({ charset, classes, steps, items }) => {
        const all = new Float32Array(items.length * steps * classes);
        items.forEach((p, i) => all.set(p, i * steps * classes));
        const best = bestClasses(all, classes);
        items.forEach((p, i) => {
          const alone = ctcGreedyDecode(p, steps, classes, charset);
          expect(ctcGreedyDecode(all, steps, classes, charset, i * steps * classes)).toEqual(alone);
          expect(ctcDecodeBest(best, steps, charset, i * steps)).toEqual(alone);
        });
      }),
      { numRuns: 200 },
    );
  });
});

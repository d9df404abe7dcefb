import { describe, expect, it } from 'vitest';
import { iou, type Box } from '../geometry.js';
import type { Candidate } from './detection.js';
import { mergeTileDetections, nms } from './nms.js';

const c = (x1: number, y1: number, x2: number, y2: number, score: number, classId = 0): Candidate => ({
  box: { x1, y1, x2, y2 },
  classId,
  score,
});

/** Textbook greedy NMS over geometry.iou, to check the optimised one against. */
function referenceNms(cands: Candidate[], thr: number, classAware: boolean): Candidate[] {
  const sorted = [...cands].sort((a, b) => b.score - a.score);
  const kept: Candidate[] = [];
  for (const x of sorted) {
    if (!kept.some((k) => (!classAware || k.classId === x.classId) && iou(k.box, x.box) > thr)) kept.push(x);
  }
  return kept;
}

/** A deterministic pseudo-random generator (mulberry32), so the randomised comparison is reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCands(n: number, classes: number, seed: number): Candidate[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const x = r() * 1000;
    const y = r() * 1000;
    return c(x, y, x + 10 + r() * 80, y + 10 + r() * 80, Math.round(r() * 100) / 100, Math.floor(r() * classes));
  });
}

describe('nms', () => {
  it('returns nothing for no candidates', () => {
    expect(nms([], 0.5)).toEqual([]);
  });

  it('drops a box overlapping a better one and keeps a separate one, best first', () => {
    const a = c(0, 0, 10, 10, 0.9);
    const b = c(1, 0, 11, 10, 0.8); // IoU 90/110
    const far = c(50, 50, 60, 60, 0.7);
    expect(nms([far, b, a], 0.5)).toEqual([a, far]);
  });

  it('suppresses only when IoU is strictly above the threshold', () => {
    const a = c(0, 0, 10, 10, 0.9);
    const half = c(0, 0, 10, 5, 0.8); // IoU exactly 0.5
    expect(nms([a, half], 0.5)).toEqual([a, half]);
    expect(nms([a, half], 0.49)).toEqual([a]);
  });

  it('is greedy: a suppressed box suppresses nothing', () => {
    const a = c(0, 0, 10, 10, 0.9);
    const b = c(5, 0, 15, 10, 0.8); // IoU(a, b) = 1/3
    const d = c(10, 0, 20, 10, 0.7); // IoU(a, d) = 0, IoU(b, d) = 1/3
    expect(nms([a, b, d], 0.3)).toEqual([a, d]);
  });

  it('is class-aware by default and class-agnostic on request', () => {
    const cat = c(0, 0, 10, 10, 0.9, 15);
    const dog = c(0, 0, 10, 10, 0.8, 16);
    expect(nms([cat, dog], 0.5)).toEqual([cat, dog]);
    expect(nms([cat, dog], 0.5, { classAware: false })).toEqual([cat]);
  });

  it('keeps input order between equal scores', () => {
    const first = c(0, 0, 10, 10, 0.5, 1);
    const second = c(100, 0, 110, 10, 0.5, 0);
    const third = c(200, 0, 210, 10, 0.5, 1);
    expect(nms([first, second, third], 0.5)).toEqual([first, second, third]);
    // Tied and overlapping: the earlier one wins.
    const twin = c(0, 0, 10, 10, 0.5, 1);
    expect(nms([first, twin], 0.5)).toEqual([first]);
  });

  it('caps the result at maxDetections, highest scores across all classes', () => {
    const cands = [c(0, 0, 1, 1, 0.3, 0), c(10, 0, 11, 1, 0.9, 1), c(20, 0, 21, 1, 0.5, 0), c(30, 0, 31, 1, 0.7, 2)];
    expect(nms(cands, 0.5, { maxDetections: 2 }).map((x) => x.score)).toEqual([0.9, 0.7]);
    expect(nms(cands, 0.5, { maxDetections: 0 })).toEqual([]);
  });

  it('drops candidates with non-finite scores or corners', () => {
    const good = c(0, 0, 10, 10, 0.5);
    expect(nms([c(0, 0, Number.NaN, 10, 0.9), c(0, 0, 10, 10, Number.NaN), good], 0.5)).toEqual([good]);
  });

  it('compares wide and narrow boxes across the sweep window', () => {
    // A wide low-scored box starting far left still overlaps a narrow better one.
    const narrow = c(500, 0, 510, 10, 0.9);
    const wide = c(0, 0, 520, 10, 0.8); // IoU 10/520: kept at 0.5, suppressed at 0.01
    const other = c(505, 0, 515, 10, 0.7); // IoU with narrow 5/15
    expect(nms([wide, other, narrow], 0.01)).toEqual([narrow]);
    expect(nms([wide, other, narrow], 0.5)).toEqual([narrow, wide, other]);
  });

  it('does not mutate or reorder its input', () => {
    const cands = [c(0, 0, 10, 10, 0.1), c(0, 0, 10, 10, 0.9)];
    const copy = [...cands];
    nms(cands, 0.5);
    expect(cands).toEqual(copy);
  });

  it('agrees with a textbook implementation on random boxes', () => {
    for (const seed of [1, 2, 3]) {
      const cands = randomCands(600, 3, seed);
      expect(nms(cands, 0.45)).toEqual(referenceNms(cands, 0.45, true));
      expect(nms(cands, 0.3, { classAware: false })).toEqual(referenceNms(cands, 0.3, false));
    }
  });

  it('handles 10k candidates quickly', () => {
    const cands = randomCands(10_000, 80, 7);
    const t0 = performance.now();
    const kept = nms(cands, 0.45);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(kept.length).toBeGreaterThan(0);
  });
});

describe('mergeTileDetections', () => {
  const opts = { iouThreshold: 0.5, minOverlapThreshold: 0.6 };
  const box = (x: Candidate): Box => x.box;

  it('absorbs a piece cut by a tile border into the whole, keeping the better score and the whole extent', () => {
    const piece = c(100, 100, 150, 200, 0.9); // right half cut off by a tile border at x = 150
    const whole = c(100, 100, 200, 200, 0.8); // IoU 0.5 (not above), overlap over smaller 1
    const [only, ...rest] = mergeTileDetections([whole, piece], opts);
    expect(rest).toEqual([]);
    expect(only).toEqual({ box: { x1: 100, y1: 100, x2: 200, y2: 200 }, classId: 0, score: 0.9 });
  });

  it('joins two halves of an object cut in two', () => {
    const left = c(0, 0, 120, 50, 0.9);
    const right = c(60, 0, 200, 50, 0.8); // overlap 60 of the smaller 120: 0.5
    const merged = mergeTileDetections([left, right], { iouThreshold: 0.5, minOverlapThreshold: 0.45 });
    expect(merged.map(box)).toEqual([{ x1: 0, y1: 0, x2: 200, y2: 50 }]);
  });

  it('drops a plain duplicate by IoU without growing the kept box', () => {
    const a = c(0, 0, 100, 100, 0.9);
    const b = c(10, 0, 110, 100, 0.8); // IoU 0.82, overlap over smaller 0.9
    expect(mergeTileDetections([a, b], { iouThreshold: 0.5, minOverlapThreshold: 0.95 })).toEqual([a]);
  });

  it('does not union two boxes whose union would be more than twice the larger', () => {
    const square = c(0, 0, 100, 100, 0.9);
    const bar = c(-60, 40, 160, 70, 0.8); // 220x30, 100/220 of it inside the square; union 220x100
    expect(mergeTileDetections([square, bar], { iouThreshold: 0.5, minOverlapThreshold: 0.45 })).toEqual([square]);
  });

  it('keeps the higher-scored box unchanged when union is off', () => {
    const piece = c(100, 100, 150, 200, 0.9);
    const whole = c(100, 100, 200, 200, 0.8);
    expect(mergeTileDetections([whole, piece], { ...opts, union: false })).toEqual([piece]);
  });

  it('never merges different classes', () => {
    const a = c(0, 0, 100, 100, 0.9, 0);
    const b = c(0, 0, 100, 100, 0.8, 1);
    expect(mergeTileDetections([a, b], opts)).toEqual([a, b]);
  });

  it('matches against the box as first kept, so unions do not snowball along a row', () => {
    const a = c(0, 0, 100, 50, 0.9);
    const b = c(50, 0, 150, 50, 0.8); // half inside a: absorbed, a grows to x2 = 150
    const d = c(110, 0, 210, 50, 0.7); // touches only the grown part: stays
    expect(mergeTileDetections([a, b, d], { iouThreshold: 0.5, minOverlapThreshold: 0.4 }).map(box)).toEqual([
      { x1: 0, y1: 0, x2: 150, y2: 50 },
      d.box,
    ]);
  });

  it('leaves separate boxes alone', () => {
    const cands = [c(0, 0, 10, 10, 0.5), c(20, 0, 30, 10, 0.7)];
    expect(mergeTileDetections(cands, opts)).toEqual([cands[1], cands[0]]);
  });
});

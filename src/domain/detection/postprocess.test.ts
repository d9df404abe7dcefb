import { describe, expect, it } from 'vitest';
import { planLetterbox } from '../geometry.js';
import type { Candidate } from './detection.js';
import { passDetections, toImagePixels } from './postprocess.js';

const c = (x1: number, y1: number, x2: number, y2: number, score: number, classId = 0): Candidate => ({ box: { x1, y1, x2, y2 }, classId, score });

// A 100x100 image in a 100x100 input: the letterbox is the identity, so input and image pixels agree.
const WHOLE = { lb: planLetterbox(100, 100, 100, 100), region: null };

describe('passDetections', () => {
  it('clips to the image before NMS: boxes that differ only beyond the edge are one box', () => {
    // IoU 0.4 as decoded (below 0.45, so NMS on unclipped boxes keeps both); both are (50, 0, 100, 100) once clipped.
    const a = c(50, 0, 150, 100, 0.9);
    const b = c(50, 0, 300, 100, 0.8);
    const out = passDetections([a, b], WHOLE, 100, 100, { iouThreshold: 0.45 });
    expect(out).toEqual([{ ...a, box: { x1: 50, y1: 0, x2: 100, y2: 100 } }]);
  });

  it("clips a tile's boxes to the tile, then moves them into the image", () => {
    const tile = { lb: planLetterbox(200, 200, 100, 100), region: { left: 300, top: 100, width: 200, height: 200 } };
    // Input (10, 10, 120, 60) is tile (20, 20, 240, 120): clipped to x 200, then moved by (300, 100).
    expect(toImagePixels({ x1: 10, y1: 10, x2: 120, y2: 60 }, tile, 1000, 1000)).toEqual({ x1: 320, y1: 120, x2: 500, y2: 220 });
    // A tile at the image's edge: the image clip applies too.
    expect(toImagePixels({ x1: 10, y1: 10, x2: 120, y2: 60 }, tile, 450, 1000).x2).toBe(450);
  });

  it('maps back through a stretch: each axis by its own scale', () => {
    const stretch = { lb: planLetterbox(800, 200, 100, 100, 'stretch'), region: null };
    expect(toImagePixels({ x1: 10, y1: 10, x2: 50, y2: 50 }, stretch, 800, 200)).toEqual({ x1: 80, y1: 20, x2: 400, y2: 100 });
  });

  it('drops boxes left under a pixel wide or high by clipping, and broken ones', () => {
    const outside = c(120, 10, 160, 50, 0.9); // wholly right of the image: zero width once clipped
    const sliver = c(99.5, 10, 140, 50, 0.8); // half a pixel inside
    const broken = c(Number.NaN, 10, 40, 50, 0.95);
    const kept = c(10, 10, 40, 50, 0.5);
    expect(passDetections([outside, sliver, broken, kept], WHOLE, 100, 100, { iouThreshold: 0.45 })).toEqual([kept]);
  });

  it('keeps at most maxDetections, the best across classes', () => {
    const cands = [c(0, 0, 10, 10, 0.3, 0), c(20, 0, 30, 10, 0.9, 1), c(40, 0, 50, 10, 0.6, 2), c(60, 0, 70, 10, 0.7, 0)];
    expect(passDetections(cands, WHOLE, 100, 100, { iouThreshold: 0.45, maxDetections: 2 }).map((x) => x.score)).toEqual([0.9, 0.7]);
    expect(passDetections(cands, WHOLE, 100, 100, { iouThreshold: 0.45 })).toHaveLength(4);
  });
});

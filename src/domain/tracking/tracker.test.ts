import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors.js';
import type { Detection } from '../detection/detection.js';
import { boundedPath, DEFAULT_MAX_PATH_POINTS, Tracker, type TrackerOptions } from './tracker.js';

const OPTS: TrackerOptions = { iouThreshold: 0.3, maxAgeSeconds: 1, minHits: 1, highThreshold: 0.5 };

/** A 60 x 60 box with its top-left corner at (x, y). */
const det = (x: number, y: number, confidence = 0.9, label = 'person', classId = 0, size = 60): Detection => ({
  label,
  classId,
  confidence,
  box: { x1: x, y1: y, x2: x + size, y2: y + size },
});

describe('Tracker', () => {
  it('keeps the ids of two objects whose paths cross', () => {
    // A moves right and B left by 30 px a frame, B 5 px lower. On frame 4, B's box lands where A's was (IoU 0.85)
    // while A moved half a box on (IoU 0.33): only the velocity prediction keeps them apart.
    const tracker = new Tracker({ ...OPTS, minHits: 2 });
    const idsA: (number | null)[] = [];
    const idsB: (number | null)[] = [];
    for (let k = 0; k < 8; k++) {
      const a = det(30 * k, 0);
      const b = det(210 - 30 * k, 5);
      // Alternate the input order so that nothing hinges on which detection comes first.
      const input = k % 2 === 0 ? [a, b] : [b, a];
      const { detections } = tracker.update({ frameIndex: k * 3, timestamp: k / 10, detections: input });
      idsA.push(detections.find((d) => d.box.y1 === 0)?.trackId ?? null);
      idsB.push(detections.find((d) => d.box.y1 === 5)?.trackId ?? null);
    }
    expect(idsA[0]).toBeNull();
    expect(idsB[0]).toBeNull();
    const idA = idsA[1];
    const idB = idsB[1];
    expect(idA).not.toBeNull();
    expect(idB).not.toBeNull();
    expect(idA).not.toBe(idB);
    expect(idsA.slice(1)).toEqual(Array(7).fill(idA));
    expect(idsB.slice(1)).toEqual(Array(7).fill(idB));

    const tracks = tracker.tracks();
    expect(tracks).toHaveLength(2);
    const trackA = tracks.find((t) => t.trackId === idA);
    expect(trackA?.path.map((p) => p.box.x1)).toEqual([0, 30, 60, 90, 120, 150, 180, 210]);
    expect(trackA?.path.every((p) => p.box.y1 === 0)).toBe(true);
  });

  it('keeps the id across a gap of up to maxAgeSeconds and gives a new one after a longer gap', () => {
    const tracker = new Tracker(OPTS);
    const at = (i: number, present: boolean): number | null => {
      const { detections } = tracker.update({ frameIndex: i, timestamp: i * 0.5, detections: present ? [det(100, 100)] : [] });
      return detections[0]?.trackId ?? null;
    };
    const first = at(0, true);
    expect(first).toBe(1);
    at(1, true);
    at(2, true); // t = 1.0
    at(3, false);
    expect(at(4, true)).toBe(first); // t = 2.0: unseen for exactly 1 s
    at(5, false);
    at(6, false);
    const later = at(7, true); // t = 3.5: unseen for 1.5 s
    expect(later).toBe(2);

    const tracks = tracker.tracks();
    expect(tracks.map((t) => [t.trackId, t.firstTime, t.lastTime, t.hits])).toEqual([
      [1, 0, 2, 4],
      [2, 3.5, 3.5, 1],
    ]);
  });

  it('needs minHits consecutive hits, so one-frame flickers never become tracks', () => {
    const tracker = new Tracker({ ...OPTS, minHits: 3 });
    const ids: (number | null)[] = [];
    for (let i = 0; i < 6; i++) {
      const dets = [det(100, 100, 0.8 + i * 0.02)];
      if (i === 1) dets.push(det(400, 400)); // a single-frame flicker
      if (i % 2 === 0) dets.push(det(700, 100, 0.9, 'car', 2)); // seen on every other frame only
      const { detections, updated } = tracker.update({ frameIndex: i, timestamp: i / 5, detections: dets });
      ids.push(detections[0]?.trackId ?? null);
      expect(detections.slice(1).every((d) => d.trackId === null)).toBe(true);
      expect(updated.map((t) => t.trackId)).toEqual(i >= 2 ? [1] : []);
    }
    // Detections returned before confirmation keep null; the track's path still holds those frames.
    expect(ids).toEqual([null, null, 1, 1, 1, 1]);
    const tracks = tracker.tracks();
    expect(tracks).toHaveLength(1);
    const t = tracks[0];
    expect(t?.path.map((p) => p.frameIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(t?.best.frameIndex).toBe(5);
    expect(t?.best.confidence).toBeCloseTo(0.9);
    expect(t?.meanConfidence).toBeCloseTo(0.85);
    expect([t?.firstFrame, t?.lastFrame, t?.firstTime, t?.lastTime]).toEqual([0, 5, 0, 1]);
  });

  it('never puts detections of different classes on one track', () => {
    const tracker = new Tracker(OPTS);
    const person = det(100, 100, 0.9, 'person', 0);
    const dog = det(100, 100, 0.9, 'dog', 16);
    const f0 = tracker.update({ frameIndex: 0, timestamp: 0, detections: [person, dog] });
    const f1 = tracker.update({ frameIndex: 1, timestamp: 0.1, detections: [dog, person] });
    const [p0, d0] = f0.detections.map((d) => d.trackId);
    expect(p0).not.toBe(d0);
    expect(f1.detections.map((d) => d.trackId)).toEqual([d0, p0]);

    // The person leaves and a cat appears on the same spot: a new track, not the person's.
    const f2 = tracker.update({ frameIndex: 2, timestamp: 0.2, detections: [det(100, 100, 0.9, 'cat', 15)] });
    expect(f2.detections[0]?.trackId).not.toBe(p0);
    expect(f2.detections[0]?.trackId).not.toBe(d0);
    const labels = tracker.tracks().map((t) => [t.label, t.hits]);
    expect(labels).toEqual([
      ['person', 2],
      ['dog', 2],
      ['cat', 1],
    ]);
  });

  it('lets low-confidence detections extend confirmed tracks but never start or confirm one', () => {
    const tracker = new Tracker({ ...OPTS, minHits: 2 });
    const run = (i: number, dets: Detection[]): (number | null)[] =>
      tracker.update({ frameIndex: i, timestamp: i / 10, detections: dets }).detections.map((d) => d.trackId);

    expect(run(0, [det(100, 100, 0.9), det(500, 500, 0.3)])).toEqual([null, null]);
    expect(run(1, [det(102, 100, 0.9), det(500, 500, 0.3)])).toEqual([1, null]);
    // Occluded: the object's score drops below highThreshold, it stays on its track.
    expect(run(2, [det(104, 100, 0.2), det(500, 500, 0.3)])).toEqual([1, null]);
    expect(run(3, [det(106, 100, 0.3)])).toEqual([1]);
    expect(run(4, [det(108, 100, 0.95)])).toEqual([1]);

    // A new object seen once with high and then only low confidence is not confirmed by the low ones.
    expect(run(5, [det(108, 100, 0.95), det(300, 300, 0.9)])).toEqual([1, null]);
    expect(run(6, [det(108, 100, 0.95), det(300, 300, 0.4)])).toEqual([1, null]);
    expect(run(7, [det(108, 100, 0.95), det(300, 300, 0.4)])).toEqual([1, null]);

    const tracks = tracker.tracks();
    expect(tracks).toHaveLength(1);
    expect(tracks[0]?.hits).toBe(8);
    expect(tracks[0]?.best).toEqual({ frameIndex: 4, timestamp: 0.4, box: det(108, 100).box, confidence: 0.95 });
  });

  it('keeps an established track when a duplicate tentative track competes for the same detection', () => {
    const tracker = new Tracker({ ...OPTS, minHits: 2 });
    tracker.update({ frameIndex: 0, timestamp: 0, detections: [det(100, 100)] });
    tracker.update({ frameIndex: 1, timestamp: 0.1, detections: [det(100, 100)] });
    // A second box on the object opens a tentative track; next frame there is only one box again.
    tracker.update({ frameIndex: 2, timestamp: 0.2, detections: [det(100, 100), det(101, 100, 0.6)] });
    const { detections } = tracker.update({ frameIndex: 3, timestamp: 0.3, detections: [det(101, 100)] });
    expect(detections[0]?.trackId).toBe(1);
    expect(tracker.tracks().map((t) => t.trackId)).toEqual([1]);
  });

  it('returns copies, so callers cannot change its state', () => {
    const tracker = new Tracker(OPTS);
    tracker.update({ frameIndex: 0, timestamp: 0, detections: [det(0, 0)] });
    const t = tracker.tracks()[0];
    t?.path.pop();
    expect(tracker.tracks()[0]?.path).toHaveLength(1);
  });

  it('rejects bad options and frames out of order', () => {
    const errorOf = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    for (const bad of [{ iouThreshold: 0 }, { minHits: 0 }, { minHits: 1.5 }, { maxAgeSeconds: -1 }, { highThreshold: 2 }, { maxPathPoints: 2 }, { maxPathPoints: 10.5 }]) {
      const e = errorOf(() => new Tracker({ ...OPTS, ...bad }));
      expect(isAppError(e) && e.code).toBe('VALIDATION_ERROR');
    }
    const tracker = new Tracker(OPTS);
    tracker.update({ frameIndex: 5, timestamp: 1, detections: [] });
    expect(() => tracker.update({ frameIndex: 5, timestamp: 1.2, detections: [] })).toThrow(RangeError);
    expect(() => tracker.update({ frameIndex: 6, timestamp: 0.5, detections: [] })).toThrow(RangeError);
  });

  describe('a long track', () => {
    /** One object seen on `hits` frames at 25 fps, jittering; the best confidence on hit `bestAt`. */
    const follow = (hits: number, maxPathPoints?: number, bestAt = -1): { tracker: Tracker; updates: ReturnType<Tracker['update']>[] } => {
      const tracker = new Tracker({ ...OPTS, ...(maxPathPoints === undefined ? {} : { maxPathPoints }) });
      const updates = [];
      for (let i = 0; i < hits; i++) {
        updates.push(tracker.update({ frameIndex: i * 4, timestamp: i / 25, detections: [det(100 + (i % 3), 100, i === bestAt ? 0.99 : 0.8 + (i % 7) / 100)] }));
      }
      return { tracker, updates };
    };

    it('keeps at most maxPathPoints of its path, evenly spaced, with the first, last and best points', () => {
      const hits = 5000;
      const { tracker, updates } = follow(hits, 100, 1234);
      const [t] = tracker.tracks();
      expect(t?.hits).toBe(hits);
      expect(t?.path.length).toBeLessThanOrEqual(100);
      // A thinned path still has a useful number of points: never fewer than half the budget.
      expect(t?.path.length).toBeGreaterThanOrEqual(50);
      const frames = t?.path.map((p) => p.frameIndex) ?? [];
      expect(frames[0]).toBe(0);
      expect(frames.at(-1)).toBe((hits - 1) * 4);
      expect(frames).toContain(1234 * 4);
      expect(t?.best.frameIndex).toBe(1234 * 4);
      // Strictly in frame order, and (but around the best point) evenly spaced to within a stride of the sampler.
      const gaps = frames.slice(1).map((f, i) => f - (frames[i] as number));
      expect(gaps.every((g) => g > 0)).toBe(true);
      const even = frames.at(-1)! / (frames.length - 2);
      expect(gaps.filter((g) => g < even / 2 || g > even * 1.5).length).toBeLessThanOrEqual(2);
      // Running statistics are those of every hit, not of the kept points.
      const all = Array.from({ length: hits }, (_, i) => (i === 1234 ? 0.99 : 0.8 + (i % 7) / 100));
      expect(t?.meanConfidence).toBeCloseTo(all.reduce((a, b) => a + b, 0) / hits, 12);
      expect([t?.firstFrame, t?.lastFrame, t?.firstTime, t?.lastTime]).toEqual([0, (hits - 1) * 4, 0, (hits - 1) / 25]);
      // Updates report the track's state without a path, so an update costs the same on the first hit and the last.
      expect(updates.at(-1)?.updated).toHaveLength(1);
      expect(updates.at(-1)?.updated[0]).not.toHaveProperty('path');
      expect(updates.at(-1)?.updated[0]).toMatchObject({ trackId: 1, hits, best: { frameIndex: 1234 * 4 } });
    });

    it('reports exactly the evenly thinned whole path while it is under twice maxPathPoints', () => {
      for (const hits of [150, 198]) {
        const { tracker } = follow(hits, 100, 77);
        const whole = Array.from({ length: hits }, (_, i) => i * 4);
        const expected = boundedPath(
          whole.map((f) => ({ frameIndex: f, timestamp: 0, box: { x1: 0, y1: 0, x2: 0, y2: 0 }, confidence: 0 })),
          { frameIndex: 77 * 4, timestamp: 0, box: { x1: 0, y1: 0, x2: 0, y2: 0 }, confidence: 0 },
          100,
        ).map((p) => p.frameIndex);
        expect(tracker.tracks()[0]?.path.map((p) => p.frameIndex)).toEqual(expected);
      }
    });

    it('reports an ended track as it was when it ended', () => {
      const tracker = new Tracker({ ...OPTS, maxPathPoints: 10 });
      for (let i = 0; i < 300; i++) tracker.update({ frameIndex: i, timestamp: i / 25, detections: [det(100, 100, 0.5 + (i % 13) / 100)] });
      const atEnd = tracker.tracks();
      // Unseen for longer than maxAgeSeconds: the track ends, while a new one starts elsewhere.
      for (let i = 300; i < 400; i++) tracker.update({ frameIndex: i, timestamp: 12 + i / 25, detections: [det(500, 500, 0.9)] });
      const later = tracker.tracks();
      expect(later).toHaveLength(2);
      expect(later[0]).toEqual(atEnd[0]);
      expect(later[1]?.hits).toBe(100);
    });

    it('never reports more than maxPathPoints, at any length', () => {
      for (const max of [3, 4, 5, 10, 100]) {
        const tracker = new Tracker({ ...OPTS, maxPathPoints: max });
        for (let i = 0; i < 600; i++) {
          tracker.update({ frameIndex: i, timestamp: i / 25, detections: [det(100, 100, 0.5 + (i % 13) / 100)] });
          const path = tracker.tracks()[0]?.path ?? [];
          expect(path.length, `max ${max}, hit ${i}`).toBeLessThanOrEqual(max);
          // The whole path while it fits.
          if (i < max) expect(path).toHaveLength(i + 1);
          expect(path[0]?.frameIndex).toBe(0);
          expect(path.at(-1)?.frameIndex).toBe(i);
        }
      }
    });

    it('keeps the whole path up to maxPathPoints hits (the default is 100)', () => {
      const { tracker } = follow(DEFAULT_MAX_PATH_POINTS);
      expect(tracker.tracks()[0]?.path.map((p) => p.frameIndex)).toEqual(Array.from({ length: DEFAULT_MAX_PATH_POINTS }, (_, i) => i * 4));
      const longer = follow(DEFAULT_MAX_PATH_POINTS + 1).tracker.tracks()[0];
      expect(longer?.path.length).toBeLessThanOrEqual(DEFAULT_MAX_PATH_POINTS);
      expect(longer?.hits).toBe(DEFAULT_MAX_PATH_POINTS + 1);
    });
  });
});

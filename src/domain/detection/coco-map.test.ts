import { describe, expect, it } from 'vitest';
import { COCO_IOU_THRESHOLDS, COCO_RECALL_POINTS, cocoMap, type GroundTruthBox, type ScoredBox } from './coco-map.js';

const gt = (imageId: number, classId: number, x1: number, y1: number, x2: number, y2: number, crowd = false): GroundTruthBox => ({
  imageId,
  classId,
  box: { x1, y1, x2, y2 },
  crowd,
});
const dt = (imageId: number, classId: number, x1: number, y1: number, x2: number, y2: number, score: number): ScoredBox => ({
  imageId,
  classId,
  box: { x1, y1, x2, y2 },
  score,
});

describe('cocoMap', () => {
  it('uses pycocotools thresholds: 10 IoUs .50:.95 and 101 recall points', () => {
    expect(COCO_IOU_THRESHOLDS).toHaveLength(10);
    expect(COCO_IOU_THRESHOLDS[0]).toBe(0.5);
    expect(COCO_IOU_THRESHOLDS[9]).toBe(0.95);
    expect(COCO_RECALL_POINTS).toHaveLength(101);
    expect(COCO_RECALL_POINTS[50]).toBe(0.5);
    expect(COCO_RECALL_POINTS[100]).toBe(1);
  });

  it('scores a perfect detection 1 and a missing one 0', () => {
    const truth = [gt(1, 0, 0, 0, 10, 10)];
    expect(cocoMap([1], truth, [dt(1, 0, 0, 0, 10, 10, 0.9)]).map).toBeCloseTo(1, 12);
    expect(cocoMap([1], truth, []).map).toBe(0);
    // A wrong class finds nothing; the class it claims has no ground truth, so it is not averaged in.
    const r = cocoMap([1], truth, [dt(1, 3, 0, 0, 10, 10, 0.9)]);
    expect(r.map).toBe(0);
    expect(r.classes).toBe(1);
  });

  it('counts a detection at IoU 0.72 at the thresholds .50 to .70: mAP 5/10', () => {
    // Ground truth 0..100 x 0..100; detection 0..72 x 0..100: IoU 0.72.
    const r = cocoMap([1], [gt(1, 0, 0, 0, 100, 100)], [dt(1, 0, 0, 0, 72, 100, 0.8)]);
    expect(r.map).toBeCloseTo(0.5, 12);
    expect(r.map50).toBeCloseTo(1, 12);
    expect(r.map75).toBe(0);
  });

  it('interpolates precision at 101 recall points: a false positive ranked first, then a hit out of two', () => {
    // Detections by score: FP (precision 0, recall 0), TP (precision 1/2, recall 1/2). Monotone precision is 1/2
    // at recall points 0 .. 0.50 (51 points) and 0 beyond: AP = 51 x 0.5 / 101 at every threshold.
    const truth = [gt(1, 0, 0, 0, 10, 10), gt(1, 0, 100, 100, 110, 110)];
    const r = cocoMap([1], truth, [dt(1, 0, 50, 50, 60, 60, 0.9), dt(1, 0, 0, 0, 10, 10, 0.8)]);
    expect(r.map).toBeCloseTo((51 * 0.5) / 101, 12);
  });

  it('makes precision monotone from the right before reading it', () => {
    // TP, FP, TP over 2 boxes: precision 1, 1/2, 2/3; recall 1/2, 1/2, 1. Monotone: 1, 2/3, 2/3.
    // Recall points 0 .. 0.5 read index 0 (1.0), 0.51 .. 1 read index 2 (2/3): (51 + 50 x 2/3) / 101.
    const truth = [gt(1, 0, 0, 0, 10, 10), gt(1, 0, 100, 100, 110, 110)];
    const dets = [dt(1, 0, 0, 0, 10, 10, 0.9), dt(1, 0, 50, 50, 60, 60, 0.8), dt(1, 0, 100, 100, 110, 110, 0.7)];
    expect(cocoMap([1], truth, dets).map).toBeCloseTo((51 + (50 * 2) / 3) / 101, 12);
  });

  it('counts a second detection of the same object as a false positive', () => {
    // TP then FP over one box: precision 1 up to recall 1: AP 1. Swapped scores (FP cannot come first: the better
    // scored one takes the box) — so a duplicate costs nothing here, but does when it outranks another object's hit.
    const one = [gt(1, 0, 0, 0, 10, 10)];
    expect(cocoMap([1], one, [dt(1, 0, 0, 0, 10, 10, 0.9), dt(1, 0, 0, 0, 10, 10, 0.8)]).map).toBeCloseTo(1, 12);
    const two = [...one, gt(2, 0, 0, 0, 10, 10)];
    // Image 1: hit 0.9 and duplicate 0.8; image 2: hit 0.7. Order TP, FP, TP: as in the monotone case above.
    const dets = [dt(1, 0, 0, 0, 10, 10, 0.9), dt(1, 0, 1, 0, 10, 10, 0.8), dt(2, 0, 0, 0, 10, 10, 0.7)];
    expect(cocoMap([1, 2], two, dets).map).toBeCloseTo((51 + (50 * 2) / 3) / 101, 12);
  });

  it('gives a detection the unmatched box it overlaps most', () => {
    // Two boxes; the first detection overlaps B more than A, so it takes B and the second detection gets A.
    const truth = [gt(1, 0, 0, 0, 10, 10), gt(1, 0, 2, 0, 12, 10)];
    const dets = [dt(1, 0, 2, 0, 12, 10, 0.9), dt(1, 0, 0, 0, 10, 10, 0.8)];
    expect(cocoMap([1], truth, dets).map).toBeCloseTo(1, 12);
  });

  it('ignores detections on crowd regions (IoU over the detection area), any number of them', () => {
    const truth = [gt(1, 0, 0, 0, 10, 10), gt(1, 0, 100, 0, 300, 200, true)];
    // Two small detections inside the crowd region (IoU 1 by its rule) rank above the hit: ignored, AP stays 1.
    const dets = [dt(1, 0, 110, 10, 130, 30, 0.95), dt(1, 0, 150, 50, 170, 70, 0.9), dt(1, 0, 0, 0, 10, 10, 0.5)];
    expect(cocoMap([1], truth, dets).map).toBeCloseTo(1, 12);
    // The same detections with no crowd region are false positives ranked first: precision 1/3 up to recall 1.
    const plain = cocoMap([1], [truth[0]!], dets).map;
    expect(plain).toBeCloseTo(1 / 3, 12);
  });

  it('prefers a real box to a crowd region, and leaves out classes with only crowd regions', () => {
    const truth = [gt(1, 0, 0, 0, 10, 10, true), gt(1, 0, 0, 0, 10, 10), gt(1, 7, 0, 0, 50, 50, true)];
    const r = cocoMap([1], truth, [dt(1, 0, 0, 0, 10, 10, 0.9), dt(1, 7, 0, 0, 10, 10, 0.9)]);
    expect(r.map).toBeCloseTo(1, 12);
    expect(r.classes).toBe(1);
    expect([...r.perClass.keys()]).toEqual([0]);
  });

  it('counts false positives on images without ground truth', () => {
    const truth = [gt(1, 0, 0, 0, 10, 10)];
    const dets = [dt(2, 0, 0, 0, 10, 10, 0.9), dt(1, 0, 0, 0, 10, 10, 0.5)];
    expect(cocoMap([1, 2], truth, dets).map).toBeCloseTo(0.5, 12);
    // An image outside the evaluated set is not counted.
    expect(cocoMap([1], truth, dets).map).toBeCloseTo(1, 12);
  });

  it('counts only the best maxDetections per image and class', () => {
    const truth = [gt(1, 0, 0, 0, 10, 10)];
    // The hit is the third by score: with maxDetections 2 it is not counted.
    const dets = [dt(1, 0, 50, 50, 60, 60, 0.9), dt(1, 0, 70, 70, 80, 80, 0.8), dt(1, 0, 0, 0, 10, 10, 0.7)];
    expect(cocoMap([1], truth, dets, { maxDetections: 2 }).map).toBe(0);
    expect(cocoMap([1], truth, dets, { maxDetections: 3 }).map).toBeCloseTo(1 / 3, 12);
  });

  it('averages classes with equal weight, a class with no detections counting 0', () => {
    const truth = [gt(1, 0, 0, 0, 10, 10), gt(1, 1, 0, 0, 10, 10), gt(2, 1, 0, 0, 10, 10), gt(1, 2, 0, 0, 10, 10)];
    const dets = [dt(1, 0, 0, 0, 10, 10, 0.9), dt(1, 1, 0, 0, 10, 10, 0.9)];
    // Class 0: 1; class 1: recall 1/2 at precision 1: 51 points of 101; class 2: 0.
    const r = cocoMap([1, 2], truth, dets);
    expect(r.perClass.get(1)).toBeCloseTo(51 / 101, 12);
    expect(r.map).toBeCloseTo((1 + 51 / 101 + 0) / 3, 12);
  });
});

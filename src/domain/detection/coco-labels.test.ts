import { describe, expect, it } from 'vitest';
import { COCO80_LABELS } from './coco-labels.js';

describe('COCO80_LABELS', () => {
  it('has the 80 distinct names in YOLO order', () => {
    expect(COCO80_LABELS).toHaveLength(80);
    expect(new Set(COCO80_LABELS).size).toBe(80);
    expect(COCO80_LABELS.slice(0, 3)).toEqual(['person', 'bicycle', 'car']);
    expect([COCO80_LABELS[7], COCO80_LABELS[16], COCO80_LABELS[62]]).toEqual(['truck', 'dog', 'tv']);
    expect(COCO80_LABELS[79]).toBe('toothbrush');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(COCO80_LABELS)).toBe(true);
  });
});

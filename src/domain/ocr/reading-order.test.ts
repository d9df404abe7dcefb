import { describe, expect, it } from 'vitest';
import type { Quad } from './min-area-rect.js';
import { joinRows, readingOrder } from './reading-order.js';

const line = (text: string, x: number, y: number, w: number, h = 10, angleDeg = 0): { text: string; quad: Quad } => {
  const a = (angleDeg * Math.PI) / 180;
  const at = (u: number, v: number): [number, number] => [x + u * Math.cos(a) - v * Math.sin(a), y + u * Math.sin(a) + v * Math.cos(a)];
  return { text, quad: [at(0, 0), at(w, 0), at(w, h), at(0, h)] };
};

describe('readingOrder', () => {
  it('joins boxes of one row left to right and orders rows top to bottom', () => {
    const rows = readingOrder([line('world', 60, 2, 40), line('second', 0, 20, 60), line('hello', 0, 0, 50)]);
    expect(joinRows(rows)).toBe('hello world\nsecond');
  });

  it('reads a page turned by 10 degrees row by row', () => {
    // A short first line and a long second one: in the image the short line's centre is lower than the long one's.
    const rows = readingOrder([line('long second line', 0, 18, 500, 12, 10), line('short', 0, 0, 150, 12, 10), line('third', 0, 36, 500, 12, 10)]);
    expect(joinRows(rows)).toBe('short\nlong second line\nthird');
  });
});

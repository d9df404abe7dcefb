/**
 * Reading order of text lines: top to bottom, and left to right within a row. Lines whose vertical centres lie
 * within half a line height of each other are one row (a detector often splits a line at a wide gap). "Vertical"
 * is measured across the text's dominant direction, so a photo of a page turned by 10° still reads row by row:
 * there a short line's centre can sit as low as the next full line's. Pure.
 */
import { dist, type Quad } from './min-area-rect.js';

/** Anything with a text box. */
export interface Placed {
  readonly quad: Quad;
}

/** Groups lines into rows, top row first, each row left to right. */
export function readingOrder<T extends Placed>(lines: readonly T[]): T[][] {
  const angle = dominantAngle(lines.map((l) => l.quad));
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const facts = lines.map((line) => {
    const q = line.quad;
    const mx = (q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4;
    const my = (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4;
    // The centre in the text's own frame: x along the lines, y across them.
    const cx = mx * cos + my * sin;
    const cy = -mx * sin + my * cos;
    // The text height is the box's shorter side (its left edge, unless the box was vertical).
    const h = Math.min(dist(q[0], q[3]), dist(q[0], q[1]));
    return { line, cx, cy, h };
  });
  facts.sort((a, b) => a.cy - b.cy || a.cx - b.cx);
  const rows: { cy: number; h: number; items: typeof facts }[] = [];
  for (const f of facts) {
    const row = rows[rows.length - 1];
    if (row && Math.abs(f.cy - row.cy) <= 0.5 * Math.max(1, (f.h + row.h) / 2)) {
      row.items.push(f);
      // The row's centre and height follow its members, so one tall line does not swallow the next row.
      const n = row.items.length;
      row.cy += (f.cy - row.cy) / n;
      row.h += (f.h - row.h) / n;
    } else {
      rows.push({ cy: f.cy, h: f.h, items: [f] });
    }
  }
  return rows.map((r) => r.items.sort((a, b) => a.cx - b.cx).map((f) => f.line));
}

/**
 * The direction of the text: the median angle of the lines' top edges, each counted as often as it is long
 * (long lines tell the angle best). Edges within 45° of vertical are ignored, they are not running text.
 */
export function dominantAngle(quads: readonly Quad[]): number {
  const angles: { a: number; w: number }[] = [];
  for (const q of quads) {
    const dx = q[1][0] - q[0][0];
    const dy = q[1][1] - q[0][1];
    if (Math.abs(dy) > Math.abs(dx)) continue;
    angles.push({ a: Math.atan2(dy, dx), w: Math.hypot(dx, dy) });
  }
  if (!angles.length) return 0;
  angles.sort((p, r) => p.a - r.a);
  const half = angles.reduce((s, p) => s + p.w, 0) / 2;
  let seen = 0;
  for (const p of angles) {
    seen += p.w;
    if (seen >= half) return p.a;
  }
  return 0;
}

/** The full text of rows: lines of a row joined by a space, rows by a newline. */
export function joinRows(rows: readonly (readonly { readonly text: string }[])[]): string {
  return rows.map((r) => r.map((l) => l.text).join(' ')).join('\n');
}

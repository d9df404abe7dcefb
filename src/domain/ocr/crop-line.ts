/**
 * Text-line crops: a rotated box of the image sampled straight into a horizontal strip of the size a model
 * wants, in one pass (PaddleOCR crops with a perspective warp, then resizes; doing both at once saves a copy and
 * an image-library round trip per line). Pure pixel maths on RgbImage.
 */
import type { RgbImage } from '../image-tensor.js';
import { dist, type Quad } from './min-area-rect.js';

/** The natural size of a quad's crop: its longer top/bottom edge by its longer left/right edge. */
export function quadSize(q: Quad): { width: number; height: number } {
  return { width: Math.max(dist(q[0], q[1]), dist(q[3], q[2])), height: Math.max(dist(q[0], q[3]), dist(q[1], q[2])) };
}

/**
 * The quad as it should be read: corners turned a quarter counter-clockwise when the crop is much taller than
 * wide (PaddleOCR rotates crops with h/w >= 1.5 by np.rot90), so vertical lines come out horizontal.
 */
export function uprightQuad(q: Quad): Quad {
  const { width, height } = quadSize(q);
  return height >= 1.5 * width ? [q[1], q[2], q[3], q[0]] : q;
}

/** The same quad read upside down (a line the angle classifier says is turned 180°). */
export function flipQuad(q: Quad): Quad {
  return [q[2], q[3], q[0], q[1]];
}

/**
 * Samples the region inside `q` (corners in continuous image coordinates: pixel i spans i..i+1) into a
 * `width` x `height` RGB image: corner 0 maps to the output's top-left, 1 to top-right, 3 to bottom-left.
 * Bilinear, with edge pixels repeated outside the image; when the output is more than twice smaller than the
 * quad, each output pixel averages a grid of samples so thin strokes do not alias away.
 */
export function sampleQuad(image: RgbImage, q: Quad, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const [tl, tr, , bl] = q;
  const { width: qw, height: qh } = quadSize(q);
  // Image-space step per output pixel along the output's x and y.
  const ux = (tr[0] - tl[0]) / width;
  const uy = (tr[1] - tl[1]) / width;
  const vx = (bl[0] - tl[0]) / height;
  const vy = (bl[1] - tl[1]) / height;
  const sx = Math.max(1, Math.min(4, Math.floor(qw / width)));
  const sy = Math.max(1, Math.min(4, Math.floor(qh / height)));
  const n = sx * sy;
  const maxX = image.width - 1;
  const maxY = image.height - 1;
  const src = image.data;
  const rowBytes = image.width * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0; j < sy; j++) {
        const fy = y + (j + 0.5) / sy - 0.5;
        for (let i = 0; i < sx; i++) {
          const fx = x + (i + 0.5) / sx - 0.5;
          // The output pixel's centre in the quad, then in pixel-index coordinates (centre of pixel i is i).
          const gx = Math.min(Math.max(tl[0] + (fx + 0.5) * ux + (fy + 0.5) * vx - 0.5, 0), maxX);
          const gy = Math.min(Math.max(tl[1] + (fx + 0.5) * uy + (fy + 0.5) * vy - 0.5, 0), maxY);
          const x0 = Math.floor(gx);
          const y0 = Math.floor(gy);
          const x1 = Math.min(x0 + 1, maxX);
          const y1 = Math.min(y0 + 1, maxY);
          const ax = gx - x0;
          const ay = gy - y0;
          const p00 = y0 * rowBytes + x0 * 3;
          const p01 = y0 * rowBytes + x1 * 3;
          const p10 = y1 * rowBytes + x0 * 3;
          const p11 = y1 * rowBytes + x1 * 3;
          const w00 = (1 - ax) * (1 - ay);
          const w01 = ax * (1 - ay);
          const w10 = (1 - ax) * ay;
          const w11 = ax * ay;
          r += (src[p00] as number) * w00 + (src[p01] as number) * w01 + (src[p10] as number) * w10 + (src[p11] as number) * w11;
          g += (src[p00 + 1] as number) * w00 + (src[p01 + 1] as number) * w01 + (src[p10 + 1] as number) * w10 + (src[p11 + 1] as number) * w11;
          b += (src[p00 + 2] as number) * w00 + (src[p01 + 2] as number) * w01 + (src[p10 + 2] as number) * w10 + (src[p11 + 2] as number) * w11;
        }
      }
      const o = (y * width + x) * 3;
      out[o] = Math.round(r / n);
      out[o + 1] = Math.round(g / n);
      out[o + 2] = Math.round(b / n);
    }
  }
  return { data: out, width, height };
}

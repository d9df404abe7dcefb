/**
 * Synthetic race-bib photos for the bib-reading tests and `npm run bench -- ocr`: a drawn runner with a bib on the
 * chest, a number card held up or lying on a table, and blanks with no digits at all. Everything is drawn as SVG and
 * rasterised by sharp (librsvg, DejaVu fonts), then blurred, noised and JPEG-encoded, so one seed always gives the
 * same images, byte for byte, on one machine. A few scenes use the photos in ../shared/testdata/images as backdrops
 * (read at run time, never copied into the repository).
 *
 * Numbers have 1 to 5 digits, evenly spread over the lengths, and never a leading zero (real bibs rarely have one,
 * and "007" vs "7" would make the expected answer ambiguous). Every image is meant to be readable by a person:
 * the hard cases (small, rotated, skewed, blurred, noisy, low JPEG quality) are bounded so they stay fair.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';

/** What an image shows: a runner with a bib, a number card, or no digits at all. */
export type BibKind = 'shirt' | 'card' | 'blank';
/** The DejaVu bold faces the digits are set in. */
export type BibFont = 'sans-bold' | 'sans-condensed-bold' | 'serif-bold' | 'mono-bold';
/** How the scene is composed: a drawn person, a card held in two hands or lying on a table, or background only. */
export type BibLayout = 'person' | 'card-held' | 'card-table' | 'none';
/** The drawn background when there is no photo backdrop. */
export type BibScene = 'road' | 'grass' | 'track' | 'park' | 'wall' | 'table' | 'bokeh';

/** An axis-aligned box in whole-image pixels. */
export interface BibBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** Everything that decides how one image looks (besides its name, number and kind). */
export interface BibParams {
  readonly width: number;
  readonly height: number;
  readonly layout: BibLayout;
  /** Torso width of the drawn person in pixels (0 without a person). */
  readonly torso: number;
  readonly scene: BibScene;
  /** A file name under ../shared/testdata/images drawn (cover-cropped) behind the scene, or null. */
  readonly backdrop: string | null;
  /** Height of the digits in image pixels, before rotation and skew. */
  readonly digitHeight: number;
  readonly font: BibFont;
  /** Rotation of the bib or card in degrees, clockwise; a drawn person leans by 60 % of it. */
  readonly angle: number;
  /** Shear of the bib or card in degrees (cheap stand-in for perspective and a curved chest). */
  readonly skewX: number;
  readonly skewY: number;
  /** Vertical scale of the card, below 1 for a card seen lying on a table; 1 otherwise. */
  readonly foreshorten: number;
  /** Centre of the bib or card as fractions of the image width and height. */
  readonly centre: { readonly x: number; readonly y: number };
  /** Colours, as #rrggbb: digits, bib/card paper, an optional band across the top of the bib, shirt and skin. */
  readonly ink: string;
  readonly paper: string;
  readonly band: string | null;
  readonly shirt: string;
  readonly skin: string;
  /** Small letters-only text on the bib or card (race name or sponsor), or null. */
  readonly caption: string | null;
  /** Four safety pins in the corners of the bib. */
  readonly pins: boolean;
  /** Gaussian blur sigma in pixels, 0 for none. */
  readonly blur: number;
  /** Standard deviation of added Gaussian noise, 0-255 scale. */
  readonly noise: number;
  readonly jpegQuality: number;
  /** Seeds the small random details: background blobs, hair, noise. */
  readonly seed: number;
}

/** One image to render, fully explicit. `number` is '' exactly when kind is 'blank'. */
export interface BibSpec extends BibParams {
  readonly name: string;
  readonly number: string;
  readonly kind: BibKind;
}

/** A rendered image and what is on it. */
export interface BibImage {
  readonly name: string;
  /** The digits on the bib or card; '' for blanks. */
  readonly number: string;
  readonly kind: BibKind;
  /** JPEG bytes. */
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  /** The bib or card (rotated and sheared, then boxed), whole-image pixels, clipped to the image; null for blanks. */
  readonly bibBox: BibBox | null;
  /** The drawn person (clipped to the image), or null when there is none. */
  readonly personBox: BibBox | null;
  readonly params: BibParams;
}

/** How many images of which kinds to generate. */
export interface GenerateBibOptions {
  /** Number of images (default 100). */
  readonly count?: number;
  /** PRNG seed (default 1). Image i depends only on the seed and i, so a smaller count gives a prefix. */
  readonly seed?: number;
  /** Kinds to generate (default all three, in the proportions 12 shirt : 5 card : 3 blank). */
  readonly kinds?: readonly BibKind[];
  /** Use photo backdrops from ../shared/testdata/images on some images (default true; fails if they are missing). */
  readonly photos?: boolean;
}

/** Options of `pinBib`; everything has a plain default (white bib, black sans-bold digits, no rotation). */
export interface PinBibOptions {
  readonly font?: BibFont;
  readonly angle?: number;
  readonly ink?: string;
  readonly paper?: string;
  readonly band?: string | null;
  readonly caption?: string | null;
  readonly pins?: boolean;
  readonly jpegQuality?: number;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the photo backdrops live: ../shared beside the checkout, as test/helper.ts finds it. */
const PHOTO_DIR = path.resolve(ROOT, '../shared/testdata/images');
/**
 * Backdrops with no visible text or digits, so blanks stay blank and the only number in a picture is ours
 * (messi5, the STOP sign, the text scans, the clock room and the class photos with printed shirts are left out).
 * person_horse_dog.jpg has a real person without a bib: a fair negative next to the drawn runner.
 */
const PHOTOS = ['dog.jpg', 'coco_000000000285.jpg', 'squirrel_cls.jpg', 'starry_night.jpg', 'person_horse_dog.jpg'] as const;

/** Per face: CSS family and digit advance in em (measured on the DejaVu files; all digits are tabular). */
const FONTS: Record<BibFont, { readonly family: string; readonly advance: number }> = {
  'sans-bold': { family: 'DejaVu Sans', advance: 0.696 },
  'sans-condensed-bold': { family: 'DejaVu Sans Condensed', advance: 0.626 },
  'serif-bold': { family: 'DejaVu Serif', advance: 0.696 },
  'mono-bold': { family: 'DejaVu Sans Mono', advance: 0.602 },
};
/** DejaVu digit height in em (0.729 cap height; measured 0.75 with the overshoot of round digits). */
const DIGIT_EM = 0.73;
const FONT_NAMES = Object.keys(FONTS) as BibFont[];

/** Race names and sponsors for the small print: capitals only, no digits, never taller than a third of the digits. */
const CAPTIONS = ['CITY MARATHON', 'HALF MARATHON', 'TRAIL RUN', 'RIVER RUN', 'NIGHT RUN', 'SPRING RACE', 'COASTAL TRAIL', 'FUN RUN', 'SPORTEX', 'RUNWAY', 'VELOCITY', 'FASTFEET', 'BANK OF THE NORTH'];
const SKINS = ['#f1c9a5', '#e0ac83', '#c68642', '#a0673c', '#8d5524', '#5c3a21', '#f5d6c0'];
const HAIR = ['#2b1d12', '#4a3020', '#111111', '#8a6a3a', '#c9a35a', '#6b4423'];
/** Light papers take dark ink; the last few are dark papers that take white or yellow ink. */
const LIGHT_PAPERS = ['#ffffff', '#ffffff', '#ffffff', '#fbfbf4', '#fff6c8', '#e4f1ff', '#ffe6ee', '#e8f8e0', '#f2f2f2'];
const DARK_INKS = ['#000000', '#000000', '#111111', '#1a1f5c', '#7a0d0d', '#0f3d1e'];
const DARK_PAPERS = ['#1b2a6b', '#111111', '#0d5c2e', '#8b0f1a'];
const BANDS = ['#d62828', '#1d4ed8', '#f77f00', '#2a9d8f', '#7209b7', '#111111'];
const KIND_WEIGHTS: Record<BibKind, number> = { shirt: 12, card: 5, blank: 3 };
const SCENES_PERSON: readonly BibScene[] = ['road', 'grass', 'track', 'park', 'bokeh', 'wall'];
const SCENES_CARD: readonly BibScene[] = ['table', 'wall', 'park', 'bokeh', 'grass'];

/** A small, fast, seeded PRNG (mulberry32): uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a seed and an index into a new 32-bit seed, so image i never depends on images before it. */
function mixSeed(seed: number, i: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

type Rng = () => number;
const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng();
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const round1 = (v: number): number => Math.round(v * 10) / 10;
const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** A colour from HSL (h in degrees, s and l in 0..1) as #rrggbb. */
function hsl(h: number, s: number, l: number): string {
  const k = (n: number): number => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return `#${[f(0), f(8), f(4)].map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('')}`;
}

/** Escapes text for SVG. */
function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A random bib number of `digits` digits, no leading zero. */
function randomNumber(rng: Rng, digits: number): string {
  let s = String(1 + Math.floor(rng() * 9));
  while (s.length < digits) s += String(Math.floor(rng() * 10));
  return s;
}

/** Size of a bib or card around `digits` digits of height h, and where its small print goes. */
interface PaperLayout {
  readonly w: number;
  readonly h: number;
  /** Font size of the digits. */
  readonly fontSize: number;
  /** Baseline of the digits, relative to the paper centre. */
  readonly baseline: number;
  readonly captionSize: number;
  /** Baseline of the caption, relative to the paper centre (above the digits, in the band when there is one). */
  readonly captionBaseline: number;
}

/** Lays out a paper (bib or card) for `digits` digits of height `digitHeight`, with room for a caption of `captionChars`. */
function paperLayout(digits: number, digitHeight: number, font: BibFont, card: boolean, captionChars: number): PaperLayout {
  const withTop = captionChars > 0;
  const fontSize = digitHeight / DIGIT_EM;
  const textW = Math.max(1, digits) * FONTS[font].advance * fontSize;
  // Real bibs are landscape with a generous margin, even for one digit; cards are tighter around the number.
  const w = Math.max(textW + digitHeight * (card ? 0.8 : 0.9), digitHeight * (card ? 1.4 : 2.2));
  const top = withTop ? digitHeight * 0.55 : 0;
  const h = digitHeight * (card ? 1.6 : 1.75) + top;
  const baseline = top / 2 + digitHeight / 2;
  // Small print never wider than the paper (DejaVu Sans Bold capitals average ~0.75 em).
  const captionSize = Math.min(digitHeight * 0.3, (w * 0.88) / Math.max(1, captionChars * 0.75));
  return { w, h, fontSize, baseline, captionSize, captionBaseline: -h / 2 + top * 0.5 + captionSize * 0.36 + (card ? digitHeight * 0.1 : digitHeight * 0.12) };
}

/** SVG for a bib or card centred at the origin: paper, optional band and caption, digits, optional pins. */
function paperSvg(number: string, L: PaperLayout, p: Pick<BibParams, 'font' | 'ink' | 'paper' | 'band' | 'caption' | 'pins'>, card: boolean): string {
  const { w, h } = L;
  const r = Math.min(w, h) * (card ? 0.05 : 0.07);
  const dh = L.fontSize * DIGIT_EM;
  const family = FONTS[p.font].family;
  const parts = [`<rect x="${-w / 2}" y="${-h / 2}" width="${w}" height="${h}" rx="${r}" fill="${p.paper}" stroke="#000" stroke-opacity="0.25" stroke-width="${Math.max(0.6, dh * 0.02)}"/>`];
  if (p.band !== null && p.caption !== null) {
    const bandH = L.captionSize * 1.6;
    const y0 = L.captionBaseline - L.captionSize * 1.15;
    parts.push(`<rect x="${-w / 2}" y="${y0}" width="${w}" height="${bandH}" fill="${p.band}"/>`);
  }
  if (p.caption !== null) {
    const colour = p.band !== null ? '#ffffff' : p.ink;
    parts.push(`<text x="0" y="${L.captionBaseline}" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" font-size="${L.captionSize}" fill="${colour}">${xml(p.caption)}</text>`);
  }
  if (number !== '') {
    parts.push(`<text x="0" y="${L.baseline}" text-anchor="middle" font-family="${family}" font-weight="bold" font-size="${L.fontSize}" fill="${p.ink}">${number}</text>`);
  }
  if (p.pins && !card) {
    const pr = Math.max(1.2, dh * 0.045);
    const ix = w / 2 - pr * 2.5;
    const iy = h / 2 - pr * 2.5;
    for (const [sx, sy] of [[-1, -1], [1, -1], [-1, 1], [1, 1]] as const) {
      parts.push(`<circle cx="${sx * ix}" cy="${sy * iy}" r="${pr}" fill="#b8bcc4" stroke="#5a5f66" stroke-width="${pr * 0.35}"/>`);
    }
  }
  return parts.join('');
}

/** The transform of the paper (translate, rotate, skew, foreshorten) as SVG and as a point mapping. */
function paperTransform(cx: number, cy: number, p: Pick<BibParams, 'angle' | 'skewX' | 'skewY' | 'foreshorten'>): { svg: string; map: (x: number, y: number) => [number, number] } {
  const rad = (d: number): number => (d * Math.PI) / 180;
  const [ca, sa, tx, ty] = [Math.cos(rad(p.angle)), Math.sin(rad(p.angle)), Math.tan(rad(p.skewX)), Math.tan(rad(p.skewY))];
  return {
    svg: `translate(${cx} ${cy}) rotate(${p.angle}) skewX(${p.skewX}) skewY(${p.skewY}) scale(1 ${p.foreshorten})`,
    // Applied right to left, as SVG does: scale, skewY, skewX, rotate, translate.
    map: (x, y) => {
      let [u, v] = [x, y * p.foreshorten];
      v = v + ty * u;
      u = u + tx * v;
      return [cx + ca * u - sa * v, cy + sa * u + ca * v];
    },
  };
}

/** The box around the mapped corners of a w x h rectangle centred at the origin. */
function mappedBox(map: (x: number, y: number) => [number, number], w: number, h: number): BibBox {
  const pts = [map(-w / 2, -h / 2), map(w / 2, -h / 2), map(-w / 2, h / 2), map(w / 2, h / 2)];
  const xs = pts.map((q) => q[0]);
  const ys = pts.map((q) => q[1]);
  return { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) };
}

/** Rounds a box to whole pixels and clips it to the image; null when nothing is left. */
function clipBox(b: BibBox, width: number, height: number): BibBox | null {
  const x1 = Math.max(0, Math.floor(b.x1));
  const y1 = Math.max(0, Math.floor(b.y1));
  const x2 = Math.min(width, Math.ceil(b.x2));
  const y2 = Math.min(height, Math.ceil(b.y2));
  return x2 > x1 && y2 > y1 ? { x1, y1, x2, y2 } : null;
}

/** Background SVG for a drawn scene: a gradient and soft blobs, nothing that could pass for a digit. */
function sceneSvg(scene: BibScene, W: number, H: number, rng: Rng): string {
  const grad = (top: string, bottom: string): string =>
    `<defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${top}"/><stop offset="1" stop-color="${bottom}"/></linearGradient></defs><rect width="${W}" height="${H}" fill="url(#bg)"/>`;
  const blobs = (n: number, colours: readonly string[], opacity: number, size: number): string =>
    Array.from({ length: n }, () => {
      const r = uniform(rng, 0.3, 1) * size;
      return `<ellipse cx="${round1(rng() * W)}" cy="${round1(rng() * H)}" rx="${round1(r)}" ry="${round1(r * uniform(rng, 0.5, 1.2))}" fill="${pick(rng, colours)}" opacity="${round3(opacity * uniform(rng, 0.5, 1))}"/>`;
    }).join('');
  const S = Math.max(W, H);
  switch (scene) {
    case 'road':
      return grad(hsl(30, 0.05, uniform(rng, 0.45, 0.6)), hsl(30, 0.05, uniform(rng, 0.3, 0.42))) + blobs(14, ['#3c3c3c', '#777777', '#5d5d58'], 0.35, S * 0.12);
    case 'grass':
      return grad(hsl(uniform(rng, 85, 120), 0.45, 0.42), hsl(uniform(rng, 85, 120), 0.5, 0.28)) + blobs(18, ['#2f5d1e', '#4f7d2b', '#6f9b3a'], 0.4, S * 0.1);
    case 'track':
      return grad(hsl(uniform(rng, 5, 18), 0.55, 0.45), hsl(uniform(rng, 5, 18), 0.55, 0.35)) + blobs(10, ['#9b3b2b', '#c26a4f'], 0.3, S * 0.12);
    case 'park': {
      const horizon = H * uniform(rng, 0.3, 0.5);
      return `<rect width="${W}" height="${H}" fill="${hsl(uniform(rng, 190, 215), 0.55, uniform(rng, 0.7, 0.85))}"/>` + blobs(8, ['#2e6b2e', '#3f7f3a', '#1f4f25'], 0.9, S * 0.15).replace(/cy="[\d.]+"/g, () => `cy="${round1(horizon * uniform(rng, 0.6, 1))}"`) + `<rect y="${round1(horizon)}" width="${W}" height="${round1(H - horizon)}" fill="${hsl(uniform(rng, 80, 110), 0.4, 0.38)}"/>`;
    }
    case 'wall':
      return grad(hsl(uniform(rng, 20, 60), 0.2, uniform(rng, 0.7, 0.85)), hsl(uniform(rng, 20, 60), 0.2, uniform(rng, 0.55, 0.7))) + blobs(6, ['#ffffff', '#b9ad9a'], 0.15, S * 0.2);
    case 'table': {
      const base = uniform(rng, 20, 35);
      const grain = Array.from({ length: 14 }, () => {
        const y = round1(rng() * H);
        const dy = round1(uniform(rng, -0.05, 0.05) * H);
        return `<path d="M0 ${y} Q ${round1(W / 2)} ${round1(y + dy)} ${W} ${y}" stroke="${hsl(base, 0.5, 0.22)}" stroke-opacity="${round3(uniform(rng, 0.1, 0.3))}" stroke-width="${round1(uniform(rng, 1, 4))}" fill="none"/>`;
      }).join('');
      return grad(hsl(base, 0.45, uniform(rng, 0.42, 0.55)), hsl(base, 0.5, uniform(rng, 0.3, 0.4))) + grain;
    }
    case 'bokeh':
      return grad(hsl(uniform(rng, 0, 360), 0.25, 0.35), hsl(uniform(rng, 0, 360), 0.25, 0.2)) + blobs(24, [hsl(rng() * 360, 0.6, 0.6), hsl(rng() * 360, 0.6, 0.6), '#ffffff', '#f4d35e'], 0.3, S * 0.08);
  }
}

/** Layout of the drawn person in units of the torso width, origin at the neck base: head at y < 0, legs down to 3.2. */
const PERSON_EXTENT = { left: -0.75, right: 0.75, top: -0.7, bottom: 3.25, chest: 0.62 } as const;

/** SVG for a person from the front (torso width T) whose chest point is at the origin; no bib. */
function personSvg(T: number, p: Pick<BibParams, 'shirt' | 'skin'>, rng: Rng): string {
  const u = (v: number): number => round1(v * T);
  const hair = pick(rng, HAIR);
  const shorts = pick(rng, ['#1a1a1a', '#23315e', '#3a3a3a', '#5b1a1a', '#ffffff']);
  const armOut = uniform(rng, 6, 20);
  const armBend = uniform(rng, -25, 25);
  const dy = -PERSON_EXTENT.chest; // shift so the chest point is the origin
  const arm = (side: 1 | -1): string => {
    const upper = `<rect x="${u(-0.1)}" y="0" width="${u(0.2)}" height="${u(0.62)}" rx="${u(0.1)}" fill="${p.skin}"/>`;
    const fore = `<g transform="translate(0 ${u(0.56)}) rotate(${round1(side * armBend)})"><rect x="${u(-0.09)}" y="0" width="${u(0.18)}" height="${u(0.6)}" rx="${u(0.09)}" fill="${p.skin}"/><circle cx="0" cy="${u(0.6)}" r="${u(0.1)}" fill="${p.skin}"/></g>`;
    const sleeve = `<rect x="${u(-0.12)}" y="${u(-0.02)}" width="${u(0.24)}" height="${u(0.32)}" rx="${u(0.06)}" fill="${p.shirt}"/>`;
    return `<g transform="translate(${u(side * 0.5)} ${u(0.14)}) rotate(${round1(-side * armOut)})">${upper}${fore}${sleeve}</g>`;
  };
  const legs = [-1, 1].map((s) => `<rect x="${u(s < 0 ? -0.4 : 0.06)}" y="${u(1.5)}" width="${u(0.34)}" height="${u(1.7)}" rx="${u(0.12)}" fill="${p.skin}"/>`).join('');
  const shoes = [-1, 1].map((s) => `<ellipse cx="${u(s * 0.23)}" cy="${u(3.18)}" rx="${u(0.2)}" ry="${u(0.08)}" fill="#222"/>`).join('');
  const torso = `<path d="M${u(-0.17)} 0 L${u(-0.48)} ${u(0.06)} Q${u(-0.6)} ${u(0.1)} ${u(-0.56)} ${u(0.32)} L${u(-0.46)} ${u(0.5)} L${u(-0.43)} ${u(1.45)} L${u(0.43)} ${u(1.45)} L${u(0.46)} ${u(0.5)} L${u(0.56)} ${u(0.32)} Q${u(0.6)} ${u(0.1)} ${u(0.48)} ${u(0.06)} L${u(0.17)} 0 Q0 ${u(0.16)} ${u(-0.17)} 0 Z" fill="${p.shirt}"/>`;
  const shortsSvg = `<path d="M${u(-0.44)} ${u(1.35)} L${u(0.44)} ${u(1.35)} L${u(0.47)} ${u(1.95)} L${u(0.04)} ${u(1.95)} L0 ${u(1.7)} L${u(-0.04)} ${u(1.95)} L${u(-0.47)} ${u(1.95)} Z" fill="${shorts}"/>`;
  const neck = `<rect x="${u(-0.1)}" y="${u(-0.14)}" width="${u(0.2)}" height="${u(0.2)}" fill="${p.skin}"/>`;
  // A face with eyes, brows, nose and mouth, and side shading on the shirt and limbs: a featureless silhouette is
  // rarely taken for a person by a COCO detector.
  const eye = (s: number): string => `<ellipse cx="${u(s * 0.085)}" cy="${u(-0.43)}" rx="${u(0.045)}" ry="${u(0.026)}" fill="#f4f1ea"/><circle cx="${u(s * 0.085)}" cy="${u(-0.43)}" r="${u(0.021)}" fill="#2a1a10"/><path d="M${u(s * 0.04)} ${u(-0.485)} Q${u(s * 0.085)} ${u(-0.51)} ${u(s * 0.135)} ${u(-0.485)}" stroke="${hair}" stroke-width="${u(0.018)}" fill="none"/>`;
  const ears = [-1, 1].map((s) => `<ellipse cx="${u(s * 0.215)}" cy="${u(-0.4)}" rx="${u(0.045)}" ry="${u(0.075)}" fill="${p.skin}"/>`).join('');
  const face = `${eye(-1)}${eye(1)}<path d="M0 ${u(-0.42)} L${u(-0.03)} ${u(-0.3)} L${u(0.02)} ${u(-0.29)}" stroke="#000" stroke-opacity="0.25" stroke-width="${u(0.014)}" fill="none"/><path d="M${u(-0.07)} ${u(-0.22)} Q0 ${u(-0.18)} ${u(0.07)} ${u(-0.22)}" stroke="#7a3b32" stroke-width="${u(0.02)}" fill="none"/>`;
  const head = `${ears}<ellipse cx="0" cy="${u(-0.4)}" rx="${u(0.2)}" ry="${u(0.27)}" fill="${p.skin}"/>${face}<path d="M${u(-0.21)} ${u(-0.4)} Q${u(-0.24)} ${u(-0.7)} 0 ${u(-0.69)} Q${u(0.24)} ${u(-0.7)} ${u(0.21)} ${u(-0.4)} Q${u(0.15)} ${u(-0.58)} 0 ${u(-0.57)} Q${u(-0.15)} ${u(-0.58)} ${u(-0.21)} ${u(-0.4)} Z" fill="${hair}"/>`;
  const shade = `<defs><linearGradient id="shade" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="#000" stop-opacity="0.3"/><stop offset="0.3" stop-color="#000" stop-opacity="0"/><stop offset="0.7" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.3"/></linearGradient></defs>`;
  const torsoShade = torso.replace(/fill="[^"]+"\/>$/, 'fill="url(#shade)"/>');
  return `${shade}<g transform="translate(0 ${u(dy)})">${legs}${shoes}${shortsSvg}${arm(-1)}${arm(1)}${torso}${torsoShade}${neck}${head}</g>`;
}

/** Two hands holding a card of size w x h centred at the origin (in the card's own frame), with forearms going down. */
function handsSvg(w: number, h: number, skin: string, sleeve: string): string {
  const r = h * 0.2;
  return [-1, 1]
    .map((s) => {
      // The hand overlaps the card edge by less than the margin beside the digits, so it never covers one.
      const x = s * (w / 2 + r * 0.4);
      return `<path d="M${x - r * 0.8} ${h * 0.1} L${x + s * r * 1.2 - r * 0.8} ${h * 3} L${x + s * r * 1.2 + r * 0.8} ${h * 3} L${x + r * 0.8} ${h * 0.1} Z" fill="${sleeve}"/><ellipse cx="${x}" cy="${h * 0.05}" rx="${r * 0.75}" ry="${r}" fill="${skin}"/>`;
    })
    .join('');
}

const photoCache = new Map<string, Promise<Buffer>>();

/** The bytes of a backdrop photo, read once per process. */
function photoBytes(name: string): Promise<Buffer> {
  let p = photoCache.get(name);
  if (p === undefined) {
    const file = path.join(PHOTO_DIR, name);
    if (!existsSync(file)) throw new Error(`bib backdrop missing: ${file} (clone the project beside ../shared)`);
    p = readFile(file);
    photoCache.set(name, p);
  }
  return p;
}

/** Adds seeded Gaussian noise to interleaved 8-bit pixels in place (a 4096-entry table keeps it fast). */
function addNoise(px: Buffer, sigma: number, seed: number): void {
  if (sigma <= 0) return;
  const rng = mulberry32(seed ^ 0x5bd1e995);
  const table = new Float32Array(4096);
  for (let i = 0; i < table.length; i++) {
    const u1 = Math.max(rng(), 1e-9);
    table[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng()) * sigma;
  }
  let state = (seed * 2654435761) >>> 0;
  for (let i = 0; i < px.length; i++) {
    // xorshift32 to index the table: far cheaper than a Gaussian per channel.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const v = px[i]! + table[(state >>> 0) & 4095]!;
    px[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/** Blur, noise and JPEG-encode a composed image. */
async function finish(img: Sharp, p: Pick<BibParams, 'blur' | 'noise' | 'jpegQuality' | 'seed'>): Promise<Buffer> {
  // Flatten to raw pixels first: sharp composites after its other operations, so a blur in the same pipeline would
  // blur the backdrop and leave the drawn bib sharp.
  const flat = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { width: flat.info.width, height: flat.info.height, channels: flat.info.channels };
  const data = p.blur >= 0.3 ? await sharp(flat.data, { raw }).blur(p.blur).raw().toBuffer() : flat.data;
  addNoise(data, p.noise, p.seed);
  return sharp(data, { raw }).jpeg({ quality: p.jpegQuality }).toBuffer();
}

/** Renders one image from explicit parameters. */
export async function renderBibImage(spec: BibSpec): Promise<BibImage> {
  const { number, kind, width: W, height: H } = spec;
  if (kind === 'blank' ? number !== '' : !/^\d{1,5}$/.test(number)) throw new Error(`bib ${spec.name}: number '${number}' does not fit kind ${kind}`);
  if (kind === 'shirt' && spec.layout !== 'person') throw new Error(`bib ${spec.name}: a shirt needs the person layout`);
  if (kind === 'card' && spec.layout !== 'card-held' && spec.layout !== 'card-table') throw new Error(`bib ${spec.name}: a card needs a card layout`);
  const rng = mulberry32(spec.seed);
  const parts: string[] = [];
  if (spec.backdrop === null) parts.push(sceneSvg(spec.scene, W, H, rng));
  const cx = spec.centre.x * W;
  const cy = spec.centre.y * H;
  const card = spec.layout === 'card-held' || spec.layout === 'card-table';
  const L = paperLayout(Math.max(1, number.length), spec.digitHeight, spec.font, card, spec.caption?.length ?? 0);
  const t = paperTransform(cx, cy, spec);
  let personBox: BibBox | null = null;
  let bibBox: BibBox | null = null;

  if (spec.layout === 'person') {
    const T = spec.torso;
    const lean = spec.angle * 0.6;
    parts.push(`<g transform="translate(${round1(cx)} ${round1(cy)}) rotate(${round1(lean)})">${personSvg(T, spec, rng)}</g>`);
    const body = paperTransform(cx, cy, { angle: lean, skewX: 0, skewY: 0, foreshorten: 1 });
    const e = PERSON_EXTENT;
    const ext = mappedBox(body.map, (e.right - e.left) * T, (e.bottom - e.top) * T);
    const midY = ((e.top + e.bottom) / 2 - e.chest) * T;
    const [mx, my] = body.map(0, midY);
    personBox = clipBox({ x1: ext.x1 - cx + mx, y1: ext.y1 - cy + my, x2: ext.x2 - cx + mx, y2: ext.y2 - cy + my }, W, H);
  } else if (card) {
    // A soft shadow under a card on the table; hands and forearms behind a held card's edges.
    if (spec.layout === 'card-table') {
      const o = spec.digitHeight * 0.12;
      parts.push(`<g transform="translate(${o} ${o})"><g transform="${t.svg}"><rect x="${-L.w / 2}" y="${-L.h / 2}" width="${L.w}" height="${L.h}" rx="${L.h * 0.05}" fill="#000" opacity="0.3"/></g></g>`);
    }
  }
  if (spec.layout !== 'none' && (number !== '' || card)) {
    const paper = number !== '' ? paperSvg(number, L, spec, card) : paperSvg('', L, { ...spec, caption: null, pins: false }, card);
    const hands = spec.layout === 'card-held' ? handsSvg(L.w, L.h, spec.skin, spec.shirt) : '';
    parts.push(`<g transform="${t.svg}">${paper}${hands}</g>`);
    if (number !== '') bibBox = clipBox(mappedBox(t.map, L.w, L.h), W, H);
  }

  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`);
  const base = spec.backdrop === null ? sharp(svg) : sharp(await photoBytes(spec.backdrop)).resize(W, H, { fit: 'cover' }).composite([{ input: svg }]);
  const data = await finish(base, spec);
  const { name, kind: _k, number: _n, ...params } = spec;
  return { name, number, kind, data, width: W, height: H, bibBox, personBox, params };
}

/** Draws a bib at `box` (whole-image px, the bib's extent before `angle`) on a photo; returns the photo as JPEG. */
export async function pinBib(photo: Buffer, box: BibBox, number: string, options: PinBibOptions = {}): Promise<Buffer> {
  if (!/^\d{1,5}$/.test(number)) throw new Error(`pinBib: '${number}' is not a 1-5 digit number`);
  const img = sharp(photo).rotate(); // honour EXIF orientation, as Argus does when it decodes
  const meta = await sharp(photo).metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const W = swap ? meta.height : meta.width;
  const H = swap ? meta.width : meta.height;
  const font = options.font ?? 'sans-bold';
  const p = { font, ink: options.ink ?? '#000000', paper: options.paper ?? '#ffffff', band: options.band ?? null, caption: options.caption ?? null, pins: options.pins ?? true };
  const bw = box.x2 - box.x1;
  const bh = box.y2 - box.y1;
  // Largest digits that fit the box with the same margins a generated bib has, then stretch the paper to the box.
  const unit = paperLayout(number.length, 1, font, false, p.caption?.length ?? 0);
  const digitHeight = Math.min(bw / unit.w, bh / unit.h);
  const fitted = paperLayout(number.length, digitHeight, font, false, p.caption?.length ?? 0);
  const L = { ...fitted, w: bw, h: bh };
  const t = paperTransform((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2, { angle: options.angle ?? 0, skewX: 0, skewY: 0, foreshorten: 1 });
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><g transform="${t.svg}">${paperSvg(number, L, p, false)}</g></svg>`);
  return img.composite([{ input: svg }]).jpeg({ quality: options.jpegQuality ?? 92 }).toBuffer();
}

/** Picks the kind for image i so each kind's running count tracks its weight (largest remainder, no randomness). */
function kindAt(i: number, kinds: readonly BibKind[], counts: Map<BibKind, number>): BibKind {
  const total = kinds.reduce((s, k) => s + KIND_WEIGHTS[k], 0);
  let best = kinds[0]!;
  let bestLag = -Infinity;
  for (const k of kinds) {
    const lag = (KIND_WEIGHTS[k] / total) * (i + 1) - (counts.get(k) ?? 0);
    if (lag > bestLag + 1e-9) [best, bestLag] = [k, lag];
  }
  counts.set(best, (counts.get(best) ?? 0) + 1);
  return best;
}

/** Paper and ink: mostly dark digits on white or pastel, sometimes light digits on a dark bib. */
function paperColours(rng: Rng): { ink: string; paper: string } {
  if (rng() < 0.1) return { paper: pick(rng, DARK_PAPERS), ink: pick(rng, ['#ffffff', '#ffffff', '#ffe14d']) };
  if (rng() < 0.15) return { paper: pick(rng, ['#ffd60a', '#ffb703', '#9bf6ff', '#caffbf']), ink: '#000000' };
  return { paper: pick(rng, LIGHT_PAPERS), ink: pick(rng, DARK_INKS) };
}

/** Draws the parameters of one image from its own seed. */
function randomSpec(index: number, kind: BibKind, digits: number, seed: number, photos: boolean): BibSpec {
  const rng = mulberry32(seed);
  const number = kind === 'blank' ? '' : randomNumber(rng, digits);
  const layout: BibLayout = kind === 'shirt' ? 'person' : kind === 'card' ? (rng() < 0.5 ? 'card-held' : 'card-table') : pick(rng, ['person', 'person', 'card-held', 'card-table', 'none'] as const);
  const card = layout === 'card-held' || layout === 'card-table';
  const backdrop = photos && rng() < (kind === 'blank' ? 0.4 : 0.2) ? pick(rng, PHOTOS) : null;
  const scene = pick(rng, card ? SCENES_CARD : SCENES_PERSON);
  const font = pick(rng, FONT_NAMES);
  const caption = rng() < 0.55 ? pick(rng, CAPTIONS) : null;
  const band = caption !== null && !card && rng() < 0.5 ? pick(rng, BANDS) : null;
  const { ink, paper } = paperColours(rng);
  const angle = round1(uniform(rng, -25, 25));
  const skewX = round1(rng() < 0.6 ? uniform(rng, -10, 10) : 0);
  const skewY = round1(rng() < 0.4 ? uniform(rng, -6, 6) : 0);
  const foreshorten = layout === 'card-table' ? round3(uniform(rng, 0.65, 1)) : 1;

  // Digit height log-uniform in 16-150 px, then an image size that holds the scene and keeps the digits at least
  // about 1/40 of the long side (smaller would be a needle in a haystack, not a fair test of reading).
  const aspect = pick(rng, [4 / 3, 3 / 2, 1, 3 / 4, 2 / 3, 16 / 9]);
  const fx = aspect >= 1 ? 1 : aspect; // width and height as fractions of the long side
  const fy = aspect >= 1 ? 1 / aspect : 1;
  const n = Math.max(digits, 1);
  const L1 = paperLayout(n, 1, font, card, caption?.length ?? 0);
  const tilt = paperTransform(0, 0, { angle, skewX, skewY, foreshorten });
  const ext1 = mappedBox(tilt.map, L1.w, L1.h);
  // The person's torso is 1.25-1.8 bib widths: the bib covers 55-80 % of the chest.
  const torso1 = layout === 'person' ? Math.max(L1.w * uniform(rng, 1.25, 1.8), L1.h / 0.85) : 0;
  // Per pixel of digit height: what the frame must hold. A person is framed either whole (head to shoes; only when
  // that leaves the digits at least 16 px) or from the head down, with the torso in frame.
  const E = PERSON_EXTENT;
  const fullW = torso1 * (E.right - E.left) * 1.1;
  const fullH = torso1 * (E.bottom - E.top) * 1.06;
  const full = layout === 'person' && rng() < 0.6 && Math.min((1280 * fx) / fullW, (1280 * fy) / fullH) >= 16;
  const needW = full ? fullW : layout === 'person' ? Math.max(ext1.x2 - ext1.x1, torso1 * 1.2) : (ext1.x2 - ext1.x1) * 1.25 + (layout === 'card-held' ? L1.h * 0.6 : 0);
  const needH = full ? fullH : layout === 'person' ? Math.max(ext1.y2 - ext1.y1, torso1 * 1.35 + ext1.y2) : (ext1.y2 - ext1.y1) * 1.25;
  const hMax = Math.min((1280 * fx) / needW, (1280 * fy) / needH, 150);
  const digitHeight = round1(Math.max(16, Math.min(hMax, Math.exp(uniform(rng, Math.log(16), Math.log(150))))));
  const lo = Math.min(1280, Math.max(320, (needW * digitHeight) / fx, (needH * digitHeight) / fy));
  const hi = Math.max(lo, Math.min(1280, 40 * digitHeight));
  const long = uniform(rng, lo, hi);
  const width = Math.max(320, Math.min(1280, Math.round((long * fx) / 8) * 8));
  const height = Math.max(320, Math.min(1280, Math.round((long * fy) / 8) * 8));
  const torso = round1(torso1 * digitHeight);

  // Keep the whole rotated bib or card inside the frame, with a little margin; a person also keeps the torso and the
  // head in the frame when there is room (close-ups crop them).
  const bx = (Math.max(-ext1.x1, ext1.x2) * digitHeight + 4) / width;
  const by = (Math.max(-ext1.y1, ext1.y2) * digitHeight + 4) / height;
  const span = (lo0: number, hi0: number, lo1: number, hi1: number): number => (lo1 <= hi1 ? uniform(rng, lo1, hi1) : uniform(rng, lo0, Math.max(lo0, hi0)));
  const px = full ? (torso * -E.left * 1.05) / width : layout === 'person' ? Math.max(bx, (torso * 0.6) / width) : bx;
  const py = layout === 'person' ? Math.max(by, (torso * (E.chest - E.top) * 1.03) / height) : by;
  const pyEnd = full ? 1 - (torso * (E.bottom - E.chest) * 1.02) / height : 1 - by;
  const centre = { x: round3(span(bx, 1 - bx, px, 1 - px)), y: round3(span(by, 1 - by, py, pyEnd)) };

  // Hard but fair: blur and noise scale down with small digits; low JPEG quality only on large ones.
  const blurMax = Math.min(2, digitHeight / 12);
  const blur = rng() < 0.4 ? round1(uniform(rng, 0.5, Math.max(0.5, blurMax))) : 0;
  const noise = rng() < 0.6 ? round1(uniform(rng, 1, digitHeight < 24 ? 5 : 10)) : 0;
  const jpegQuality = Math.round(uniform(rng, digitHeight < 24 ? 75 : 60, 95));
  const shirt = hsl(rng() * 360, uniform(rng, 0.2, 0.9), uniform(rng, 0.25, 0.65));
  const skin = pick(rng, SKINS);
  const name = `bib-${String(index).padStart(3, '0')}-${kind}${number === '' ? '' : `-${number}`}`;
  return { name, number, kind, width, height, layout, torso, scene, backdrop, digitHeight, font, angle, skewX, skewY, foreshorten, centre, ink, paper, band, shirt, skin, caption, pins: !card && rng() < 0.7, blur, noise, jpegQuality, seed: (rng() * 2 ** 32) >>> 0 };
}

/** The specs `generateBibImages` renders, without rendering them (cheap; for listing or tweaking one). */
export function bibSpecs(options: GenerateBibOptions = {}): BibSpec[] {
  const count = options.count ?? 100;
  const seed = options.seed ?? 1;
  const kinds = options.kinds ?? (['shirt', 'card', 'blank'] as const);
  if (kinds.length === 0) throw new Error('generateBibImages: no kinds');
  const counts = new Map<BibKind, number>();
  let numbered = 0;
  return Array.from({ length: count }, (_, i) => {
    const kind = kindAt(i, kinds, counts);
    // Lengths cycle 1..5 over the numbered images, so every length is equally common (and present from 5 on).
    const digits = kind === 'blank' ? 0 : (numbered++ % 5) + 1;
    return randomSpec(i, kind, digits, mixSeed(seed, i), options.photos ?? true);
  });
}

/** Generates `count` synthetic bib photos, deterministically from `seed`. */
export async function generateBibImages(options: GenerateBibOptions = {}): Promise<BibImage[]> {
  const specs = bibSpecs(options);
  const out: BibImage[] = new Array<BibImage>(specs.length);
  // A few at a time: sharp runs on its own threads, and four keep two cores busy without piling up memory.
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < specs.length) {
        const i = next++;
        out[i] = await renderBibImage(specs[i]!);
      }
    }),
  );
  return out;
}

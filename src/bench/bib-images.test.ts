import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { bibSpecs, generateBibImages, pinBib, renderBibImage } from './bib-images.js';

describe('synthetic bib images', () => {
  it('are deterministic from the seed, byte for byte', async () => {
    const [a, b] = await Promise.all([generateBibImages({ count: 12, seed: 7 }), generateBibImages({ count: 12, seed: 7 })]);
    expect(a.map((i) => i.name)).toEqual(b.map((i) => i.name));
    for (let i = 0; i < a.length; i++) {
      expect(a[i]!.params).toEqual(b[i]!.params);
      expect(a[i]!.data.equals(b[i]!.data)).toBe(true);
    }
    const other = bibSpecs({ count: 12, seed: 8 });
    expect(other.map((s) => s.number)).not.toEqual(a.map((i) => i.number));
  });

  it('gives a prefix for a smaller count', () => {
    expect(bibSpecs({ count: 10, seed: 3 })).toEqual(bibSpecs({ count: 40, seed: 3 }).slice(0, 10));
  });

  it('spreads numbers evenly over 1-5 digits, with no leading zero, and leaves blanks empty', () => {
    const specs = bibSpecs({ count: 200, seed: 1 });
    const lengths = new Map<number, number>();
    for (const s of specs) {
      if (s.kind === 'blank') {
        expect(s.number).toBe('');
        continue;
      }
      expect(s.number).toMatch(/^[1-9]\d{0,4}$/);
      lengths.set(s.number.length, (lengths.get(s.number.length) ?? 0) + 1);
    }
    expect([...lengths.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(Math.max(...lengths.values()) - Math.min(...lengths.values())).toBeLessThanOrEqual(1);
    const kinds = new Set(specs.map((s) => s.kind));
    expect(kinds).toEqual(new Set(['shirt', 'card', 'blank']));
    for (const s of specs) {
      expect(s.digitHeight).toBeGreaterThanOrEqual(16);
      expect(s.digitHeight).toBeLessThanOrEqual(150);
      expect(Math.abs(s.angle)).toBeLessThanOrEqual(25);
      expect(s.blur).toBeLessThanOrEqual(2);
    }
  });

  it('renders sane JPEGs with the bib inside the frame', async () => {
    const images = await generateBibImages({ count: 15, seed: 11 });
    expect(images.some((i) => i.kind === 'blank')).toBe(true);
    for (const img of images) {
      const meta = await sharp(img.data).metadata();
      expect(meta.format).toBe('jpeg');
      expect([meta.width, meta.height]).toEqual([img.width, img.height]);
      expect(Math.min(img.width, img.height)).toBeGreaterThanOrEqual(320);
      expect(Math.max(img.width, img.height)).toBeLessThanOrEqual(1280);
      if (img.kind === 'blank') {
        expect(img.bibBox).toBeNull();
      } else {
        const b = img.bibBox!;
        expect(b.x1).toBeGreaterThanOrEqual(0);
        expect(b.y1).toBeGreaterThanOrEqual(0);
        expect(b.x2).toBeLessThanOrEqual(img.width);
        expect(b.y2).toBeLessThanOrEqual(img.height);
        expect(b.y2 - b.y1).toBeGreaterThan(img.params.digitHeight);
      }
      if (img.kind === 'shirt') expect(img.personBox).not.toBeNull();
    }
  });

  it('refuses a spec whose number does not fit its kind', async () => {
    const spec = bibSpecs({ count: 1, seed: 1, kinds: ['shirt'] })[0]!;
    await expect(renderBibImage({ ...spec, number: '' })).rejects.toThrow(/does not fit/);
    await expect(renderBibImage({ ...spec, kind: 'blank' })).rejects.toThrow(/does not fit/);
  });

  it('pins a bib on an existing photo without changing its size', async () => {
    const photo = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#3060a0' } }).jpeg().toBuffer();
    const out = await pinBib(photo, { x1: 150, y1: 120, x2: 250, y2: 190 }, '4821', { angle: 10 });
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 400, 300]);
    // The bib's centre is now light paper or dark ink, not the blue background.
    const { data } = await sharp(out).extract({ left: 155, top: 150, width: 90, height: 10 }).raw().toBuffer({ resolveWithObject: true });
    const blue = [...data].filter((_, i) => i % 3 === 2).reduce((s, v) => s + v, 0) / (data.length / 3);
    const red = [...data].filter((_, i) => i % 3 === 0).reduce((s, v) => s + v, 0) / (data.length / 3);
    expect(Math.abs(blue - red)).toBeLessThan(60);
  });
});

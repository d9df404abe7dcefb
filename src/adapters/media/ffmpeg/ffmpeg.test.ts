import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../domain/errors.js';
import { decodeFrames, probeVideo, type FrameSampling, type VideoFrame } from './index.js';
import { testdata } from '../../../../test/helper.js';

const MEGAMIND = testdata('video/Megamind.avi');
const FPS = 2997 / 125; // 23.976
const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0 && spawnSync('ffprobe', ['-version']).status === 0;
const ALL: FrameSampling = { everyNth: 1, minSeconds: 0, maxSide: 100_000 };

interface FrameMeta {
  index: number;
  timestamp: number;
  width: number;
  height: number;
  bytes: number;
  hash: string;
}

function meta(f: VideoFrame): FrameMeta {
  return {
    index: f.index,
    timestamp: f.timestamp,
    width: f.width,
    height: f.height,
    bytes: f.data.length,
    hash: createHash('sha1').update(f.data).digest('hex'),
  };
}

/** Decodes everything, keeping only per-frame facts (270 full frames would be 300 MB). */
async function collect(input: Parameters<typeof decodeFrames>[0], sampling: FrameSampling): Promise<FrameMeta[]> {
  const out: FrameMeta[] = [];
  for await (const f of decodeFrames(input, sampling)) out.push(meta(f));
  return out;
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

/** ffmpeg processes that are children of this test worker (zombies included: pgrep lists them too). */
function ffmpegChildren(): number[] {
  const r = spawnSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((s) => Number(s));
}

describe.skipIf(!hasFfmpeg || !existsSync(MEGAMIND))('ffmpeg video adapter', () => {
  let dir: string;
  let synthetic: string;
  let vfr: string;
  let portrait: string;
  let randomMp4: string;
  let randomBin: string;
  let garbage: string;
  let truncated: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-video-'));
    const h264 = spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout.includes('libx264');
    const codec = h264 ? ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'] : ['-c:v', 'mpeg4'];
    const make = (args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);
    synthetic = path.join(dir, 'testsrc.mp4');
    make(['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '2', ...codec, synthetic]);
    // Variable frame rate: a one-second gap after frame 9 (frame 10 is at 2.0 s, not 1.0 s).
    vfr = path.join(dir, 'vfr.mkv');
    make(['-f', 'lavfi', '-t', '2', '-i', 'testsrc=size=320x240:rate=10', '-vf', 'setpts=PTS+gte(N\\,10)/TB', '-fps_mode', 'vfr', ...codec, vfr]);
    portrait = path.join(dir, 'portrait.mp4');
    make(['-f', 'lavfi', '-i', 'testsrc=size=240x320:rate=10', '-t', '1', ...codec, portrait]);

    const noise = Buffer.alloc(200_000);
    for (let i = 0; i < noise.length; i++) noise[i] = (Math.random() * 256) | 0;
    randomMp4 = path.join(dir, 'random.mp4');
    randomBin = path.join(dir, 'random.bin');
    await writeFile(randomMp4, noise);
    await writeFile(randomBin, noise);
    const original = await readFile(MEGAMIND);
    // A real AVI header followed by garbage instead of frames.
    garbage = path.join(dir, 'garbage.avi');
    await writeFile(garbage, Buffer.concat([original.subarray(0, 12_000), noise]));
    // The first third of the file: the header promises 270 frames, about 80 are there.
    truncated = path.join(dir, 'truncated.avi');
    await writeFile(truncated, original.subarray(0, 400_000));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('probeVideo', () => {
    it('reads the facts of an AVI (MPEG-4 Part 2)', async () => {
      const info = await probeVideo(MEGAMIND);
      expect(info.width).toBe(720);
      expect(info.height).toBe(528);
      expect(info.fps).toBeCloseTo(23.976, 2);
      expect(info.frameCount).toBe(270);
      expect(info.durationSeconds).toBeCloseTo(11.26, 1);
      expect(info.codec).toBe('mpeg4');
    });

    it('reads a synthetic clip', async () => {
      const info = await probeVideo(synthetic);
      expect(info).toMatchObject({ width: 320, height: 240, frameCount: 20 });
      expect(info.fps).toBeCloseTo(10, 5);
      expect(info.durationSeconds).toBeCloseTo(2, 1);
      expect(['h264', 'mpeg4']).toContain(info.codec);
    });

    it('rejects random bytes', async () => {
      const err = await rejection(probeVideo(randomMp4));
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toMatch(/not a readable video: .*invalid data/i);
      expect(err.message).not.toContain(dir);
      // ffmpeg would take a .bin file for "binary text" art; the demuxer whitelist refuses it.
      const bin = await rejection(probeVideo(randomBin));
      expect(bin.code).toBe('BAD_REQUEST');
      expect(bin.message).toMatch(/unsupported container format/);
    });

    it('rejects a video whose frames are garbage', async () => {
      const err = await rejection(probeVideo(garbage));
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toMatch(/no frame of the mpeg4 stream could be decoded/);
    });

    it('rejects a missing file and a non-video', async () => {
      expect((await rejection(probeVideo(path.join(dir, 'nope.mp4')))).message).toMatch(/No such file/);
      const audio = path.join(dir, 'tone.mkv');
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=1', audio]);
      expect((await rejection(probeVideo(audio))).message).toMatch(/no video stream/);
      expect((await rejection(collect(audio, ALL))).message).toMatch(/no video stream/);
    });
  });

  describe('decodeFrames', () => {
    let every: FrameMeta[];

    it('decodes every frame of a file with its own index and pts', async () => {
      every = await collect(MEGAMIND, ALL);
      expect(every).toHaveLength(270);
      expect(every.map((f) => f.index)).toEqual(Array.from({ length: 270 }, (_, i) => i));
      for (let i = 1; i < every.length; i++) expect(every[i]!.timestamp).toBeGreaterThan(every[i - 1]!.timestamp);
      expect(every.at(-1)!.timestamp).toBeGreaterThan(11.1);
      expect(every.at(-1)!.timestamp).toBeLessThan(11.35);
      // Never upscaled: the source size.
      expect(every.every((f) => f.width === 720 && f.height === 528 && f.bytes === 720 * 528 * 3)).toBe(true);
    });

    it('takes every Nth frame', async () => {
      const frames = await collect(MEGAMIND, { ...ALL, everyNth: 10 });
      expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 27 }, (_, i) => i * 10));
      for (const f of frames) expect(Math.abs(f.timestamp - f.index / FPS)).toBeLessThan(1.5 / FPS);
      // The same pixels as those frames in the full decode.
      expect(frames.map((f) => f.hash)).toEqual(frames.map((f) => every[f.index]!.hash));
    });

    it('keeps at least minSeconds between frames', async () => {
      const frames = await collect(MEGAMIND, { ...ALL, minSeconds: 1 });
      expect(frames.length).toBeGreaterThanOrEqual(11);
      expect(frames.length).toBeLessThanOrEqual(12);
      expect(frames[0]!.index).toBe(0);
      for (let i = 1; i < frames.length; i++) {
        const gap = frames[i]!.timestamp - frames[i - 1]!.timestamp;
        expect(gap).toBeGreaterThanOrEqual(1 - 1e-6);
        expect(gap).toBeLessThan(1 + 1 / FPS + 1e-6);
      }
    });

    it('applies everyNth and minSeconds together', async () => {
      const frames = await collect(MEGAMIND, { everyNth: 10, minSeconds: 1, maxSide: 64 });
      // Multiples of 10 at least 1 s (24 frames) apart: 0, 30, 60, ...
      expect(frames.map((f) => f.index)).toEqual([0, 30, 60, 90, 120, 150, 180, 210, 240]);
    });

    it('scales to maxSide, keeping the aspect ratio', async () => {
      const frames = await collect(MEGAMIND, { everyNth: 50, minSeconds: 0, maxSide: 360 });
      expect(frames).toHaveLength(6);
      for (const f of frames) expect(f).toMatchObject({ width: 360, height: 264, bytes: 360 * 264 * 3 });
      const odd = await collect(MEGAMIND, { everyNth: 100, minSeconds: 0, maxSide: 415 });
      for (const f of odd) expect([f.width % 2, f.height % 2, f.width <= 415]).toEqual([0, 0, true]);
      const tall = await collect(portrait, { ...ALL, maxSide: 160 });
      expect(tall).toHaveLength(10);
      for (const f of tall) expect(f).toMatchObject({ width: 120, height: 160 });
    });

    it('gives the same frames from a stream as from the file', async () => {
      const sampling = { everyNth: 10, minSeconds: 0, maxSide: 360 };
      const fromFile = await collect(MEGAMIND, sampling);
      const fromStream = await collect(createReadStream(MEGAMIND), sampling);
      expect(fromStream).toEqual(fromFile);
      const all = await collect(createReadStream(MEGAMIND), ALL);
      expect(all).toHaveLength(270);
      expect(all.map((f) => [f.index, f.timestamp, f.hash])).toEqual(every.map((f) => [f.index, f.timestamp, f.hash]));
    });

    it('reads the whole stream, so a tee of it sees every byte', async () => {
      let seen = 0;
      async function* tee(): AsyncGenerator<Uint8Array> {
        for await (const chunk of createReadStream(MEGAMIND)) {
          seen += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      }
      const frames = await collect(tee(), { everyNth: 30, minSeconds: 0, maxSide: 64 });
      expect(frames).toHaveLength(9);
      expect(seen).toBe((await readFile(MEGAMIND)).length);
    });

    it('decodes a synthetic clip from a file and from a stream', async () => {
      const frames = await collect(synthetic, ALL);
      expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      frames.forEach((f, i) => expect(f.timestamp).toBeCloseTo(i / 10, 6));
      expect(frames.every((f) => f.width === 320 && f.height === 240)).toBe(true);
      expect(await collect(createReadStream(synthetic), ALL)).toEqual(frames);
    });

    it('takes timestamps from pts, not from a constant frame rate', async () => {
      const frames = await collect(vfr, ALL);
      expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(frames[9]!.timestamp).toBeCloseTo(0.9, 3);
      expect(frames[10]!.timestamp).toBeCloseTo(2.0, 3);
      const spaced = await collect(vfr, { ...ALL, minSeconds: 0.5 });
      expect(spaced.map((f) => f.index)).toEqual([0, 5, 10, 15]);
    });

    it('rejects random bytes, from a file and from a stream', async () => {
      for (const input of [randomMp4, randomBin, createReadStream(randomMp4)]) {
        const err = await rejection(collect(input, ALL));
        expect(err.code).toBe('BAD_REQUEST');
        expect(err.message).toMatch(/the video could not be decoded: .*(invalid data|unsupported container)/i);
        expect(err.message).not.toContain(dir);
      }
      expect(ffmpegChildren()).toEqual([]);
    });

    it('rejects a video whose frames are garbage', async () => {
      for (const input of [garbage, createReadStream(garbage)]) {
        const err = await rejection(collect(input, ALL));
        expect(err.code).toBe('BAD_REQUEST');
        expect(err.message).toMatch(/the video could not be decoded: /);
      }
    });

    it('ends a truncated video with an error after the frames it has', async () => {
      for (const input of [truncated, createReadStream(truncated)]) {
        const got: number[] = [];
        let error: unknown;
        try {
          for await (const f of decodeFrames(input, { ...ALL, maxSide: 64 })) got.push(f.index);
        } catch (err) {
          error = err;
        }
        expect(got.length).toBeGreaterThan(50);
        expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i));
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe('BAD_REQUEST');
        expect((error as AppError).message).toMatch(/corrupt/i);
        expect((error as AppError).message).not.toContain(dir);
      }
    });

    it('kills ffmpeg when the consumer stops early', async () => {
      let seen = 0;
      for await (const f of decodeFrames(MEGAMIND, ALL)) {
        expect(f.index).toBe(seen);
        if (++seen === 3) {
          expect(ffmpegChildren()).toHaveLength(1);
          break;
        }
      }
      // The generator's cleanup has awaited the exit: no process, not even a zombie.
      expect(ffmpegChildren()).toEqual([]);

      // The same with stream input, whose source must be closed too.
      const stream = createReadStream(MEGAMIND);
      for await (const _ of decodeFrames(stream, ALL)) break;
      expect(ffmpegChildren()).toEqual([]);
      await new Promise((r) => setImmediate(r));
      expect(stream.destroyed).toBe(true);
    });

    it('stops on abort', async () => {
      const ac = new AbortController();
      const got: number[] = [];
      const run = async () => {
        for await (const f of decodeFrames(MEGAMIND, ALL, ac.signal)) {
          got.push(f.index);
          if (got.length === 2) setTimeout(() => ac.abort(), 20);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
      expect(got.length).toBeLessThan(270);
      expect(ffmpegChildren()).toEqual([]);

      const pre = AbortSignal.abort();
      await expect(decodeFrames(MEGAMIND, ALL, pre).next()).rejects.toMatchObject({ name: 'AbortError' });
      expect(ffmpegChildren()).toEqual([]);
    });

    it('ends with the source error when the stream input fails', async () => {
      async function* broken(): AsyncGenerator<Uint8Array> {
        let n = 0;
        for await (const chunk of createReadStream(MEGAMIND)) {
          yield chunk as Buffer;
          if (++n === 4) throw new Error('upload cut');
        }
      }
      await expect(collect(broken(), ALL)).rejects.toThrow('upload cut');
      expect(ffmpegChildren()).toEqual([]);
    });

    it('refuses bad sampling and unsupported URLs', async () => {
      const err = await rejection(decodeFrames(MEGAMIND, { ...ALL, everyNth: 0 }).next());
      expect(err.code).toBe('VALIDATION_ERROR');
      expect((await rejection(decodeFrames(MEGAMIND, { ...ALL, maxSide: 1 }).next())).code).toBe('VALIDATION_ERROR');
      expect((await rejection(probeVideo('rtmp://example.com/live'))).code).toBe('BAD_REQUEST');
    });

    it('gives every frame to a slow consumer without buffering ahead', async () => {
      // Full-size frames (1.1 MB): without backpressure ffmpeg (~300 frames/s) would have all 300 MB queued
      // within a second; with it, only a few frames are ever in flight.
      const base = process.memoryUsage().rss;
      let peak = base;
      const indexes: number[] = [];
      for await (const f of decodeFrames(MEGAMIND, ALL)) {
        indexes.push(f.index);
        await new Promise((r) => setTimeout(r, 50));
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      expect(indexes).toEqual(Array.from({ length: 270 }, (_, i) => i));
      expect(peak - base).toBeLessThan(120 * 1024 * 1024);
    });
  });
});

import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeFrames } from './decode.js';
import { FfmpegVideoDecoder } from './index.js';
import { probeVideo } from './probe.js';
import { FfmpegRun } from './run.js';
import { SpawnHelper, type Spawn, type ToolProcess } from './spawn.js';
import { SYSTEM_TOOLS } from './tools.js';
import type { VideoInfo } from './types.js';
import { WarmFfmpeg } from './warm.js';

const run = promisify(execFile);
const VIDEO = fileURLToPath(new URL('../../../../../shared/testdata/video/Megamind.avi', import.meta.url));
const SAMPLING = { everyNth: 3, minSeconds: 0, maxSide: 416 };

/** A frame as compared: where it is, its size, and a checksum of its pixels. */
interface Seen {
  index: number;
  timestamp: number;
  width: number;
  height: number;
  sum: number;
}

/**
 * The frames of a decode, and the error that ended it (its message), if any. With `warm`, the analysed stream's index
 * is the probe's, or `streamIndex` where the probe would refuse the file (a job would then decode it directly).
 */
async function decode(file: string, spawnTool?: Spawn, warm?: WarmFfmpeg, streamIndex?: number): Promise<{ frames: Seen[]; error: string | null }> {
  const frames: Seen[] = [];
  const given = warm ? { ffmpeg: warm, streamIndex: () => (streamIndex !== undefined ? Promise.resolve(streamIndex) : probeVideo(file).then((f) => f.streamIndex)) } : null;
  try {
    for await (const f of decodeFrames(file, SAMPLING, undefined, SYSTEM_TOOLS, spawnTool, given)) {
      let sum = 0;
      for (let i = 0; i < f.data.length; i += 7) sum = (sum * 31 + (f.data[i] as number)) >>> 0;
      frames.push({ index: f.index, timestamp: f.timestamp, width: f.width, height: f.height, sum });
    }
    return { frames, error: null };
  } catch (err) {
    return { frames, error: (err as Error).message };
  }
}

/** Reads every frame. */
async function drain(frames: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const _ of frames) n++;
  return n;
}

/** Whether the process stops running within two seconds. */
async function stopsRunning(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** MP4 boxes between `start` and `end`: type, offset, size. */
function boxes(buf: Buffer, start: number, end: number): { type: string; at: number; size: number }[] {
  const out: { type: string; at: number; size: number }[] = [];
  for (let at = start; at < end; ) {
    const size = buf.readUInt32BE(at);
    out.push({ type: buf.toString('latin1', at + 4, at + 8), at, size });
    at += size;
  }
  return out;
}

/** The MP4 with its moov's udta box moved right after mvhd, ahead of the tracks (same size, no offsets change). */
function udtaFirst(mp4: Buffer): Buffer {
  const out = Buffer.from(mp4);
  const moov = boxes(mp4, 0, mp4.length).find((b) => b.type === 'moov');
  if (!moov) throw new Error('no moov box');
  const kids = boxes(mp4, moov.at + 8, moov.at + moov.size);
  const order = [...kids.filter((k) => k.type === 'mvhd'), ...kids.filter((k) => k.type === 'udta'), ...kids.filter((k) => k.type !== 'mvhd' && k.type !== 'udta')];
  Buffer.concat(order.map((k) => mp4.subarray(k.at, k.at + k.size))).copy(out, moov.at + 8);
  return out;
}

describe('WarmFfmpeg', () => {
  let dir: string;
  const videos: Record<string, string> = {};
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-warm-test-'));
    const ffmpeg = (...args: string[]) => run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
    const clip = ['-i', VIDEO, '-t', '2', '-an'];
    videos.avi = VIDEO;
    // MP4 as ffmpeg writes it: its index (moov) after the data, which a pipe could not seek back to.
    videos.mp4 = path.join(dir, 'clip.mp4');
    await ffmpeg(...clip, '-c:v', 'libx264', '-preset', 'ultrafast', videos.mp4);
    // MPEG-TS starts at 1.4 s: both runs must shift it to 0 alike.
    videos.ts = path.join(dir, 'clip.ts');
    await ffmpeg(...clip, '-c:v', 'libx264', '-preset', 'ultrafast', videos.ts);
    videos.webm = path.join(dir, 'clip.webm');
    await ffmpeg(...clip, '-c:v', 'libvpx', '-b:v', '300k', '-deadline', 'realtime', videos.webm);
    // Turned a quarter: decoded upright in both (the display matrix reaches the decoder through the concat demuxer).
    videos.rotated = path.join(dir, 'rotated.mp4');
    await ffmpeg('-i', videos.mp4, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', videos.rotated);
    // Variable frame rate: one gap of 3 s.
    videos.vfr = path.join(dir, 'vfr.mkv');
    await ffmpeg('-f', 'lavfi', '-i', "testsrc=s=320x240:r=10,setpts='if(gte(N\\,5)\\,PTS+30\\,PTS)'", '-frames:v', '20', '-c:v', 'libx264', '-fps_mode', 'passthrough', videos.vfr);
    // A name the list must quote.
    videos.quoted = path.join(dir, "it's a clip.avi");
    await copyFile(VIDEO, videos.quoted);
    const bytes = await readFile(VIDEO);
    // Cut mid-stream, and damaged mid-stream: both end with an error after the frames before it.
    videos.truncated = path.join(dir, 'truncated.avi');
    await writeFile(videos.truncated, bytes.subarray(0, 600_000));
    videos.damaged = path.join(dir, 'damaged.avi');
    const damaged = Buffer.from(bytes);
    damaged.fill(0xff, 400_000, 403_000);
    await writeFile(videos.damaged, damaged);
    // An MP4 without its index.
    videos.noIndex = path.join(dir, 'no-index.mp4');
    await writeFile(videos.noIndex, (await readFile(videos.mp4)).subarray(0, 100_000));
    // Stored under a video's name, text that names other files: an ffconcat list and an HLS playlist.
    videos.concatText = path.join(dir, 'list.avi');
    await writeFile(videos.concatText, `ffconcat version 1.0\nfile ${path.basename(videos.mp4)}\n`);
    videos.playlist = path.join(dir, 'playlist.mp4');
    await writeFile(videos.playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n${path.basename(videos.ts)}\n#EXT-X-ENDLIST\n`);
    // An MP4 whose cover picture comes before the video: its metadata (udta) moved ahead of the tracks, so the cover is
    // stream 0 and the video stream 1.
    const cover = path.join(dir, 'cover.png');
    await ffmpeg('-f', 'lavfi', '-i', 'color=red:s=200x100', '-frames:v', '1', cover);
    const withCover = path.join(dir, 'with-cover.mp4');
    await ffmpeg(...clip, '-i', cover, '-map', '0:v', '-map', '1', '-c:v:0', 'libx264', '-preset', 'ultrafast', '-c:v:1', 'png', '-disposition:v:1', 'attached_pic', withCover);
    videos.coverFirst = path.join(dir, 'cover-first.mp4');
    await writeFile(videos.coverFirst, udtaFirst(await readFile(withCover)));
  }, 60_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  let helper: SpawnHelper;
  let warm: WarmFfmpeg;
  /** Every spawn through the helper, with its arguments and process. */
  let spawned: { args: readonly string[]; child: ToolProcess }[];
  const counting: Spawn = async (cmd, args, options) => {
    const child = await helper.spawn(cmd, args, options);
    spawned.push({ args, child });
    return child;
  };
  beforeEach(async () => {
    helper = await SpawnHelper.start();
    spawned = [];
    warm = new WarmFfmpeg(SYSTEM_TOOLS, counting, helper.dir);
  });
  afterEach(async () => {
    await warm.close();
    await helper.close();
  });

  /** Starts the waiting ffmpeg and resolves once it has been spawned. */
  async function prepared(): Promise<ToolProcess> {
    const before = spawned.length;
    warm.prepare();
    while (spawned.length === before) await new Promise((r) => setTimeout(r, 5));
    const last = spawned[spawned.length - 1] as { args: readonly string[]; child: ToolProcess };
    expect(last.args).toContain('concat');
    return last.child;
  }

  it('gives the frames, numbers and timestamps of a direct run, on every container, and starts nothing for them', async () => {
    for (const name of ['avi', 'mp4', 'ts', 'webm', 'rotated', 'vfr', 'quoted']) {
      const file = videos[name] as string;
      const direct = await decode(file);
      expect(direct.error, name).toBeNull();
      expect(direct.frames.length, name).toBeGreaterThan(5);
      await prepared();
      const started = spawned.length;
      const through = await decode(file, counting, warm);
      // The decode used the waiting ffmpeg: nothing was spawned for it.
      expect(spawned.length, name).toBe(started);
      expect(through, name).toEqual(direct);
    }
    // A cover picture ahead of the video: the concat demuxer would not know it for one, so the waiting ffmpeg is left
    // for the next file and this one is decoded directly (the probe says the video is the file's second stream).
    expect((await probeVideo(videos.coverFirst as string)).streamIndex).toBe(1);
    const coverDirect = await decode(videos.coverFirst as string);
    expect(coverDirect.frames[0]).toMatchObject({ width: 416, height: 306 });
    await prepared();
    const beforeCover = spawned.length;
    expect(await decode(videos.coverFirst as string, counting, warm)).toEqual(coverDirect);
    expect(spawned.slice(beforeCover).map((s) => s.args.includes('concat'))).toEqual([false]);
    // ... and the next file still gets it.
    const afterCover = spawned.length;
    expect(await decode(VIDEO, counting, warm)).toEqual(await decode(VIDEO));
    expect(spawned.length).toBe(afterCover);

    const rotated = await decode(videos.rotated as string);
    expect(rotated.frames[0]).toMatchObject({ width: 306, height: 416 });
    // Its graph file is gone with the run.
    expect((await readdir(helper.dir)).filter((f) => f.startsWith('vf-'))).toEqual([]);
  }, 120_000);

  it('ends a bad video with the error, and after the frames, of a direct run', async () => {
    for (const name of ['truncated', 'damaged', 'noIndex', 'concatText', 'playlist']) {
      const file = videos[name] as string;
      const direct = await decode(file);
      expect(direct.error, name).not.toBeNull();
      await prepared();
      const started = spawned.length;
      const through = await decode(file, counting, warm, 0);
      expect(spawned.length, name).toBe(started);
      expect(through.error, name).toBe(direct.error);
      // How many frames ffmpeg writes before it stops at the error varies by one from run to run, direct runs too.
      const n = Math.min(direct.frames.length, through.frames.length);
      expect(Math.abs(direct.frames.length - through.frames.length), name).toBeLessThanOrEqual(1);
      expect(through.frames.slice(0, n), name).toEqual(direct.frames.slice(0, n));
    }
    // A text file that names other files (an ffconcat list, an HLS playlist) is refused as a direct run refuses it: the
    // list's own options keep the concat demuxer from reading it as one.
    const refused = await decode(videos.concatText as string, counting, warm, 0);
    expect(refused.error).toMatch(/unsupported container format/);
    expect(refused.frames).toEqual([]);
    const missing = path.join(dir, 'missing.avi');
    const direct = await decode(missing);
    await prepared();
    expect(await decode(missing, counting, warm, 0)).toEqual(direct);
    expect(direct.error).toMatch(/No such file/);
  }, 60_000);

  it('decodes directly when none is waiting, or the waiting one died; close stops the waiting one', async () => {
    // None prepared: a direct run.
    const direct = await decode(VIDEO);
    expect(await decode(VIDEO, counting, warm)).toEqual(direct);
    expect(spawned.map((s) => s.args.includes('concat'))).toEqual([false]);

    const dead = await prepared();
    dead.kill('SIGKILL');
    await new Promise<void>((resolve) => (dead.exitCode !== null || dead.signalCode !== null ? resolve() : dead.once('exit', () => resolve())));
    expect(warm.ready).toBe(false);
    expect(await decode(VIDEO, counting, warm)).toEqual(direct);
    expect(spawned.map((s) => s.args.includes('concat'))).toEqual([false, true, false]);

    // Killed just as a decode takes it: the decode ends (frames of a direct run, or the kill's error), never hangs.
    const dying = await prepared();
    const settled = decode(VIDEO, counting, warm);
    dying.kill('SIGKILL');
    const outcome = await settled;
    if (outcome.error === null) expect(outcome).toEqual(direct);
    else expect(outcome.error).toMatch(/SIGKILL|terminated|killed/i);

    const count = spawned.length;
    const waiting = await prepared();
    // Prepared twice: still one waiting.
    warm.prepare();
    expect(spawned).toHaveLength(count + 1);
    await warm.close();
    expect(await stopsRunning(waiting.pid as number)).toBe(true);
    warm.prepare();
    expect(spawned).toHaveLength(count + 1);
    expect(await readdir(helper.dir)).not.toContainEqual(expect.stringMatching(/^vf-/));
  }, 60_000);

  it('starts nothing ahead once the helper has gone (it would be forked from this process)', async () => {
    const gone = new WarmFfmpeg(SYSTEM_TOOLS, counting, helper.dir, () => helper.available);
    await helper.close();
    gone.prepare();
    expect(gone.ready).toBe(false);
    expect(spawned).toHaveLength(0);
    expect(await decode(VIDEO, counting, gone)).toEqual(await decode(VIDEO));
    expect(spawned.map((s) => s.args.includes('concat'))).toEqual([false]);
  });

  it('through the decoder: a failed probe never goes unhandled, and a cancel does not wait for the probe', async () => {
    const decoder = new FfmpegVideoDecoder(SYSTEM_TOOLS, counting, warm);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // A bad file while none is waiting (another job holds it): its failed probe is nobody's to await, as in a job.
      const junk = path.join(dir, 'junk.mp4');
      await writeFile(junk, Buffer.alloc(4096, 7));
      const facts = decoder.probe(junk);
      facts.catch(() => undefined);
      await expect(drain(decoder.frames(junk, SAMPLING, undefined, facts))).rejects.toThrow(/could not be decoded/);
      await expect(facts).rejects.toThrow(/not a readable video/);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }

    // One waiting, and a probe that has not answered: cancelling the job ends its decode now, and leaves the waiting
    // ffmpeg for the next file.
    await prepared();
    let answer = (_: VideoInfo): void => undefined;
    const pending = new Promise<VideoInfo>((resolve) => (answer = resolve));
    const cancel = new AbortController();
    const decoding = drain(decoder.frames(VIDEO, SAMPLING, cancel.signal, pending));
    setTimeout(() => cancel.abort(new Error('cancelled')), 100);
    await expect(decoding).rejects.toThrow('cancelled');
    expect(warm.ready).toBe(true);
    answer(await probeVideo(VIDEO));
  });

  it('reads a process handed over after it ended to its end, rather than waiting for an exit that has come', async () => {
    const missing = path.join(dir, 'missing.avi');
    // Through the helper, as the pre-started ones are (Node's own child process discards the output of one that has
    // exited with nothing reading it; the helper's sockets keep it).
    const child = await helper.spawn('ffmpeg', ['-hide_banner', '-loglevel', 'repeat+level+error', '-nostdin', '-i', missing, '-f', 'rawvideo', 'pipe:1']);
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const run = new FfmpegRun(child, [missing], undefined);
    const hung = new Promise<string>((resolve) => setTimeout(() => resolve('hung'), 5000).unref());
    expect(await Promise.race([run.nextFrame().then((f) => (f === null ? 'ended' : 'frame')), hung])).toBe('ended');
    expect(await Promise.race([run.finish().then(() => 'succeeded', (err: Error) => err.message), hung])).toMatch(/No such file/);
    await run.close();
  });
});

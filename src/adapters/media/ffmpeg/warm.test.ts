import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeFrames } from './decode.js';
import { SpawnHelper, type Spawn, type ToolProcess } from './spawn.js';
import { SYSTEM_TOOLS } from './tools.js';
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

/** The frames of a decode, and the error that ended it (its message), if any. */
async function decode(file: string, spawnTool?: Spawn, warm?: WarmFfmpeg): Promise<{ frames: Seen[]; error: string | null }> {
  const frames: Seen[] = [];
  try {
    for await (const f of decodeFrames(file, SAMPLING, undefined, SYSTEM_TOOLS, spawnTool, warm)) {
      let sum = 0;
      for (let i = 0; i < f.data.length; i += 7) sum = (sum * 31 + (f.data[i] as number)) >>> 0;
      frames.push({ index: f.index, timestamp: f.timestamp, width: f.width, height: f.height, sum });
    }
    return { frames, error: null };
  } catch (err) {
    return { frames, error: (err as Error).message };
  }
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
    const rotated = await decode(videos.rotated as string);
    expect(rotated.frames[0]).toMatchObject({ width: 306, height: 416 });
    // Its graph file is gone with the run.
    expect((await readdir(helper.dir)).filter((f) => f.startsWith('vf-'))).toEqual([]);
  }, 120_000);

  it('ends a bad video with the error, and after the frames, of a direct run', async () => {
    for (const name of ['truncated', 'damaged', 'noIndex']) {
      const file = videos[name] as string;
      const direct = await decode(file);
      expect(direct.error, name).not.toBeNull();
      await prepared();
      const through = await decode(file, counting, warm);
      expect(through.error, name).toBe(direct.error);
      // How many frames ffmpeg writes before it stops at the error varies by one from run to run, direct runs too.
      const n = Math.min(direct.frames.length, through.frames.length);
      expect(Math.abs(direct.frames.length - through.frames.length), name).toBeLessThanOrEqual(1);
      expect(through.frames.slice(0, n), name).toEqual(direct.frames.slice(0, n));
    }
    const missing = path.join(dir, 'missing.avi');
    const direct = await decode(missing);
    await prepared();
    expect(await decode(missing, counting, warm)).toEqual(direct);
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
    expect(await decode(VIDEO, counting, warm)).toEqual(direct);
    expect(spawned.map((s) => s.args.includes('concat'))).toEqual([false, true, false]);

    const waiting = await prepared();
    // Prepared twice: still one waiting.
    warm.prepare();
    expect(spawned).toHaveLength(4);
    await warm.close();
    expect(await stopsRunning(waiting.pid as number)).toBe(true);
    warm.prepare();
    expect(spawned).toHaveLength(4);
    expect(await readdir(helper.dir)).not.toContainEqual(expect.stringMatching(/^vf-/));
  }, 60_000);
});

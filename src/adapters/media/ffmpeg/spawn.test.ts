import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeFrames } from './decode.js';
import { runTool } from './input.js';
import { probeVideo } from './probe.js';
import { SpawnHelper, type ToolProcess } from './spawn.js';

const VIDEO = fileURLToPath(new URL('../../../../../shared/testdata/video/Megamind.avi', import.meta.url));
const SAMPLING = { everyNth: 4, minSeconds: 0, maxSide: 416 };

/** The parent pid of a live process, from /proc. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Whether a process exists and is not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Whether the process stops running within two seconds. */
async function stopsRunning(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!isRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Resolves with the tool's exit code and signal. */
function exited(child: ToolProcess): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
}

describe('SpawnHelper', () => {
  let helper: SpawnHelper;
  beforeEach(async () => {
    helper = await SpawnHelper.start();
  });
  afterEach(() => helper.close());

  it('starts the tools from the helper, not from this process, with the same frames and facts as a direct spawn', async () => {
    let parent = 0;
    const watched = async (cmd: string, args: readonly string[], options?: { stdin?: boolean }): Promise<ToolProcess> => {
      const child = await helper.spawn(cmd, args, options);
      parent = parentOf(child.pid as number);
      return child;
    };
    const direct: { index: number; sum: number }[] = [];
    for await (const f of decodeFrames(VIDEO, SAMPLING)) direct.push({ index: f.index, sum: f.data.reduce((a, b) => a + b, 0) });
    const through: { index: number; sum: number }[] = [];
    for await (const f of decodeFrames(VIDEO, SAMPLING, undefined, undefined, watched)) through.push({ index: f.index, sum: f.data.reduce((a, b) => a + b, 0) });
    expect(parent).not.toBe(process.pid);
    expect(parent).toBeGreaterThan(0);
    expect(through).toHaveLength(68);
    expect(through).toEqual(direct);
    expect(await probeVideo(VIDEO, undefined, watched)).toEqual(await probeVideo(VIDEO));
  });

  it('reports exit codes, a tool that is not installed, and kills', async () => {
    const failing = await helper.spawn('ffprobe', ['-v', 'error', '/nonexistent.avi']);
    let stderr = '';
    failing.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const closed = new Promise<void>((resolve) => failing.once('close', () => resolve()));
    const [code] = await exited(failing);
    expect(code).not.toBe(0);
    // 'close' comes once the tool has exited and its output has all been read.
    await closed;
    expect(stderr).toMatch(/No such file/);

    const missing = await helper.spawn('no-such-tool-argus', []);
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => missing.once('error', resolve));
    expect(error.code).toBe('ENOENT');
    expect(missing.pid).toBeUndefined();

    const long = await helper.spawn('sleep', ['30']);
    expect(long.kill('SIGKILL')).toBe(true);
    expect(await exited(long)).toEqual([null, 'SIGKILL']);
  });

  it('feeds a tool its stdin through the helper: a stream decodes as the file does; a tool that is gone closes it', async () => {
    const fed = await helper.spawn('cat', [], { stdin: true });
    expect(parentOf(fed.pid as number)).not.toBe(process.pid);
    let out = '';
    fed.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const closed = new Promise<void>((resolve) => fed.once('close', () => resolve()));
    fed.stdin?.end('through the helper\n');
    expect(await exited(fed)).toEqual([0, null]);
    await closed;
    expect(out).toBe('through the helper\n');

    const fromFile: { index: number; sum: number }[] = [];
    for await (const f of decodeFrames(VIDEO, SAMPLING)) fromFile.push({ index: f.index, sum: f.data.reduce((a, b) => a + b, 0) });
    const fromStream: { index: number; sum: number }[] = [];
    for await (const f of decodeFrames(createReadStream(VIDEO), SAMPLING, undefined, undefined, helper.spawn)) fromStream.push({ index: f.index, sum: f.data.reduce((a, b) => a + b, 0) });
    expect(fromStream).toEqual(fromFile);

    // A tool that ends without reading: its stdin closes, as a pipe's write end does, rather than taking writes forever.
    const gone = await helper.spawn('true', [], { stdin: true });
    const stdinClosed = new Promise<void>((resolve) => gone.stdin?.once('close', () => resolve()));
    gone.stdin?.on('error', () => undefined);
    expect(await exited(gone)).toEqual([0, null]);
    await stdinClosed;
  });

  it('spawns everything directly once the helper has gone; a running tool is told it ended', async () => {
    const running = await helper.spawn('sleep', ['30']);
    const sleeper = running.pid as number;
    const ended = exited(running);
    await helper.close();
    // Nothing would reap the tool or report its exit any more: it is killed, and reported killed.
    expect(await ended).toEqual([null, 'SIGKILL']);
    expect(await stopsRunning(sleeper)).toBe(true);
    const after = await helper.spawn('true', []);
    expect(parentOf(after.pid as number)).toBe(process.pid);
    await exited(after);
  });

  it('kills and reports ended the tools of a helper that died, and spawns directly afterwards', async () => {
    const running = await helper.spawn('sleep', ['30']);
    const sleeper = running.pid as number;
    const ended = exited(running);
    process.kill(parentOf(sleeper), 'SIGKILL');
    expect(await ended).toEqual([null, 'SIGKILL']);
    expect(await stopsRunning(sleeper)).toBe(true);
    const after = await helper.spawn('true', []);
    expect(parentOf(after.pid as number)).toBe(process.pid);
    expect(await exited(after)).toEqual([0, null]);
  });

  it('runs a command to its end through the helper (video posters): the same bytes as a direct run; killed past its output limit or its time', async () => {
    const poster = ['-hide_banner', '-loglevel', 'error', '-ss', '1', '-i', VIDEO, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'];
    let parent = 0;
    const watched = async (cmd: string, args: readonly string[]): Promise<ToolProcess> => {
      const child = await helper.spawn(cmd, args);
      parent = parentOf(child.pid as number);
      return child;
    };
    const through = await runTool('ffmpeg', poster, { timeoutMs: 30_000 }, watched);
    const direct = await runTool('ffmpeg', poster, { timeoutMs: 30_000 });
    expect(parent).not.toBe(process.pid);
    expect(through).toMatchObject({ code: 0, killed: null });
    expect(through.stdout.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(through.stdout.equals(direct.stdout)).toBe(true);

    const capped = await runTool('ffmpeg', poster, { timeoutMs: 30_000, maxStdoutBytes: 1000 }, helper.spawn);
    expect(capped.killed).toBe('output');
    expect(capped.stdout.length).toBeLessThanOrEqual(1000);
    const slow = await runTool('sleep', ['30'], { timeoutMs: 100 }, helper.spawn);
    expect(slow).toMatchObject({ code: null, killed: 'timeout' });
    await expect(runTool('no-such-tool-argus', [], { timeoutMs: 1000 }, helper.spawn)).rejects.toMatchObject({ code: 'ENOENT' });

    // A start that never comes (a stuck helper) ends at the time limit too, and a tool that starts after it is stopped.
    let lateTool: ToolProcess | undefined;
    const stuck = async (cmd: string, args: readonly string[]): Promise<ToolProcess> => {
      await new Promise((r) => setTimeout(r, 300));
      lateTool = await helper.spawn(cmd, args);
      return lateTool;
    };
    expect(await runTool('sleep', ['30'], { timeoutMs: 100 }, stuck)).toMatchObject({ code: null, killed: 'timeout' });
    // It answered before the tool had even started.
    expect(lateTool).toBeUndefined();
    await new Promise((r) => setTimeout(r, 500));
    expect(lateTool).toBeDefined();
    expect(await stopsRunning(lateTool?.pid as number)).toBe(true);
  });

  it('leaves no socket directory behind when the server is killed: the helper removes it and its tools end', async () => {
    // A plain Node process (the compiled module: `npm test` builds dist/ first) that starts a helper and a tool
    // through it, says the tool's pid, and waits to be killed.
    const module = fileURLToPath(new URL('../../../../dist/adapters/media/ffmpeg/spawn.js', import.meta.url));
    const script = `
      import { writeFileSync } from 'node:fs';
      import { SpawnHelper } from ${JSON.stringify(module)};
      const h = await SpawnHelper.start();
      // A file the server keeps beside the socket (a pre-started ffmpeg's filter graph) goes with the directory.
      writeFileSync(h.dir + '/vf-' + crypto.randomUUID(), 'null');
      const tool = await h.spawn('sleep', ['30']);
      console.log(tool.pid);
      setInterval(() => {}, 1000);`;
    const server = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await createInterface({ input: server.stdout })[Symbol.asyncIterator]().next();
    const tool = Number(first.value);
    const helperPid = parentOf(tool);
    // The helper's argument is its socket, in the private directory.
    const socket = readFileSync(`/proc/${helperPid}/cmdline`, 'utf8').split('\0').filter(Boolean).pop() as string;
    const dir = path.dirname(socket);
    expect(path.basename(dir)).toMatch(/^argus-spawn-/);
    expect(existsSync(dir)).toBe(true);
    server.kill('SIGKILL');
    expect(await stopsRunning(helperPid)).toBe(true);
    expect(await stopsRunning(tool)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});

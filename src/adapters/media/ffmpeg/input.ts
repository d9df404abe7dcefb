/** How an input is named to ffmpeg/ffprobe, and running a short command to its end. */
import { AppError } from '../../../domain/errors.js';
import { directSpawn, type Spawn } from './spawn.js';

/** The demuxers Argus accepts (those of media-kind's video extensions); keeps ffmpeg off playlists, images, raw data. */
export const FORMAT_WHITELIST = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpeg,mpegts,flv,asf,ogg';
/** Network reads of a URL input give up after this long without data (microseconds, ffmpeg's unit). */
const RW_TIMEOUT_US = 30_000_000;
/** The longest line of ffmpeg output kept. */
export const MAX_LINE = 64 * 1024;

/** An input as ffmpeg is given it. */
export interface ResolvedInput {
  /** The argument for `-i` / ffprobe. */
  readonly arg: string;
  readonly protocols: string;
  readonly inputOptions: readonly string[];
  /** Spellings of the input that ffmpeg may echo in its messages (hidden from error messages). */
  readonly names: readonly string[];
}

/** File paths go through ffmpeg's `file:` protocol (so a colon in a name is not read as a protocol); URLs must be http(s). */
export function resolveInput(input: string): ResolvedInput {
  if (input.length === 0) throw new AppError('BAD_REQUEST', 'no video input given');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    return { arg: input, protocols: 'http,https,tcp,tls', inputOptions: ['-rw_timeout', String(RW_TIMEOUT_US)], names: [input] };
  }
  if (scheme !== undefined && scheme !== 'file') throw new AppError('BAD_REQUEST', `unsupported video URL scheme: ${scheme}`);
  const arg = scheme === 'file' || input.startsWith('file:') ? input : `file:${input}`;
  return { arg, protocols: 'file', inputOptions: [], names: [arg, input] };
}

/** What a command run to its end gave. */
export interface ToolRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  /** The last `MAX_LINE` characters of its stderr. */
  readonly stderr: string;
  /** It was killed after the time it was given, or for writing more than it was allowed. */
  readonly killed: 'timeout' | 'output' | null;
}

/**
 * Runs a command to completion through `spawnTool` (the spawn helper, so this process is not forked), collecting its
 * output; it is killed after `timeoutMs` or once its stdout passes `maxStdoutBytes`. A command that cannot start
 * rejects with its spawn error (`code` ENOENT when not installed).
 */
export async function runTool(cmd: string, args: readonly string[], opts: { timeoutMs: number; maxStdoutBytes?: number }, spawnTool: Spawn = directSpawn): Promise<ToolRun> {
  // The time limit covers starting the tool too: a helper that never answers must not hold the caller forever.
  const deadline = Date.now() + opts.timeoutMs;
  const starting = spawnTool(cmd, args);
  let startTimer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (startTimer = setTimeout(() => resolve(null), opts.timeoutMs)));
  const child = await Promise.race([starting, late]).finally(() => clearTimeout(startTimer));
  if (!child) {
    // Started after all, too late: stopped at once.
    starting.then((c) => c.kill('SIGKILL'), () => undefined);
    return { code: null, stdout: Buffer.alloc(0), stderr: '', killed: 'timeout' };
  }
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let killed: ToolRun['killed'] = null;
    const stop = (why: NonNullable<ToolRun['killed']>): void => {
      if (killed) return;
      killed = why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop('timeout'), Math.max(0, deadline - Date.now()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (killed) return;
      outBytes += chunk.length;
      if (opts.maxStdoutBytes !== undefined && outBytes > opts.maxStdoutBytes) return stop('output');
      out.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      err = (err + chunk).slice(-MAX_LINE);
    });
    child.once('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err, killed });
    });
  });
}

/** Runs a short command to completion, collecting its output; kills it after `timeoutMs`. */
export async function runCollect(cmd: string, args: readonly string[], timeoutMs: number, spawnTool: Spawn = directSpawn): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let run: ToolRun;
  try {
    run = await runTool(cmd, args, { timeoutMs }, spawnTool);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AppError('SERVICE_UNAVAILABLE', code === 'ENOENT' ? `video probing is unavailable: ${cmd} is not installed` : `could not start ${cmd}: ${(e as Error).message}`);
  }
  if (run.killed) throw new AppError('BAD_REQUEST', `not a readable video: ${cmd} gave no answer within ${timeoutMs / 1000} s`);
  return { code: run.code, stdout: run.stdout.toString('utf8'), stderr: run.stderr };
}

/**
 * Video decoding with the ffmpeg/ffprobe command-line tools (ffmpeg >= 5.1 on PATH).
 *
 * `decodeFrames` runs one ffmpeg child per video. ffmpeg selects and scales the frames itself and writes them
 * as raw RGB24 to stdout; the generator reads one frame at a time, so a slow consumer leaves the bytes in the
 * pipe, ffmpeg blocks on its write and stops decoding (and, for stream input, stops reading stdin): memory
 * stays at a few frames whatever the video's length.
 *
 * Where the frame numbers and timestamps come from: the filter graph is
 *
 *     showinfo@argin, [select], scale, format=rgb24, showinfo@argout
 *
 * `argin` sees every decoded frame in presentation order and logs its pts; `argout` logs the pts and the
 * size of every frame that survives the selection, just before ffmpeg writes it to stdout. The n-th `argin`
 * line is source frame n; an `argout` line is matched to the `argin` line with the same pts (in order, so
 * repeated or missing pts still pair up), and its timestamp is pts x the time base showinfo reports when the
 * graph is configured. Nothing assumes a constant frame rate, and the output size comes from each frame's own
 * line, so stream input (where ffprobe cannot run first) and mid-stream size changes need no prior probe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../../domain/errors.js';
import type { RgbImage } from '../../domain/image-tensor.js';

export interface VideoInfo {
  /** Display size: a 90/270 degree rotation tag is already applied (ffmpeg decodes the frames upright). */
  width: number;
  height: number;
  /** Average frame rate; 0 when the container does not say. */
  fps: number;
  durationSeconds: number | null;
  /** From the container header (AVI, MP4) or a Matroska tag; null when not recorded. */
  frameCount: number | null;
  /** ffmpeg's codec name, e.g. `h264`, `mpeg4`, `vp9`. */
  codec: string;
}

export interface FrameSampling {
  /** >= 1: analyse frame 0, N, 2N... */
  everyNth: number;
  /** >= 0: at least this long between analysed frames; both rules apply. */
  minSeconds: number;
  /** Scale so the longer side is at most this, keeping the aspect ratio, never upscaling; dimensions are even. */
  maxSide: number;
}

export interface VideoFrame extends RgbImage {
  /** Source frame number (0-based, presentation order, every decoded frame counted). */
  index: number;
  /** Seconds, from the frame's pts (ffmpeg shifts the input start time to 0); NaN if the frame had no pts. */
  timestamp: number;
}

const FFMPEG = 'ffmpeg';
const FFPROBE = 'ffprobe';

/** The demuxers Argus accepts (those of media-kind's video extensions); keeps ffmpeg off playlists, images, raw data. */
const FORMAT_WHITELIST = 'mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpeg,mpegts,flv,asf,ogg';
/** Decoder threads: the machine also runs inference, and decoding is far faster than inference anyway. */
const DECODE_THREADS = 2;
/** Network reads of a URL input give up after this long without data (microseconds, ffmpeg's unit). */
const RW_TIMEOUT_US = 30_000_000;
const PROBE_TIMEOUT_MS = 60_000;
/** Packets ffprobe decodes to prove the stream is decodable (decoders are flushed after them). */
const PROBE_PACKETS = 8;
/** How many ffmpeg diagnostic lines are kept for error messages. */
const TAIL_LINES = 20;
/** `argin` records kept for matching; the `argout` line of a frame follows its `argin` line closely. */
const MAX_PENDING_INPUT_FRAMES = 4096;
const MAX_LINE = 64 * 1024;

/**
 * Reads container/stream facts with ffprobe (JSON output) and decodes the first frame(s) to prove the stream
 * is usable. Throws AppError('BAD_REQUEST', clear reason) for a file that is not a decodable video.
 * Metadata comes from the container header, so a file truncated after its first frames still probes; its
 * decoding (`decodeFrames`) ends with the error.
 */
export async function probeVideo(input: string): Promise<VideoInfo> {
  const src = resolveInput(input);
  const args = [
    '-hide_banner',
    '-v',
    'error',
    '-format_whitelist',
    FORMAT_WHITELIST,
    '-protocol_whitelist',
    src.protocols,
    ...src.inputOptions,
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    '-show_frames',
    '-select_streams',
    'V:0',
    '-read_intervals',
    `%+#${PROBE_PACKETS}`,
    src.arg,
  ];
  const { code, stdout, stderr } = await runCollect(FFPROBE, args, PROBE_TIMEOUT_MS);
  const tail = new Diagnostics(src.names);
  for (const line of stderr.split(/\r?\n|\r/)) tail.add(line);
  if (code !== 0) throw new AppError('BAD_REQUEST', `not a readable video: ${tail.reason() ?? `ffprobe exited with code ${code}`}`);

  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new AppError('BAD_REQUEST', 'not a readable video: ffprobe gave no description of it');
  }
  const root = asRecord(parsed);
  const stream = asRecord(asArray(root.streams)[0]);
  const format = asRecord(root.format);
  if (stream.codec_type !== 'video') throw new AppError('BAD_REQUEST', 'not a video: the file has no video stream');
  const codec = typeof stream.codec_name === 'string' ? stream.codec_name : 'unknown';
  let width = asNumber(stream.width) ?? 0;
  let height = asNumber(stream.height) ?? 0;
  if (width <= 0 || height <= 0) throw new AppError('BAD_REQUEST', `not a readable video: the ${codec} stream has no picture size`);
  if (asArray(root.frames).length === 0) {
    const why = tail.reason();
    throw new AppError('BAD_REQUEST', `not a decodable video: no frame of the ${codec} stream could be decoded${why ? ` (${why})` : ''}`);
  }
  if (Math.abs(rotationOf(stream)) % 180 === 90) [width, height] = [height, width];

  const fps = rate(stream.avg_frame_rate) ?? rate(stream.r_frame_rate) ?? 0;
  const duration = asNumber(stream.duration) ?? asNumber(format.duration);
  const tags = asRecord(stream.tags);
  const frames = asNumber(stream.nb_frames) ?? asNumber(tags.NUMBER_OF_FRAMES) ?? asNumber(tags['NUMBER_OF_FRAMES-eng']);
  return {
    width,
    height,
    fps,
    durationSeconds: duration !== null && duration > 0 ? duration : null,
    frameCount: frames !== null && frames > 0 ? Math.round(frames) : null,
    codec,
  };
}

/**
 * Decodes frames with one ffmpeg child process: input is a file path/URL string, or an async iterable of bytes
 * (piped to ffmpeg's stdin, e.g. the upload stream tee'd to disk). ffmpeg selects and scales the frames
 * (select filter + scale) and writes rawvideo rgb24 on stdout; frame numbers and timestamps come from ffmpeg's
 * showinfo filter (see the top of this file). Frames are produced only as fast as the consumer pulls.
 *
 * - Abort via `signal` kills ffmpeg; the iteration then throws the signal's reason.
 * - A corrupt, truncated or unsupported input ends the iteration (possibly after some frames) with
 *   AppError('BAD_REQUEST', reason from ffmpeg's last diagnostic lines). ffmpeg runs with `-xerror`, so a
 *   corrupt packet or frame stops it rather than being concealed; decoder complaints that are not errors of
 *   the stream (e.g. an H.264 stream starting between key frames) do not.
 * - ffmpeg's exit is always awaited; if the consumer stops early (break/return/throw) ffmpeg is killed first.
 * - Stream input: the iterable is consumed with backpressure (a slow consumer slows the upload). If ffmpeg
 *   finishes without reading to the end, the rest is still drained (and discarded) before the iteration
 *   completes, so a tee sees every byte; on error, abort or early stop the iterable is closed via `return()`.
 *   An error thrown by the iterable ends the iteration with that error. Note that MP4/MOV files whose index
 *   (moov) comes after the data can only be decoded from a stream if they fit ffmpeg's probe buffer; decode
 *   those from the stored file instead.
 */
export async function* decodeFrames(
  input: string | AsyncIterable<Uint8Array>,
  sampling: FrameSampling,
  signal?: AbortSignal,
): AsyncGenerator<VideoFrame> {
  const graph = filterGraph(sampling);
  const src = typeof input === 'string' ? resolveInput(input) : null;
  signal?.throwIfAborted();

  const args = ['-hide_banner', '-nostats', '-loglevel', 'repeat+level+info'];
  if (src) args.push('-nostdin');
  args.push(
    '-xerror',
    '-threads',
    String(DECODE_THREADS),
    '-format_whitelist',
    FORMAT_WHITELIST,
    '-protocol_whitelist',
    src ? src.protocols : 'pipe',
    ...(src ? src.inputOptions : []),
    '-i',
    src ? src.arg : 'pipe:0',
    '-map',
    '0:V:0',
    '-an',
    '-sn',
    '-dn',
    '-fps_mode',
    'passthrough',
    '-filter_threads',
    '1',
    '-vf',
    graph,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  );

  const run = new FfmpegRun(
    spawn(FFMPEG, args, { stdio: [src ? 'ignore' : 'pipe', 'pipe', 'pipe'] }),
    src ? src.names : ['pipe:0'],
    signal,
  );
  try {
    if (typeof input !== 'string') run.feed(input);
    for (;;) {
      const frame = await run.nextFrame();
      if (!frame) break;
      yield frame;
    }
    await run.finish();
  } finally {
    await run.close();
  }
}

/** The `-vf` graph for a sampling; validates it. */
function filterGraph(s: FrameSampling): string {
  if (!Number.isInteger(s.everyNth) || s.everyNth < 1) throw new AppError('VALIDATION_ERROR', 'everyNth must be an integer >= 1');
  if (!Number.isFinite(s.minSeconds) || s.minSeconds < 0 || s.minSeconds > 1e9) {
    throw new AppError('VALIDATION_ERROR', 'minSeconds must be a number >= 0');
  }
  if (!Number.isInteger(s.maxSide) || s.maxSide < 2) throw new AppError('VALIDATION_ERROR', 'maxSide must be an integer >= 2');
  const side = Math.floor(s.maxSide / 2) * 2;
  const parts = ['showinfo@argin=checksum=0'];
  const terms: string[] = [];
  // `n` counts the frames entering select; prev_selected_t is NaN until a frame has been selected.
  if (s.everyNth > 1) terms.push(`not(mod(n\\,${s.everyNth}))`);
  // A microsecond of slack so that 1 s at exactly 10 fps is not lost to rounding in pts x time base.
  if (s.minSeconds > 0) terms.push(`(isnan(prev_selected_t)+gte(t-prev_selected_t+0.000001\\,${s.minSeconds.toFixed(6)}))`);
  if (terms.length > 0) parts.push(`select=e=${terms.join('*')}`);
  // Longer side to min(side, itself rounded down to even); -2 keeps the aspect ratio with an even result.
  // Scaling and the conversion to RGB happen in one swscale pass (format=rgb24 right after scale).
  parts.push(
    `scale=w=if(gte(iw\\,ih)\\,min(trunc(iw/2)*2\\,${side})\\,-2):h=if(gte(iw\\,ih)\\,-2\\,min(trunc(ih/2)*2\\,${side})):flags=bilinear`,
    'format=rgb24',
    'showinfo@argout=checksum=0',
  );
  return parts.join(',');
}

interface ResolvedInput {
  /** The argument for `-i` / ffprobe. */
  readonly arg: string;
  readonly protocols: string;
  readonly inputOptions: readonly string[];
  /** Spellings of the input that ffmpeg may echo in its messages (hidden from error messages). */
  readonly names: readonly string[];
}

/** File paths go through ffmpeg's `file:` protocol (so a colon in a name is not read as a protocol); URLs must be http(s). */
function resolveInput(input: string): ResolvedInput {
  if (input.length === 0) throw new AppError('BAD_REQUEST', 'no video input given');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https') {
    return { arg: input, protocols: 'http,https,tcp,tls', inputOptions: ['-rw_timeout', String(RW_TIMEOUT_US)], names: [input] };
  }
  if (scheme !== undefined && scheme !== 'file') throw new AppError('BAD_REQUEST', `unsupported video URL scheme: ${scheme}`);
  const arg = scheme === 'file' || input.startsWith('file:') ? input : `file:${input}`;
  return { arg, protocols: 'file', inputOptions: [], names: [arg, input] };
}

/** One frame announced by `showinfo@argout`, waiting for its bytes on stdout. */
interface PendingFrame {
  readonly index: number;
  readonly timestamp: number;
  readonly width: number;
  readonly height: number;
}

const SHOWINFO_LINE = /^\[showinfo@arg(in|out) @ [0-9a-fx]+\] (?:\[[a-z]+\] )?(.*)$/;
const FRAME_INFO = /^n:\s*\d+\s+pts:\s*(\S+)\s+pts_time:(\S+)\s.*?\bs:(\d+)x(\d+)\b/;
const CONFIG_INFO = /^config in time_base: (\d+)\/(\d+)/;

/** Parses ffmpeg's stderr: frame records from the two showinfo filters, and the diagnostic tail. */
class StderrParser {
  /** Frames ready to be read from stdout, in output order. */
  readonly frames: PendingFrame[] = [];
  readonly diagnostics: Diagnostics;
  private rest = '';
  private decoded = 0;
  private lastIndex = -1;
  /** Recent `argin` frames not yet matched to an `argout` line (or skipped by select). */
  private inputs: { pts: string; index: number }[] = [];
  private tbNum = 0;
  private tbDen = 0;

  constructor(names: readonly string[]) {
    this.diagnostics = new Diagnostics(names);
  }

  push(text: string): void {
    const lines = (this.rest + text).split(/\r?\n|\r/);
    this.rest = (lines.pop() ?? '').slice(-MAX_LINE);
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.rest) this.line(this.rest);
    this.rest = '';
  }

  private line(line: string): void {
    const m = SHOWINFO_LINE.exec(line);
    if (!m) {
      this.diagnostics.add(line);
      return;
    }
    const [, which, body = ''] = m;
    const info = FRAME_INFO.exec(body);
    if (!info) {
      const tb = CONFIG_INFO.exec(body);
      if (tb && which === 'out') {
        this.tbNum = Number(tb[1]);
        this.tbDen = Number(tb[2]);
      }
      return;
    }
    const [, pts = 'NOPTS', ptsTime = '', w = '0', h = '0'] = info;
    if (which === 'in') {
      // Our own count rather than showinfo's n, which restarts when ffmpeg rebuilds the graph.
      this.inputs.push({ pts, index: this.decoded++ });
      if (this.inputs.length > MAX_PENDING_INPUT_FRAMES) this.inputs.splice(0, this.inputs.length - MAX_PENDING_INPUT_FRAMES);
      return;
    }
    const at = this.inputs.findIndex((f) => f.pts === pts);
    let index: number;
    if (at >= 0) {
      index = (this.inputs[at] as { index: number }).index;
      this.inputs.splice(0, at + 1);
    } else {
      // Not expected: fall back to the latest decoded frame, never going backwards.
      index = Math.max(this.decoded - 1, this.lastIndex + 1);
    }
    this.lastIndex = index;
    this.frames.push({ index, timestamp: this.seconds(pts, ptsTime), width: Number(w), height: Number(h) });
  }

  private seconds(pts: string, ptsTime: string): number {
    if (/^-?\d+$/.test(pts) && this.tbDen > 0) return (Number(pts) * this.tbNum) / this.tbDen;
    const t = Number(ptsTime);
    return ptsTime !== '' && Number.isFinite(t) ? t : Number.NaN;
  }
}

/** The last diagnostic lines of ffmpeg/ffprobe, turned into a short reason safe to show to a client. */
class Diagnostics {
  private readonly lines: { level: string; text: string }[] = [];

  constructor(private readonly names: readonly string[]) {}

  add(raw: string): void {
    // "[avi @ 0x55d0...] [warning] Packet corrupt" / "[fatal] file:x.avi: corrupt input packet" / "plain text".
    const m = /^(?:\[([^\]]+?) @ 0x[0-9a-f]+\] )?(?:\[(trace|debug|verbose|info|warning|error|fatal|panic)\] )?(.*)$/.exec(raw);
    const text = (m?.[3] ?? raw).trim();
    if (!text) return;
    const level = m?.[2] ?? 'error';
    if (level === 'info' || level === 'verbose' || level === 'debug' || level === 'trace') return;
    let clean = text;
    for (const name of this.names) if (name) clean = clean.split(name).join('input');
    const component = m?.[1];
    this.lines.push({ level, text: component ? `${component}: ${clean}` : clean });
    if (this.lines.length > TAIL_LINES) this.lines.shift();
  }

  /** Up to three distinct error lines (else warnings), newest last; null when ffmpeg said nothing. */
  reason(): string | null {
    if (this.lines.some((l) => /not on whitelist/.test(l.text))) return 'unsupported container format (not a video file Argus accepts)';
    if (this.lines.some((l) => /matches no streams/.test(l.text))) return 'the file has no video stream';
    const noise = /^(Conversion failed!|Error marking filters as finished|Error while filtering: .*|Exiting normally.*|Consider increasing the value for the 'analyzeduration'.*)$/;
    const pick = (levels: string[]) => [...new Set(this.lines.filter((l) => levels.includes(l.level) && !noise.test(l.text)).map((l) => l.text))];
    let texts = pick(['error', 'fatal', 'panic']);
    if (texts.length === 0) texts = pick(['warning']);
    if (texts.length === 0) texts = [...new Set(this.lines.map((l) => l.text))];
    if (texts.length === 0) return null;
    return texts.slice(-3).join('; ').slice(0, 500);
  }
}

/** One ffmpeg child: pairs stderr frame records with stdout bytes, feeds stdin, and always reaps the process. */
class FfmpegRun {
  private readonly stdout: Readable;
  private readonly parser: StderrParser;
  private readonly exited: Promise<void>;
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private hasExited = false;
  private spawnError: Error | null = null;
  private stdoutEnded = false;
  private stderrEnded = false;
  private readonly stderrDone: Promise<void>;
  private aborted = false;
  private produced = 0;
  private truncatedOutput = false;
  private wakeUp: (() => void) | null = null;
  private readonly onAbort = () => {
    this.aborted = true;
    this.kill();
    this.wake();
  };
  // Stream input.
  private feeding: Promise<void> | null = null;
  private feedIterator: AsyncIterator<Uint8Array> | null = null;
  private feedStop = false;
  private feedError: { error: unknown } | null = null;

  constructor(
    private readonly child: ChildProcess,
    names: readonly string[],
    private readonly signal: AbortSignal | undefined,
  ) {
    const { stdout, stderr } = child;
    if (!stdout || !stderr) throw new Error('ffmpeg was spawned without pipes');
    this.stdout = stdout;
    this.parser = new StderrParser(names);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => {
        this.hasExited = true;
        this.exitCode = code;
        this.exitSignal = sig;
        this.wake();
        resolve();
      });
      child.once('error', (err) => {
        // Spawning failed (e.g. ffmpeg not installed): there will be no 'exit'.
        if (child.pid === undefined) {
          this.spawnError = err;
          this.hasExited = true;
          this.stdoutEnded = true;
          this.wake();
          resolve();
        }
      });
    });
    stderr.setEncoding('utf8');
    stderr.on('data', (chunk: string) => {
      this.parser.push(chunk);
      this.wake();
    });
    this.stderrDone = new Promise<void>((resolve) => {
      const done = () => {
        if (!this.stderrEnded) {
          this.stderrEnded = true;
          this.parser.end();
          this.wake();
        }
        resolve();
      };
      stderr.once('end', done);
      stderr.once('close', done);
      stderr.once('error', done);
    });
    stdout.on('readable', () => this.wake());
    stdout.once('end', () => {
      this.stdoutEnded = true;
      this.wake();
    });
    stdout.once('error', () => {
      this.stdoutEnded = true;
      this.wake();
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The next frame, or null at the end of ffmpeg's output (success or not: `finish` tells). */
  async nextFrame(): Promise<VideoFrame | null> {
    for (;;) {
      this.throwIfStopped();
      const pending = this.parser.frames[0];
      if (pending) {
        const size = pending.width * pending.height * 3;
        const buf = this.stdout.read(size) as Buffer | null;
        if (buf) {
          if (buf.length !== size) {
            // Only at the end of the stream: ffmpeg died in the middle of writing a frame.
            this.truncatedOutput = true;
            return null;
          }
          this.parser.frames.shift();
          this.produced++;
          return {
            data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length),
            width: pending.width,
            height: pending.height,
            index: pending.index,
            timestamp: pending.timestamp,
          };
        }
        if (this.stdoutEnded) return null;
      } else if (this.stdoutEnded || (this.hasExited && this.stderrEnded)) {
        return null;
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
  }

  /** After the last frame: waits for ffmpeg's verdict and throws if the video was not decoded cleanly. */
  async finish(): Promise<void> {
    await this.exited;
    await this.stderrDone;
    this.throwIfStopped();
    const reason = this.parser.diagnostics.reason();
    if (this.exitSignal !== null) {
      throw new AppError('INTERNAL_ERROR', `ffmpeg was terminated by ${this.exitSignal}${reason ? ` (${reason})` : ''}`);
    }
    if (this.exitCode !== 0) {
      throw new AppError('BAD_REQUEST', `the video could not be decoded: ${reason ?? `ffmpeg exited with code ${String(this.exitCode)}`}`, {
        exitCode: this.exitCode,
        framesDecoded: this.produced,
      });
    }
    if (this.truncatedOutput || this.parser.frames.length > 0 || this.stdout.readableLength > 0) {
      throw new AppError('INTERNAL_ERROR', 'ffmpeg output does not match the frames it reported');
    }
    if (this.produced === 0) {
      throw new AppError('BAD_REQUEST', `the video could not be decoded: no frames were decoded${reason ? ` (${reason})` : ''}`);
    }
    // ffmpeg may stop reading before the end of a stream; drain the rest so a tee sees every byte.
    if (this.feeding) await this.feeding;
    if (this.feedError) throw this.feedError.error;
  }

  /** Always runs: kills ffmpeg if it still runs, stops feeding, and waits for the process to be reaped. */
  async close(): Promise<void> {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.kill();
    this.stopFeeding();
    this.stdout.destroy();
    await this.exited;
  }

  /** Pipes `source` into ffmpeg's stdin with backpressure. */
  feed(source: AsyncIterable<Uint8Array>): void {
    const stdin = this.child.stdin;
    if (!stdin) throw new Error('ffmpeg was spawned without stdin');
    const iterator = source[Symbol.asyncIterator]();
    this.feedIterator = iterator;
    this.feeding = this.pump(iterator, stdin).catch((error: unknown) => {
      if (this.feedStop) return;
      // The source failed (e.g. the upload was cut): that error ends the decoding.
      this.feedError = { error };
      this.kill();
      this.wake();
    });
  }

  private async pump(iterator: AsyncIterator<Uint8Array>, stdin: Writable): Promise<void> {
    let open = true;
    let drained: (() => void) | null = null;
    const closed = () => {
      open = false;
      drained?.();
    };
    // EPIPE when ffmpeg exits or stops reading; the exit status tells whether that was a problem.
    stdin.on('error', closed);
    stdin.once('close', closed);
    stdin.on('drain', () => drained?.());
    try {
      while (!this.feedStop) {
        const next = await iterator.next();
        if (next.done || this.feedStop) break;
        if (open && !stdin.write(next.value)) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            if (!open) resolve();
          });
          drained = null;
        }
      }
    } finally {
      if (open) stdin.end();
    }
  }

  private stopFeeding(): void {
    if (!this.feedIterator || this.feedStop) return;
    this.feedStop = true;
    const it = this.feedIterator;
    // Closes the source (a Readable is destroyed); not awaited, since a pending next() may never settle.
    if (it.return) void Promise.resolve(it.return()).catch(() => undefined);
    this.child.stdin?.destroy();
  }

  private throwIfStopped(): void {
    if (this.aborted) {
      this.signal?.throwIfAborted();
      throw new Error('aborted');
    }
    if (this.feedError) throw this.feedError.error;
    if (this.spawnError) {
      const missing = (this.spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      throw new AppError(
        'SERVICE_UNAVAILABLE',
        missing ? 'video decoding is unavailable: ffmpeg is not installed' : `could not start ffmpeg: ${this.spawnError.message}`,
      );
    }
  }

  private kill(): void {
    if (this.hasExited || this.child.exitCode !== null || this.child.signalCode !== null) return;
    // SIGKILL: ffmpeg blocked on a full pipe does not act on SIGTERM until its write returns.
    this.child.kill('SIGKILL');
  }

  private wake(): void {
    const resolve = this.wakeUp;
    this.wakeUp = null;
    resolve?.();
  }
}

/** Runs a command to completion, collecting its output; kills it after `timeoutMs`. */
function runCollect(cmd: string, args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      err = (err + chunk).slice(-MAX_LINE);
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new AppError('SERVICE_UNAVAILABLE', e.code === 'ENOENT' ? `video probing is unavailable: ${cmd} is not installed` : `could not start ${cmd}: ${e.message}`),
      );
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new AppError('BAD_REQUEST', `not a readable video: ${cmd} gave no answer within ${timeoutMs / 1000} s`));
      else resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: err });
    });
  });
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? (v as unknown[]) : [];
}

/** ffprobe writes most numbers as strings ("11.261261", "270"). */
function asNumber(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

/** "2997/125" -> 23.976; null for "0/0" and other non-rates. */
function rate(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  if (!m) return null;
  const r = Number(m[1]) / Number(m[2]);
  return Number.isFinite(r) && r > 0 ? r : null;
}

/** Degrees from a display matrix (ffmpeg >= 5) or the older `rotate` tag. */
function rotationOf(stream: Record<string, unknown>): number {
  for (const side of asArray(stream.side_data_list)) {
    const r = asNumber(asRecord(side).rotation);
    if (r !== null) return Math.round(r);
  }
  return Math.round(asNumber(asRecord(stream.tags).rotate) ?? 0);
}

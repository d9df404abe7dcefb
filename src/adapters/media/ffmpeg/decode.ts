/**
 * Video decoding with the ffmpeg/ffprobe command-line tools (the system's, or the one shipped in an npm package; see tools.ts).
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
import { AppError } from '../../../domain/errors.js';
import { FORMAT_WHITELIST, resolveInput, type ResolvedInput } from './input.js';
import { FfmpegRun } from './run.js';
import { directSpawn, type Spawn } from './spawn.js';
import { SYSTEM_TOOLS, type VideoTools } from './tools.js';
import type { FrameSampling, VideoFrame } from './types.js';
import type { WarmFfmpeg, WarmRun } from './warm.js';

/**
 * Decoder threads. One: decoding a sampled video costs a few milliseconds of CPU per analysed frame against tens for
 * inference, so a second decoding thread gains nothing the job can use and takes CPU from the inference threads (on 2
 * cores it measured no faster as a whole job, and frame threading adds a frame of latency and its buffers).
 */
const DECODE_THREADS = 1;

/** The arguments before the input's own, for a direct and a pre-started run (warm.ts) alike. */
export const GLOBAL_ARGS: readonly string[] = ['-hide_banner', '-nostats', '-loglevel', 'repeat+level+info', '-xerror', '-threads', String(DECODE_THREADS)];

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
  tools: VideoTools = SYSTEM_TOOLS,
  spawnTool: Spawn = directSpawn,
  warm: WarmDecode | null = null,
): AsyncGenerator<VideoFrame> {
  const graph = filterGraph(sampling);
  const src = typeof input === 'string' ? resolveInput(input) : null;
  signal?.throwIfAborted();

  const warmRun = src ? await takeWarm(warm, src, graph, signal) : null;
  let run: FfmpegRun;
  try {
    signal?.throwIfAborted();
    if (warmRun && src) {
      run = new FfmpegRun(warmRun.child, [...src.names, ...warmRun.names], signal, 'concat');
    } else {
      const args = [
        ...GLOBAL_ARGS,
        ...(src ? ['-nostdin'] : []),
        '-format_whitelist',
        FORMAT_WHITELIST,
        '-protocol_whitelist',
        src ? src.protocols : 'pipe',
        ...(src ? src.inputOptions : []),
        '-i',
        src ? src.arg : 'pipe:0',
        ...outputArgs(tools, ['-vf', graph]),
      ];
      run = new FfmpegRun(await spawnTool(tools.ffmpeg.path, args, { stdin: !src }), src ? src.names : ['pipe:0'], signal);
    }
  } catch (err) {
    warmRun?.child.kill('SIGKILL');
    await warmRun?.release();
    throw err;
  }
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
    await warmRun?.release();
  }
}

/** A pre-started ffmpeg to decode a stored file with, and the index of the stream to analyse (from the probe). */
export interface WarmDecode {
  readonly ffmpeg: WarmFfmpeg;
  readonly streamIndex: () => Promise<number>;
}

/**
 * The pre-started ffmpeg for a stored file, when one is waiting (see warm.ts); null for a stream or a URL. It reaches
 * the file through the concat demuxer, which does not pass on the streams' dispositions, so a cover picture stored
 * before the video would be taken for it: it is used only when the probe says the analysed stream is the file's first.
 */
async function takeWarm(warm: WarmDecode | null, src: ResolvedInput, graph: string, signal: AbortSignal | undefined): Promise<WarmRun | null> {
  if (!warm?.ffmpeg.ready || src.protocols !== 'file' || src.inputOptions.length > 0 || signal?.aborted) return null;
  // A job cancelled while the probe still runs stops at once, and leaves the waiting ffmpeg for the next file.
  const first = await new Promise<boolean>((resolve) => {
    const onAbort = (): void => resolve(false);
    signal?.addEventListener('abort', onAbort, { once: true });
    warm
      .streamIndex()
      .then(
        (i) => resolve(i === 0),
        () => resolve(false),
      )
      .finally(() => signal?.removeEventListener('abort', onAbort));
  });
  return first && !signal?.aborted ? warm.ffmpeg.take(src.arg, graph) : null;
}

/** The arguments after the input: the first video stream, through the graph `filter` names, as raw RGB on stdout. */
export function outputArgs(tools: VideoTools, filter: readonly string[]): string[] {
  return [
    '-map',
    '0:V:0',
    '-an',
    '-sn',
    '-dn',
    // Every decoded frame is passed on as it is (no duplicating or dropping to a constant rate); ffmpeg before 5.1
    // spells this -vsync.
    ...(tools.ffmpeg.fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
    '-filter_threads',
    '1',
    ...filter,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
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

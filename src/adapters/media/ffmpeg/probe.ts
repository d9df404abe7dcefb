/** Reading a video's facts with ffprobe. */
import { AppError } from '../../../domain/errors.js';
import { FORMAT_WHITELIST, resolveInput, runCollect } from './input.js';
import { directSpawn, type Spawn } from './spawn.js';
import { Diagnostics } from './stderr.js';
import { SYSTEM_TOOLS, type VideoTools } from './tools.js';
import type { VideoInfo } from './types.js';

const PROBE_TIMEOUT_MS = 60_000;
/** Packets ffprobe decodes to prove the stream is decodable (decoders are flushed after them). */
const PROBE_PACKETS = 8;

/**
 * Reads container/stream facts with ffprobe (JSON output) and decodes the first frame(s) to prove the stream
 * is usable. Throws AppError('BAD_REQUEST', clear reason) for a file that is not a decodable video.
 * Metadata comes from the container header, so a file truncated after its first frames still probes; its
 * decoding (`decodeFrames`) ends with the error.
 */
export async function probeVideo(input: string, tools: VideoTools = SYSTEM_TOOLS, spawnTool: Spawn = directSpawn): Promise<VideoInfo> {
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
  const { code, stdout, stderr } = await runCollect(tools.ffprobe.path, args, PROBE_TIMEOUT_MS, spawnTool);
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
    streamIndex: asNumber(stream.index) ?? 0,
  };
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

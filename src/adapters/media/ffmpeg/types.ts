/** What the ffmpeg adapter gives and takes. */
import type { RgbImage } from '../../../domain/image-tensor.js';

/** Facts about a video as ffprobe reads them. */
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
  /** The analysed stream's index in the file (the first video stream that is not a cover picture). */
  streamIndex: number;
}

/** Which frames to decode, and how large. */
export interface FrameSampling {
  /** >= 1: analyse frame 0, N, 2N... */
  everyNth: number;
  /** >= 0: at least this long between analysed frames; both rules apply. */
  minSeconds: number;
  /** Scale so the longer side is at most this, keeping the aspect ratio, never upscaling; dimensions are even. */
  maxSide: number;
}

/** One decoded, scaled frame. */
export interface VideoFrame extends RgbImage {
  /** Source frame number (0-based, presentation order, every decoded frame counted). */
  index: number;
  /** Seconds, from the frame's pts (ffmpeg shifts the input start time to 0); NaN if the frame had no pts. */
  timestamp: number;
}

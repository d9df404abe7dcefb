/** Ports: decoding video into frames. */
import type { RgbImage } from '../../domain/image-tensor.js';
import type { MediaRecord } from './media.js';

/** Facts about a stored video. */
export interface VideoFacts {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly durationSeconds: number | null;
  readonly frameCount: number | null;
  readonly codec: string;
  /** The analysed stream's index in the file. */
  readonly streamIndex: number;
}

/** A decoded, scaled video frame with its source index and time. */
export interface DecodedFrame extends RgbImage {
  readonly index: number;
  readonly timestamp: number;
}

/** Decodes video (an ffmpeg child process): frames selected and scaled by the decoder, pulled one at a time. */
export interface VideoDecoder {
  probe(path: string): Promise<VideoFacts>;
  /** `facts`: the file's facts, when they are being read; a decoder may wait for them to choose how it decodes. */
  frames(
    input: string | AsyncIterable<Uint8Array>,
    sampling: { everyNth: number; minSeconds: number; maxSide: number },
    signal?: AbortSignal,
    facts?: Promise<VideoFacts>,
  ): AsyncIterable<DecodedFrame>;
  /** Gets ready for the next video ahead of time (a decoder that can): called at startup and when a video job ends. */
  warmUp?(): void;
  /** Lets go of what it holds ready. */
  close?(): Promise<void>;
}

/** A video analysed while it is uploaded: its bytes as they arrive, and the stored medium once complete. */
export interface LiveUpload {
  readonly bytes: AsyncIterable<Uint8Array>;
  readonly stored: Promise<MediaRecord>;
}

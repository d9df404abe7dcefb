/** Video through ffmpeg and ffprobe child processes: the VideoDecoder port, on the tools found at startup. */
import type { DecodedFrame, VideoDecoder, VideoFacts } from '../../../app/ports.js';
import { decodeFrames } from './decode.js';
import { probeVideo } from './probe.js';
import { directSpawn, type Spawn } from './spawn.js';
import type { VideoTools } from './tools.js';
import type { WarmFfmpeg } from './warm.js';

export { decodeFrames } from './decode.js';
export { probeVideo } from './probe.js';
export { directSpawn, SpawnHelper, type Spawn, type ToolProcess } from './spawn.js';
export { findVideoTools, SYSTEM_TOOLS, type FoundTools, type VideoTool, type VideoTools } from './tools.js';
export type { FrameSampling, VideoFrame, VideoInfo } from './types.js';
export { WarmFfmpeg } from './warm.js';

/**
 * The VideoDecoder port on given tools, started by `spawnTool` (a SpawnHelper's in the processes that run jobs); with
 * `warm`, stored files go to a pre-started ffmpeg (see warm.ts).
 */
export class FfmpegVideoDecoder implements VideoDecoder {
  constructor(
    private readonly tools: VideoTools,
    private readonly spawnTool: Spawn = directSpawn,
    private readonly warm: WarmFfmpeg | null = null,
  ) {}

  /** Decodes running now. */
  private active = 0;

  /**
   * Starts the ffmpeg the next stored video will use, unless one is waiting or a video is being decoded: its loading
   * (~120 ms of CPU) would be taken from that job's frames.
   */
  warmUp(): void {
    if (this.active === 0) this.warm?.prepare();
  }

  /** Stops the waiting ffmpeg. */
  async close(): Promise<void> {
    await this.warm?.close();
  }

  probe(path: string): Promise<VideoFacts> {
    return probeVideo(path, this.tools, this.spawnTool);
  }

  frames(
    input: string | AsyncIterable<Uint8Array>,
    sampling: { everyNth: number; minSeconds: number; maxSide: number },
    signal?: AbortSignal,
    facts?: Promise<VideoFacts>,
  ): AsyncIterable<DecodedFrame> {
    // Read only when a pre-started ffmpeg is there to use (a promise derived here and never awaited would make a failed
    // probe an unhandled rejection).
    const warm = this.warm && facts ? { ffmpeg: this.warm, streamIndex: () => facts.then((f) => f.streamIndex) } : null;
    return this.counted(decodeFrames(input, sampling, signal, this.tools, this.spawnTool, warm));
  }

  private async *counted(frames: AsyncGenerator<DecodedFrame>): AsyncGenerator<DecodedFrame> {
    this.active++;
    try {
      yield* frames;
    } finally {
      this.active--;
    }
  }
}

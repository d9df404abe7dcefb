/** One ffmpeg child process of a decoding: its frames, its input stream, its verdict, and always its reaping. */
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../../../domain/errors.js';
import type { ToolProcess } from './spawn.js';
import { StderrParser } from './stderr.js';
import type { VideoFrame } from './types.js';

/** One ffmpeg child: pairs stderr frame records with stdout bytes, feeds stdin, and always reaps the process. */
export class FfmpegRun {
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
    private readonly child: ToolProcess,
    names: readonly string[],
    private readonly signal: AbortSignal | undefined,
    /** A demuxer between ffmpeg and the file, whose own lines are not the video's (see StderrParser). */
    indirection?: string,
  ) {
    const { stdout, stderr } = child;
    if (!stdout || !stderr) throw new Error('ffmpeg was spawned without pipes');
    this.stdout = stdout;
    this.parser = new StderrParser(names, indirection);
    this.exited = new Promise<void>((resolve) => {
      // A process handed over after it ended (a pre-started one that died) has no 'exit' to come.
      if (child.exitCode !== null || child.signalCode !== null) {
        this.hasExited = true;
        this.exitCode = child.exitCode;
        this.exitSignal = child.signalCode;
        resolve();
        return;
      }
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
    if (signal?.aborted) this.onAbort();
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

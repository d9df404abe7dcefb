/**
 * A pre-started ffmpeg for the next stored video.
 *
 * Debian's ffmpeg links about 215 shared libraries, and starting it costs 125-140 ms before it reads a byte (perf:
 * the dynamic loader's symbol lookups and page faults while it relocates them, ~120 ms of CPU). That cost sat in front
 * of every video job's first frame. `WarmFfmpeg` starts the next ffmpeg ahead of time, when no decode is running, with
 * every argument but the file and the filter graph: its input is a concat list read from stdin (`-f concat -i
 * pipe:0`), so it waits there, loaded, until a decode writes the file's name to it.
 *
 * The concat demuxer then opens the file itself by name, so the file is read as a seekable file (an MP4 with its
 * index at the end decodes as from a direct run). The list's `option` lines hold the file to the same formats and
 * protocols as a direct decode. The filter graph is read from a file written just before (`-filter_script:v`), which
 * ffmpeg reads only after the input is open. Frames, their numbers and timestamps are those of a direct decode
 * (warm.test.ts compares them on several containers).
 */
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GLOBAL_ARGS, outputArgs } from './decode.js';
import { FORMAT_WHITELIST } from './input.js';
import type { Spawn, ToolProcess } from './spawn.js';
import type { VideoTools } from './tools.js';

/** A waiting ffmpeg handed to a decode: the process, and what to call once its run has ended. */
export interface WarmRun {
  readonly child: ToolProcess;
  /** Names ffmpeg gives the input in its messages (the list on stdin), to be replaced like the file's own. */
  readonly names: readonly string[];
  /** Removes the run's graph file. */
  release(): Promise<void>;
}

interface Waiting {
  child: Promise<ToolProcess | null>;
  readonly graphFile: string;
  exited: boolean;
}

/**
 * Keeps one ffmpeg started and waiting for the next stored video to decode (see the top of this file). The next one
 * is started by `prepare`, which the caller calls when the machine is otherwise idle (at startup, and once a video
 * job has ended): started at the end of a decode, its loading took CPU from the job's last inferences.
 */
export class WarmFfmpeg {
  private waiting: Waiting | null = null;
  private closed = false;

  /**
   * `dir`: a private directory for the graph files; `available`: whether `spawnTool` still starts tools from the spawn
   * helper (once it has gone, nothing is started ahead: it would be forked from this large process).
   */
  constructor(
    private readonly tools: VideoTools,
    private readonly spawnTool: Spawn,
    private readonly dir: string,
    private readonly available: () => boolean = () => true,
  ) {}

  /** Whether an ffmpeg is waiting (or being started) for the next file. */
  get ready(): boolean {
    return this.waiting !== null && !this.waiting.exited && !this.closed && this.available();
  }

  /** Starts the next ffmpeg, unless one is already waiting. */
  prepare(): void {
    if (this.waiting || this.closed || !this.available()) return;
    const graphFile = path.join(this.dir, `vf-${randomUUID()}`);
    const args = [
      ...GLOBAL_ARGS,
      // The list itself is read by the concat demuxer from stdin; the file it names is held by the list's own options.
      '-format_whitelist',
      `${FORMAT_WHITELIST},concat`,
      '-protocol_whitelist',
      'pipe,file',
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      'pipe:0',
      ...outputArgs(this.tools, ['-filter_script:v', graphFile]),
    ];
    const waiting: Waiting = { graphFile, exited: false, child: Promise.resolve(null) };
    this.waiting = waiting;
    waiting.child = this.spawnTool(this.tools.ffmpeg.path, args, { stdin: true }).then(
      (child) => {
        // Killed or dead before it was used: the next decode starts its own.
        child.once('exit', () => this.forget(waiting));
        child.once('error', () => this.forget(waiting));
        return child;
      },
      () => (this.forget(waiting), null),
    );
  }

  /**
   * The waiting ffmpeg, told to decode `file` (a `file:` URL) through `graph`; null when none is ready, or it could
   * not be given the file (it died, the helper's directory is gone): the caller then decodes with a direct run.
   */
  async take(file: string, graph: string): Promise<WarmRun | null> {
    const waiting = this.waiting;
    // A name the list cannot hold on one line is decoded by a direct run.
    if (!waiting || !this.ready || /[\r\n]/.test(file)) return null;
    this.waiting = null;
    const child = await waiting.child;
    const alive = (c: ToolProcess | null): c is ToolProcess & { stdin: NonNullable<ToolProcess['stdin']> } =>
      c !== null && !waiting.exited && c.exitCode === null && c.signalCode === null && c.stdin !== null;
    if (!alive(child)) return null;
    const release = (): Promise<void> => rm(waiting.graphFile, { force: true });
    const list = ['ffconcat version 1.0', `file ${quote(file)}`, `option format_whitelist ${FORMAT_WHITELIST}`, 'option protocol_whitelist file', ''].join('\n');
    try {
      // The graph first: ffmpeg reads it once the input named by the list is open.
      await writeFile(waiting.graphFile, graph, { mode: 0o600 });
      // It may have died while the graph was written; if it dies from here on, the decode fails as a direct run would.
      if (!alive(child)) throw new Error('the pre-started ffmpeg has ended');
      child.stdin.on('error', () => undefined);
      child.stdin.end(list);
    } catch {
      child.kill('SIGKILL');
      await release();
      return null;
    }
    return { child, names: ['pipe:0'], release };
  }

  /** Stops the waiting ffmpeg; nothing is started after this. */
  async close(): Promise<void> {
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    const child = await waiting.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(waiting.graphFile, { force: true });
  }

  private forget(waiting: Waiting): void {
    waiting.exited = true;
    if (this.waiting === waiting) this.waiting = null;
  }
}

/** A concat-list token: single-quoted, a quote inside written as '\''. */
function quote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

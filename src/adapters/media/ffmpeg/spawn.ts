/**
 * Starting ffmpeg and ffprobe without forking the Argus process.
 *
 * Node starts a child process with fork + exec (libuv uses no posix_spawn on Linux). Forking a process with ~700 MiB
 * mapped (the models) blocks its event loop while the page tables are copied (35-115 ms measured here), and leaves
 * every writable page of the parent copy-on-write protected: the next write to each page faults, so the next
 * inference on every thread took 60-105 ms instead of ~15 (measured after one spawn of /bin/true). A video job
 * spawns twice (ffprobe and ffmpeg), so its first frames paid both.
 *
 * `SpawnHelper` forks a small helper process once, at startup, and asks it to start the tools: their stdout and
 * stderr (and stdin, for a tool that is fed: a live upload, or the name of the file a pre-started ffmpeg is to decode)
 * are Unix sockets connected to this process, so bytes flow between the tool and this process directly, as through
 * pipes. Everything is spawned directly when the helper is not there.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { HelperReport, HelperRequest } from './spawn-helper.js';

/** What the ffmpeg adapter uses of a child process. */
export interface ToolProcess {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals): boolean;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

/** Starts a tool: stdout and stderr piped, stdin piped when `stdin` is true (else ignored). */
export type Spawn = (cmd: string, args: readonly string[], options?: { stdin?: boolean }) => Promise<ToolProcess>;

/** Starts the tool from this process (fork + exec). */
export const directSpawn: Spawn = async (cmd, args, options = {}) =>
  spawn(cmd, args, { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] }) as ChildProcess & { stdout: Readable; stderr: Readable };

/** The compiled helper script (tests run from the TypeScript sources; the helper is always the built one). */
function helperScript(): string {
  const here = fileURLToPath(new URL('./spawn-helper.js', import.meta.url));
  if (existsSync(here)) return here;
  return here.replace(/([/\\])src([/\\])adapters([/\\])/, '$1dist$2adapters$3');
}

/** A tool started by the helper, as a child process. */
class HelperChild extends EventEmitter implements ToolProcess {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  private open = 2;
  private exited = false;

  constructor(
    readonly stdout: Readable,
    readonly stderr: Readable,
    private readonly askKill: (signal: NodeJS.Signals) => void,
    readonly stdin: Writable | null = null,
  ) {
    super();
    for (const s of [stdout, stderr]) s.once('close', () => this.streamClosed());
    // The tool never writes to its stdin socket: reading it only notices the tool's end, which closes it as a pipe's
    // write end is closed (a later write fails instead of waiting).
    if (stdin instanceof net.Socket) stdin.resume();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exited) return false;
    this.askKill(signal);
    return true;
  }

  /** The helper said the tool exited. */
  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.emit('exit', code, signal);
    this.maybeClose();
  }

  private streamClosed(): void {
    this.open--;
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.exited && this.open === 0) this.emit('close', this.exitCode, this.signalCode);
  }
}

/** A request on its way: the two sockets as they connect, and the helper's answer. */
interface Pending {
  /** Whether the tool's stdin is a third socket. */
  readonly wantsIn: boolean;
  in?: net.Socket;
  out?: net.Socket;
  err?: net.Socket;
  answer?: HelperReport;
  /** The tool already exited (a quick one can, before both its sockets have arrived here). */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  settle: () => void;
}

/** A small process that starts ffmpeg and ffprobe for this one (see the top of this file). */
export class SpawnHelper {
  private readonly pending = new Map<string, Pending>();
  private readonly running = new Map<string, HelperChild>();
  private alive = true;
  /** The helper has exited, or was closed: what it was running has been dealt with. */
  private gone = false;

  private constructor(
    private readonly helper: ChildProcess,
    private readonly server: net.Server,
    /** This process's private (0700) directory for the socket, which the helper removes with what is in it. */
    readonly dir: string,
  ) {
    helper.on('message', (r: HelperReport) => this.onReport(r));
    // A send on a channel that just closed reports here rather than crashing the process; the exit follows.
    helper.on('error', () => this.onHelperExit());
    helper.once('disconnect', () => this.onHelperExit());
    helper.once('exit', () => this.onHelperExit());
    server.on('connection', (socket) => this.onConnection(socket));
  }

  /** Whether tools are still started by the helper (false once it has gone: they are then spawned directly). */
  get available(): boolean {
    return this.alive;
  }

  /** Forks the helper; call early, while this process is still small (the fork copies its page tables once). */
  static async start(): Promise<SpawnHelper> {
    // A private directory: only this user can connect to the socket.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-spawn-'));
    const socketPath = path.join(dir, 's');
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, resolve);
    });
    const helper = fork(helperScript(), [socketPath], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json', execArgv: [] });
    await new Promise<void>((resolve, reject) => {
      helper.once('spawn', resolve);
      helper.once('error', reject);
    });
    // Neither keeps this process alive on its own.
    helper.unref();
    helper.channel?.unref();
    server.unref();
    return new SpawnHelper(helper, server, dir);
  }

  /** Starts a tool through the helper (directly when the helper has gone). */
  readonly spawn: Spawn = async (cmd, args, options = {}) => {
    if (!this.alive) return directSpawn(cmd, args, options);
    const id = randomUUID();
    const p: Pending = { wantsIn: options.stdin === true, settle: () => undefined };
    const ready = new Promise<void>((resolve) => (p.settle = resolve));
    this.pending.set(id, p);
    this.holdOpen();
    this.send({ op: 'spawn', id, cmd, args, stdin: p.wantsIn });
    await ready;
    this.pending.delete(id);
    this.holdOpen();
    const answer = p.answer;
    if (answer?.op === 'spawned' && p.out && p.err && (!p.wantsIn || p.in)) {
      const child = new HelperChild(p.out, p.err, (signal) => this.send({ op: 'kill', id, signal }), p.in ?? null);
      child.pid = answer.pid;
      // An exit reported before the sockets came is told once the caller has had a turn to listen (and is not
      // running any more, so the helper's own end cannot override it).
      const early = p.exit;
      if (early) {
        setImmediate(() => child.exit(early.code, early.signal));
        return child;
      }
      this.running.set(id, child);
      this.holdOpen();
      child.once('exit', () => {
        this.running.delete(id);
        this.holdOpen();
      });
      return child;
    }
    p.out?.destroy();
    p.err?.destroy();
    p.in?.destroy();
    if (!this.alive) {
      // The helper went away mid-request: a tool it had started is stopped before it is started again here.
      if (answer?.op === 'spawned' && !p.exit) killPid(answer.pid);
      return directSpawn(cmd, args, options);
    }
    // The tool could not start (not installed, say): a child that fails as a spawned one would.
    const failed = new HelperChild(ended(), ended(), () => undefined);
    const error = Object.assign(new Error(answer?.op === 'error' ? answer.message : `could not start ${cmd}`), { code: answer?.op === 'error' ? answer.code : null });
    process.nextTick(() => failed.emit('error', error));
    return failed;
  };

  /** Stops the helper (tools it started end when their output can no longer be read). */
  async close(): Promise<void> {
    this.helper.kill();
    this.onHelperExit();
    this.server.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private send(request: HelperRequest): void {
    if (this.alive && this.helper.connected) this.helper.send(request);
  }

  /** The channel keeps this process alive only while a request or a tool it started is outstanding. */
  private holdOpen(): void {
    if (this.pending.size + this.running.size > 0) this.helper.channel?.ref();
    else this.helper.channel?.unref();
  }

  private onReport(r: HelperReport): void {
    const p = this.pending.get(r.id);
    if (r.op === 'exit') {
      if (p) p.exit = { code: r.code, signal: r.signal };
      else this.running.get(r.id)?.exit(r.code, r.signal);
      return;
    }
    if (!p) return;
    p.answer = r;
    this.check(p);
  }

  /** A socket from the helper: its first line names the request and the stream. */
  private onConnection(socket: net.Socket): void {
    let head = Buffer.alloc(0);
    // Read in paused mode ('readable', not 'data'), so that once the listener is gone the socket is neither flowing
    // nor explicitly paused: the consumer's first 'data' or 'readable' listener starts it as on a fresh pipe.
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        head = Buffer.concat([head, chunk]);
        const nl = head.indexOf(10);
        if (nl < 0) {
          if (head.length > 128) socket.destroy();
          continue;
        }
        socket.off('readable', onReadable);
        socket.setTimeout(0);
        const [id, stream] = head.subarray(0, nl).toString('latin1').split(' ');
        const rest = head.subarray(nl + 1);
        if (rest.length > 0) socket.unshift(rest);
        const p = this.pending.get(id ?? '');
        if (!p || !(stream === 'out' || stream === 'err' || (stream === 'in' && p.wantsIn))) return void socket.destroy();
        p[stream] = socket;
        this.check(p);
        return;
      }
    };
    socket.on('readable', onReadable);
    // The helper writes the line as soon as it connects; a socket that never names itself is not kept open.
    socket.setTimeout(10_000, () => {
      if (socket.listenerCount('readable') > 0) socket.destroy();
    });
  }

  /** Settles a request once the helper answered and, if the tool started, its sockets arrived. */
  private check(p: Pending): void {
    if (p.answer?.op === 'error' || (p.answer?.op === 'spawned' && p.out && p.err && (!p.wantsIn || p.in))) p.settle();
  }

  private onHelperExit(): void {
    if (this.gone) return;
    this.gone = true;
    this.alive = false;
    // Requests in flight are answered with direct spawns. Running tools lost the process that reaped them and reported
    // their exit: they are killed (by pid: the helper had started them as this user) and reported killed.
    for (const p of this.pending.values()) p.settle();
    for (const child of this.running.values()) {
      if (child.pid !== undefined) killPid(child.pid);
      child.exit(null, 'SIGKILL');
    }
    this.running.clear();
    this.helper.channel?.unref();
  }
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function ended(): Readable {
  const s = new PassThrough();
  s.end();
  return s;
}

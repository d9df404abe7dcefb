/**
 * The spawn helper process (see spawn.ts): a small Node process that starts ffmpeg and ffprobe for a large one.
 *
 * Requests come over the IPC channel. For each, the helper connects two sockets to the parent's Unix socket (argv[2]),
 * names them with the request's id, and starts the command with those sockets as its stdout and stderr, so the
 * output goes to the parent directly and the helper never reads it; a third, when asked for, is its stdin. It reports
 * the child's pid, or why it could not start, and its exit; it forwards kill requests. It exits when the parent goes
 * away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A request from the parent. */
export type HelperRequest =
  | { readonly op: 'spawn'; readonly id: string; readonly cmd: string; readonly args: readonly string[]; readonly stdin?: boolean }
  | { readonly op: 'kill'; readonly id: string; readonly signal: NodeJS.Signals };

/** A report to the parent. */
export type HelperReport =
  | { readonly op: 'spawned'; readonly id: string; readonly pid: number }
  | { readonly op: 'error'; readonly id: string; readonly code: string | null; readonly message: string }
  | { readonly op: 'exit'; readonly id: string; readonly code: number | null; readonly signal: NodeJS.Signals | null };

const socketPath = process.argv[2] as string;
const children = new Map<string, ChildProcess>();
const report = (r: HelperReport): void => void process.send?.(r);

/** A socket to the parent, named `<id> <stream>` on its first line; resolves once that line is written. */
function named(id: string, stream: 'in' | 'out' | 'err'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${id} ${stream}\n`, (err) => (err ? reject(err) : resolve(socket))));
  });
}

async function start(id: string, cmd: string, args: readonly string[], stdin: boolean): Promise<void> {
  let sockets: net.Socket[] = [];
  try {
    sockets = await Promise.all([named(id, 'out'), named(id, 'err'), ...(stdin ? [named(id, 'in')] : [])]);
    const child = spawn(cmd, args, { stdio: [sockets[2] ?? 'ignore', sockets[0], sockets[1]] });
    children.set(id, child);
    child.once('spawn', () => report({ op: 'spawned', id, pid: child.pid as number }));
    child.once('error', (err: NodeJS.ErrnoException) => {
      // Only a failed start has no pid; other errors (a failed kill) are not the parent's concern.
      if (child.pid !== undefined) return;
      children.delete(id);
      report({ op: 'error', id, code: err.code ?? null, message: err.message });
    });
    child.once('exit', (code, signal) => {
      children.delete(id);
      report({ op: 'exit', id, code, signal });
    });
  } catch (err) {
    report({ op: 'error', id, code: (err as NodeJS.ErrnoException).code ?? null, message: (err as Error).message });
  } finally {
    // The child holds its own copies of the sockets: the parent sees their end when the child closes them.
    for (const s of sockets) s.destroy();
  }
}

process.on('message', (m: HelperRequest) => {
  if (m.op === 'spawn') void start(m.id, m.cmd, m.args, m.stdin === true);
  else if (m.op === 'kill') children.get(m.id)?.kill(m.signal);
});
/**
 * Kills every tool still running (nothing can read their output any more), removes the socket's private directory
 * (the parent removes it when it closes the helper, but not when it was killed) and exits.
 */
function stop(): void {
  for (const child of children.values()) child.kill('SIGKILL');
  // Only the socket and the private directory made for it: never a directory this helper was not given to own.
  const dir = path.dirname(socketPath);
  if (path.basename(dir).startsWith('argus-spawn-')) {
    try {
      // The socket and the filter graphs the parent keeps beside it (warm.ts), by name: never anything else.
      for (const name of readdirSync(dir)) if (name === path.basename(socketPath) || /^vf-[0-9a-f-]{36}$/.test(name)) rmSync(path.join(dir, name), { force: true });
      rmdirSync(dir);
    } catch {
      // The parent removed it first, or it cannot be removed: nothing more to do on the way out.
    }
  }
  process.exit(0);
}
// The parent has gone (or closed the helper): a tool blocked on its input would otherwise outlive it.
process.on('disconnect', stop);
process.on('SIGTERM', stop);

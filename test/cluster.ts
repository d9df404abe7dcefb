/**
 * Test helpers for the scale-out mode: a Redis server of the suite's own (so it can be restarted), and `argus serve`
 * and `argus worker` processes on a shared PostgreSQL database and media directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { ROOT } from './helper.js';

/** A child process of the suite with its output lines. */
export interface Proc {
  readonly proc: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
  /** For servers: the port it listens on. */
  readonly port: number;
  /** Lines logged about one job, parsed. */
  jobLines(jobId: string): Record<string, unknown>[];
}

function track(proc: ChildProcess, port: number): Proc {
  const lines: string[] = [];
  let buffer = '';
  const onData = (d: Buffer): void => {
    buffer += d.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  return {
    proc,
    lines,
    exited,
    port,
    jobLines: (jobId) =>
      lines.filter((l) => l.includes(jobId)).flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
  };
}

async function waitForLine(p: Proc, what: RegExp, label: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!p.lines.some((l) => what.test(l))) {
    if (p.proc.exitCode !== null || Date.now() > deadline) {
      p.proc.kill('SIGKILL');
      throw new Error(`${label} did not start:\n${p.lines.slice(-30).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const freePort = (): number => 20_000 + Math.floor(Math.random() * 20_000);

/** Starts `argus serve` (an API process of the scale-out mode when env has REDIS_URL). */
export async function startApiProcess(env: Record<string, string>): Promise<Proc> {
  const port = freePort();
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/argus.js'), 'serve'], { env: { ...process.env, LOG_LEVEL: 'info', PORT: String(port), HOST: '127.0.0.1', ...env }, cwd: ROOT });
  const p = track(proc, port);
  await waitForLine(p, /Server listening/, 'argus serve');
  return p;
}

/** Starts `argus worker` with its monitor port; resolves once it takes jobs. */
export async function startWorkerProcess(env: Record<string, string>, concurrency = 1): Promise<Proc> {
  const port = freePort();
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/argus.js'), 'worker', '--concurrency', String(concurrency)], {
    env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', ARGUS_WORKER_METRICS_PORT: String(port), ...env },
    cwd: ROOT,
  });
  const p = track(proc, port);
  await waitForLine(p, /worker taking jobs/, 'argus worker');
  return p;
}

/** A redis-server of the suite's own, on a free port, keeping nothing on disk. */
export interface RedisServer {
  readonly url: string;
  /** Kills it (SIGKILL: its memory, and so the queue, is lost) and starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a redis-server (Debian's, on the PATH). */
export async function startRedis(): Promise<RedisServer> {
  const port = freePort();
  let proc: ChildProcess;
  const start = async (): Promise<void> => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!out.includes('Ready to accept connections')) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await start();
  const kill = async (): Promise<void> => {
    if (proc.exitCode !== null) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    restart: async (downMs = 1000) => {
      await kill();
      await new Promise((r) => setTimeout(r, downMs));
      await start();
    },
    stop: kill,
  };
}

/** Polls `fn` until it returns a value. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000, every = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

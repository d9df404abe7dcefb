/**
 * PostgreSQL restarting under load in the scale-out mode: a PostgreSQL cluster of the suite's own (so it can be
 * stopped), a Redis of its own, one API and one worker process. While the database is down, clients get 503 with
 * Retry-After (never a 500, never a hang); every job accepted before, during or after finishes.
 */
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testdata } from './helper.js';
import { startApiProcess, startRedis, startWorkerProcess, until, type Proc, type RedisServer } from './cluster.js';

const PG_BIN = `/usr/lib/postgresql/${process.env.PG_MAJOR ?? '15'}/bin`;

/** A throwaway PostgreSQL cluster, run as the postgres user (PostgreSQL refuses to run as root). */
class PrivatePostgres {
  readonly port = 40_000 + Math.floor(Math.random() * 10_000);
  constructor(readonly dir: string) {}

  private as(args: string[]): string {
    const [cmd, ...rest] = args;
    const run = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', `${PG_BIN}/${cmd}`, ...rest] : [`${PG_BIN}/${cmd}`, ...rest];
    return execFileSync(run[0]!, run.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-pg-'));
    await chmod(dir, 0o700);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      await chown(dir, uid, gid);
    }
    const cluster = new PrivatePostgres(dir);
    cluster.as(['initdb', '-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    cluster.start();
    return cluster;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  start(): void {
    this.as(['pg_ctl', '-D', path.join(this.dir, 'data'), '-w', '-l', path.join(this.dir, 'log'), '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  }

  /** Stops it as a crash would (immediate: no checkpoint, connections cut). */
  crash(): void {
    this.as(['pg_ctl', '-D', path.join(this.dir, 'data'), '-m', 'immediate', 'stop']);
  }

  async destroy(): Promise<void> {
    try {
      this.as(['pg_ctl', '-D', path.join(this.dir, 'data'), '-m', 'immediate', 'stop']);
    } catch {
      // already stopped
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

describe('scale-out: PostgreSQL restarts under load', () => {
  let postgres: PrivatePostgres;
  let redis: RedisServer;
  let dir: string;
  let api: Proc;
  let worker: Proc;
  let key: string;

  beforeAll(async () => {
    postgres = await PrivatePostgres.create();
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    await client.query('create database argus');
    await client.end();
    redis = await startRedis();
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-pgrestart-'));
    const env = {
      DATABASE_URL: postgres.url.replace(/\/postgres$/, '/argus'),
      REDIS_URL: redis.url,
      ARGUS_DATA_DIR: dir,
      ARGUS_WARMUP: 'false',
      ARGUS_RATE_LIMIT_PER_MINUTE: '0',
      ARGUS_QUEUE_LOCK_MS: '4000',
      ARGUS_QUEUE_STALLED_CHECK_MS: '2000',
      ARGUS_QUEUE_RECONCILE_MS: '3000',
    };
    api = await startApiProcess(env);
    key = JSON.parse(api.lines.find((l) => l.includes('first admin API key'))!).api_key as string;
    worker = await startWorkerProcess(env);
  });

  afterAll(async () => {
    api?.proc.kill('SIGKILL');
    worker?.proc.kill('SIGKILL');
    await redis?.stop();
    await postgres?.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while the database is down, and finishes every accepted job', async () => {
    const base = `http://127.0.0.1:${api.port}/api/v1`;
    const headers = { 'x-api-key': key };
    const form = new FormData();
    form.append('file', new Blob([await readFile(testdata('images/dog.jpg'))]), 'dog.jpg');
    const media = ((await (await fetch(`${base}/media`, { method: 'POST', headers, body: form })).json()) as { id: string }).id;
    const accepted: string[] = [];
    const seen: { status: number; retryAfter: string | null }[] = [];
    const submit = async (): Promise<void> => {
      const started = Date.now();
      const res = await fetch(`${base}/analyze`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ media_id: media, tasks: ['detect', 'blur'] }), signal: AbortSignal.timeout(20_000) });
      seen.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
      if (res.status === 202) accepted.push(((await res.json()) as { task_id: string }).task_id);
      else await res.arrayBuffer();
      // No hang: every answer comes quickly, whatever it says.
      expect(Date.now() - started).toBeLessThan(15_000);
    };
    for (let i = 0; i < 4; i++) await submit();
    postgres.crash();
    for (let i = 0; i < 4; i++) {
      await submit();
      await new Promise((r) => setTimeout(r, 300));
    }
    const duringOutage = seen.slice(4);
    postgres.start();
    for (let i = 0; i < 4; i++) await submit();

    expect(seen.filter((s) => s.status !== 202 && s.status !== 503)).toEqual([]);
    expect(duringOutage.some((s) => s.status === 503)).toBe(true);
    for (const s of seen.filter((x) => x.status === 503)) expect(Number(s.retryAfter)).toBeGreaterThan(0);
    expect(accepted.length).toBeGreaterThanOrEqual(8);
    for (const id of accepted) {
      const job = await until(`job ${id}`, async () => {
        const j = (await (await fetch(`${base}/jobs/${id}`, { headers })).json()) as { status: string };
        return j.status === 'SUCCESS' || j.status === 'FAILED' ? j : undefined;
      }, 180_000, 250);
      expect(job.status).toBe('SUCCESS');
    }
  });
});

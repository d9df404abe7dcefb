/**
 * Test helpers: a real Argus app on a real database (PGlite, or a fresh database on the machine's PostgreSQL),
 * with media in a temporary directory; multipart bodies; paths to ../shared test data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { createApiKey } from '../src/app/api-keys.js';
import { buildApp, type AppDeps } from '../src/http/app.js';
import { loadConfig, type Config } from '../src/main/config.js';
import { createServices, type Services } from '../src/main/services.js';
import type { Database } from '../src/adapters/db/database.js';

/** The repository's root, and ../shared beside it. */
export const ROOT = path.resolve(import.meta.dirname, '..');
export const SHARED = path.resolve(ROOT, '../shared');

/** A file under ../shared/testdata; fails loudly (never skips) when the folder is missing. */
export function testdata(relative: string): string {
  const file = path.join(SHARED, 'testdata', relative);
  if (!existsSync(file)) throw new Error(`test data missing: ${file} (clone the project beside ../shared)`);
  return file;
}

/** The database modes every integration suite runs in. ARGUS_TEST_POSTGRES=off drops PostgreSQL (not in CI). */
export const DB_MODES: readonly ('pglite' | 'postgres')[] = process.env.ARGUS_TEST_POSTGRES === 'off' ? ['pglite'] : ['pglite', 'postgres'];

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates an empty PostgreSQL database for one suite; returns its URL and a function that drops it. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `argus_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${ADMIN_URL} (set TEST_DATABASE_URL, or ARGUS_TEST_POSTGRES=off to skip it)`, { cause: err });
  }
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** A running test app and what it is made of. */
export interface TestApp {
  app: FastifyInstance;
  deps: AppDeps;
  services: Services;
  database: Database;
  config: Config;
  dir: string;
  /** An API key acting as `owner` (created on first use). */
  keyFor(owner: string, role?: 'admin' | 'user'): Promise<string>;
  close(): Promise<void>;
}

/** Starts a real app (not listening) on the given database mode with media in a fresh temp dir. */
export async function startTestApp(mode: 'pglite' | 'postgres', env: Record<string, string> = {}, opts: { runner?: boolean } = {}): Promise<TestApp> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-test-'));
  const pgdb = mode === 'postgres' ? await freshPostgres() : null;
  const config = loadConfig({ ARGUS_DATA_DIR: dir, ARGUS_RATE_LIMIT_PER_MINUTE: '0', ...(pgdb ? { DATABASE_URL: pgdb.url } : {}), ...env });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const services = await createServices(config, logger);
  const { database, deps } = services;
  if (opts.runner !== false) await services.runner?.start();
  services.delivery.start();
  const app = await buildApp(deps);
  await app.ready();
  const keys = new Map<string, string>();
  return {
    app,
    deps,
    services,
    database,
    config,
    dir,
    async keyFor(owner, role = 'user') {
      const id = `${owner}:${role}`;
      if (!keys.has(id)) keys.set(id, (await createApiKey(deps, { name: id, ownerId: owner, role })).key);
      return keys.get(id)!;
    },
    async close() {
      await app.close();
      await services.close();
      await pgdb?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls a job through the API until it ends (SUCCESS, FAILED or CANCELLED); resolves with its view. */
export async function waitForJob<J extends { status: string }>(t: Pick<TestApp, 'app'>, key: string, id: string): Promise<J> {
  for (let i = 0; i < 600; i++) {
    const job = (await t.app.inject({ url: `/api/v1/jobs/${id}`, headers: { 'x-api-key': key } })).json<J>();
    if (['SUCCESS', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not finish`);
}

/** A multipart/form-data body built with the platform's FormData (as a browser or fetch client sends it). */
export async function multipart(parts: Record<string, string | { data: Uint8Array; filename: string; type?: string }>): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value.data], { type: value.type ?? 'application/octet-stream' }), value.filename);
  }
  const res = new Response(form);
  return { payload: Buffer.from(await res.arrayBuffer()), headers: { 'content-type': res.headers.get('content-type')! } };
}

/** Runs the compiled `argus` CLI (bin/argus.js) with extra environment; resolves with its exit code and output. */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/argus.js'), ...args], { env: { ...process.env, ...env }, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}


/** A real `argus serve` child process. */
export interface Server {
  proc: ChildProcess;
  port: number;
  lines: string[];
  exited: Promise<number | null>;
}

/** Starts `argus serve` on a random port with extra environment; resolves once it listens. */
export async function startServer(env: Record<string, string>): Promise<Server> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const proc = spawn(process.execPath, [path.join(ROOT, 'bin/argus.js'), 'serve'], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env }, cwd: ROOT });
  const lines: string[] = [];
  let buffer = '';
  proc.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr.on('data', (d: Buffer) => lines.push(`stderr: ${d.toString()}`));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  // A first start creates the embedded database and warms the models: slow on a busy 2-core machine.
  const deadline = Date.now() + 180_000;
  while (!lines.some((l) => l.includes('Server listening'))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      // Never leave a half-started server holding the data directory for the next test.
      proc.kill('SIGKILL');
      throw new Error(`server did not start:\n${lines.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, port, lines, exited };
}

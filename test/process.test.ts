/**
 * The real processes: `argus serve` / `npm start` as a child process, the CLI commands, graceful shutdown.
 * Runs the compiled dist/ (built by `npm test`'s pretest step, as `npm ci` builds it for `npm start`).
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceMediaId } from './reference/xxh64.js';
import { runCli, startServer, testdata } from './helper.js';

describe('argus serve (embedded mode, a real process)', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-proc-'));
    env = { ARGUS_DATA_DIR: dir, LOG_LEVEL: 'info' };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the first admin key once, logs JSON with request ids, finishes in-flight uploads on SIGTERM', async () => {
    const server = await startServer(env);
    const keyLine = server.lines.find((l) => l.includes('first admin API key'));
    expect(keyLine).toBeDefined();
    const key = JSON.parse(keyLine!).api_key as string;
    expect(key).toMatch(/^argus_/);

    // Another process must not open the embedded database while the server holds it.
    const cli = await runCli(['keys', 'create', '--name', 'x'], env);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/in use by a running Argus server.*POST \/api\/v1\/keys/);

    // A request with our id is logged as JSON lines carrying that id.
    const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/media`, { headers: { 'x-api-key': key, 'x-request-id': 'proc-test-1' } });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const logged = server.lines.filter((l) => l.includes('proc-test-1')).map((l) => JSON.parse(l) as { request_id: string; msg: string });
    expect(logged.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    expect(logged.every((l) => l.request_id === 'proc-test-1')).toBe(true);

    // Start a slow upload, send SIGTERM in the middle, then finish it: it must be stored and answered.
    const messi = await readFile(testdata('images/messi5.jpg'));
    const boundary = 'argusboundary';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="messi5.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/v1/media', headers: { 'x-api-key': key, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + messi.length + tail.length } },
        (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.write(head);
      req.write(messi.subarray(0, 10_000));
      setTimeout(() => {
        server.proc.kill('SIGTERM');
        setTimeout(() => {
          req.write(messi.subarray(10_000));
          req.end(tail);
        }, 500);
      }, 300);
    });
    const done = await answer;
    expect(done.status).toBe(201);
    expect(JSON.parse(done.body).id).toBe(referenceMediaId(messi));
    expect(await server.exited).toBe(0);
    expect(server.lines.some((l) => l.includes('shutting down'))).toBe(true);
  });

  it('keeps data across restarts and does not print a new admin key', async () => {
    const server = await startServer(env);
    expect(server.lines.some((l) => l.includes('first admin API key'))).toBe(false);
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    // With the server stopped, the CLI may write: a key is created and works on the next start.
    const created = await runCli(['keys', 'create', '--name', 'laptop', '--owner', 'admin'], env);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^argus_/);
    const again = await startServer(env);
    const list = (await (await fetch(`http://127.0.0.1:${again.port}/api/v1/media`, { headers: { 'x-api-key': key } })).json()) as { total: number };
    expect(list.total).toBe(1); // the upload that finished during the first shutdown
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });

  it('never mints a new admin key after the first start, even when every key was revoked', async () => {
    const created = await runCli(['keys', 'create', '--name', 'ops', '--owner', 'admin', '--admin'], env);
    const admin = created.stdout.trim();
    const ownId = /key (\S+) /.exec(created.stderr)?.[1];
    const server = await startServer(env);
    try {
      const list = (await (await fetch(`http://127.0.0.1:${server.port}/api/v1/keys`, { headers: { 'x-api-key': admin } })).json()) as { items: { id: string }[] };
      // Revoke every key, the caller's own last.
      const ids = [...list.items.map((k) => k.id).filter((id) => id !== ownId), ownId];
      for (const id of ids) {
        const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/keys/${id}`, { method: 'DELETE', headers: { 'x-api-key': admin } });
        expect(res.status).toBe(204);
      }
    } finally {
      server.proc.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
    const again = await startServer(env);
    expect(again.lines.some((l) => l.includes('first admin API key') || l.includes('argus_'))).toBe(false);
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    // The way back in is the CLI, with the server stopped.
    const recovery = await runCli(['keys', 'create', '--name', 'recovery', '--owner', 'admin', '--admin'], env);
    expect(recovery.code).toBe(0);
    expect(recovery.stdout.trim()).toMatch(/^argus_/);
  });

  it('migrates on demand', async () => {
    const res = await runCli(['migrate'], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('migrations applied (pglite)');
  });
});

describe('argus CLI', () => {
  it('hash prints the content id of a file', async () => {
    const file = testdata('images/messi5.jpg');
    const res = await runCli(['hash', file], {});
    expect(res.code).toBe(0);
    expect(res.stdout.trim()).toBe(referenceMediaId(await readFile(file)));
  });

  it('refuses to start on a bad setting, naming it', async () => {
    const res = await runCli(['serve'], { PORT: 'eighty' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('PORT');
  });
});

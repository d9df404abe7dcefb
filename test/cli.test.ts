/**
 * The `argus` CLI managing a running server through its API, as a user runs it: the built CLI (bin/argus.js) as a
 * child process against a real `argus serve` (embedded PGlite in a temporary data directory). Keys are created,
 * listed and revoked; whoami, --version; analyze's --collection/--operation/--callback-url reach the job; a
 * refused connection names the URL; no stray ./data outside an Argus directory.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArgusClient, unwrap, upload, type ArgusClient } from '@argus/client';
import { ROOT, startServer, testdata, type Server } from './helper.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in `cwd` with only the given Argus settings (none inherited from the test's environment). */
function cli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ARGUS_') && k !== 'DATABASE_URL' && k !== 'REDIS_URL'));
  // The development models stay reachable wherever the CLI runs (they are found beside the checkout, not via cwd).
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin/argus.js'), ...args], { env: { ...base, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

describe('argus CLI against a running server', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let admin: string;
  let api: ArgusClient;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-cli-'));
    server = await startServer({ ARGUS_DATA_DIR: dir, LOG_LEVEL: 'info' });
    url = `http://127.0.0.1:${server.port}`;
    admin = JSON.parse(server.lines.find((l) => l.includes('first admin API key'))!).api_key as string;
    api = createArgusClient({ baseUrl: url, apiKey: admin });
  }, 120_000);
  afterAll(async () => {
    server.proc.kill('SIGTERM');
    await server.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('--version prints package.json\'s version', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = await cli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(version);
  });

  it('creates a key through the API, lists it, whoami names its owner, revokes it, and then it is refused', async () => {
    const as = ['--server', url, '--key', admin];
    const created = await cli(['keys', 'create', '--name', 'ci laptop', '--owner', 'alice', ...as]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^argus_/);
    const id = /^key (\S+) \(user\) for owner alice/m.exec(created.stderr)?.[1];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    // The server has it (the data directory is the server's: this went through the API, not the database).
    const list = await cli(['keys', 'list', ...as]);
    expect(list.code, list.stderr).toBe(0);
    const line = list.stdout.split('\n').find((l) => l.startsWith(id!));
    expect(line).toMatch(/argus_\S*…\s+user\s+alice\s+never-used\s+ci laptop$/);
    const json = JSON.parse((await cli(['keys', 'list', '--json', ...as])).stdout) as { id: string; owner_id: string }[];
    expect(json.find((k) => k.id === id)?.owner_id).toBe('alice');

    // whoami with the environment variables the other commands read.
    const me = await cli(['whoami'], { ARGUS_SERVER: url, ARGUS_API_KEY: key });
    expect(me.code, me.stderr).toBe(0);
    expect(me.stdout).toMatch(/^owner_id:\s+alice$/m);
    expect(me.stdout).toMatch(/^role:\s+user$/m);
    expect(me.stdout).toContain(`(key ${id!})`);
    const adminMe = JSON.parse((await cli(['whoami', '--json', ...as])).stdout) as { role: string; is_admin: boolean };
    expect(adminMe).toMatchObject({ role: 'admin', is_admin: true });

    // A user key may not manage keys: the CLI says why and what would.
    const forbidden = await cli(['keys', 'list', '--server', url, '--key', key]);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/403 .*admin key/);

    const revoked = await cli(['keys', 'revoke', id!, ...as]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await cli(['keys', 'list', ...as])).stdout).not.toContain(id!);
    const refused = await cli(['whoami', '--server', url, '--key', key]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/401 UNAUTHORIZED.*--key or ARGUS_API_KEY/);
    expect((await fetch(`${url}/api/v1/me`, { headers: { 'x-api-key': key } })).status).toBe(401);
    // Revoking it again is a 404, said as such.
    const again = await cli(['keys', 'revoke', id!, ...as]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('404');
  });

  it('without a key, keys works on the data directory and, while the server holds it, says to use --key', async () => {
    const run = await cli(['keys', 'create', '--name', 'x'], { ARGUS_DATA_DIR: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/in use by a running Argus server.*--key <admin key>/);
  });

  it('analyze sends --collection, --operation and --callback-url with the job', async () => {
    const photo = testdata('faces/person01_ref_01.jpg');
    unwrap(await api.POST('/api/v1/faces/enroll', upload({ person_name: 'Person 1', collection: 'team', file: { data: new Blob([await readFile(photo)]), filename: 'p1.jpg' } })));
    const env = { ARGUS_SERVER: url, ARGUS_API_KEY: admin };

    // search (the default operation) in the named collection: the match comes from it.
    const searched = await cli(['analyze', photo, '--tasks', 'faces', '--collection', 'team', '--operation', 'search'], env);
    expect(searched.code, searched.stderr).toBe(0);
    const s = JSON.parse(searched.stdout) as { task_id: string; status: string; result: { items: { faces: { collection: string; faces: { matches: { person_name: string }[] }[] } }[] } };
    expect(s.status).toBe('SUCCESS');
    expect(s.result.items[0]!.faces.collection).toBe('team');
    expect(s.result.items[0]!.faces.faces[0]!.matches[0]!.person_name).toBe('Person 1');
    const searchedJob = unwrap(await api.GET('/api/v1/jobs/{id}', { params: { path: { id: s.task_id } } }));
    expect(searchedJob).toMatchObject({ collection: 'team', operation: 'search' });

    // detect: faces found, no search (no collection, no matches).
    const detected = await cli(['analyze', photo, '--tasks', 'faces', '--operation', 'detect'], env);
    expect(detected.code, detected.stderr).toBe(0);
    const d = JSON.parse(detected.stdout) as { result: { items: { faces: Record<string, unknown> & { faces: object[] } }[] } };
    expect(d.result.items[0]!.faces).not.toHaveProperty('collection');
    expect(d.result.items[0]!.faces.faces[0]).not.toHaveProperty('matches');
    expect(d.result.items[0]!.faces.faces.length).toBeGreaterThan(0);

    // --callback-url, seen in the job's own view; --no-wait prints the acceptance at once.
    const queued = await cli(['analyze', testdata('images/dog.jpg'), '--callback-url', 'https://hooks.example.com/argus', '--no-wait'], env);
    expect(queued.code, queued.stderr).toBe(0);
    const { task_id } = JSON.parse(queued.stdout) as { task_id: string };
    const job = unwrap(await api.GET('/api/v1/jobs/{id}', { params: { path: { id: task_id } } }));
    expect(job.callback_url).toBe('https://hooks.example.com/argus');
    expect(job.tasks).toEqual(['detect']);

    // An unknown operation is refused by the CLI itself, listing the choices.
    const bad = await cli(['analyze', testdata('images/dog.jpg'), '--tasks', 'faces', '--operation', 'find'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/detect, search/);
  });

  it('a refused connection names the URL tried and how to point elsewhere', async () => {
    const port = await closedPort();
    for (const args of [['whoami'], ['keys', 'list'], ['analyze', testdata('images/dog.jpg')]]) {
      const run = await cli([...args, '--server', `http://127.0.0.1:${port}`, '--key', admin]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`cannot reach the Argus server at http://127.0.0.1:${port} (connection refused)`);
      expect(run.stderr).toMatch(/--server URL or ARGUS_SERVER=URL/);
    }
    // ARGUS_SERVER is read as --server is (a trailing slash dropped).
    const byDefault = await cli(['whoami'], { ARGUS_API_KEY: admin, ARGUS_SERVER: `http://127.0.0.1:${port}/` });
    expect(byDefault.stderr).toContain(`at http://127.0.0.1:${port} (`);
  });
});

describe('argus commands that use the data directory, run outside an Argus directory', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'argus-cli-cwd-'));
  });
  afterAll(() => rm(cwd, { recursive: true, force: true }));

  it('refuse to create ./data there and say how to name the directory', async () => {
    for (const args of [['models', 'list'], ['migrate'], ['keys', 'list'], ['serve']]) {
      const run = await cli(args, { PORT: '0' }, cwd);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(1);
      expect(run.stderr).toContain('no data directory');
      expect(run.stderr).toMatch(/--data-dir DIR or ARGUS_DATA_DIR=DIR/);
      expect(existsSync(path.join(cwd, 'data'))).toBe(false);
    }
  });

  it('use the directory named by --data-dir or ARGUS_DATA_DIR', async () => {
    const byOption = await cli(['migrate', '--data-dir', 'argus-data'], {}, cwd);
    expect(byOption.code, byOption.stderr).toBe(0);
    expect(existsSync(path.join(cwd, 'argus-data', 'pglite'))).toBe(true);
    // The same directory by the variable (an absolute path; opening it again is quicker than creating another).
    const byEnv = await cli(['keys', 'list'], { ARGUS_DATA_DIR: path.join(cwd, 'argus-data') }, cwd);
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(existsSync(path.join(cwd, 'data'))).toBe(false);
  });
});

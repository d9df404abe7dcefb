/**
 * Backup and restore by docs/runbook.md's own commands: the shell blocks it marks `<!-- tested: NAME -->` are read
 * from the runbook and run here with bash, word for word, so the runbook cannot drift from what was checked.
 *
 * A real instance gets media (a photo and a video), an enrolled face, a finished job and API keys; it is backed up,
 * then deleted entirely (directory and database) as on a lost machine; the backup is restored into a fresh
 * directory (and a fresh PostgreSQL database) and a new instance, started on it, must find everything again —
 * after the startup sweep `argus serve` runs, which removes media files no record points at.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_MODES, ROOT, freshPostgres, multipart, startTestApp, testdata, type TestApp } from './helper.js';

const RUNBOOK = path.join(ROOT, 'docs/runbook.md');

/** The shell block that follows `<!-- tested: name -->` in the runbook. */
async function runbookBlock(name: string): Promise<string> {
  const text = await readFile(RUNBOOK, 'utf8');
  const match = new RegExp(`<!-- tested: ${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!match?.[1]) throw new Error(`docs/runbook.md has no block marked "tested: ${name}"`);
  return match[1];
}

/** Runs a runbook block with bash (stopping at the first failing command) and the given variables. */
async function runBlock(name: string, vars: Record<string, string>): Promise<void> {
  const script = await runbookBlock(name);
  await new Promise<void>((resolve, reject) => {
    const p = spawn('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...vars }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`runbook block "${name}" exited with ${code}:\n${script}\n${output}`))));
  });
}

/** What the instance holds, seen through the API: compared before the backup and after the restore. */
interface Seen {
  media: unknown;
  contents: Record<string, Buffer>;
  detections: unknown;
  job: unknown;
  result: unknown;
  persons: unknown;
  search: { person_id: string; person_name: string; similarity: number } | undefined;
  keys: unknown;
}

interface Seeded {
  key: string;
  adminKey: string;
  photoId: string;
  videoId: string;
  personId: string;
  jobId: string;
}

const PHOTO = (): string => testdata('images/dog.jpg');
const VIDEO = (): string => testdata('video/Megamind.avi');
const ENROLL = (): string => testdata('faces/person01_ref_01.jpg');
const PROBE = (): string => testdata('faces/person01_ref_02.jpg');

async function upload(t: TestApp, key: string, url: string, parts: Parameters<typeof multipart>[0]) {
  const body = await multipart(parts);
  return t.app.inject({ method: 'POST', url, payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
}

/** Media, a face and a finished job in a new instance. */
async function seed(t: TestApp): Promise<Seeded> {
  const key = await t.keyFor('photographer');
  const adminKey = await t.keyFor('operator', 'admin');
  const photo = await upload(t, key, '/api/v1/media', { file: { data: await readFile(PHOTO()), filename: 'dog.jpg' } });
  expect(photo.statusCode, photo.body).toBe(201);
  const video = await upload(t, key, '/api/v1/media', { file: { data: await readFile(VIDEO()), filename: 'Megamind.avi' } });
  expect(video.statusCode, video.body).toBe(201);
  const enrolled = await upload(t, key, '/api/v1/faces/enroll', { person_name: 'Person 1', collection: 'backup', face_index: '0', file: { data: await readFile(ENROLL()), filename: 'p1.jpg' } });
  expect(enrolled.statusCode, enrolled.body).toBe(201);

  const photoId = photo.json<{ id: string }>().id;
  const accepted = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { media_id: photoId, tasks: ['detect', 'blur'] }, headers: { 'x-api-key': key } });
  expect(accepted.statusCode, accepted.body).toBe(202);
  const jobId = accepted.json<{ task_id: string }>().task_id;
  for (let i = 0; ; i++) {
    const job = (await t.app.inject({ url: `/api/v1/jobs/${jobId}`, headers: { 'x-api-key': key } })).json<{ status: string }>();
    if (job.status === 'SUCCESS') break;
    if (job.status === 'FAILED' || job.status === 'CANCELLED' || i > 1200) throw new Error(`job ${jobId} ended ${job.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { key, adminKey, photoId, videoId: video.json<{ id: string }>().id, personId: enrolled.json<{ person_id: string }>().person_id, jobId };
}

/** Everything a client of the instance would look at, through the API with the original keys. */
async function look(t: TestApp, s: Seeded): Promise<Seen> {
  const get = async (url: string, key = s.key) => {
    const res = await t.app.inject({ url, headers: { 'x-api-key': key } });
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    return res;
  };
  const search = await upload(t, s.key, '/api/v1/faces/search', { collection: 'backup', threshold: '-1', file: { data: await readFile(PROBE()), filename: 'probe.jpg' } });
  expect(search.statusCode, search.body).toBe(200);
  const keys = (await get('/api/v1/keys', s.adminKey)).json<{ items: { last_used_at: unknown }[] }>();
  return {
    media: (await get('/api/v1/media')).json(),
    contents: {
      [s.photoId]: (await get(`/api/v1/media/${s.photoId}/content`)).rawPayload,
      [s.videoId]: (await get(`/api/v1/media/${s.videoId}/content`)).rawPayload,
    },
    detections: (await get(`/api/v1/media/${s.photoId}/detections`)).json(),
    job: (await get(`/api/v1/jobs/${s.jobId}`)).json(),
    result: (await get(`/api/v1/results/${s.jobId}`)).json(),
    persons: (await get(`/api/v1/faces/persons?collection=backup`)).json(),
    search: search.json<{ faces: { matches: Seen['search'][] }[] }>().faces[0]?.matches[0],
    // last_used_at moves when a key is used (at most once a minute): not part of what must survive.
    keys: keys.items.map((k) => ({ ...k, last_used_at: null })),
  };
}

/** The restored instance holds what the original did, byte for byte for the media files. */
async function expectSame(restored: TestApp, s: Seeded, before: Seen): Promise<void> {
  // `argus serve` sweeps the media volume at every start: a restore whose records and files disagree loses files here.
  expect(await restored.services.sweep()).toEqual({ partialFiles: 0, orphanFiles: 0, bytes: 0 });
  const after = await look(restored, s);
  expect(after.contents[s.photoId]!.equals(await readFile(PHOTO()))).toBe(true);
  expect(after.contents[s.videoId]!.equals(await readFile(VIDEO()))).toBe(true);
  expect(after.search).toMatchObject({ person_id: s.personId, person_name: 'Person 1' });
  expect(after.search!.similarity).toBeCloseTo(before.search!.similarity, 5);
  expect(after).toEqual(before);
}

describe.each(DB_MODES)('backup and restore on %s, by the runbook', (mode) => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'argus-backup-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('restores media, faces, keys and a finished job into a fresh instance after the original is gone', async () => {
    const original = await startTestApp(mode);
    const dataDir = original.dir;
    const backupDir = path.join(scratch, 'backup');
    let restoredDb: Awaited<ReturnType<typeof freshPostgres>> | null = null;
    let restored: TestApp | null = null;
    let originalOpen = true;
    try {
      const seeded = await seed(original);
      const before = await look(original, seeded);
      expect(before.search).toMatchObject({ person_id: seeded.personId });
      expect((before.job as { status: string }).status).toBe('SUCCESS');

      if (mode === 'postgres') {
        // An online backup: the server keeps running while pg_dump and rsync copy.
        await runBlock('postgres-backup', { DATABASE_URL: original.config.databaseUrl!, ARGUS_DATA_DIR: dataDir, BACKUP_DIR: backupDir });
        originalOpen = false;
        await original.close(); // drops the database and removes the data directory
      } else {
        // PGlite is copied with the server stopped.
        originalOpen = false;
        await original.app.close();
        await original.services.close();
        await runBlock('embedded-backup', { ARGUS_DATA_DIR: dataDir, BACKUP_DIR: backupDir });
        await rm(dataDir, { recursive: true, force: true });
      }
      expect(existsSync(dataDir)).toBe(false);

      if (mode === 'postgres') {
        restoredDb = await freshPostgres();
        await runBlock('postgres-restore', { DATABASE_URL: restoredDb.url, ARGUS_DATA_DIR: dataDir, BACKUP_DIR: backupDir });
        restored = await startTestApp('postgres', { DATABASE_URL: restoredDb.url, ARGUS_DATA_DIR: dataDir });
      } else {
        await runBlock('embedded-restore', { ARGUS_DATA_DIR: dataDir, BACKUP_DIR: backupDir });
        restored = await startTestApp('pglite', { ARGUS_DATA_DIR: dataDir });
      }
      await expectSame(restored, seeded, before);

      if (mode === 'pglite') {
        // The same backup restored under another path: records name files by key, so nothing is swept or lost.
        await restored.close();
        restored = null;
        await rm(dataDir, { recursive: true, force: true });
        const elsewhere = path.join(scratch, 'elsewhere', 'data');
        await runBlock('embedded-restore', { ARGUS_DATA_DIR: elsewhere, BACKUP_DIR: backupDir });
        restored = await startTestApp('pglite', { ARGUS_DATA_DIR: elsewhere });
        await expectSame(restored, seeded, before);
      }
    } finally {
      if (originalOpen) await original.close();
      await restored?.close();
      await restoredDb?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * Crashes of a real `argus serve` process (SIGKILL, then an immediate restart on the same data directory): in the
 * middle of uploads, of a video job and of a webhook delivery. Afterwards no partial or orphan file is left, every
 * accepted job finishes, and the delivery arrives on the retry schedule with its interrupted attempt on record.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, testdata, type Server } from './helper.js';

type Job = { status: string; attempts: number; progress: { done: number; total: number | null }; result: Record<string, unknown> | null; error: string | null };

/** Every file under the media directories of a data directory, partial ones included. */
async function mediaFiles(dir: string): Promise<string[]> {
  const lists = await Promise.all(['images', 'videos'].map(async (d) => (await readdir(path.join(dir, d)).catch(() => [])).map((f) => `${d}/${f}`)));
  return lists.flat().sort();
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SIGKILL and an immediate restart', () => {
  let dir: string;
  let env: Record<string, string>;
  let server: Server;
  const url = (p: string): string => `http://127.0.0.1:${server.port}${p}`;
  const getJob = async (id: string): Promise<Job> => (await (await fetch(url(`/api/v1/jobs/${id}`))).json()) as Job;
  /** Kills the server and starts it again at once, without waiting for the dead one to be reaped. */
  const crashAndRestart = async (): Promise<void> => {
    server.proc.kill('SIGKILL');
    server = await startServer(env);
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-crash-'));
    env = {
      ARGUS_DATA_DIR: dir,
      ARGUS_AUTH: 'off',
      LOG_LEVEL: 'info',
      ARGUS_ALLOW_PRIVATE_URLS: 'true',
      ARGUS_WEBHOOK_TIMEOUT_MS: '2000',
      ARGUS_WEBHOOK_RETRY_SCHEDULE: '3000,3000',
    };
    server = await startServer(env);
  });
  afterAll(async () => {
    server.proc.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('mid-upload: the partial files are swept at the restart (and counted), nothing else is left', async () => {
    const before = await mediaFiles(dir);
    const avi = await readFile(testdata('video/Megamind.avi'));
    // Three uploads that stop half-way: one to /media, one streamed to /analyze (analysed live), one batch.
    const open = (route: string, field: string, name: string): http.ClientRequest => {
      const boundary = 'crashboundary';
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'POST', path: route, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': avi.length + 1000 } });
      req.on('error', () => undefined);
      req.write(`--${boundary}\r\ncontent-disposition: form-data; name="${field}"; filename="${name}"\r\ncontent-type: video/x-msvideo\r\n\r\n`);
      req.write(avi.subarray(0, Math.floor(avi.length / 2)));
      return req;
    };
    const requests = [open('/api/v1/media', 'file', 'a.avi'), open('/api/v1/analyze', 'file', 'b.avi'), open('/api/v1/detect/batch', 'files', 'c.jpg')];
    await waitFor('partial files', async () => ((await mediaFiles(dir)).filter((f) => f.includes('.partial-')).length >= 2 ? true : undefined));
    await crashAndRestart();
    for (const r of requests) r.destroy();

    expect(await mediaFiles(dir)).toEqual(before);
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(Number(/argus_storage_swept_files_total\{kind="partial"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    // No record of them either; the streamed /analyze job never answered 202, so it is not an accepted job.
    const media = (await (await fetch(url('/api/v1/media'))).json()) as { total: number };
    expect(media.total).toBe(0);
  });

  it('mid-video-job: the job runs again after the restart and finishes, its attempt counted', async () => {
    const form = new FormData();
    form.append('file', new Blob([await readFile(testdata('video/Megamind.avi'))]), 'Megamind.avi');
    const up = await fetch(url('/api/v1/media'), { method: 'POST', body: form });
    const { id } = (await up.json()) as { id: string };
    const res = await fetch(url('/api/v1/analyze'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ media_id: id, tasks: ['detect'] }) });
    expect(res.status).toBe(202);
    const { task_id: job } = (await res.json()) as { task_id: string };
    await waitFor('video progress', async () => ((await getJob(job)).progress.done > 5 ? true : undefined));
    await crashAndRestart();
    const done = await waitFor('the video job to end', async () => {
      const j = await getJob(job);
      return j.status === 'PROCESSING' || j.status === 'PENDING' ? undefined : j;
    });
    expect(done.status).toBe('SUCCESS');
    expect(done.attempts).toBe(2);
    expect((done.result as { frames_analysed?: number; tracks?: unknown[] }).tracks).toBeDefined();
  });

  it('mid-delivery: the interrupted attempt is recorded and the delivery arrives on the retry schedule', async () => {
    // A receiver that holds the first delivery without answering (the server dies meanwhile) and accepts the rest.
    const arrivals: { at: number; id: string }[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        arrivals.push({ at: Date.now(), id: String(req.headers['webhook-id']) });
        if (arrivals.length === 1) return; // never answered
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const form = new FormData();
      form.append('tasks', 'blur');
      form.append('callback_url', hook);
      form.append('file', new Blob([await readFile(testdata('images/dog.jpg'))]), 'dog.jpg');
      const res = await fetch(url('/api/v1/analyze'), { method: 'POST', body: form });
      expect(res.status).toBe(202);
      const { task_id: job } = (await res.json()) as { task_id: string };
      await waitFor('the first delivery attempt', async () => (arrivals.length >= 1 ? true : undefined));
      const killedAt = Date.now();
      await crashAndRestart();
      await waitFor('the retried delivery', async () => (arrivals.length >= 2 ? true : undefined), 60_000);
      // Same message (same webhook-id), retried no sooner than timeout + the schedule's first wait after the first try.
      expect(arrivals[1]!.id).toBe(arrivals[0]!.id);
      expect(arrivals[1]!.at - arrivals[0]!.at).toBeGreaterThanOrEqual(2000 + 3000 - 500);
      expect(arrivals[1]!.at - killedAt).toBeLessThan(30_000);
      const log = await waitFor('the delivery to be recorded as delivered', async () => {
        const d = (await (await fetch(url(`/api/v1/jobs/${job}/deliveries`))).json()) as { items: { status: string; attempts: { attempt: number; status_code: number | null; error: string | null }[] }[] };
        return d.items[0]?.status === 'DELIVERED' ? d.items[0] : undefined;
      });
      expect(log.attempts).toHaveLength(2);
      expect(log.attempts[0]).toMatchObject({ attempt: 1, status_code: null, error: expect.stringContaining('interrupted') });
      expect(log.attempts[1]).toMatchObject({ attempt: 2, status_code: 200, error: null });
    } finally {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });
});

/**
 * The scale-out mode on real parts: the machine's PostgreSQL, a Redis server of the suite's own, two `argus serve`
 * API processes and `argus worker` processes sharing one media directory — started, killed with SIGKILL and
 * replaced. What must hold: no lost or doubled work, cancellation on any instance, events and resume across
 * processes, webhooks sent once, shared rate limits, readiness, live uploads followed across processes, results as
 * in the embedded mode, and no accepted job lost when Redis restarts.
 */
import { readFile, mkdtemp, rm, unlink } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, runCli, startTestApp, testdata } from './helper.js';
import { startApiProcess, startRedis, startWorkerProcess, until, type Proc, type RedisServer } from './cluster.js';

type Job = { job_id: string; status: string; attempts: number; progress: { done: number; total: number }; items?: (Record<string, unknown> | null)[]; result: Record<string, unknown> | null; error: string | null };
type Event = { id: number; event: string; data: Record<string, unknown>; at: number };

describe('scale-out: API and worker processes on Redis and PostgreSQL', () => {
  let redis: RedisServer;
  let db: { url: string; drop: () => Promise<void> };
  let dir: string;
  let env: Record<string, string>;
  let apis: Proc[] = [];
  let workers: Proc[] = [];
  let key: string;

  beforeAll(async () => {
    redis = await startRedis();
    db = await freshPostgres();
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-scale-'));
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      ARGUS_DATA_DIR: dir,
      ARGUS_WARMUP: 'false',
      ARGUS_ALLOW_PRIVATE_URLS: 'true',
      ARGUS_RATE_LIMIT_PER_MINUTE: '0',
      ARGUS_JOB_MAX_ATTEMPTS: '2',
      // A dead worker's job is taken over within a few seconds here (30 s by default).
      ARGUS_QUEUE_LOCK_MS: '4000',
      ARGUS_QUEUE_STALLED_CHECK_MS: '2000',
      ARGUS_QUEUE_RECONCILE_MS: '3000',
      ARGUS_WEBHOOK_RETRY_SCHEDULE: '1500,1500',
      ARGUS_WEBHOOK_TIMEOUT_MS: '3000',
    };
    apis = [await startApiProcess(env)];
    key = JSON.parse(apis[0]!.lines.find((l) => l.includes('first admin API key'))!).api_key as string;
    apis.push(await startApiProcess(env));
    workers = [await startWorkerProcess(env), await startWorkerProcess(env)];
  });

  afterAll(async () => {
    for (const p of [...apis, ...workers]) p.proc.kill('SIGKILL');
    await Promise.all([...apis, ...workers].map((p) => p.exited));
    await redis?.stop();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const api = (i = 0): string => `http://127.0.0.1:${apis[i]!.port}/api/v1`;
  const headers = (): Record<string, string> => ({ 'x-api-key': key });
  const getJob = async (id: string, i = 0): Promise<Job> => (await (await fetch(`${api(i)}/jobs/${id}`, { headers: headers() })).json()) as Job;
  const ended = (id: string, ms = 180_000): Promise<Job> =>
    until(`job ${id} to end`, async () => {
      const j = await getJob(id);
      return ['SUCCESS', 'FAILED', 'CANCELLED'].includes(j.status) ? j : undefined;
    }, ms, 200);
  /** The worker process that logged starting this job most recently. */
  const runnerOf = (id: string): Proc | undefined => workers.filter((w) => w.proc.exitCode === null).find((w) => w.jobLines(id).some((l) => l.msg === 'job started') && !w.jobLines(id).some((l) => l.msg === 'job finished'));
  /** SIGKILLs a worker and starts a replacement, so two keep running. */
  const replace = async (w: Proc): Promise<void> => {
    w.proc.kill('SIGKILL');
    await w.exited;
    workers = workers.filter((x) => x !== w);
    workers.push(await startWorkerProcess(env));
  };
  const upload = async (file: string, name: string): Promise<string> => {
    const form = new FormData();
    form.append('file', new Blob([await readFile(testdata(file))]), name);
    const res = await fetch(`${api()}/media`, { method: 'POST', headers: headers(), body: form });
    return ((await res.json()) as { id: string }).id;
  };
  const analyze = async (body: Record<string, unknown>, i = 0): Promise<string> => {
    const res = await fetch(`${api(i)}/analyze`, { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBe(202);
    return ((await res.json()) as { task_id: string }).task_id;
  };
  const batchOf = async (n: number): Promise<string> => {
    const form = new FormData();
    const photos = ['dog.jpg', 'person_horse_dog.jpg', 'coco_000000000139.jpg', 'messi5.jpg'];
    for (let i = 0; i < n; i++) form.append('files', new Blob([await readFile(testdata(`images/${photos[i % photos.length]}`))]), `${i}.jpg`);
    const res = await fetch(`${api()}/detect/batch`, { method: 'POST', headers: headers(), body: form });
    expect(res.status).toBe(202);
    return ((await res.json()) as { job_id: string }).job_id;
  };

  it('refuses REDIS_URL without DATABASE_URL, and a worker without the scale-out mode, saying why', async () => {
    const serve = await runCli(['serve'], { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: '', ARGUS_DATA_DIR: dir });
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain('REDIS_URL needs DATABASE_URL');
    const worker = await runCli(['worker'], { REDIS_URL: '', DATABASE_URL: db.url, ARGUS_DATA_DIR: dir });
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain('argus worker needs REDIS_URL');
  });

  it('checks Redis in readiness; a worker answers its own health and metrics', async () => {
    const ready = (await (await fetch(`http://127.0.0.1:${apis[0]!.port}/health/ready`)).json()) as { status: string; checks: Record<string, { status: string }> };
    expect(ready.status).toBe('ok');
    expect(ready.checks.redis).toEqual({ status: 'ok' });
    const w = workers[0]!;
    expect((await (await fetch(`http://127.0.0.1:${w.port}/health/ready`)).json())).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' }, database: { status: 'ok' } } });
    const metrics = await (await fetch(`http://127.0.0.1:${w.port}/metrics`)).text();
    expect(metrics).toMatch(/argus_worker_active_jobs\{worker="[^"]+"\} 0/);
    expect(metrics).toContain('argus_queue_jobs{kind="video",state="waiting"}');
  });

  it('finishes a 40-image batch on another worker after its worker is SIGKILLed, keeping the items done before', async () => {
    const id = await batchOf(40);
    const doing = await until('the batch to be half-way', async () => {
      const j = await getJob(id);
      return j.progress.done >= 3 && runnerOf(id) ? j : undefined;
    });
    const before = await getJob(id);
    await replace(runnerOf(id)!);
    const done = await ended(id);
    expect(done.status).toBe('SUCCESS');
    expect(done.attempts).toBe(2);
    expect(done.items).toHaveLength(40);
    // What was done before the kill is kept as it was, not redone.
    before.items!.forEach((item, i) => {
      if (item) expect(done.items![i]).toEqual(item);
    });
    expect(doing.progress.done).toBeLessThan(40);
  });

  it('finishes a video job on another worker after its worker is SIGKILLed', async () => {
    const media = await upload('video/Megamind.avi', 'Megamind.avi');
    const id = await analyze({ media_id: media, tasks: ['detect'] });
    await until('the video to be under way', async () => ((await getJob(id)).progress.done >= 5 && runnerOf(id) ? true : undefined));
    await replace(runnerOf(id)!);
    const done = await ended(id);
    expect(done.status).toBe('SUCCESS');
    expect(done.attempts).toBe(2);
    expect((done.result as { tracks: unknown[] }).tracks.length).toBeGreaterThan(0);
  });

  it('fails a job whose workers die ARGUS_JOB_MAX_ATTEMPTS (2) times, with the reason', async () => {
    const media = await upload('video/Megamind.avi', 'Megamind.avi');
    const id = await analyze({ media_id: media, tasks: ['detect', 'blur'] });
    for (let kill = 0; kill < 2; kill++) {
      const attempt = kill + 1;
      const w = await until(`attempt ${attempt} to run`, async () => {
        const j = await getJob(id);
        return j.attempts === attempt && j.progress.done > 0 ? runnerOf(id) : undefined;
      });
      await replace(w);
    }
    const done = await ended(id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toMatch(/the worker stopped 2 time\(s\)/);
    const events = (await (await fetch(`${api()}/jobs/${id}/events`, { headers: headers() })).text()).trim().split('\n\n');
    expect(events.at(-1)).toContain('"status":"FAILED"');
  });

  it('cancels on any API instance a job running on a worker: ffmpeg stops, and no event follows', async () => {
    const media = await upload('video/Megamind.avi', 'Megamind.avi');
    const id = await analyze({ media_id: media, tasks: ['detect', 'faces'] });
    const w = await until('the video to be under way', async () => ((await getJob(id)).progress.done >= 3 ? runnerOf(id) : undefined));
    const res = await fetch(`${api(1)}/jobs/${id}`, { method: 'DELETE', headers: headers() });
    expect(((await res.json()) as Job).status).toBe('CANCELLED');
    const cancelledAt = Date.now();
    await until('the worker to stop the job', async () => (w.jobLines(id).some((l) => l.msg === 'job cancelled or taken over') ? true : undefined), 2000, 50);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    await new Promise((r) => setTimeout(r, 1500));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ type: string; data: { status?: string } }>('select type, data from job_events where job_id = $1 order by seq', [id]);
    await client.end();
    expect(rows.at(-1)).toMatchObject({ type: 'status', data: { status: 'CANCELLED' } });
    // No ffmpeg left running for it on the worker.
    const { execFileSync } = await import('node:child_process');
    let children = '';
    try {
      children = execFileSync('ps', ['-o', 'comm=', '--ppid', String(w.proc.pid)], { encoding: 'utf8' });
    } catch {
      // ps exits 1 when the worker has no children at all.
    }
    expect(children).not.toContain('ffmpeg');
  });

  it('streams a job a worker runs over SSE on another instance live (p95 under 250 ms from the write), and resumes on a third with Last-Event-ID', async () => {
    const media = await upload('video/Megamind.avi', 'Megamind.avi');
    const id = await analyze({ media_id: media, tasks: ['detect'] });
    const first = await readEvents(`${api(0)}/jobs/${id}/events`, headers(), 25);
    const resumed = await readEvents(`${api(1)}/jobs/${id}/events`, { ...headers(), 'last-event-id': String(first.at(-1)!.id) });
    const all = [...first, ...resumed];
    // No gaps, no duplicates: exactly the stored events, in order.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ seq: string; created_at: Date }>('select seq, created_at from job_events where job_id = $1 order by seq', [id]);
    await client.end();
    expect(all.map((e) => e.id)).toEqual(rows.map((r) => Number(r.seq)));
    expect(all.at(-1)!.data.status).toBe('SUCCESS');
    // Latency of the live part (events received after the stream had caught up with the stored ones).
    const written = new Map(rows.map((r) => [Number(r.seq), r.created_at.getTime()]));
    const live = first.slice(3).map((e) => e.at - written.get(e.id)!);
    live.sort((a, b) => a - b);
    const p95 = live[Math.floor(live.length * 0.95)]!;
    expect(live.length).toBeGreaterThan(10);
    expect(p95).toBeLessThan(250);
  });

  it('delivers a callback exactly once with two APIs and two workers, and retries a failing receiver on schedule', async () => {
    const hits: number[] = [];
    let fail = false;
    const receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits.push(Date.now());
        res.writeHead(fail && hits.length === 1 ? 500 : 200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const media = await upload('images/dog.jpg', 'dog.jpg');
      const once = await analyze({ media_id: media, tasks: ['blur'], callback_url: hook });
      await ended(once);
      await until('the callback', async () => (hits.length >= 1 ? true : undefined), 30_000);
      // Every process runs a delivery loop; give them all a few passes.
      await new Promise((r) => setTimeout(r, 7000));
      expect(hits).toHaveLength(1);

      hits.length = 0;
      fail = true;
      const retried = await analyze({ media_id: media, tasks: ['blur', 'detect'], callback_url: hook }, 1);
      await ended(retried);
      await until('the retry', async () => (hits.length >= 2 ? true : undefined), 30_000);
      expect(hits[1]! - hits[0]!).toBeGreaterThanOrEqual(1400);
      await new Promise((r) => setTimeout(r, 5000));
      expect(hits).toHaveLength(2);
    } finally {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });

  it('analyses a live upload on a worker while the API is still receiving it (following the file on the shared volume)', async () => {
    const avi = await readFile(testdata('video/Megamind.avi'));
    const boundary = 'liveboundary';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="tasks"\r\n\r\ndetect\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="live.avi"\r\ncontent-type: video/x-msvideo\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    let answered = 0;
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: apis[1]!.port, method: 'POST', path: '/api/v1/analyze', headers: { ...headers(), 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + avi.length + tail.length } },
        (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => {
            answered = Date.now();
            resolve({ status: r.statusCode!, body });
          });
        },
      );
      req.on('error', reject);
      req.write(head);
      // About 4 s for the whole file: slow enough that analysis must start before the upload ends.
      const chunk = Math.ceil(avi.length / 20);
      let at = 0;
      const pump = (): void => {
        if (at >= avi.length) {
          req.end(tail);
          return;
        }
        req.write(avi.subarray(at, at + chunk));
        at += chunk;
        setTimeout(pump, 200);
      };
      pump();
    });
    // The job appears as soon as the file starts; find it and watch its frames.
    const job = await until('the live job', async () => {
      const list = (await (await fetch(`${api()}/jobs?limit=5`, { headers: headers() })).json()) as { items: (Job & { inputs?: { uploading?: string }[] })[] };
      return list.items.find((j) => j.status !== 'SUCCESS' && JSON.stringify(j).includes('live.avi'));
    }, 20_000, 100);
    const firstFrameAt = await until('a frame', async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query<{ created_at: Date }>("select created_at from job_events where job_id = $1 and type = 'frame' order by seq limit 1", [job.job_id]);
      await client.end();
      return rows[0]?.created_at.getTime();
    }, 60_000, 100);
    const done = await answer;
    expect(done.status).toBe(202);
    expect(firstFrameAt).toBeLessThan(answered);
    const finished = await ended(job.job_id);
    expect(finished.status).toBe('SUCCESS');
    expect((finished.result as { media_id: string }).media_id).toBe((JSON.parse(done.body) as { media_id: string }).media_id);
  });

  it('shares rate limits across API instances through Redis', async () => {
    // Two more API processes with a limit, on the same Redis: N per minute in all, not N per instance.
    const limited = { ...env, ARGUS_RATE_LIMIT_PER_MINUTE: '30' };
    const pair = [await startApiProcess(limited), await startApiProcess(limited)];
    try {
      const codes: number[] = [];
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`http://127.0.0.1:${pair[i % 2]!.port}/api/v1/media?limit=1`, { headers: headers() });
        await res.arrayBuffer();
        codes.push(res.status);
      }
      expect(codes.filter((c) => c === 200)).toHaveLength(30);
      expect(codes.filter((c) => c === 429)).toHaveLength(20);
    } finally {
      for (const p of pair) p.proc.kill('SIGTERM');
      await Promise.all(pair.map((p) => p.exited));
    }
  });

  it('fails a job whose file is missing from the volume with the reason', async () => {
    const media = await upload('images/HappyFish.jpg', 'fish.jpg');
    const record = (await (await fetch(`${api()}/media/${media}`, { headers: headers() })).json()) as { sha256: string };
    await unlink(path.join(dir, 'images', `${record.sha256}.jpg`));
    const id = await analyze({ media_id: media, tasks: ['detect'] });
    const done = await ended(id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toContain('missing from this process');
  });

  it('runs every kind of job on the workers: by URL (image and video), and blur, faces and bibs batches', async () => {
    const files = new Map([
      ['/dog.jpg', await readFile(testdata('images/dog.jpg'))],
      ['/clip.avi', await readFile(testdata('video/Megamind.avi'))],
    ]);
    const server = http.createServer((req, res) => {
      const body = files.get(req.url ?? '');
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ids = [await analyze({ image_url: `${origin}/dog.jpg`, tasks: ['detect'] }), await analyze({ video_url: `${origin}/clip.avi`, tasks: ['detect'] }, 1)];
      for (const [route, extra] of [
        ['/blur/detect/batch', {}],
        ['/faces/search/batch', { operation: 'detect' }],
        ['/bibs/recognize/batch', {}],
      ] as const) {
        const form = new FormData();
        for (const [k, v] of Object.entries(extra)) form.append(k, v);
        form.append('files', new Blob([await readFile(testdata('images/messi5.jpg'))]), 'm.jpg');
        const res = await fetch(`${api()}${route}`, { method: 'POST', headers: headers(), body: form });
        expect(res.status).toBe(202);
        ids.push(((await res.json()) as { job_id: string }).job_id);
      }
      for (const id of ids) {
        const done = await ended(id);
        expect(done.status, JSON.stringify(done.error)).toBe('SUCCESS');
        // Run by a worker process, not by either API. The worker logs after it writes the status, so its line may
        // reach our pipe a moment after the job reads as ended.
        await until('a worker to log the job finished', async () => (workers.some((w) => w.jobLines(id).some((l) => l.msg === 'job finished')) ? true : undefined), 10_000, 50);
        expect(apis.some((a) => a.jobLines(id).some((l) => l.msg === 'job started'))).toBe(false);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses bad input as the embedded mode does, leaving nothing behind', async () => {
    const form = new FormData();
    form.append('file', new Blob([await readFile(testdata('images/dog.jpg'))]), 'dog2.jpg');
    form.append('tasks', 'bogus');
    const before = (await (await fetch(`${api()}/media`, { headers: headers() })).json()) as { total: number };
    const res = await fetch(`${api(1)}/analyze`, { method: 'POST', headers: headers(), body: form });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_ERROR');
    expect(((await (await fetch(`${api()}/media`, { headers: headers() })).json()) as { total: number }).total).toBe(before.total);
  });

  it('gives the same results as the embedded mode for a video and a batch', async () => {
    const media = await upload('video/Megamind.avi', 'Megamind.avi');
    const video = await ended(await analyze({ media_id: media, tasks: ['detect'] }));
    const batch = await ended(await batchOf(4));
    const embedded = await startTestApp('pglite');
    try {
      const k = await embedded.keyFor('same');
      const up = await embedded.app.inject({ method: 'POST', url: '/api/v1/media', payload: await formPayload([['file', await readFile(testdata('video/Megamind.avi')), 'Megamind.avi']]), headers: { ...(await formHeaders()), 'x-api-key': k } });
      const localVideo = await runEmbedded(embedded, k, { media_id: up.json<{ id: string }>().id, tasks: ['detect'] });
      const tracks = (j: Job): unknown => (j.result as { tracks: { label: string; first_frame: number; last_frame: number; hits: number }[] }).tracks.map((t) => [t.label, t.first_frame, t.last_frame, t.hits]);
      expect(tracks(video)).toEqual(tracks(localVideo));
      type Frames = { items: { index: number; detections: { label: string; box: Record<string, number> }[] }[] };
      const framesUrl = (j: Job): string => `${(j.result as { frames_url: string }).frames_url}?limit=1000`;
      const frames = (page: Frames): unknown => page.items.map((f) => [f.index, f.detections.map((d) => [d.label, Math.round(d.box.x1!), Math.round(d.box.y2!)])]);
      const scaledOut = (await (await fetch(new URL(framesUrl(video), api()), { headers: headers() })).json()) as Frames;
      const local = (await embedded.app.inject({ url: framesUrl(localVideo), headers: { 'x-api-key': k } })).json<Frames>();
      expect(scaledOut.items).toHaveLength(68);
      expect(frames(scaledOut)).toEqual(frames(local));
      const photos = ['dog.jpg', 'person_horse_dog.jpg', 'coco_000000000139.jpg', 'messi5.jpg'];
      const batchBody = await formPayload(await Promise.all(photos.map(async (p, i) => ['files', await readFile(testdata(`images/${p}`)), `${i}.jpg`] as [string, Buffer, string])));
      const submitted = await embedded.app.inject({ method: 'POST', url: '/api/v1/detect/batch', payload: batchBody, headers: { ...(await formHeaders()), 'x-api-key': k } });
      const localBatch = await waitEmbedded(embedded, k, submitted.json<{ job_id: string }>().job_id);
      const labels = (j: Job): unknown => j.items!.map((i) => ((i as { detect: { detections: { label: string }[] } }).detect.detections.map((d) => d.label)));
      expect(labels(batch)).toEqual(labels(localBatch));
    } finally {
      await embedded.close();
    }
  });

  it('loses no accepted job when Redis restarts (its queue is gone): clients get 202 or 503, never 500', async () => {
    const media = await upload('images/dog.jpg', 'dog.jpg');
    const accepted: string[] = [];
    const statuses: number[] = [];
    const submit = async (): Promise<void> => {
      const res = await fetch(`${api(accepted.length % 2)}/analyze`, { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify({ media_id: media, tasks: ['detect', 'blur'] }) }).catch(() => null);
      statuses.push(res?.status ?? 0);
      if (res?.status === 202) accepted.push(((await res.json()) as { task_id: string }).task_id);
      else await res?.arrayBuffer();
    };
    for (let i = 0; i < 6; i++) await submit();
    const restarting = redis.restart(1500);
    const during = (async () => {
      for (let i = 0; i < 10; i++) {
        await submit();
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    await Promise.all([restarting, during]);
    for (let i = 0; i < 6; i++) await submit();
    expect(statuses.filter((s) => s !== 202 && s !== 503)).toEqual([]);
    expect(accepted.length).toBeGreaterThanOrEqual(12);
    for (const id of accepted) expect((await ended(id, 240_000)).status).toBe('SUCCESS');
  });
});

/** Reads an SSE stream until it closes (or `max` events); each event with the time it arrived. */
async function readEvents(url: string, headers: Record<string, string>, max = Infinity): Promise<Event[]> {
  const res = await fetch(url, { headers });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  const events: Event[] = [];
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += new TextDecoder().decode(value);
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!block.includes('data:')) continue;
      const field = (name: string): string => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      events.push({ id: Number(field('id')), event: field('event'), data: JSON.parse(field('data')) as Record<string, unknown>, at: Date.now() });
    }
    if (events.length >= max) {
      await reader.cancel();
      break;
    }
  }
  return events;
}

let boundary = '';
/** A multipart body of files for app.inject. */
async function formPayload(files: [string, Buffer, string][]): Promise<Buffer> {
  const form = new FormData();
  for (const [field, data, name] of files) form.append(field, new Blob([data]), name);
  const res = new Response(form);
  boundary = res.headers.get('content-type')!;
  return Buffer.from(await res.arrayBuffer());
}
async function formHeaders(): Promise<Record<string, string>> {
  return { 'content-type': boundary };
}

async function runEmbedded(t: Awaited<ReturnType<typeof startTestApp>>, key: string, body: Record<string, unknown>): Promise<Job> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: body, headers: { 'x-api-key': key } });
  return waitEmbedded(t, key, res.json<{ task_id: string }>().task_id);
}

async function waitEmbedded(t: Awaited<ReturnType<typeof startTestApp>>, key: string, id: string): Promise<Job> {
  return until('the embedded job', async () => {
    const j = (await t.app.inject({ url: `/api/v1/jobs/${id}`, headers: { 'x-api-key': key } })).json<Job>();
    return ['SUCCESS', 'FAILED'].includes(j.status) ? j : undefined;
  }, 180_000, 200);
}

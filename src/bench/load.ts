/**
 * `npm run bench -- load [seconds] [concurrency]` (and `load --soak [minutes]`): a bounded mixed load on loopback
 * against a real `argus serve` process — images to /detect, /blur/detect and /faces/search, jobs submitted to
 * /analyze and watched to their end over SSE, and polling of /jobs — reporting throughput, latency percentiles per
 * kind of request, the error rate (every answer that is not 2xx or 429 is an error), and the server's RSS and open
 * file descriptors at the start, at the end of the load and after a minute of rest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SHARED = fileURLToPath(new URL('../../../shared/testdata/', import.meta.url));

interface Op {
  readonly name: string;
  readonly weight: number;
  run(): Promise<number>;
}

/** Percentile of sorted numbers. */
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function procStatus(pid: number): Promise<{ rss: number; fds: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const fds = (await readdir(`/proc/${pid}/fd`)).length;
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024, fds };
}

/** Starts `argus serve` on a fresh data directory; resolves with its port and first admin key. */
async function startServer(dir: string, env: Record<string, string>): Promise<{ proc: ChildProcess; port: number; key: string }> {
  const port = 30_000 + Math.floor(Math.random() * 10_000);
  const bin = fileURLToPath(new URL('../../bin/argus.js', import.meta.url));
  const proc = spawn(process.execPath, [bin, 'serve'], {
    // As `npm start` runs it: two malloc arenas (glibc otherwise keeps one per allocating thread, and their freed
    // memory with them: measured here, 786 -> 882 MiB over a minute of load and no return at rest, vs 676 -> 767 -> 737).
    env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', PORT: String(port), HOST: '127.0.0.1', ARGUS_DATA_DIR: dir, ARGUS_RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; ; i++) {
    const key = /"api_key":"(argus_[^"]+)"/.exec(out)?.[1];
    if (key) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).ok) return { proc, port, key };
      } catch {
        // not listening yet
      }
    }
    if (i > 1200 || proc.exitCode !== null) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs the load and prints its figures. */
export async function benchLoad(seconds: number, concurrency: number, label = 'load'): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'argus-load-'));
  const { proc, port, key } = await startServer(dir, {});
  const base = `http://127.0.0.1:${port}/api/v1`;
  const headers = { 'x-api-key': key };
  try {
    const images = await Promise.all(['messi5.jpg', 'dog.jpg', 'person_horse_dog.jpg', 'coco_000000000139.jpg'].map((f) => readFile(path.join(SHARED, 'images', f))));
    const selfies = await Promise.all([1, 2, 3].map((n) => readFile(path.join(SHARED, 'faces', `person0${n}_ref_02.jpg`))));
    const form = (fields: Record<string, string | Buffer>): FormData => {
      const f = new FormData();
      for (const [k, v] of Object.entries(fields)) {
        if (typeof v === 'string') f.append(k, v);
        else f.append(k, new Blob([v]), `${k}.jpg`);
      }
      return f;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
    // A gallery to search.
    for (const n of [1, 2, 3]) {
      const res = await fetch(`${base}/faces/enroll`, { method: 'POST', headers, body: form({ person_name: `person ${n}`, collection: 'bench', file: await readFile(path.join(SHARED, 'faces', `person0${n}_ref_01.jpg`)) }) });
      if (!res.ok) throw new Error(`enroll failed: ${res.status} ${await res.text()}`);
    }
    const recentJobs: string[] = [];
    const post = async (url: string, body: FormData): Promise<number> => {
      const res = await fetch(url, { method: 'POST', headers, body });
      await res.arrayBuffer();
      return res.status;
    };
    const ops: Op[] = [
      { name: 'POST /detect', weight: 35, run: () => post(`${base}/detect`, form({ file: pick(images) })) },
      { name: 'POST /blur/detect', weight: 25, run: () => post(`${base}/blur/detect`, form({ file: pick(images) })) },
      { name: 'POST /faces/search', weight: 15, run: () => post(`${base}/faces/search`, form({ collection: 'bench', file: pick(selfies) })) },
      {
        name: 'POST /analyze + SSE to the end',
        weight: 15,
        run: async () => {
          const res = await fetch(`${base}/analyze`, { method: 'POST', headers, body: form({ tasks: 'detect,blur', file: pick(images) }) });
          if (res.status !== 202) {
            await res.arrayBuffer();
            return res.status;
          }
          const { task_id: id } = (await res.json()) as { task_id: string };
          recentJobs.push(id);
          if (recentJobs.length > 50) recentJobs.shift();
          const events = await fetch(`${base}/jobs/${id}/events`, { headers });
          const text = await events.text();
          return text.includes('"status":"SUCCESS"') ? events.status : 599;
        },
      },
      {
        name: 'GET /jobs (poll)',
        weight: 10,
        run: async () => {
          const url = recentJobs.length > 0 && Math.random() < 0.7 ? `${base}/jobs/${pick(recentJobs)}` : `${base}/jobs?limit=20`;
          const res = await fetch(url, { headers });
          await res.arrayBuffer();
          return res.status;
        },
      },
    ];
    const total = ops.reduce((n, o) => n + o.weight, 0);
    const choose = (): Op => {
      let r = Math.random() * total;
      for (const o of ops) if ((r -= o.weight) < 0) return o;
      return ops[0] as Op;
    };

    // Warm up (first inference per model, allocator growth), then measure from a settled start.
    const warmEnd = Date.now() + 10_000;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < warmEnd) await choose().run().catch(() => 0);
    }));
    await new Promise((r) => setTimeout(r, 3000));
    const start = await procStatus(proc.pid!);
    let peak = start.rss;
    const sampler = setInterval(() => void procStatus(proc.pid!).then((s) => (peak = Math.max(peak, s.rss)), () => undefined), 1000);

    const latencies = new Map<string, number[]>(ops.map((o) => [o.name, []]));
    const statuses = new Map<string, Map<number, number>>(ops.map((o) => [o.name, new Map()]));
    const t0 = performance.now();
    const end = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const op = choose();
        const s0 = performance.now();
        const status = await op.run().catch(() => 0);
        latencies.get(op.name)!.push(performance.now() - s0);
        const m = statuses.get(op.name)!;
        m.set(status, (m.get(status) ?? 0) + 1);
      }
    }));
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const after = await procStatus(proc.pid!);
    await new Promise((r) => setTimeout(r, 60_000));
    const rested = await procStatus(proc.pid!);

    let requests = 0;
    let errors = 0;
    let limited = 0;
    console.log(`\n${label}: ${seconds} s at concurrency ${concurrency} on loopback (2 cores shared by client and server)\n`);
    console.log('request                         count    req/s   p50 ms   p95 ms   p99 ms   statuses');
    for (const op of ops) {
      const l = latencies.get(op.name)!.sort((a, b) => a - b);
      const st = statuses.get(op.name)!;
      requests += l.length;
      for (const [code, n] of st) {
        if (code === 429) limited += n;
        else if (code < 200 || code >= 300) errors += n;
      }
      const codes = [...st].map(([c, n]) => `${c}x${n}`).join(' ');
      console.log(
        `${op.name.padEnd(30)} ${String(l.length).padStart(6)} ${(l.length / elapsed).toFixed(1).padStart(8)} ${pct(l, 50).toFixed(0).padStart(8)} ${pct(l, 95).toFixed(0).padStart(8)} ${pct(l, 99).toFixed(0).padStart(8)}   ${codes}`,
      );
    }
    const mib = (b: number): string => `${(b / 1024 ** 2).toFixed(0)} MiB`;
    console.log(`\nall: ${requests} requests, ${(requests / elapsed).toFixed(1)} req/s, ${errors} errors (not 2xx/429), ${limited} x 429`);
    console.log(`server RSS: ${mib(start.rss)} at the start, peak ${mib(peak)}, ${mib(after.rss)} at the end, ${mib(rested.rss)} after 60 s of rest (end/start ${(after.rss / start.rss).toFixed(2)})`);
    console.log(`server open file descriptors: ${start.fds} at the start, ${after.fds} at the end, ${rested.fds} after rest`);
    if (errors > 0) process.exitCode = 1;
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

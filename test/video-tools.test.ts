/**
 * Video with no system ffmpeg: `npm ci` installs ffmpeg and ffprobe inside npm packages, and a server whose PATH has
 * no ffmpeg uses them (and says so in /health/ready); with none at all, readiness and the log say why and a video
 * job fails with that reason instead of being accepted silently.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findVideoTools } from '../src/adapters/media/ffmpeg/index.js';
import { startServer, testdata, type Server } from './helper.js';

type Health = { capabilities: { video: { status: string; detail: string } } };

async function analyseVideo(port: number): Promise<{ status: string; error: string | null; progress: { done: number } }> {
  const form = new FormData();
  form.append('tasks', 'detect');
  form.append('file', new Blob([await readFile(testdata('video/Megamind.avi'))]), 'Megamind.mp4');
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/analyze`, { method: 'POST', body: form });
  expect(res.status).toBe(202);
  const { task_id: id } = (await res.json()) as { task_id: string };
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/jobs/${id}`);
    // Any answer but 200 ends the wait with what it said (a 500 must fail the test, not spin until its timeout).
    if (res.status !== 200) throw new Error(`GET /jobs/${id} answered ${res.status}: ${await res.text()}`);
    const job = (await res.json()) as { status: string; error: string | null; progress: { done: number } };
    if (job.status === 'SUCCESS' || job.status === 'FAILED') return job;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('video tools', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-tools-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds the packaged ffmpeg and ffprobe, and prefers the system ones only when at least as new', async () => {
    const found = await findVideoTools();
    expect(found.ok).toBe(true);
    if (!found.ok) return;
    const packaged = await findVideoTools({ ffmpeg: (await import('@ffmpeg-installer/ffmpeg')).default.path, ffprobe: (await import('@ffprobe-installer/ffprobe')).default.path });
    expect(packaged.ok).toBe(true);
    if (!packaged.ok) return;
    // Debian's 5.1 (libavcodec 59.37) beats the packaged 2018 ffmpeg (58.x); the packaged ffprobe (60.x) beats Debian's.
    expect(found.tools.ffmpeg.libavcodec).toBeGreaterThanOrEqual(packaged.tools.ffmpeg.libavcodec);
    expect(found.tools.ffprobe.libavcodec).toBeGreaterThanOrEqual(packaged.tools.ffprobe.libavcodec);
  });

  describe('a server whose PATH has no ffmpeg', () => {
    let server: Server;
    beforeAll(async () => {
      server = await startServer({ ARGUS_DATA_DIR: path.join(dir, 'a'), ARGUS_AUTH: 'off', LOG_LEVEL: 'info', ARGUS_WARMUP: 'false', PATH: path.join(dir, 'empty-bin') });
    });
    afterAll(async () => {
      server.proc.kill('SIGTERM');
      await server.exited;
    });

    it('analyses video with the ffmpeg shipped in npm packages, and says which in /health/ready', async () => {
      const health = (await (await fetch(`http://127.0.0.1:${server.port}/health/ready`)).json()) as Health;
      expect(health.capabilities.video.status).toBe('ok');
      expect(health.capabilities.video.detail).toContain('packaged');
      const job = await analyseVideo(server.port);
      expect(job.status).toBe('SUCCESS');
      expect(job.progress.done).toBeGreaterThan(50);
    });
  });

  describe('a server with no working ffmpeg at all', () => {
    let server: Server;
    beforeAll(async () => {
      server = await startServer({ ARGUS_DATA_DIR: path.join(dir, 'b'), ARGUS_AUTH: 'off', LOG_LEVEL: 'info', ARGUS_WARMUP: 'false', ARGUS_FFMPEG_PATH: '/nonexistent/ffmpeg' });
    });
    afterAll(async () => {
      server.proc.kill('SIGTERM');
      await server.exited;
    });

    it('says so in the log and in /health/ready, and fails a video job with the reason', async () => {
      expect(server.lines.some((l) => l.includes('video analysis unavailable'))).toBe(true);
      const health = (await (await fetch(`http://127.0.0.1:${server.port}/health/ready`)).json()) as Health & { status: string };
      expect(health.status).toBe('ok');
      expect(health.capabilities.video).toMatchObject({ status: 'unavailable', detail: expect.stringContaining('no working ffmpeg') });
      const job = await analyseVideo(server.port);
      expect(job.status).toBe('FAILED');
      expect(job.error).toContain('no working ffmpeg');
    });
  });
});

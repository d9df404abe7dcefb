/** `argus analyze` against a running server: upload, live progress over SSE, results on stdout. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startTestApp, testdata, type TestApp } from './helper.js';

describe('argus analyze', () => {
  let t: TestApp;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    env = { ARGUS_SERVER: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, ARGUS_API_KEY: await t.keyFor('cli-user') };
  });
  afterAll(() => t.close());

  it('analyses a photo and prints the detections', async () => {
    const run = await runCli(['analyze', testdata('images/person_horse_dog.jpg'), '--tasks', 'detect,blur'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/task [0-9a-f-]{36} queued/);
    const result = JSON.parse(run.stdout) as { status: string; result: { items: { detect: { detections: { label: string }[] }; blur: { is_blurry: boolean } }[] } };
    expect(result.status).toBe('SUCCESS');
    expect(result.result.items[0]!.detect.detections.map((d) => d.label)).toEqual(expect.arrayContaining(['person', 'horse', 'dog']));
    expect(result.result.items[0]!.blur.is_blurry).toBe(false);
  });

  it('follows a video live with --watch', async () => {
    const run = await runCli(['analyze', testdata('video/Megamind.avi'), '--watch'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/frame 0 @ 0\.\d\ds: /);
    expect(run.stderr).toMatch(/frame 268 @ 11\.\d\ds: /);
    expect(run.stderr).toContain('analysing [');
    const result = JSON.parse(run.stdout) as { status: string; result: { frames_analysed: number; frames_url: string; tracks: unknown[] } };
    expect(result.status).toBe('SUCCESS');
    // The result is the summary; the frames are behind frames_url (and were printed live above).
    expect(result.result).not.toHaveProperty('frames');
    expect(result.result.frames_analysed).toBe(68);
    expect(result.result.frames_url).toMatch(/^\/api\/v1\/jobs\/[0-9a-f-]{36}\/frames$/);
  });

  it('reports a refused job and a missing file with exit code 1', async () => {
    const bad = await runCli(['analyze', testdata('images/dog.jpg'), '--tasks', 'dance'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('VALIDATION_ERROR');
    const missing = await runCli(['analyze', '/nonexistent/photo.jpg'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
  });
});

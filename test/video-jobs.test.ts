import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaStatus } from '../src/domain/media-status.js';
import { multipart, startTestApp, testdata, type TestApp } from './helper.js';

type Frame = { index: number; timestamp: number; detections: { label: string; box: { x1: number; x2: number }; track_id: number | null }[] };
type Track = { track_id: number; label: string; first_time: number; last_time: number; hits: number; best_frame: { index: number }; path: { index: number }[] };
type FramesPage<F = Frame> = { job_id: string; items: F[]; limit: number; next_after: number | null; next: string | null };
/** The summary every video result keeps instead of a per-frame array. */
type Summary = { frames_analysed: number; frames_url: string; frames?: unknown };

describe('video jobs (seed 000)', () => {
  let t: TestApp;
  let key: string;
  let base: string;
  let dir: string;
  beforeAll(async () => {
    t = await startTestApp('pglite');
    key = await t.keyFor('director');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-video-'));
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Every frame behind `url` (a frames_url), page by page; the pages' sizes too. */
  async function allFrames<F = Frame>(url: string, limit?: number): Promise<{ frames: F[]; pages: number[] }> {
    const frames: F[] = [];
    const pages: number[] = [];
    let next: string | null = limit === undefined ? url : `${url}?limit=${limit}`;
    while (next) {
      const res: { statusCode: number; body: string } = await t.app.inject({ url: next, headers: { 'x-api-key': key } });
      expect(res.statusCode, res.body).toBe(200);
      const page = JSON.parse(res.body) as FramesPage<F>;
      frames.push(...page.items);
      pages.push(page.items.length);
      expect(pages.length).toBeLessThan(1000);
      next = page.next;
    }
    return { frames, pages };
  }

  /** The task's view once it has ended (polled every 200 ms). */
  async function ended<R extends { status: string }>(id: string): Promise<R> {
    for (;;) {
      await new Promise((ok) => setTimeout(ok, 200));
      const r = (await t.app.inject({ url: `/api/v1/results/${id}`, headers: { 'x-api-key': key } })).json<R>();
      if (r.status !== 'PENDING' && r.status !== 'PROCESSING') return r;
    }
  }

  async function upload(data: Buffer, filename: string, fields: Record<string, string> = {}): Promise<{ task_id: string; media_id: string }> {
    const body = await multipart({ ...fields, file: { data, filename } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
    expect(res.statusCode, res.body).toBe(202);
    return res.json();
  }

  it('analyses Megamind.avi: per-frame detections with times, tracks, and live frame events before the end', async () => {
    const { task_id: id, media_id: mediaId } = await upload(await readFile(testdata('video/Megamind.avi')), 'Megamind.avi', { tasks: 'detect,blur' });

    // Read the SSE stream as it arrives, noting which events came before the final status.
    const res = await fetch(`${base}/api/v1/jobs/${id}/events`, { headers: { 'x-api-key': key } });
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    const events = text.split('\n\n').filter((b) => b.includes('event: ')).map((b) => b.match(/event: (\w+)/)?.[1]);
    const end = events.lastIndexOf('status');
    expect(events.indexOf('frame')).toBeGreaterThan(-1);
    expect(events.indexOf('frame')).toBeLessThan(end);
    expect(events.filter((e) => e === 'frame')).toHaveLength(68);
    expect(text).toContain('"status":"SUCCESS"');

    const result = (await t.app.inject({ url: `/api/v1/results/${id}`, headers: { 'x-api-key': key } })).json<{
      status: string;
      result: Summary & { video: { width: number; height: number; frame_count: number }; tracks: Track[]; sampling: { analysed_frames: number }; blur: { blurry_frames: number; sharpest_frame: { index: number } } };
    }>();
    expect(result.status).toBe('SUCCESS');
    const r = result.result;
    expect(r.video).toMatchObject({ width: 720, height: 528, frame_count: 270 });
    // The result is the summary: the frames are behind frames_url, paged.
    expect(r).not.toHaveProperty('frames');
    expect(r.frames_analysed).toBe(68);
    expect(r.sampling.analysed_frames).toBe(68);
    expect(r.frames_url).toBe(`/api/v1/jobs/${id}/frames`);
    const { frames, pages } = await allFrames<Frame & { blur: { laplacian_variance: number; is_blurry: boolean } }>(r.frames_url, 25);
    expect(pages).toEqual([25, 25, 18]);
    // Every 4th frame of 270 (the default frame_period_recognition), each exactly once, in order.
    expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 68 }, (_, i) => i * 4));
    for (const f of frames) expect(f.timestamp).toBeCloseTo(f.index / 23.976, 1);
    // Every analysed frame has its blur measure (the clip opens on black frames, whose variance is 0).
    expect(frames.every((f) => typeof f.blur.laplacian_variance === 'number')).toBe(true);
    expect(frames.filter((f) => f.blur.laplacian_variance > 0).length).toBeGreaterThan(50);
    expect(r.blur.blurry_frames).toBe(frames.filter((f) => f.blur.is_blurry).length);
    expect(r.blur.sharpest_frame.index).toBe(frames.reduce((a, b) => (b.blur.laplacian_variance > a.blur.laplacian_variance ? b : a)).index);
    // The default page (100) holds them all; the SSE frame events showed the same frames.
    expect((await allFrames(r.frames_url)).pages).toEqual([68]);
    const streamed = text
      .split('\n\n')
      .filter((b) => b.includes('event: frame\n'))
      .map((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6)) as unknown);
    expect(frames).toEqual(streamed);
    const job = (await t.app.inject({ url: `/api/v1/jobs/${id}`, headers: { 'x-api-key': key } })).json<{ result: Summary }>();
    expect(job.result).not.toHaveProperty('frames');
    expect(job.result.frames_url).toBe(r.frames_url);
    // Cartoon characters: the detector sees persons, and the tracker links them over many frames.
    const persons = r.tracks.filter((tr) => tr.label === 'person');
    expect(persons.length).toBeGreaterThan(0);
    const longest = persons.reduce((a, b) => (b.hits > a.hits ? b : a));
    expect(longest.hits).toBeGreaterThanOrEqual(5);
    expect(longest.last_time).toBeGreaterThan(longest.first_time);
    expect(longest.path.map((p) => p.index)).toContain(longest.best_frame.index);
    const tagged = frames.flatMap((f) => f.detections).filter((d) => d.track_id === longest.track_id);
    // Hits also count low-confidence detections that only extend the track (they are not reported per frame).
    expect(tagged.length).toBeGreaterThan(longest.hits / 2);
    for (const d of frames.flatMap((f) => f.detections)) expect(d.box.x2).toBeLessThanOrEqual(720);

    // A time range gives exactly the frames within it (bounds included), paged the same way.
    const inRange = frames.filter((f) => f.timestamp >= 2 && f.timestamp <= 5.5);
    const ranged = await allFrames(`${r.frames_url}?from=2&to=5.5&limit=10`);
    expect(ranged.frames.map((f) => f.index)).toEqual(inRange.map((f) => f.index));
    expect(ranged.pages).toEqual([10, 10, inRange.length - 20]);
    const page = (await t.app.inject({ url: `${r.frames_url}?from=2&to=5.5&limit=10`, headers: { 'x-api-key': key } })).json<FramesPage>();
    expect(page.next_after).toBe(page.items.at(-1)!.index);
    expect(page.next).toBe(`${r.frames_url}?from=2&to=5.5&limit=10&after=${page.next_after}`);
    const tail = (await t.app.inject({ url: `${r.frames_url}?from=10`, headers: { 'x-api-key': key } })).json<FramesPage>();
    expect(tail.items.map((f) => f.index)).toEqual(frames.filter((f) => f.timestamp >= 10).map((f) => f.index));
    expect(tail).toMatchObject({ limit: 100, next_after: null, next: null });
    const none = (await t.app.inject({ url: `${r.frames_url}?from=500`, headers: { 'x-api-key': key } })).json<FramesPage>();
    expect(none.items).toEqual([]);

    // Another owner's job does not exist for them; bad paging is refused.
    const stranger = await t.keyFor('stranger');
    const hidden = await t.app.inject({ url: r.frames_url, headers: { 'x-api-key': stranger } });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
    for (const q of ['limit=0', 'limit=1001', 'limit=-5', 'limit=ten', 'after=-1', 'from=-1', 'to=x', 'from=5&to=2', 'page=2']) {
      const bad = await t.app.inject({ url: `${r.frames_url}?${q}`, headers: { 'x-api-key': key } });
      expect(bad.statusCode, q).toBe(422);
      expect(bad.json<{ error: { code: string } }>().error.code, q).toBe('VALIDATION_ERROR');
    }
    expect((await t.app.inject({ url: `${r.frames_url}?limit=1000`, headers: { 'x-api-key': key } })).json<FramesPage>().items).toHaveLength(68);
    expect((await t.app.inject({ url: `${r.frames_url}?limit=1`, headers: { 'x-api-key': key } })).json<FramesPage>().items).toHaveLength(1);

    const media = (await t.app.inject({ url: `/api/v1/media/${mediaId}`, headers: { 'x-api-key': key } })).json<{ kind: string; status: number }>();
    expect(media).toMatchObject({ kind: 'video', status: MediaStatus.AIProcessed });
  });

  it('starts analysing an upload before it ends (the same bytes go to disk and to ffmpeg)', async () => {
    const avi = await readFile(testdata('video/Megamind.avi'));
    const boundary = 'argus-live-test';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="tasks"\r\n\r\ndetect\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="live.avi"\r\nContent-Type: video/x-msvideo\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    let uploadDone = false;
    const seenDuringUpload: { done: number; total: number | null; percent: number | null }[] = [];
    const chunk = 64 * 1024;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(head);
        for (let i = 0; i < avi.length; i += chunk) {
          controller.enqueue(avi.subarray(i, i + chunk));
          // Send the clip over ~6 s, and look at the jobs while it is still arriving.
          await new Promise((r) => setTimeout(r, 6000 / Math.ceil(avi.length / chunk)));
          const jobs = (await t.app.inject({ url: '/api/v1/jobs?status=PROCESSING', headers: { 'x-api-key': key } })).json<{
            items: { inputs: { uploading?: string }[]; progress: { done: number; total: number | null; percent: number | null } }[];
          }>();
          const live = jobs.items.find((j) => j.inputs[0]?.uploading === 'live.avi');
          if (live) seenDuringUpload.push(live.progress);
        }
        controller.enqueue(tail);
        uploadDone = true;
        controller.close();
      },
    });
    const res = await fetch(`${base}/api/v1/analyze`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    });
    expect(uploadDone).toBe(true);
    expect(res.status).toBe(202);
    const { task_id: id, media_id: mediaId } = (await res.json()) as { task_id: string; media_id: string };
    // Frames were analysed while the upload was still coming in; how many there will be was not known yet, so the
    // job said what it had done and no total or percentage.
    expect(Math.max(0, ...seenDuringUpload.map((p) => p.done))).toBeGreaterThan(0);
    for (const p of seenDuringUpload) expect(p).toMatchObject({ total: null, percent: null });
    const r = await ended<{ status: string; result: (Summary & { media_id: string; video: { frame_count: number } }) | null }>(id);
    expect(r.status).toBe('SUCCESS');
    expect(r.result!.media_id).toBe(mediaId);
    expect(r.result!.frames_analysed).toBe(68);
    expect((await allFrames(r.result!.frames_url)).frames.map((f) => f.index)).toEqual(Array.from({ length: 68 }, (_, i) => i * 4));
    expect(r.result!.video.frame_count).toBe(270);
    // Progress events: no total while it was unknown, the bytes that had arrived, and done = total at the end.
    const text = await (await fetch(`${base}/api/v1/jobs/${id}/events`, { headers: { 'x-api-key': key } })).text();
    const progress = text
      .split('\n\n')
      .filter((b) => b.includes('event: progress'))
      .map((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6).split('\n')[0]!) as { done: number; total: number | null; bytes_received?: number });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]!.total).toBeNull();
    expect(progress.at(-1)).toMatchObject({ done: 68, total: 68 });
    const received = progress.map((p) => p.bytes_received ?? -1);
    expect(received.every((b, i) => b > 0 && b <= avi.length && (i === 0 || b >= received[i - 1]!))).toBe(true);
    for (const p of progress) if (p.total !== null) expect(p.total).toBeGreaterThanOrEqual(p.done);
    // The stored file is the whole upload.
    const stored = await t.app.inject({ url: `/api/v1/media/${mediaId}/content`, headers: { 'x-api-key': key } });
    expect(stored.rawPayload.equals(avi)).toBe(true);
  });

  it('samples by seconds from the job settings', async () => {
    const up = await multipart({ file: { data: await readFile(testdata('video/Megamind.avi')), filename: 'Megamind.avi' } });
    const media = (await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: up.payload, headers: { ...up.headers, 'x-api-key': key } })).json<{ id: string }>();
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/analyze',
      payload: { media_id: media.id, settings: { framePeriodRecognition: 1, FrameRecognitionSeconds: 2 } },
      headers: { 'x-api-key': key },
    });
    const id = res.json<{ task_id: string }>().task_id;
    const r = await ended<{ status: string; result: Summary | null }>(id);
    expect(r.status).toBe('SUCCESS');
    const times = (await allFrames(r.result!.frames_url)).frames.map((f) => f.timestamp);
    expect(times.length).toBe(6);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(2 - 0.05);
  });

  it('reads a stored video\'s facts with ffprobe while ffmpeg already decodes its frames (the two start together)', async () => {
    const up = await multipart({ file: { data: await readFile(testdata('video/Megamind.avi')), filename: 'Megamind.avi' } });
    const media = (await t.app.inject({ method: 'POST', url: '/api/v1/media', payload: up.payload, headers: { ...up.headers, 'x-api-key': key } })).json<{ id: string }>();
    // The real decoder, watched: when each tool was asked for and when the facts came back.
    const videos = t.services.videos;
    const probe = videos.probe.bind(videos);
    const frames = videos.frames.bind(videos);
    const seen: string[] = [];
    videos.probe = async (file) => {
      seen.push('probe asked');
      const facts = await probe(file);
      seen.push('facts read');
      return facts;
    };
    videos.frames = (input, sampling, signal) => {
      seen.push('frames asked');
      return frames(input, sampling, signal);
    };
    try {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { media_id: media.id }, headers: { 'x-api-key': key } });
      const id = res.json<{ task_id: string }>().task_id;
      const r = await ended<{ status: string; result: (Summary & { video: { width: number } }) | null }>(id);
      expect(r.status).toBe('SUCCESS');
      expect(seen.indexOf('frames asked')).toBeGreaterThanOrEqual(0);
      expect(seen.indexOf('frames asked')).toBeLessThan(seen.indexOf('facts read'));
      // Boxes are still in the video's own pixels (scaled back with the facts read alongside).
      const { frames: all } = await allFrames(r.result!.frames_url);
      const right = Math.max(...all.flatMap((f) => f.detections.map((d) => d.box.x2)));
      expect(right).toBeGreaterThan(416);
      expect(right).toBeLessThanOrEqual(r.result!.video.width);
    } finally {
      videos.probe = probe;
      videos.frames = frames;
    }
  });

  it('fails a corrupt video with a clear reason and puts the media in Error', async () => {
    // A real AVI header followed by garbage: accepted as a video upload, undecodable.
    const avi = await readFile(testdata('video/Megamind.avi'));
    const corrupt = Buffer.concat([avi.subarray(0, 4096), Buffer.alloc(200_000, 0x5a)]);
    const { task_id: id, media_id: mediaId } = await upload(corrupt, 'broken.avi');
    const r = await ended<{ status: string; error_message: string | null }>(id);
    expect(r.status).toBe('FAILED');
    // ffprobe's reason (it judges whether the file is a video), not the frame decoder's that ran alongside it.
    expect(r.error_message).toMatch(/^not a decodable video: no frame of the mpeg4 stream could be decoded/);
    const media = (await t.app.inject({ url: `/api/v1/media/${mediaId}`, headers: { 'x-api-key': key } })).json<{ status: number; status_reason: string }>();
    expect(media.status).toBe(MediaStatus.Error);
    expect(media.status_reason).toBe(r.error_message);
  });

  it('recognises a face once per track, on its best frame', async () => {
    // Enroll a person, then film their photo: a 3 s clip of the still image.
    const form = new FormData();
    form.append('person_name', 'Star');
    form.append('collection', 'cinema');
    form.append('face_index', '0');
    form.append('file', new Blob([await readFile(testdata('faces/person01_ref_01.jpg'))]), 'star.jpg');
    const r = new Response(form);
    const enrolled = await t.app.inject({ method: 'POST', url: '/api/v1/faces/enroll', payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')!, 'x-api-key': key } });
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    const file = path.join(dir, 'star.mp4');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-loop', '1', '-i', testdata('faces/person01_ref_01.jpg'), '-t', '3', '-r', '8', '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-pix_fmt', 'yuv420p', file]);
    expect(made.status, made.stderr.toString()).toBe(0);
    const body = await multipart({ tasks: 'faces', collection: 'cinema', file: { data: await readFile(file), filename: 'star.mp4' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: body.payload, headers: { ...body.headers, 'x-api-key': key } });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json<{ task_id: string }>().task_id;
    let out: { status: string; result: Summary & { face_tracks: { track_id: number; hits: number; best_frame: { index: number }; matches: { person_name: string; similarity: number }[] }[] } | null };
    do {
      await new Promise((ok) => setTimeout(ok, 200));
      out = (await t.app.inject({ url: `/api/v1/results/${id}`, headers: { 'x-api-key': key } })).json();
    } while (out.status === 'PENDING' || out.status === 'PROCESSING');
    expect(out.status).toBe('SUCCESS');
    const tracks = out.result!.face_tracks;
    const main = tracks.reduce((a, b) => (b.hits > a.hits ? b : a));
    expect(main.hits).toBeGreaterThanOrEqual(5);
    expect(main.matches).toHaveLength(1);
    expect(main.matches[0]!.person_name).toBe('Star');
    expect(main.matches[0]!.similarity).toBeGreaterThan(0.8);
    // Every frame shows the face with its track id (after the track is confirmed); matching happened once, per track.
    const faceFrames = (await allFrames<{ faces: { track_id: number | null }[] }>(out.result!.frames_url)).frames;
    expect(faceFrames.filter((f) => f.faces.some((x) => x.track_id === main.track_id)).length).toBeGreaterThanOrEqual(main.hits - 2);

    // The track's face is indexed with the video: another photo of the star finds it, at the best frame's time.
    const mediaId = res.json<{ media_id: string }>().media_id;
    const selfie = new FormData();
    selfie.append('file', new Blob([await readFile(testdata('faces/person01_ref_03.jpg'))]), 'selfie.jpg');
    const sr = new Response(selfie);
    const search = await t.app.inject({ method: 'POST', url: '/api/v1/faces/media/search', payload: Buffer.from(await sr.arrayBuffer()), headers: { 'content-type': sr.headers.get('content-type')!, 'x-api-key': key } });
    expect(search.statusCode, search.body).toBe(200);
    const hit = search.json<{ media: { media_id: string; kind: string; timestamp: number | null }[] }>().media.find((m) => m.media_id === mediaId);
    expect(hit).toMatchObject({ kind: 'video' });
    expect(hit!.timestamp).not.toBeNull();

    // The same stored video with operation=detect: the face is tracked but nobody is searched.
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { media_id: mediaId, tasks: ['faces'], collection: 'cinema', operation: 'detect' }, headers: { 'x-api-key': key } });
    expect(again.statusCode, again.body).toBe(202);
    const detectId = again.json<{ task_id: string }>().task_id;
    do {
      await new Promise((ok) => setTimeout(ok, 200));
      out = (await t.app.inject({ url: `/api/v1/results/${detectId}`, headers: { 'x-api-key': key } })).json();
    } while (out.status === 'PENDING' || out.status === 'PROCESSING');
    expect(out.status).toBe('SUCCESS');
    expect(Math.max(...out.result!.face_tracks.map((x) => x.hits))).toBeGreaterThanOrEqual(5);
    expect(out.result!.face_tracks.flatMap((x) => x.matches)).toEqual([]);
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/analyze', payload: { media_id: mediaId, tasks: ['faces'], operation: 'identify' }, headers: { 'x-api-key': key } });
    expect(bad.statusCode).toBe(422);
  });

  it('analyses a synthetic clip made with ffmpeg', async () => {
    const file = path.join(dir, 'clip.mp4');
    const made = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-t', '2', '-pix_fmt', 'yuv420p', file]);
    expect(made.status, made.stderr.toString()).toBe(0);
    const { task_id: id } = await upload(await readFile(file), 'clip.mp4');
    const r = await ended<{ status: string; result: (Summary & { video: { width: number } }) | null }>(id);
    expect(r.status).toBe('SUCCESS');
    expect(r.result!.video.width).toBe(320);
    expect((await allFrames(r.result!.frames_url)).frames.map((f) => f.index)).toEqual([0, 4, 8, 12, 16]);
  });
});

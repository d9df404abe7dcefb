/**
 * The web console in a real browser (Debian's chromium driven by playwright-core; no browser is downloaded) against
 * a real `argus serve` with the real models: sign-in with a key, upload through the page (picker and drag and
 * drop), detection drawn on the photo where the API says the boxes are, a video analysed with its progress bar
 * moving over SSE and its tracks drawn and seekable, faces enrolled and recognised, a bib found by its number, a
 * second owner who sees nothing of the first, sign-out, and an axe-core pass on every view. Screenshots of every
 * view go to test-artifacts/console/ (ignored by git).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateBibImages } from '../src/bench/bib-images.js';
import { ROOT, startServer, testdata, type Server } from './helper.js';

const CHROMIUM = '/usr/bin/chromium';

// The functions handed to page.evaluate run in the browser. This program is typed for Node (no DOM library, which
// would change the types of the server's code too), so the browser globals they use are declared loosely here.
/* eslint-disable @typescript-eslint/no-unsafe-return */
declare const document: any, window: any, localStorage: any, sessionStorage: any, location: any, DataTransfer: any, DragEvent: any;
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface ApiBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

describe('web console in chromium', () => {
  let server: Server;
  let dir: string;
  let base: string;
  let adminKey: string;
  let bobKey: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];
  const shots: string[] = [];
  let photoId = '';
  let videoId = '';
  let videoJobId = '';
  let bibNumber = '';

  /** The API as a test client (with a key), to compare the page with. */
  async function apiGet<T>(url: string, key = adminKey): Promise<T> {
    const res = await fetch(`${base}${url}`, { headers: { 'x-api-key': key } });
    if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async function shot(name: string, p: Page = page): Promise<void> {
    const file = path.join(ARTIFACTS, `${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
    shots.push(file);
  }

  /** Opens a console page as a person would: by its URL (a deep link answered with index.html). */
  async function open(url: string, p: Page = page): Promise<void> {
    await p.goto(`${base}${url}`);
    await p.waitForLoadState('networkidle');
  }

  /** axe-core on the current page: no serious or critical violation. */
  async function axe(p: Page, name: string): Promise<void> {
    // Evaluated through the DevTools protocol, which the page's CSP does not apply to (it forbids inline scripts).
    await p.evaluate(await readFile(AXE, 'utf8'));
    const result = await p.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (ctx: unknown, o: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad, `${name}: ${JSON.stringify(bad, null, 2)}`).toEqual([]);
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
    // The console is built by npm ci / npm test; a direct vitest run on a fresh checkout builds it here.
    if (!existsSync(path.join(ROOT, 'dist/console/index.html'))) execFileSync('npm', ['run', 'build:console'], { cwd: ROOT, stdio: 'inherit' });
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-console-'));
    server = await startServer({ ARGUS_DATA_DIR: dir, ARGUS_RATE_LIMIT_PER_MINUTE: '0', ARGUS_AUTH_FAILURES_PER_MINUTE: '0', LOG_LEVEL: 'info' });
    base = `http://127.0.0.1:${server.port}`;
    const line = server.lines.find((l) => l.includes('created the first admin API key'));
    adminKey = (JSON.parse(line!) as { api_key: string }).api_key;
    const created = await fetch(`${base}/api/v1/keys`, { method: 'POST', headers: { 'x-api-key': adminKey, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob', owner_id: 'bob' }) });
    bobKey = ((await created.json()) as { key: string }).key;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) cspViolations.push(m.text());
    });
  }, 300_000);

  // A failed step leaves a picture of the page as it was.
  afterEach(async ({ task }) => {
    if (task.result?.state === 'fail' && page) await page.screenshot({ path: path.join(ARTIFACTS, `FAILED-${task.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    server?.proc.kill('SIGTERM');
    await server?.exited;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('signs in with an API key: an HttpOnly cookie, the key kept nowhere', async () => {
    await open('/media');
    // No session yet: the sign-in page, which remembers where to go back to.
    await page.waitForURL(/\/sign-in\?next=%2Fmedia/);
    await axe(page, 'sign-in');
    await shot('01-sign-in');
    await page.fill('#credential', adminKey);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/media`);
    await page.getByRole('heading', { name: 'Media library' }).waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'argus_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/', secure: false });
    expect(session!.value).not.toContain(adminKey);
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie + location.href);
    expect(storage).not.toContain(adminKey);
    // The form, and the key typed into it, are gone.
    expect(await page.locator('#credential').count()).toBe(0);
  });

  it('uploads through the page (picker and drag and drop) with per-file progress, and shows the thumbnails', async () => {
    await page.setInputFiles('#upload-input', [testdata('images/person_horse_dog.jpg'), testdata('video/Megamind.avi')]);
    await page.locator('.upload[data-state=done]').nth(1).waitFor({ timeout: 60_000 });
    expect(await page.locator('.upload progress').count()).toBe(2);
    // Drag and drop: a File dropped on the zone, as a browser hands it over.
    const bytes = (await readFile(testdata('images/dog.jpg'))).toString('base64');
    await page.evaluate(async (b64) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], 'dog.jpg', { type: 'image/jpeg' }));
      const zone = document.querySelector('[data-testid=dropzone]')!;
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, bytes);
    await page.locator('.upload[data-state=done]').nth(2).waitFor({ timeout: 30_000 });
    const list = await apiGet<{ items: { id: string; name: string; kind: string }[]; total: number }>('/api/v1/media');
    expect(list.total).toBe(3);
    photoId = list.items.find((m) => m.name === 'person_horse_dog.jpg')!.id;
    videoId = list.items.find((m) => m.kind === 'video')!.id;
    // Thumbnails: every card's image loaded (the video's is its poster frame).
    await page.locator('.grid .card').nth(2).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.grid img')].every((i) => i.complete && i.naturalWidth > 0));
    const widths = await page.$$eval('.grid img', (imgs) => (imgs as { naturalWidth: number }[]).map((i) => i.naturalWidth));
    expect(widths.every((w) => w > 0 && w <= 480)).toBe(true);
    // Filters: videos only.
    await page.getByLabel('Kind').selectOption('video');
    await page.waitForURL(/kind=video/);
    await page.waitForFunction(() => document.querySelectorAll('.grid .card').length === 1);
    await page.getByLabel('Kind').selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('.grid .card').length === 3);
    await axe(page, 'media library');
    await shot('02-media-library');
  });

  it('runs detection on the photo: three labelled boxes where the API put them', async () => {
    await open(`/media/${photoId}`);
    await page.getByRole('button', { name: 'Detect objects' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.overlay [data-layer=detect]').length >= 3, undefined, { timeout: 60_000 });
    const stored = await apiGet<{ detections: { label: string; confidence: number; box: ApiBox }[] }>(`/api/v1/media/${photoId}/detections`);
    expect(stored.detections.map((d) => d.label).sort()).toEqual(['dog', 'horse', 'person']);
    // The header follows the medium's status once the analysis ends.
    await page.locator('.facts .status', { hasText: 'AIProcessed' }).waitFor();
    // Where each drawn rectangle is on screen, mapped back to image pixels through the <img>'s on-screen rectangle.
    const drawn = await page.evaluate(() => {
      const img = document.querySelector('[data-testid=photo]')!;
      const r = img.getBoundingClientRect();
      const sx = img.naturalWidth / r.width;
      const sy = img.naturalHeight / r.height;
      return [...document.querySelectorAll('.overlay [data-layer=detect]')].map((g) => {
        const b = g.querySelector('.box-rect')!.getBoundingClientRect();
        return { label: g.getAttribute('data-label')!, x1: (b.left - r.left) * sx, y1: (b.top - r.top) * sy, x2: (b.right - r.left) * sx, y2: (b.bottom - r.top) * sy };
      });
    });
    expect(drawn).toHaveLength(3);
    for (const d of stored.detections) {
      const on = drawn.find((x) => x.label.startsWith(`${d.label} `))!;
      expect(on, d.label).toBeDefined();
      // Within 3 image pixels (the stroke is drawn centred on the box's edge).
      for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs(on[k] - d.box[k]), `${d.label} ${k}`).toBeLessThan(3);
    }
    await axe(page, 'image view');
    await shot('03-image-detections');
    // The confidence slider filters live; a layer can be hidden.
    const min = Math.min(...stored.detections.map((d) => d.confidence));
    await page.locator('#min-confidence').fill(String(Math.min(0.99, min + 0.01)));
    await page.waitForFunction((n) => document.querySelectorAll('.overlay [data-layer=detect]').length === n, stored.detections.filter((d) => d.confidence >= Math.min(0.99, min + 0.01)).length);
    await page.locator('#min-confidence').fill('0');
    await page.locator('[data-layer-toggle=detect]').uncheck();
    expect(await page.locator('.overlay [data-layer=detect]').count()).toBe(0);
    await page.locator('[data-layer-toggle=detect]').check();
    // Reloading the deep link draws the stored boxes again.
    await page.reload();
    await page.waitForFunction(() => document.querySelectorAll('.overlay [data-layer=detect]').length === 3);
    // Text and faces layers from the other buttons.
    await page.getByRole('button', { name: 'Find faces' }).click();
    await page.waitForFunction(() => document.querySelector('.layers')?.textContent?.match(/Faces \(\d+\)/), undefined, { timeout: 60_000 });
    await page.getByRole('button', { name: 'Check blur' }).click();
    await page.locator('[data-testid=blur]').waitFor({ timeout: 60_000 });
  });

  it('analyses the video: the progress bar moves over SSE with the cookie, boxes follow playback, the track list seeks', async () => {
    const eventRequests: Record<string, string>[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/events')) void r.allHeaders().then((h) => eventRequests.push(h));
    });
    await open(`/media/${videoId}`);
    // An AVI does not play in a browser: the player falls back to the server's MP4 copy (made on first request).
    await page.waitForFunction(() => document.querySelector('[data-testid=player]')!.readyState >= 1, undefined, { timeout: 120_000 });
    expect(await page.evaluate(() => document.querySelector('[data-testid=player]')!.currentSrc)).toContain(`/api/v1/media/${videoId}/playback`);
    expect(await page.evaluate(() => document.querySelector('[data-testid=player]')!.duration)).toBeGreaterThan(10);
    await page.getByRole('button', { name: 'Analyse', exact: true }).click();
    // Watch the bar: it must show progress between the start and the end.
    const seen = new Set<number>();
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const pct = await page.locator('progress[aria-label="Analysis progress"]').getAttribute('data-percent', { timeout: 1000 }).catch(() => null);
      if (pct !== null) seen.add(Number(pct));
      if (await page.locator('[data-testid=tracks]').count()) break;
      await page.waitForTimeout(100);
    }
    await page.locator('.facts .status', { hasText: 'AIProcessed' }).waitFor();
    const between = [...seen].filter((p) => p > 0 && p < 100);
    expect(between.length, `progress values seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(eventRequests.length).toBeGreaterThan(0);
    expect(eventRequests[0]!.cookie).toMatch(/argus_session=/);
    expect(JSON.stringify(eventRequests)).not.toContain(adminKey);
    const jobs = await apiGet<{ items: { job_id: string; kind: string }[] }>('/api/v1/jobs');
    videoJobId = jobs.items.find((j) => j.kind === 'video')!.job_id;
    const job = await apiGet<{ result: { tracks: { track_id: number; label: string; first_time: number; last_time: number; hits: number }[] } }>(`/api/v1/jobs/${videoJobId}`);
    const person = job.result.tracks.filter((t) => t.label === 'person').sort((a, b) => b.hits - a.hits)[0] ?? job.result.tracks[0]!;
    // The track list seeks to the track's first sighting, and the overlay shows that track's box there.
    await page.locator(`[data-track-id="${person.track_id}"]`).click();
    await page.waitForFunction(
      ([a, b]) => {
        const t = document.querySelector('[data-testid=player]')!.currentTime;
        return t >= a! - 1e-3 && t <= b! + 1e-3 && t > 0;
      },
      [person.first_time, person.last_time],
    );
    await page.waitForFunction((id) => [...document.querySelectorAll('.overlay [data-layer=track]')].some((g) => g.getAttribute('data-label')!.startsWith(`#${id} `)), person.track_id);
    // Seek into the middle of the track: the box drawn is the one of the last analysed frame at or before that time.
    const t = (person.first_time + person.last_time) / 2;
    await page.evaluate((time) => (document.querySelector('[data-testid=player]')!.currentTime = time), t);
    await page.waitForFunction(() => document.querySelector('[data-testid=player]')!.seeking === false);
    const frames = await apiGet<{ items: { index: number; timestamp: number; detections: { track_id: number | null; box: ApiBox }[] }[] }>(`/api/v1/jobs/${videoJobId}/frames?from=${Math.max(0, t - 2)}&to=${t}&limit=1000`);
    const frame = frames.items.filter((f) => f.timestamp <= t + 1e-3).at(-1)!;
    await page.waitForFunction((index) => document.querySelector('[data-testid=frame-info]')!.textContent!.includes(`frame ${index} `), frame.index);
    const expected = frame.detections.find((d) => d.track_id === person.track_id);
    const drawn = await page.evaluate((id) => {
      const v = document.querySelector('[data-testid=player]')!;
      const r = v.getBoundingClientRect();
      const g = [...document.querySelectorAll('.overlay [data-layer=track]')].find((x) => x.getAttribute('data-label')!.startsWith(`#${id} `));
      if (!g) return null;
      const b = g.querySelector('.box-rect')!.getBoundingClientRect();
      const sx = v.videoWidth / r.width;
      const sy = v.videoHeight / r.height;
      return { x1: (b.left - r.left) * sx, y1: (b.top - r.top) * sy, x2: (b.right - r.left) * sx, y2: (b.bottom - r.top) * sy };
    }, person.track_id);
    if (expected) {
      expect(drawn).not.toBeNull();
      for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs(drawn![k] - expected.box[k]), k).toBeLessThan(3);
    }
    // Play a little: boxes keep coming from analysed frames.
    await page.evaluate(() => void document.querySelector('[data-testid=player]')!.play().catch(() => undefined));
    await page.waitForTimeout(500);
    await page.evaluate(() => document.querySelector('[data-testid=player]')!.pause());
    await page.evaluate((time) => (document.querySelector('[data-testid=player]')!.currentTime = time), t);
    await page.waitForFunction(() => document.querySelectorAll('.overlay [data-layer=track]').length > 0);
    await axe(page, 'video view');
    await shot('04-video-tracks');
  });

  it('lists jobs and shows one job with its items, result and deliveries', async () => {
    await open('/jobs');
    await page.locator(`tr[data-job-id="${videoJobId}"]`).waitFor();
    await axe(page, 'jobs');
    await shot('05-jobs');
    await open(`/jobs/${videoJobId}`);
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await axe(page, 'job');
    await shot('06-job');
  });

  it('enrolls two people, recognises one from a third photo, finds media by a selfie', async () => {
    await open('/faces');
    for (const [n, name] of [
      [1, 'Person One'],
      [2, 'Person Two'],
    ] as const) {
      await page.fill('#enroll-name', name);
      await page.setInputFiles('#enroll-file', testdata(`faces/person0${n}_ref_01.jpg`));
      await page.locator('button', { hasText: 'Enroll in default' }).and(page.locator(':not([disabled])')).waitFor({ timeout: 30_000 });
      await page.locator('button', { hasText: 'Enroll in default' }).click();
      await page.getByText(`Enrolled ${name} in default.`).waitFor({ timeout: 30_000 });
    }
    await page.locator('.persons li').nth(1).waitFor();
    await page.setInputFiles('#who-file', testdata('faces/person01_ref_02.jpg'));
    await page.locator('[data-testid=who-results] .match').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid=who-results] .match').first().getAttribute('data-person')).toBe('Person One');
    // A person's card with their faces.
    await page.getByRole('button', { name: 'Person One' }).click();
    await page.getByRole('article', { name: 'Person Person One' }).waitFor();
    // The face's own picture, kept at enrollment, not initials.
    const picture = page.getByRole('article', { name: 'Person Person One' }).locator('.face-thumbs img').first();
    await picture.waitFor({ timeout: 30_000 });
    await page.waitForFunction((el) => (el as unknown as { complete: boolean; naturalWidth: number }).complete && (el as unknown as { naturalWidth: number }).naturalWidth === 160, await picture.elementHandle(), { timeout: 30_000 });
    // Compare two photos of the same person.
    await page.setInputFiles('#compare-1', testdata('faces/person01_ref_01.jpg'));
    await page.setInputFiles('#compare-2', testdata('faces/person01_ref_02.jpg'));
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.locator('[data-testid=compare-result]').waitFor({ timeout: 30_000 });
    await shot('07-faces-recognised');
    // A stored photo of Person One whose faces were analysed from its page is found by a selfie of them.
    const form = new FormData();
    form.append('file', new Blob([await readFile(testdata('faces/person01_ref_03.jpg'))], { type: 'image/jpeg' }), 'person01_ref_03.jpg');
    const uploaded = await fetch(`${base}/api/v1/media`, { method: 'POST', headers: { 'x-api-key': adminKey }, body: form });
    expect(uploaded.ok).toBe(true);
    const faceMediaId = ((await uploaded.json()) as { id: string }).id;
    await open(`/media/${faceMediaId}`);
    await page.getByRole('button', { name: 'Find faces' }).click();
    await page.waitForFunction(() => document.querySelector('.layers')?.textContent?.match(/Faces \([1-9]\d*\)/), undefined, { timeout: 60_000 });
    await open('/faces');
    await page.setInputFiles('#selfie', testdata('faces/person01_ref_02.jpg'));
    await page.locator('[data-testid=selfie-results] .card').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-testid=selfie-results] .card .title').allTextContents()).toContain('person01_ref_03.jpg');
    await axe(page, 'faces');
    await shot('07-faces-selfie');
  });

  it('finds a bib photo stored with store=true by typing its number', async () => {
    // A generated runner photo, stored and indexed through the API (as a race photographer's upload would be).
    let stored: { detections: { bib_number: string }[] } | null = null;
    for (const seed of [3, 5, 7, 11]) {
      const [img] = await generateBibImages({ count: 1, seed, kinds: ['card'] });
      const form = new FormData();
      form.append('store', 'true');
      form.append('file', new Blob([img!.data], { type: 'image/jpeg' }), `runner-${img!.number}.jpg`);
      const res = await fetch(`${base}/api/v1/bibs/recognize`, { method: 'POST', headers: { 'x-api-key': adminKey }, body: form });
      stored = (await res.json()) as typeof stored;
      if (stored!.detections.some((d) => d.bib_number === img!.number)) {
        bibNumber = img!.number;
        break;
      }
    }
    expect(bibNumber).not.toBe('');
    await open('/bibs');
    await axe(page, 'bibs (empty)');
    await page.fill('#bib-number', bibNumber);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.waitForURL(`${base}/bibs/${bibNumber}`);
    await page.locator('[data-testid=bib-results] .card').first().waitFor();
    expect(await page.locator('[data-testid=bib-results] .reason.read').first().textContent()).toContain('Read on the bib');
    await axe(page, 'bibs');
    await shot('08-bibs');
  });

  it('shows settings (AI settings with meanings and defaults, webhooks, admin keys)', async () => {
    await open('/settings');
    await page.locator('#setting-probability_threshold').waitFor();
    expect(await page.locator('#setting-probability_threshold-help').textContent()).toContain('Default: 0.3');
    await page.fill('#setting-frame_period_recognition', '5');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    const settings = await apiGet<{ frame_period_recognition: number }>('/api/v1/users/me/ai-settings');
    expect(settings.frame_period_recognition).toBe(5);
    await page.getByRole('heading', { name: 'API keys (admin)' }).waitFor();
    await axe(page, 'settings');
    await shot('09-settings');
  });

  it('a second owner signed in sees none of the first owner\'s media', async () => {
    const other = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const p = await other.newPage();
    try {
      await open('/sign-in', p);
      await p.fill('#credential', bobKey);
      await p.click('button[type=submit]');
      await p.waitForURL(`${base}/media`);
      await p.getByText('No media yet').waitFor();
      expect(await p.locator('.grid .card').count()).toBe(0);
      await open(`/media/${photoId}`, p);
      await p.locator('.error').waitFor();
      expect(await p.locator('.error').textContent()).toContain('not found');
      const thumb = await p.evaluate(async (id) => (await fetch(`/api/v1/media/${id}/thumbnail`)).status, photoId);
      expect(thumb).toBe(404);
      await open('/jobs', p);
      await p.getByText('No jobs yet').waitFor();
      await open('/faces', p);
      await p.getByText('No one is enrolled').waitFor();
      await open(`/bibs/${bibNumber}`, p);
      await p.getByText(`Bib ${bibNumber} was not found`).waitFor();
      await shot('10-second-owner', p);
    } finally {
      await other.close();
    }
  });

  it('signs out: the session is revoked, its cookie no longer works', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'argus_session')!;
    await open('/media');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in/);
    const res = await fetch(`${base}/api/v1/media`, { headers: { cookie: `argus_session=${cookie.value}` } });
    expect(res.status).toBe(401);
  });

  it('kept credentials out of URLs and logs, and the pages kept to their CSP', () => {
    expect(cspViolations).toEqual([]);
    const log = server.lines.join('\n');
    // The admin key appears once: the first-start line that hands it out.
    expect(log.split(adminKey).length - 1).toBe(1);
    expect(log).not.toContain(bobKey);
    expect(shots.length).toBeGreaterThanOrEqual(10);
  });
});

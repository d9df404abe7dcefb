/**
 * The web console (web/, built by Vite into dist/console at `npm ci`), served by the API itself at `/`: hashed
 * assets under /assets/ with a year's immutable cache (and their pre-compressed .br/.gz copies), and index.html —
 * never cached, with a strict Content-Security-Policy — for every console URL, so each view's deep link survives a
 * reload. The fallback covers the console's own paths only: /api, /docs, /openapi.json, /health and /metrics keep
 * their routes and their JSON 404s.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Spawn } from '../../adapters/media/ffmpeg/spawn.js';
import type { VideoTools } from '../../adapters/media/ffmpeg/tools.js';
import type { SessionRepository } from '../../app/sessions.js';
import { AppError } from '../../domain/errors.js';

/** What the console's server side needs besides the API's own dependencies (wired in main/services.ts). */
export interface ConsoleDeps {
  readonly sessions: SessionRepository;
  readonly sessionTtlS: number;
  readonly cookieSecure: 'auto' | 'true' | 'false';
  /** ffmpeg for video thumbnails; null when video is unavailable here. */
  readonly videoTools: VideoTools | null;
  /** Starts ffmpeg without forking the server, where this process has the spawn helper. */
  readonly spawnTool?: Spawn | undefined;
  /** Where thumbnails are cached (under ARGUS_DATA_DIR). */
  readonly thumbnailDir: string;
  /** The built console; default dist/console of this checkout. */
  readonly root?: string;
}

/** dist/console beside src/ and dist/ (this file is src/http/plugins/console.ts, or dist/http/plugins/console.js). */
export const DEFAULT_CONSOLE_ROOT = path.resolve(import.meta.dirname, '../../../dist/console');

/** The console's views: each path and everything under it answers index.html (the app routes in the browser). */
export const CONSOLE_PATHS = ['/', '/sign-in', '/media', '/jobs', '/faces', '/bibs', '/settings'];

/**
 * The console page's policy: everything from this origin only (no CDN, no inline script), images and video also as
 * blob: (local previews of files being uploaded), and no framing.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Registers the console's routes on the root app. */
export async function consoleSite(app: FastifyInstance, options: { root?: string | undefined } = {}): Promise<void> {
  const root = options.root ?? DEFAULT_CONSOLE_ROOT;
  const indexFile = path.join(root, 'index.html');
  const index = existsSync(indexFile) ? readFileSync(indexFile) : null;
  const page = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    if (!index) throw new AppError('NOT_FOUND', 'the console is not built here: run npm run build (npm ci does it), then restart');
    return reply
      .type('text/html; charset=utf-8')
      // Always revalidated: a new build's index.html names new asset hashes.
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CONSOLE_CSP)
      .header('referrer-policy', 'same-origin')
      .send(index);
  };
  for (const p of CONSOLE_PATHS) {
    app.get(p, { schema: { hide: true } }, page);
    if (p !== '/') app.get(`${p}/*`, { schema: { hide: true } }, page);
  }
  if (index && existsSync(path.join(root, 'assets'))) {
    await app.register(fastifyStatic, {
      root: path.join(root, 'assets'),
      prefix: '/assets/',
      decorateReply: false,
      index: false,
      // Asset names carry a hash of their content, so a cached copy is never stale.
      immutable: true,
      maxAge: '365d',
      preCompressed: true,
      schemaHide: true,
    });
  }
}

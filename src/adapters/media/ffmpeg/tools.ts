/**
 * Which ffmpeg and ffprobe Argus runs. Video is a core capability, so `npm ci && npm start` must give working video
 * with no system package: the npm packages @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe carry static
 * linux/macOS/Windows binaries inside their registry tarballs (no download at install time). A system ffmpeg (Debian's,
 * patched and maintained) is used instead when present and at least as new — compared by libavcodec's version, since
 * snapshot builds print no release number. ARGUS_FFMPEG_PATH / ARGUS_FFPROBE_PATH name binaries explicitly.
 */
import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** One of the two tools. */
export interface VideoTool {
  readonly path: string;
  /** What `-version` says, e.g. "5.1.9-0+deb12u1" or "N-47683-g0e8eb07980-static". */
  readonly version: string;
  /** libavcodec major * 1000 + minor: the comparable version. */
  readonly libavcodec: number;
  readonly source: 'configured' | 'system' | 'packaged';
  /** Whether ffmpeg knows `-fps_mode` (5.1 and later; older ones spell it `-vsync`). */
  readonly fpsMode: boolean;
}

/** ffmpeg and ffprobe, as found. */
export interface VideoTools {
  readonly ffmpeg: VideoTool;
  readonly ffprobe: VideoTool;
}

/** The system's tools on PATH, assumed current (for callers that did not look: tests, benches). */
export const SYSTEM_TOOLS: VideoTools = {
  ffmpeg: { path: 'ffmpeg', version: 'unknown', libavcodec: 0, source: 'system', fpsMode: true },
  ffprobe: { path: 'ffprobe', version: 'unknown', libavcodec: 0, source: 'system', fpsMode: true },
};

/** libavcodec 59.37 is ffmpeg 5.1, which added -fps_mode. */
const FPS_MODE_SINCE = 59_037;

/** What finding the tools gave: both tools, or why video cannot work here. */
export type FoundTools = { readonly ok: true; readonly tools: VideoTools } | { readonly ok: false; readonly reason: string };

/** Finds ffmpeg and ffprobe: the configured ones, else the newer of the system's and the packaged ones. */
export async function findVideoTools(configured: { ffmpeg?: string | undefined; ffprobe?: string | undefined } = {}): Promise<FoundTools> {
  const [ffmpeg, ffprobe] = await Promise.all([pick('ffmpeg', configured.ffmpeg, '@ffmpeg-installer/ffmpeg'), pick('ffprobe', configured.ffprobe, '@ffprobe-installer/ffprobe')]);
  if (!ffmpeg || !ffprobe) {
    const missing = [!ffmpeg && 'ffmpeg', !ffprobe && 'ffprobe'].filter(Boolean).join(' and ');
    return {
      ok: false,
      reason: `video analysis is unavailable: no working ${missing} (install ffmpeg, e.g. apt-get install ffmpeg, or reinstall with npm ci so the packaged binaries are there, or set ARGUS_FFMPEG_PATH / ARGUS_FFPROBE_PATH)`,
    };
  }
  return { ok: true, tools: { ffmpeg, ffprobe } };
}

async function pick(name: 'ffmpeg' | 'ffprobe', configured: string | undefined, pkg: string): Promise<VideoTool | null> {
  if (configured) return probe(configured, 'configured');
  const [system, packaged] = await Promise.all([probe(name, 'system'), packagedPath(pkg).then((p) => (p ? probe(p, 'packaged') : null))]);
  if (system && (!packaged || system.libavcodec >= packaged.libavcodec)) return system;
  return packaged ?? system;
}

/** The binary a package ships for this platform, made executable if its install script did not run. */
async function packagedPath(pkg: string): Promise<string | null> {
  let path: string;
  try {
    path = (createRequire(import.meta.url)(pkg) as { path: string }).path;
  } catch {
    // Not installed (it is optional), or no binary for this platform.
    return null;
  }
  // npm installs without running install scripts (--ignore-scripts, or an allowScripts policy) leave it unexecutable.
  await chmod(path, 0o755).catch(() => undefined);
  return path;
}

/** Runs `<path> -version`; null when it does not run. */
function probe(path: string, source: VideoTool['source']): Promise<VideoTool | null> {
  return new Promise((resolve) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 10_000, encoding: 'utf8' }, (err, stdout) => {
      if (err) return resolve(null);
      const version = /version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
      const m = /libavcodec\s+(\d+)\.\s*(\d+)/.exec(stdout);
      const libavcodec = m ? Number(m[1]) * 1000 + Number(m[2]) : 0;
      resolve({ path, version, libavcodec, source, fpsMode: libavcodec >= FPS_MODE_SINCE });
    });
  });
}

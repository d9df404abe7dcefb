/**
 * Where the commands that use the data directory (serve, worker, migrate, models, keys without a key) may put it.
 * ARGUS_DATA_DIR defaults to `./data`, which is right in an Argus checkout or install but, from any other
 * directory, would silently start a second, empty installation there (a stray `./data` with a new database and no
 * models). So the default is only taken where it is clearly Argus's own; elsewhere the command stops and says how
 * to name the directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** What an existing `./data` holds when Argus made it. */
const DATA_DIR_MARKERS = ['pglite', 'images', 'videos', 'models', 'argus.lock.owner'];

/** Whether `dir` holds Argus's package.json (a checkout, or an install such as the Docker image's /app). */
function isArgusDirectory(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === 'argus';
  } catch {
    return false;
  }
}

/**
 * Throws, saying how to set it, unless the data directory is named (ARGUS_DATA_DIR in the environment or `.env`,
 * or --data-dir) or the default `./data` is Argus's: `cwd` is an Argus directory or `./data` already is a data
 * directory Argus made.
 */
export function requireDataDir(env: Record<string, string | undefined>, cwd: string): void {
  if (env.ARGUS_DATA_DIR) return;
  if (isArgusDirectory(cwd)) return;
  const dataDir = path.join(cwd, 'data');
  if (DATA_DIR_MARKERS.some((m) => existsSync(path.join(dataDir, m)))) return;
  throw new Error(
    `no data directory: ARGUS_DATA_DIR is not set and ${cwd} is not an Argus directory, so the default ./data would be ` +
      'a new, empty installation here. Name the data directory with --data-dir DIR or ARGUS_DATA_DIR=DIR (also in .env), ' +
      'or run the command from the Argus directory.',
  );
}

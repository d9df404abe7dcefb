import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/** Thrown when another Argus process holds the embedded database. */
export class DataDirLockedError extends Error {}

const OPTIONS = { stale: 30_000, update: 10_000 };

/**
 * Takes the embedded database's lock. PGlite is one connection in one process: a second process opening the
 * same directory would corrupt it, so the server holds this lock and CLI commands that write refuse to run.
 * The holder's host and pid are written beside the lock, so a process killed with SIGKILL does not block the next
 * start for the 30 s stale period: a lock whose holder no longer runs on this host is taken over at once.
 */
export async function lockDataDir(dataDir: string, what: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'argus.lock');
  const ownerFile = path.join(dataDir, 'argus.lock.owner');
  const take = async (): Promise<() => Promise<void>> => {
    const release = await lockfile.lock(dataDir, { lockfilePath: lockPath, ...OPTIONS });
    await writeFile(ownerFile, `${os.hostname()} ${process.pid}`);
    return async () => {
      await rm(ownerFile, { force: true });
      await release();
    };
  };
  try {
    return await take();
  } catch (err) {
    if ((err as { code?: string }).code !== 'ELOCKED') throw err;
    if (await holderIsGone(ownerFile)) {
      await rm(lockPath, { recursive: true, force: true });
      return take();
    }
    throw new DataDirLockedError(
      `${what}: the embedded database in ${dataDir} is in use by a running Argus server. ` +
        'Use the server\'s API instead (e.g. POST /api/v1/keys with an admin key), or stop the server first.',
    );
  }
}

/** True when the lock's recorded holder is a process of this host that no longer exists. */
async function holderIsGone(ownerFile: string): Promise<boolean> {
  const owner = await readFile(ownerFile, 'utf8').catch(() => null);
  if (!owner) return false;
  const [host, pidText] = owner.trim().split(' ');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'ESRCH';
  }
}

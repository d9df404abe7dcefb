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
    await writeFile(ownerFile, `${os.hostname()} ${process.pid} ${(await startTime(process.pid)) ?? ''}`.trim());
    return async () => {
      await rm(ownerFile, { force: true });
      await release();
    };
  };
  // The holder is judged again until the deadline: right after a crash the lock may not yet name its holder (it is
  // written just after the lock is taken), or the dead holder may not yet be reaped by its parent (a zombie).
  const deadline = Date.now() + WAIT_FOR_HOLDER_MS;
  for (;;) {
    try {
      return await take();
    } catch (err) {
      if ((err as { code?: string }).code !== 'ELOCKED') throw err;
    }
    const holder = await lockHolder(ownerFile);
    if (holder === 'gone') {
      await rm(lockPath, { recursive: true, force: true });
      continue;
    }
    if (holder === 'running' || Date.now() > deadline) {
      throw new DataDirLockedError(
        `${what}: the embedded database in ${dataDir} is in use by a running Argus server. ` +
          'Use the server\'s API instead (e.g. POST /api/v1/keys with an admin key), or stop the server first.',
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** How long a lock whose holder cannot be judged yet is waited for. */
const WAIT_FOR_HOLDER_MS = 5000;

/**
 * Whether the lock's recorded holder still runs: `gone` when it is a process of this host that no longer exists
 * or has exited and not been reaped, `unknown` when no holder is recorded (yet), else `running`.
 */
async function lockHolder(ownerFile: string): Promise<'running' | 'gone' | 'unknown'> {
  const owner = await readFile(ownerFile, 'utf8').catch(() => null);
  if (!owner) return 'unknown';
  const [host, pidText, started] = owner.trim().split(' ');
  const pid = Number(pidText);
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return 'running';
  // Our own pid, or a pid now worn by another process (a container restarted: its processes get the same small
  // pids again), names a holder that is gone.
  if (pid === process.pid) return 'gone';
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as { code?: string }).code === 'ESRCH' ? 'gone' : 'running';
  }
  const stat = await procStat(pid);
  if (stat?.state === 'Z') return 'gone';
  if (started && stat && stat.startTime !== started) return 'gone';
  return 'running';
}

/** State and start time (clock ticks since boot) of a process, from /proc (Linux); null elsewhere. */
async function procStat(pid: number): Promise<{ state: string; startTime: string } | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // The fields after the command name, which is in parentheses and may itself contain spaces or parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is the first after the name; field 22 (starttime) the 20th.
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

async function startTime(pid: number): Promise<string | null> {
  return (await procStat(pid))?.startTime ?? null;
}

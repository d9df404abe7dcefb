import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

/** A lock left behind as a crashed server leaves it: the lock directory (fresh), and maybe its holder's name. */
async function staleLock(dir: string, holder: string | null): Promise<void> {
  await mkdir(path.join(dir, 'argus.lock'), { recursive: true });
  if (holder !== null) await writeFile(path.join(dir, 'argus.lock.owner'), holder);
}

/** A process that has exited but is never reaped: `sleep 0`, whose parent execs into a long sleep. */
async function zombie(): Promise<{ pid: number; stop: () => void }> {
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  // Let the child exit; its parent (now `sleep 30`) never waits for it.
  await new Promise((r) => setTimeout(r, 300));
  return { pid, stop: () => parent.kill('SIGKILL') };
}

describe('lockDataDir after a crash', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('takes over a lock whose holder exited but was not reaped yet (a zombie)', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-lock-'));
    const z = await zombie();
    try {
      await staleLock(dir, `${os.hostname()} ${z.pid}`);
      const release = await lockDataDir(dir, 'test');
      await release();
    } finally {
      z.stop();
    }
  });

  it('waits for a holder that is not named yet, then takes over once it is named and gone', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-lock-'));
    await staleLock(dir, null);
    // A pid that cannot exist on Linux (above pid_max's ceiling).
    setTimeout(() => void writeFile(path.join(dir, 'argus.lock.owner'), `${os.hostname()} 4194305`), 600);
    const release = await lockDataDir(dir, 'test');
    await release();
  });

  it('takes over a lock that names a pid now worn by another process (a restarted container), or its own pid', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-lock-'));
    // The parent of this test runs, but started at another time than the lock says.
    await staleLock(dir, `${os.hostname()} ${process.ppid} 1`);
    await (await lockDataDir(dir, 'test'))();
    await rm(path.join(dir, 'argus.lock'), { recursive: true, force: true });
    await staleLock(dir, `${os.hostname()} ${process.pid}`);
    await (await lockDataDir(dir, 'test'))();
  });

  it('refuses at once while a live process holds the lock', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-lock-'));
    // The parent of this test: alive, and started when its /proc entry says.
    const stat = await readFile(`/proc/${process.ppid}/stat`, 'utf8');
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    await staleLock(dir, `${os.hostname()} ${process.ppid} ${startTime}`);
    const started = Date.now();
    await expect(lockDataDir(dir, 'cannot start')).rejects.toBeInstanceOf(DataDirLockedError);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

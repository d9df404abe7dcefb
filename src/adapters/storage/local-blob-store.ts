import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, link, mkdir, open, opendir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, PartialBlob, StoredFile } from '../../app/ports.js';
import type { MediaKind } from '../../domain/media-kind.js';
import { readFileRanges } from './read-ranges.js';

/** Media on the local filesystem (or a shared volume): one directory for images, one for videos. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly dirs: Readonly<Record<MediaKind, string>>) {}

  /** Creates the media directories. */
  async init(): Promise<void> {
    await Promise.all(Object.values(this.dirs).map((d) => mkdir(d, { recursive: true })));
  }

  async writePartial(kind: MediaKind, source: AsyncIterable<Uint8Array>): Promise<PartialBlob> {
    // The partial file sits in the final directory so that committing it is an atomic rename.
    const file = path.join(this.dirs[kind], `.partial-${randomUUID()}`);
    const out = createWriteStream(file, { flags: 'wx' });
    const hash = createHash('sha256');
    async function* hashed(): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        hash.update(chunk);
        yield chunk;
      }
    }
    try {
      await pipeline(Readable.from(hashed(), { objectMode: false }), out);
    } catch (err) {
      // pipeline() rejects without waiting for a file that is still being opened; the open then creates it. Only
      // after 'close' is it certain to exist or not, so remove it then (else a refused upload could leave it behind).
      if (!out.closed) await once(out, 'close').catch(() => undefined);
      await rm(file, { force: true });
      throw err;
    }
    return { path: file, size: out.bytesWritten, sha256: hash.digest('hex') };
  }

  readRanges(file: string, ranges: readonly { offset: number; length: number }[]): Promise<Buffer> {
    return readFileRanges(file, ranges);
  }

  async commit(partial: PartialBlob, kind: MediaKind, name: string): Promise<{ path: string; existed: boolean }> {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) throw new Error(`bad blob name ${name}`);
    const final = path.join(this.dirs[kind], name);
    try {
      // link() fails if the target exists, so concurrent uploads of the same content never clobber each other.
      await link(partial.path, final);
      await unlink(partial.path);
      return { path: final, existed: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        await unlink(partial.path);
        return { path: final, existed: true };
      }
      if ((err as NodeJS.ErrnoException).code === 'EPERM' || (err as NodeJS.ErrnoException).code === 'ENOTSUP') {
        // Filesystems without hard links: a plain rename (same content, so overwriting is harmless).
        await rename(partial.path, final);
        return { path: final, existed: false };
      }
      throw err;
    }
  }

  async discard(partial: PartialBlob): Promise<void> {
    await rm(partial.path, { force: true });
  }

  async read(file: string): Promise<Buffer> {
    return readFile(file);
  }

  async remove(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  async sha256Of(file: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash);
    return hash.digest('hex');
  }

  async *list(): AsyncIterable<StoredFile> {
    for (const dir of new Set(Object.values(this.dirs))) {
      for await (const entry of await opendir(dir)) {
        if (!entry.isFile() || entry.name.startsWith('.probe-')) continue;
        const file = path.join(dir, entry.name);
        const info = await stat(file).catch(() => null);
        if (info) yield { path: file, partial: entry.name.startsWith('.partial-'), size: info.size, modifiedAt: info.mtime };
      }
    }
  }

  async checkWritable(): Promise<void> {
    for (const dir of Object.values(this.dirs)) {
      await access(dir);
      const probe = path.join(dir, `.probe-${randomUUID()}`);
      const fh = await open(probe, 'wx');
      await fh.close();
      await unlink(probe);
    }
  }
}

import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, link, mkdir, open, opendir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, GrowingFile, PartialBlob, StoredFile } from '../../app/ports.js';
import type { MediaKind } from '../../domain/media-kind.js';
import { readFileRanges } from './read-ranges.js';

/** Media on the local filesystem (or a shared volume): one directory for images, one for videos. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly dirs: Readonly<Record<MediaKind, string>>) {}

  /** Creates the media directories. */
  async init(): Promise<void> {
    await Promise.all(Object.values(this.dirs).map((d) => mkdir(d, { recursive: true })));
  }

  newPartialName(): string {
    return `.partial-${randomUUID()}`;
  }

  async openGrowing(kind: MediaKind, key: string): Promise<GrowingFile> {
    // Kept open: once the upload is committed the partial name is unlinked, but this handle still reads its bytes.
    const fh = await open(this.locate(kind, key), 'r');
    return {
      size: async () => (await fh.stat()).size,
      read: async (position, length) => {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, position);
        return buf.subarray(0, bytesRead);
      },
      close: () => fh.close(),
    };
  }

  async writePartial(kind: MediaKind, source: AsyncIterable<Uint8Array>, name?: string): Promise<PartialBlob> {
    // The partial file sits in the final directory so that committing it is an atomic rename.
    if (name !== undefined && !/^\.partial-[0-9a-f-]{36}$/.test(name)) throw new Error(`bad partial name ${name}`);
    const file = path.join(this.dirs[kind], name ?? this.newPartialName());
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

  async commit(partial: PartialBlob, kind: MediaKind, name: string): Promise<{ key: string; existed: boolean }> {
    const final = this.locate(kind, name);
    try {
      // link() fails if the target exists, so concurrent uploads of the same content never clobber each other.
      await link(partial.path, final);
      await unlink(partial.path);
      return { key: name, existed: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        await unlink(partial.path);
        return { key: name, existed: true };
      }
      if ((err as NodeJS.ErrnoException).code === 'EPERM' || (err as NodeJS.ErrnoException).code === 'ENOTSUP') {
        // Filesystems without hard links: a plain rename (same content, so overwriting is harmless).
        await rename(partial.path, final);
        return { key: name, existed: false };
      }
      throw err;
    }
  }

  locate(kind: MediaKind, key: string): string {
    // Records written before keys existed hold absolute paths.
    if (path.isAbsolute(key)) return key;
    if (key.includes('/') || key.includes('\\') || key.startsWith('..') || key === '') throw new Error(`bad blob key ${key}`);
    return path.join(this.dirs[kind], key);
  }

  async discard(partial: PartialBlob): Promise<void> {
    await rm(partial.path, { force: true });
  }

  async has(kind: MediaKind, key: string): Promise<boolean> {
    return access(this.locate(kind, key)).then(
      () => true,
      () => false,
    );
  }

  async read(kind: MediaKind, key: string): Promise<Buffer> {
    return readFile(this.locate(kind, key));
  }

  async remove(kind: MediaKind, key: string): Promise<void> {
    await rm(this.locate(kind, key), { force: true });
  }

  async sha256Of(kind: MediaKind, key: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(this.locate(kind, key)), hash);
    return hash.digest('hex');
  }

  async *list(): AsyncIterable<StoredFile> {
    const seen = new Set<string>();
    for (const kind of Object.keys(this.dirs) as MediaKind[]) {
      const dir = this.dirs[kind];
      // Both kinds may share one directory: each file is listed once.
      if (seen.has(dir)) continue;
      seen.add(dir);
      for await (const entry of await opendir(dir)) {
        if (!entry.isFile() || entry.name.startsWith('.probe-')) continue;
        const info = await stat(path.join(dir, entry.name)).catch(() => null);
        if (info) yield { kind, key: entry.name, partial: entry.name.startsWith('.partial-'), size: info.size, modifiedAt: info.mtime };
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

import { pbkdf2 } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { promisify } from 'node:util';
import { LocalBlobStore } from './local-blob-store.js';

const pbkdf2Async = promisify(pbkdf2);

describe('LocalBlobStore.writePartial', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-blobs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('leaves no partial file when an upload fails while its file is still being opened', async () => {
    const store = new LocalBlobStore({ image: path.join(dir, 'images'), video: path.join(dir, 'videos') });
    await store.init();
    // Occupy libuv's thread pool so the write stream's open() waits in line: the upload fails before the file exists,
    // and pipeline() rejects at once. The file must not appear afterwards. (In CI under load the clean-up's rm() ran
    // before that open() on another pool thread and 6 of 20 files stayed; here the queue order usually hides the
    // race, so this test guards the outcome rather than reproducing the interleaving every time.)
    const busy = Array.from({ length: 8 }, () => pbkdf2Async('x', 'salt', 300_000, 32, 'sha256'));
    const failing = async function* (): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(8);
      throw new Error('the client went away');
    };
    await expect(store.writePartial('image', failing())).rejects.toThrow('the client went away');
    await Promise.all(busy);
    await new Promise((ok) => setTimeout(ok, 50));
    expect(await readdir(path.join(dir, 'images'))).toEqual([]);
  });
});

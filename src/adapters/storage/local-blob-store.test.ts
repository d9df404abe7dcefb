import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local-blob-store.js';

describe('LocalBlobStore.writePartial', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-blobs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('leaves no partial file when the upload fails at its first chunk', async () => {
    const store = new LocalBlobStore({ image: path.join(dir, 'images'), video: path.join(dir, 'videos') });
    await store.init();
    for (let i = 0; i < 20; i++) {
      const failing = (async function* () {
        yield new Uint8Array(8);
        throw new Error('the client went away');
      })();
      await expect(store.writePartial('image', failing)).rejects.toThrow('the client went away');
    }
    expect(await readdir(path.join(dir, 'images'))).toEqual([]);
  });
});

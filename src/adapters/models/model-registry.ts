/**
 * The model registry: built-in manifests plus the user's `<name>.model.json` files, each located on the search
 * path and checked against its SHA-256. A model that is missing or corrupt is reported, never fatal: only the
 * endpoints that need it answer 503, with the fix in the message.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Value from 'typebox/value';
import type { ModelCatalog, UsableModel } from '../../app/ports.js';
import { AppError } from '../../domain/errors.js';
import { isUsable, ModelManifestSchema, type ModelManifest, type ModelState, type ModelStatus, type ModelTask } from '../../domain/model-manifest.js';

/** Suffix of user manifest files in a models directory. */
export const MANIFEST_SUFFIX = '.model.json';

/** SHA-256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

interface Entry {
  status: ModelStatus;
  /** size:mtime of the file whose checksum was checked, so an unchanged file is not hashed again. */
  checkedStamp: string | null;
}

/** Registry over a search path of directories; the first directory holding a model's file wins. */
export class FileModelRegistry implements ModelCatalog {
  private readonly entries = new Map<string, Entry>();
  private readonly invalid: ModelStatus[] = [];

  private constructor(
    readonly searchPath: readonly string[],
    private readonly builtins: readonly ModelManifest[],
  ) {}

  /** Scans the search path for user manifests and model files and checks every checksum. */
  static async open(searchPath: readonly string[], builtins: readonly ModelManifest[]): Promise<FileModelRegistry> {
    const registry = new FileModelRegistry(searchPath, builtins);
    await registry.refresh();
    return registry;
  }

  /** Re-reads the search path: picks up models pulled or dropped in since the last scan. */
  async refresh(): Promise<void> {
    const manifests = new Map<string, { manifest: ModelManifest; source: string }>();
    for (const m of this.builtins) manifests.set(m.id, { manifest: m, source: 'builtin' });
    this.invalid.length = 0;
    for (const dir of this.searchPath) {
      for (const file of await listManifests(dir)) {
        const parsed = await readManifest(file);
        if ('error' in parsed) {
          this.invalid.push(invalidStatus(file, parsed.error));
        } else if (manifests.has(parsed.manifest.id)) {
          const other = manifests.get(parsed.manifest.id)?.source;
          this.invalid.push(invalidStatus(file, `model id '${parsed.manifest.id}' is already defined by ${other}`));
        } else {
          manifests.set(parsed.manifest.id, { manifest: parsed.manifest, source: file });
        }
      }
    }
    for (const id of [...this.entries.keys()]) if (!manifests.has(id)) this.entries.delete(id);
    for (const { manifest, source } of manifests.values()) await this.locate(manifest, source);
  }

  /** Every known model with its state, user manifests that failed to parse included. */
  list(): ModelStatus[] {
    return [...[...this.entries.values()].map((e) => e.status), ...this.invalid];
  }

  /** One model's status, or undefined for an unknown id. */
  get(id: string): ModelStatus | undefined {
    return this.entries.get(id)?.status;
  }

  async require(id: string, task: ModelTask): Promise<UsableModel> {
    let entry = this.entries.get(id);
    // A manifest dropped into a models directory since the last scan is picked up without a restart.
    if (!entry) {
      await this.refresh();
      entry = this.entries.get(id);
    }
    if (!entry) {
      const known = [...this.entries.values()].filter((e) => e.status.manifest.task === task).map((e) => e.status.manifest.id);
      throw new AppError('VALIDATION_ERROR', `unknown model '${id}' for ${task}; known: ${known.join(', ') || 'none'}`);
    }
    if (entry.status.manifest.task !== task) {
      throw new AppError('VALIDATION_ERROR', `model '${id}' is a ${entry.status.manifest.task} model, not ${task}`);
    }
    // A model that was missing may have been pulled since: look again before refusing.
    if (!isUsable(entry.status.state)) {
      await this.locate(entry.status.manifest, entry.status.source);
      entry = this.entries.get(id) ?? entry;
    }
    const { status } = entry;
    if (!isUsable(status.state) || !status.path) throw unavailable(status, this.searchPath);
    return { manifest: status.manifest, path: status.path };
  }

  private async locate(manifest: ModelManifest, source: string): Promise<void> {
    const previous = this.entries.get(manifest.id);
    // A user's model lives beside its manifest; built-ins are looked for along the whole search path.
    const dirs = source === 'builtin' ? this.searchPath : [path.dirname(source)];
    for (const dir of dirs) {
      const file = path.join(dir, manifest.file);
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) continue;
      const stamp = `${info.size}:${info.mtimeMs}`;
      if (previous?.status.path === file && previous.checkedStamp === stamp) return;
      let state: ModelState = 'unverified';
      let detail: string | undefined;
      if (manifest.sha256) {
        const actual = await sha256File(file);
        state = actual === manifest.sha256 ? 'ok' : 'checksum_mismatch';
        if (state === 'checksum_mismatch') detail = `sha256 is ${actual}, expected ${manifest.sha256}`;
      }
      this.entries.set(manifest.id, { status: { manifest, state, path: file, source, ...(detail ? { detail } : {}) }, checkedStamp: stamp });
      return;
    }
    this.entries.set(manifest.id, { status: { manifest, state: 'missing', path: null, source }, checkedStamp: null });
  }
}

/** The 503 for a model that cannot be used, naming the file and the command that fixes it. */
function unavailable(status: ModelStatus, searchPath: readonly string[]): AppError {
  const { id, file } = status.manifest;
  const fix = status.manifest.url
    ? `run \`argus models pull ${id}\` or put ${file} in ARGUS_MODELS_DIR`
    : `put ${file} beside its manifest ${status.source}`;
  const what = status.state === 'missing'
    ? `${file} was not found in ${searchPath.join(', ') || '(empty search path)'}`
    : `${status.path ?? file} fails its checksum (${status.detail ?? status.state})`;
  return new AppError('MODEL_UNAVAILABLE', `model '${id}' is unavailable: ${what}; ${fix}`, { model: id, state: status.state });
}

function invalidStatus(file: string, error: string): ModelStatus {
  const id = path.basename(file, MANIFEST_SUFFIX);
  const manifest: ModelManifest = { id, task: 'detect', file: `${id}.onnx`, licence: 'unknown', input: { width: 8, height: 8, colour: 'rgb', resize: 'stretch' }, decoder: 'unknown' };
  return { manifest, state: 'invalid_manifest', path: null, source: file, detail: error };
}

async function listManifests(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(MANIFEST_SUFFIX)).sort().map((n) => path.join(dir, n));
}

async function readManifest(file: string): Promise<{ manifest: ModelManifest } | { error: string }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    return { error: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!Value.Check(ModelManifestSchema, json)) {
    const first = [...Value.Errors(ModelManifestSchema, json)].slice(0, 3);
    return { error: first.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ') };
  }
  return { manifest: json };
}

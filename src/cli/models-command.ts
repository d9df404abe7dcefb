/**
 * `argus models list|pull|verify`: what models this machine has, fetching the missing ones with a progress
 * bar, and re-checking checksums.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { downloadModel, modelUrl } from '../adapters/models/model-download.js';
import { isUsable, type ModelStatus } from '../domain/model-manifest.js';
import type { Config } from '../main/config.js';

/** What the models commands need from the CLI. */
export interface ModelsCommandContext {
  loadConfig(): Config;
  print(line: string): void;
}

function row(m: ModelStatus): string {
  const where = m.path ?? (m.state === 'invalid_manifest' ? m.source : m.manifest.file);
  const detail = m.detail ? `  (${m.detail})` : '';
  return `${m.manifest.id.padEnd(20)} ${m.manifest.task.padEnd(14)} ${m.state.padEnd(17)} ${where}${detail}`;
}

/** The model registry of this machine; services.js (and what it loads) is imported only by the models commands. */
async function openModelRegistry(config: Config): ReturnType<typeof import('../main/services.js').openModelRegistry> {
  return (await import('../main/services.js')).openModelRegistry(config);
}

/** Adds the `models` command group to the program. */
export function addModelsCommand(program: Command, ctx: ModelsCommandContext): void {
  const models = program.command('models').description('list, download and verify model files');

  models
    .command('list')
    .description('show every known model as ok, unverified, missing or checksum_mismatch')
    .action(async () => {
      const config = ctx.loadConfig();
      const registry = await openModelRegistry(config);
      ctx.print(`search path: ${registry.searchPath.join(', ')}`);
      for (const m of registry.list()) ctx.print(row(m));
    });

  models
    .command('verify')
    .description('check the SHA-256 of every model file present; exits 1 if any is corrupt')
    .action(async () => {
      const registry = await openModelRegistry(ctx.loadConfig());
      const present = registry.list().filter((m) => m.state !== 'missing');
      for (const m of present) ctx.print(row(m));
      const bad = present.filter((m) => m.state === 'checksum_mismatch' || m.state === 'invalid_manifest');
      if (bad.length) {
        process.exitCode = 1;
        process.stderr.write(`${bad.length} model(s) failed: run \`argus models pull ${bad.map((m) => m.manifest.id).join(' ')}\`\n`);
      } else {
        process.stderr.write(`${present.length} model file(s) verified\n`);
      }
    });

  models
    .command('pull')
    .description('download missing or corrupt models (all built-in ones when no id is given) into ARGUS_MODELS_DIR')
    .argument('[ids...]', 'model ids')
    .option('--mirror <url>', 'download <url>/<file> instead of the upstream address (also ARGUS_MODELS_MIRROR)')
    .option('--force', 'download even if a good copy is present', false)
    .action(async (ids: string[], opts: { mirror?: string; force: boolean }) => {
      const config = ctx.loadConfig();
      const registry = await openModelRegistry(config);
      const all = registry.list().filter((m) => m.state !== 'invalid_manifest');
      const unknown = ids.filter((id) => !all.some((m) => m.manifest.id === id));
      if (unknown.length) throw new Error(`unknown model(s): ${unknown.join(', ')}; known: ${all.map((m) => m.manifest.id).join(', ')}`);
      const chosen = ids.length ? all.filter((m) => ids.includes(m.manifest.id)) : all.filter((m) => m.source === 'builtin');
      const mirror = opts.mirror ?? process.env.ARGUS_MODELS_MIRROR;
      let failed = 0;
      for (const m of chosen) {
        if (isUsable(m.state) && !opts.force) {
          ctx.print(`${m.manifest.id}: present (${m.path ?? ''})`);
          continue;
        }
        const url = modelUrl(m.manifest, mirror);
        if (!url) {
          failed++;
          process.stderr.write(`${m.manifest.id}: no download address in its manifest; use --mirror\n`);
          continue;
        }
        const bar = new SingleBar({ format: `${m.manifest.id.padEnd(18)} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr }, Presets.shades_classic);
        bar.start(1, 0);
        try {
          const saved = await downloadModel(m.manifest, url, config.modelsDir, (received, total) => {
            bar.setTotal(total ?? Math.max(received, 1));
            bar.update(received);
          });
          bar.stop();
          ctx.print(`${m.manifest.id}: downloaded to ${saved}, sha256 ${m.manifest.sha256 ? 'verified' : 'not given (unverified)'}`);
        } catch (err) {
          bar.stop();
          failed++;
          process.stderr.write(`${m.manifest.id}: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}

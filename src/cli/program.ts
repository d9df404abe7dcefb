/**
 * The `argus` command line. Each command is a thin shell over use cases; configuration is read once, when a
 * command that needs it runs.
 */
import { Command } from 'commander';
import type { Config } from '../main/config.js';
import { hashFile } from './hash-file.js';
import { addAnalyzeCommand } from './analyze-command.js';
import { addKeysCommand } from './keys-command.js';
import { addModelsCommand } from './models-command.js';
import { VERSION } from './version.js';
import { addWhoamiCommand } from './whoami-command.js';

/** What the commands need from the startup file. */
export interface CliContext {
  /**
   * Reads the configuration, with `overrides` (command-line options) over the environment; refuses a default
   * data directory outside an Argus directory (see data-dir.ts).
   */
  loadConfig(overrides?: Record<string, string>): Config;
  startApi(config: Config): Promise<unknown>;
  startWorker(config: Config): Promise<unknown>;
  print(line: string): void;
}

/** Builds the `argus` program. */
export function buildProgram(outer: CliContext): Command {
  const program = new Command('argus')
    .description('Argus — self-hosted vision API for photos and video')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--data-dir <dir>', 'the data directory (ARGUS_DATA_DIR; default ./data, only inside the Argus directory)')
    .showHelpAfterError();
  // --data-dir is a program option so every command that reads the configuration honours it, before or after its name.
  const ctx: CliContext = {
    ...outer,
    loadConfig: (overrides) => {
      const dataDir = program.opts<{ dataDir?: string }>().dataDir;
      return outer.loadConfig(dataDir || overrides ? { ...(dataDir ? { ARGUS_DATA_DIR: dataDir } : {}), ...overrides } : undefined);
    },
  };

  program
    .command('serve')
    .description('start the API server (PORT, HOST and the ARGUS_* settings apply)')
    .action(async () => {
      await ctx.startApi(ctx.loadConfig());
    });

  program
    .command('worker')
    .description('run jobs from the shared queue (scale-out mode: REDIS_URL and DATABASE_URL); any number, on any machine')
    .option('--concurrency <n>', 'jobs run at once (default ARGUS_WORKER_CONCURRENCY, 2)')
    .action(async (opts: { concurrency?: string }) => {
      await ctx.startWorker(ctx.loadConfig(opts.concurrency !== undefined ? { ARGUS_WORKER_CONCURRENCY: opts.concurrency } : undefined));
    });

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const config = ctx.loadConfig();
      const { withDatabase } = await import('./with-database.js');
      await withDatabase(config, 'cannot migrate', async (db) => ctx.print(`migrations applied (${db.kind})`));
    });

  program
    .command('openapi')
    .description('print the API\'s OpenAPI document (JSON), as /openapi.json serves it')
    .option('--out <file>', 'write it to a file instead')
    .option('--check <file>', 'exit 1 unless the file holds exactly this document (CI: the client is up to date)')
    .action(async (opts: { out?: string; check?: string }) => {
      const { openapiDocument } = await import('../main/openapi.js');
      const text = `${JSON.stringify(await openapiDocument(), null, 2)}\n`;
      if (opts.check) {
        const { readFile } = await import('node:fs/promises');
        const current = await readFile(opts.check, 'utf8').catch(() => '');
        if (current !== text) throw new Error(`${opts.check} is not the current OpenAPI document: run npm run client:generate`);
        return;
      }
      if (opts.out) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(opts.out, text);
        return;
      }
      process.stdout.write(text);
    });

  program
    .command('hash')
    .description('print the content id (XxHash64 sampling hash) of a file')
    .argument('<file>')
    .action(async (file: string) => {
      ctx.print(await hashFile(file));
    });

  addKeysCommand(program, ctx);
  addModelsCommand(program, ctx);
  addAnalyzeCommand(program, ctx);
  addWhoamiCommand(program, ctx);
  return program;
}

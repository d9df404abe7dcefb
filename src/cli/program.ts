/**
 * The `argus` command line. Each command is a thin shell over use cases; configuration is read once, when a
 * command that needs it runs.
 */
import { Command } from 'commander';
import { createApiKey } from '../app/api-keys.js';
import { SqlApiKeyRepository } from '../adapters/db/api-key-repository.js';
import { openDatabase, type Database } from '../adapters/db/database.js';
import type { Config } from '../main/config.js';
import { lockDataDir } from '../main/data-dir-lock.js';
import { systemClock } from '../main/services.js';
import { hashFile } from './hash-file.js';
import { addAnalyzeCommand } from './analyze-command.js';
import { addModelsCommand } from './models-command.js';

/** What the commands need from the startup file. */
export interface CliContext {
  /** Reads the configuration, with `overrides` (command-line options) over the environment. */
  loadConfig(overrides?: Record<string, string>): Config;
  startApi(config: Config): Promise<unknown>;
  startWorker(config: Config): Promise<unknown>;
  print(line: string): void;
}

/** Opens the database for a command that changes it, holding the embedded lock meanwhile. */
async function withDatabase<T>(config: Config, what: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const unlock = config.databaseUrl ? null : await lockDataDir(config.dataDir, what);
  const database = await openDatabase({ url: config.databaseUrl, pgliteDir: config.pgliteDir });
  try {
    await database.migrate();
    return await fn(database);
  } finally {
    await database.close();
    if (unlock) await unlock();
  }
}

/** Builds the `argus` program. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('argus').description('Argus — self-hosted vision API for photos and video').showHelpAfterError();

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

  const keys = program.command('keys').description('manage API keys');
  keys
    .command('create')
    .description('create an API key and print it once')
    .requiredOption('--name <name>', 'a name to recognise the key by')
    .option('--owner <id>', 'the owner the key acts as (default: a new owner)')
    .option('--admin', 'give the key the admin role', false)
    .action(async (opts: { name: string; owner?: string; admin: boolean }) => {
      const config = ctx.loadConfig();
      await withDatabase(config, 'cannot create a key', async (db) => {
        const created = await createApiKey(
          { keys: new SqlApiKeyRepository(db.db), clock: systemClock },
          { name: opts.name, role: opts.admin ? 'admin' : 'user', ...(opts.owner ? { ownerId: opts.owner } : {}) },
        );
        ctx.print(created.key);
        process.stderr.write(`key ${created.record.id} (${created.record.role}) for owner ${created.record.ownerId}; it is shown only this once\n`);
      });
    });
  keys
    .command('list')
    .description('list API keys (without their secrets)')
    .action(async () => {
      const config = ctx.loadConfig();
      await withDatabase(config, 'cannot list keys', async (db) => {
        for (const k of await new SqlApiKeyRepository(db.db).list()) {
          ctx.print(`${k.id}  ${k.prefix}…  ${k.role.padEnd(5)}  ${k.ownerId}  ${k.name}`);
        }
      });
    });

  addModelsCommand(program, ctx);
  addAnalyzeCommand(program, ctx);
  return program;
}

/**
 * `argus keys create|list|revoke`: API keys, managed through a running server's /api/v1/keys (admin key) or, with
 * no key at all, directly in the data directory while the server is stopped — the way to the first admin key on a
 * PostgreSQL deployment and back in when every admin key is lost.
 */
import type { Command } from 'commander';
import { unwrap, type Schemas } from '@argus/client';
import type { SqlApiKeyRepository } from '../adapters/db/api-key-repository.js';
import { createApiKey } from '../app/api-keys.js';
import { apiKeyView } from '../http/routes/keys.js';
import type { ApiKeyRecord } from '../app/ports.js';
import type { Config } from '../main/config.js';
import { DataDirLockedError } from '../main/data-dir-lock.js';
import { addServerOptions, apiFailure, connect, resolveServer, type ServerOptions } from './server-client.js';

/** What the keys commands need from the CLI. */
export interface KeysCommandContext {
  loadConfig(): Config;
  print(line: string): void;
}

type KeyView = Pick<Schemas['ApiKey'], 'id' | 'name' | 'owner_id' | 'role' | 'prefix' | 'created_at' | 'last_used_at'>;

/** The key view the API gives, for keys read from the data directory. */
const fromRecord = (k: ApiKeyRecord): KeyView => apiKeyView(k);
/** One key as a table row: id, prefix, role, owner, last use, name (the name last: it may hold spaces). */
const row = (k: KeyView): string => `${k.id}  ${k.prefix}…  ${k.role.padEnd(5)}  ${k.owner_id}  ${k.last_used_at ?? 'never-used'}  ${k.name}`;

/**
 * Whether a command goes through the server: when a key or a server is given (options or ARGUS_API_KEY /
 * ARGUS_SERVER). Without either there is no way to authenticate, so it works on the data directory instead.
 */
function viaServer(opts: ServerOptions & { local?: boolean }): boolean {
  if (opts.local) return false;
  return Boolean(opts.key ?? opts.server ?? (process.env.ARGUS_API_KEY || process.env.ARGUS_SERVER));
}

/** Runs a local (data directory) action, saying how to use the server instead when it holds the database. */
async function local<T>(ctx: KeysCommandContext, what: string, fn: (keys: SqlApiKeyRepository) => Promise<T>): Promise<T> {
  const config = ctx.loadConfig();
  // The database drivers load only here: the commands through the API do not need them.
  const [{ withDatabase }, { SqlApiKeyRepository }] = await Promise.all([import('./with-database.js'), import('../adapters/db/api-key-repository.js')]);
  try {
    return await withDatabase(config, what, (db) => fn(new SqlApiKeyRepository(db.db)));
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      throw new DataDirLockedError(`${err.message} With the CLI: add --key <admin key> (and --server URL if it is not ${resolveServer({}).server}).`);
    }
    throw err;
  }
}

/** Adds the `keys` command group to the program. */
export function addKeysCommand(program: Command, ctx: KeysCommandContext): void {
  const keys = program
    .command('keys')
    .description('manage API keys: through a running server with an admin key (--key/ARGUS_API_KEY), or without a key directly in the data directory while the server is stopped');

  addServerOptions(
    keys
      .command('create')
      .description('create an API key and print it once (on stdout; its id and owner on stderr)')
      .requiredOption('--name <name>', 'a name to recognise the key by')
      .option('--owner <id>', 'the owner the key acts as (default: a new owner)')
      .option('--admin', 'give the key the admin role', false)
      .option('--local', 'work on the data directory even if ARGUS_API_KEY or ARGUS_SERVER is set (the server must be stopped)'),
  ).action(async (opts: ServerOptions & { name: string; owner?: string; admin: boolean; local?: boolean }) => {
    const input = { name: opts.name, role: opts.admin ? ('admin' as const) : ('user' as const), ...(opts.owner ? { owner_id: opts.owner } : {}) };
    let created: { key: string; api_key: KeyView };
    if (viaServer(opts)) {
      const { client } = connect(opts);
      try {
        created = unwrap(await client.POST('/api/v1/keys', { body: input }));
      } catch (err) {
        throw apiFailure('cannot create the key', err);
      }
    } else {
      const made = await local(ctx, 'cannot create a key', (repo) =>
        createApiKey({ keys: repo, clock: { now: () => new Date() } }, { name: input.name, role: input.role, ...(opts.owner ? { ownerId: opts.owner } : {}) }),
      );
      created = { key: made.key, api_key: fromRecord(made.record) };
    }
    ctx.print(created.key);
    process.stderr.write(`key ${created.api_key.id} (${created.api_key.role}) for owner ${created.api_key.owner_id}; it is shown only this once\n`);
  });

  addServerOptions(
    keys
      .command('list')
      .description('list API keys without their secrets: id, prefix, role, owner, last use, name')
      .option('--json', 'print the list as JSON')
      .option('--local', 'read the data directory even if ARGUS_API_KEY or ARGUS_SERVER is set (the server must be stopped)'),
  ).action(async (opts: ServerOptions & { json?: boolean; local?: boolean }) => {
    let items: KeyView[];
    if (viaServer(opts)) {
      const { client } = connect(opts);
      try {
        items = unwrap(await client.GET('/api/v1/keys')).items;
      } catch (err) {
        throw apiFailure('cannot list the keys', err);
      }
    } else {
      items = (await local(ctx, 'cannot list keys', (repo) => repo.list())).map(fromRecord);
    }
    if (opts.json) ctx.print(JSON.stringify(items, null, 2));
    else for (const k of items) ctx.print(row(k));
  });

  addServerOptions(
    keys
      .command('revoke')
      .description('revoke an API key by its id (as `keys list` shows it); requests with it are refused from then on')
      .argument('<id>', 'the key id')
      .option('--local', 'work on the data directory even if ARGUS_API_KEY or ARGUS_SERVER is set (the server must be stopped)'),
  ).action(async (id: string, opts: ServerOptions & { local?: boolean }) => {
    if (viaServer(opts)) {
      const { client } = connect(opts);
      try {
        unwrap(await client.DELETE('/api/v1/keys/{id}', { params: { path: { id } } }));
      } catch (err) {
        throw apiFailure(`cannot revoke key ${id}`, err);
      }
    } else if (!(await local(ctx, 'cannot revoke a key', (repo) => repo.delete(id)))) {
      throw new Error(`no API key with id ${id} (see argus keys list)`);
    }
    process.stderr.write(`key ${id} revoked\n`);
  });
}

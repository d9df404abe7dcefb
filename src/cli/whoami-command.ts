/** `argus whoami`: who the server takes the CLI's key for (GET /api/v1/me) — owner, role, kind of credential. */
import type { Command } from 'commander';
import { unwrap } from '@argus/client';
import { addServerOptions, apiFailure, connect, type ServerOptions } from './server-client.js';

/** What the whoami command needs from the CLI. */
export interface WhoamiCommandContext {
  print(line: string): void;
}

/** Adds `argus whoami` to the program. */
export function addWhoamiCommand(program: Command, ctx: WhoamiCommandContext): void {
  addServerOptions(
    program
      .command('whoami')
      .description('show who the server takes your key for: owner, role, credential (GET /api/v1/me)')
      .option('--json', 'print the answer as JSON'),
  ).action(async (opts: ServerOptions & { json?: boolean }) => {
    const { client, server } = connect(opts);
    let me;
    try {
      me = unwrap(await client.GET('/api/v1/me'));
    } catch (err) {
      throw apiFailure(`${server} did not accept the key`, err);
    }
    if (opts.json) {
      ctx.print(JSON.stringify(me, null, 2));
      return;
    }
    ctx.print(`owner_id:   ${me.owner_id}`);
    if (me.user_id !== me.owner_id) ctx.print(`user_id:    ${me.user_id}`);
    ctx.print(`role:       ${me.role}`);
    ctx.print(`credential: ${me.credential}${me.key_id ? ` (key ${me.key_id})` : ''}`);
    ctx.print(`server:     ${server}`);
  });
}

/**
 * How the commands that manage a running server reach it: the `--server` and `--key` options (ARGUS_SERVER and
 * ARGUS_API_KEY), a typed client from @argus/client, and errors that say what to do — which URL could not be
 * reached and how to point elsewhere, which key the server refused and why.
 */
import { Option, type Command } from 'commander';
import { ArgusError, createArgusClient, type ArgusClient } from '@argus/client';

/** Where the CLI looks for a server when neither --server nor ARGUS_SERVER says. */
export const DEFAULT_SERVER = 'http://localhost:8080';

/** The options every server command takes. */
export interface ServerOptions {
  server?: string;
  key?: string;
}

/** A connection to a server: the typed client, the base URL it uses, and the fetch that explains refusals. */
export interface ServerConnection {
  readonly client: ArgusClient;
  readonly server: string;
  readonly key: string | undefined;
  readonly fetch: typeof globalThis.fetch;
}

/**
 * Adds `--server` and `--key` to a command. Their defaults come from the environment when the command runs (not
 * when the program is built), and stay unset in the parsed options so a command can tell "given" from "default".
 */
export function addServerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--server <url>', `the Argus server (default: ARGUS_SERVER, else ${DEFAULT_SERVER})`))
    .addOption(new Option('--key <key>', 'API key (default: ARGUS_API_KEY)'));
}

/** The server URL and key a command uses: the options, else ARGUS_SERVER / ARGUS_API_KEY, else the default server. */
export function resolveServer(opts: ServerOptions): { server: string; key: string | undefined } {
  const server = (opts.server ?? (process.env.ARGUS_SERVER || DEFAULT_SERVER)).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/i.test(server)) throw new Error(`--server must be an http(s) URL such as ${DEFAULT_SERVER}, not '${server}'`);
  return { server, key: opts.key ?? (process.env.ARGUS_API_KEY || undefined) };
}

/** Opens a typed client on the server the options name. */
export function connect(opts: ServerOptions): ServerConnection {
  const { server, key } = resolveServer(opts);
  const explainingFetch = explainRefusals(server);
  return { client: createArgusClient({ baseUrl: server, apiKey: key, fetch: explainingFetch }), server, key, fetch: explainingFetch };
}

/** Network error codes that mean "nothing answered there", as Node's fetch reports them in `cause`. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
};

/** The code of a fetch failure, looked for through `cause` and AggregateError's errors (Node nests them). */
function networkCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 4) return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof e.code === 'string' && e.code in UNREACHABLE) return e.code;
  return networkCode(e.cause, depth + 1) ?? (Array.isArray(e.errors) ? e.errors.map((x) => networkCode(x, depth + 1)).find(Boolean) : undefined);
}

/** A fetch that turns "fetch failed" into a message naming the URL tried and how to point the CLI elsewhere. */
function explainRefusals(server: string): typeof globalThis.fetch {
  return async (input, init) => {
    try {
      return await globalThis.fetch(input, init);
    } catch (err) {
      const code = networkCode(err);
      // Node's fetch reports every transport failure as TypeError('fetch failed'), the reason in `cause`.
      if (!code && !(err instanceof TypeError && err.message === 'fetch failed')) throw err;
      const reason = code ? UNREACHABLE[code] : err instanceof Error && err.cause instanceof Error ? err.cause.message : 'no answer';
      throw new Error(
        `cannot reach the Argus server at ${server} (${reason}). Start one there with \`argus serve\`, ` +
          'or point the CLI at another with --server URL or ARGUS_SERVER=URL',
        { cause: err },
      );
    }
  };
}

/** An Error for a failed API call, saying what was attempted, the server's answer and, for 401/403, what to do. */
export function apiFailure(what: string, err: unknown): Error {
  if (!(err instanceof ArgusError)) return err instanceof Error ? err : new Error(String(err));
  const hint =
    err.status === 401 ? ' — give a valid API key with --key or ARGUS_API_KEY' : err.status === 403 ? ' — this needs an admin key (argus keys create --admin)' : '';
  return new Error(`${what}: ${err.status} ${err.code}: ${err.message}${hint}`, { cause: err });
}

/**
 * The typed client of the Argus API. `schema.d.ts` is generated from Argus's OpenAPI document
 * (`npm run client:generate`; CI checks it is up to date), and openapi-fetch makes every path, parameter, body and
 * answer of it typed: `client.GET('/api/v1/media/{id}', { params: { path: { id } } })`.
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths } from './schema.js';
/** The API's named schemas: `Schemas['Media']`, `Schemas['Job']`, `Schemas['Error']`, ... */
export type Schemas = components['schemas'];

/** How to reach and authenticate to an Argus server. */
export interface ArgusClientOptions {
  /** The server, e.g. http://localhost:8080 (the /api/v1 paths are part of each call). */
  readonly baseUrl: string;
  /** An API key, sent as X-API-Key. */
  readonly apiKey?: string | undefined;
  /** A JWT, sent as a bearer token. */
  readonly token?: string | undefined;
  /** A browser session's CSRF token, sent as X-CSRF-Token on state-changing requests (the cookie goes by itself). */
  readonly csrfToken?: () => string | undefined;
  readonly fetch?: typeof globalThis.fetch;
}

/** An Argus client. */
export type ArgusClient = Client<paths>;

/** Creates a client; its calls answer `{ data }` or `{ error }` (the error envelope), never throw for HTTP errors. */
export function createArgusClient(options: ArgusClientOptions): ArgusClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), ...(options.fetch ? { fetch: options.fetch } : {}), credentials: 'same-origin' });
  const auth: Middleware = {
    onRequest({ request }) {
      if (options.apiKey) request.headers.set('x-api-key', options.apiKey);
      else if (options.token) request.headers.set('authorization', `Bearer ${options.token}`);
      const csrf = options.csrfToken?.();
      if (csrf && request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('x-csrf-token', csrf);
      return request;
    },
  };
  client.use(auth);
  return client;
}

/** A value for a multipart field: text, or a file (a Blob, with an optional name). */
export type FormValue = string | number | boolean | Blob | { readonly data: Blob; readonly filename: string };

/**
 * Options for an upload call: the fields as a multipart/form-data body, in order (text fields before files, so a
 * streamed video's job starts with them), e.g. `client.POST('/api/v1/detect', upload({ file, threshold: 0.5 }))`.
 */
export function upload(fields: Record<string, FormValue | readonly FormValue[] | undefined>): { body: never; bodySerializer: () => FormData } {
  const form = new FormData();
  const entries = Object.entries(fields).filter((e): e is [string, FormValue | readonly FormValue[]] => e[1] !== undefined);
  const isFile = (v: FormValue): boolean => v instanceof Blob || (typeof v === 'object' && 'data' in v);
  const ordered = [...entries.filter(([, v]) => ![v].flat().some(isFile)), ...entries.filter(([, v]) => [v].flat().some(isFile))];
  for (const [name, value] of ordered) {
    const values: readonly FormValue[] = Array.isArray(value) ? value : [value as FormValue];
    for (const v of values) {
      if (v instanceof Blob) form.append(name, v);
      else if (typeof v === 'object') form.append(name, v.data, v.filename);
      else form.append(name, String(v));
    }
  }
  // openapi-fetch serialises a body only when there is one: a placeholder, replaced by the form (`never` fits every
  // operation's body type).
  return { body: {} as never, bodySerializer: () => form };
}

/** An error answer of the API, with its envelope's fields. */
export class ArgusError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly details: unknown,
  ) {
    super(message);
    this.name = 'ArgusError';
  }
}

/** The data of a call's answer, or an ArgusError from its error envelope. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const envelope = (result.error as { error?: { code?: string; message?: string; request_id?: string; details?: unknown } } | undefined)?.error;
    throw new ArgusError(result.response.status, envelope?.code ?? 'HTTP_ERROR', envelope?.message ?? `HTTP ${result.response.status}`, envelope?.request_id, envelope?.details);
  }
  return result.data as T;
}

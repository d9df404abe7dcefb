/**
 * The console's one way to the API: the typed client generated from /openapi.json (@argus/client). The browser
 * sends the session cookie by itself; the client adds the session's CSRF token to state-changing requests. No
 * credential is ever kept by the console: the key typed at sign-in goes into one request's header and is dropped.
 */
import { ArgusError, createArgusClient, unwrap, upload, type Schemas } from '@argus/client';
import { signal } from './signal';

export { ArgusError, unwrap, upload };
export type { Schemas };

/** The signed-in session, as GET /api/v1/session answers it. */
export type Session = Schemas['Session'];

/** The current session (null: signed out, undefined: not known yet). */
export const session = signal<Session | null | undefined>(undefined);

/** The client every view uses. */
export const api = createArgusClient({ baseUrl: location.origin, csrfToken: () => session.value?.csrf_token ?? undefined });

/** Reads the session; null when there is none (401). */
export async function loadSession(): Promise<Session | null> {
  const res = await api.GET('/api/v1/session');
  if (res.response.status === 401) {
    session.value = null;
    return null;
  }
  const s = unwrap(res);
  session.value = s;
  return s;
}

/** Signs in with an API key or a token: a one-off client sends it in its header; the answer sets the cookie. */
export async function signIn(credential: { apiKey: string } | { token: string }): Promise<Session> {
  const once = createArgusClient({ baseUrl: location.origin, ...credential });
  const s = unwrap(await once.POST('/api/v1/session'));
  session.value = s;
  return s;
}

/** Signs out: the server revokes the session and clears the cookie. */
export async function signOut(): Promise<void> {
  unwrap(await api.DELETE('/api/v1/session'));
  session.value = null;
}

/** A message for any failure, with the API's request id when there is one. */
export function describeError(err: unknown): { message: string; requestId?: string | undefined; code?: string } {
  if (err instanceof ArgusError) return { message: err.message, requestId: err.requestId, code: err.code };
  return { message: err instanceof Error ? err.message : String(err) };
}

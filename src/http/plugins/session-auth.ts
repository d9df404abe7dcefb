/**
 * The console's session cookie. Browsers cannot put an API key on `<img>`, `<video>` or `EventSource` requests, so
 * the console signs in once (POST /api/v1/session with its key or token in the usual header) and the server sets an
 * HttpOnly, SameSite=Strict cookie naming a stored session. This hook, which runs before authentication, finds the
 * session of an API request that carries the cookie and no credential of its own; `principalOf` then acts as the
 * session's owner. State-changing requests made with the cookie must also send the session's CSRF token in
 * X-CSRF-Token: SameSite=Strict already keeps other sites' requests from carrying the cookie, the token covers
 * browsers and same-site subdomains where it would not. The cookie holds a random id; only its hash is stored.
 */
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../app/ports.js';
import { csrfMatches, hashSessionId, type SessionRecord, type SessionRepository } from '../../app/sessions.js';
import { AppError } from '../../domain/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session the request's cookie names (null without one, or when it carries its own credential). */
    consoleSession: SessionRecord | null;
  }
}

/** The cookie's name. */
export const SESSION_COOKIE = 'argus_session';
/** The header that carries the session's CSRF token. */
export const CSRF_HEADER = 'x-csrf-token';
/** The cookie is sent only to the API (the console's pages and assets need none). */
export const SESSION_COOKIE_PATH = '/api/';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What the session hook needs. */
export interface SessionAuthOptions {
  readonly sessions: SessionRepository;
  readonly clock: Clock;
  /** False when authentication is off: every request is the default owner, cookies are not looked at. */
  readonly enabled: boolean;
}

/** Registers cookie parsing and the hook that turns a session cookie into `request.consoleSession` (root scope). */
export async function sessionAuth(app: FastifyInstance, options: SessionAuthOptions): Promise<void> {
  await app.register(cookie);
  app.decorateRequest('consoleSession', null);
  app.addHook('onRequest', async (request) => {
    if (!options.enabled || !request.url.startsWith('/api/')) return;
    // A request with its own credential is judged by it alone: the cookie neither adds to it nor overrides it.
    if (request.headers['x-api-key'] || request.headers.authorization) return;
    const id = request.cookies[SESSION_COOKIE];
    if (!id) return;
    const record = await options.sessions.find(hashSessionId(id), options.clock.now());
    // An unknown or expired session is no credential: authentication then answers 401 as for none.
    if (!record) return;
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (!csrfMatches(record, typeof sent === 'string' ? sent : undefined)) {
        throw new AppError('FORBIDDEN', 'a request made with the console session cookie that changes something needs the X-CSRF-Token header (GET /api/v1/session gives the token)');
      }
    }
    request.consoleSession = record;
  });
}

/** Whether the session cookie should be Secure for this request. */
function secureFor(request: FastifyRequest, mode: 'auto' | 'true' | 'false'): boolean {
  return mode === 'true' || (mode === 'auto' && request.protocol === 'https');
}

/** Sets the session cookie (HttpOnly, SameSite=Strict, Secure over https, expiring with the session). */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, id: string, expiresAt: Date, secure: 'auto' | 'true' | 'false'): void {
  void reply.setCookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure: secureFor(request, secure), path: SESSION_COOKIE_PATH, expires: expiresAt });
}

/** Tells the browser to forget the session cookie. */
export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply, secure: 'auto' | 'true' | 'false'): void {
  void reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: secureFor(request, secure), path: SESSION_COOKIE_PATH });
}

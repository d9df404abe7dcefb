/**
 * Identity. Every API request acts as a principal: from `X-API-Key`, from `Authorization: Bearer <JWT>`, or —
 * with auth turned off for local development — as one default owner. Missing or bad credentials → 401, and a client
 * address that keeps failing is slowed down with 429 before its credentials are even looked at (guessing keys costs).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../app/ports.js';
import { AppError, isAppError } from '../../domain/errors.js';
import { sessionPrincipal } from '../../app/sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

/** How credentials are checked; `null` turns authentication off. */
export interface Authenticator {
  apiKey(key: string): Promise<Principal>;
  bearer: ((token: string) => Promise<Principal>) | null;
}

/** Counts failed authentications per client address (a rate limiter in "count only failures" use). */
export interface FailureLimiter {
  /** Seconds to wait before trying again, or 0 when the address may try now. */
  blockedFor(request: FastifyRequest): Promise<number>;
  /** Counts one failure of the address. */
  record(request: FastifyRequest): Promise<void>;
}

/** The principal of every request when auth is off. */
export const ANONYMOUS: Principal = { ownerId: 'default', subject: 'default', role: 'admin', via: 'anonymous' };

/** Adds the `onRequest` hook that sets `request.principal` in the current scope. */
export function authenticate(app: FastifyInstance, auth: Authenticator | null, failures: FailureLimiter | null = null): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request, reply) => {
    if (!auth) {
      request.principal = ANONYMOUS;
      return;
    }
    const wait = failures ? await failures.blockedFor(request) : 0;
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      throw new AppError('RATE_LIMITED', `too many requests with bad or missing credentials from this address; retry in ${wait} s`);
    }
    try {
      request.principal = await principalOf(request, auth);
    } catch (err) {
      if (failures && isAppError(err) && err.code === 'UNAUTHORIZED') await failures.record(request);
      throw err;
    }
  });
}

/** The principal a request's credentials name, or UNAUTHORIZED. */
export async function principalOf(request: FastifyRequest, auth: Authenticator): Promise<Principal> {
  const key = request.headers['x-api-key'];
  if (typeof key === 'string' && key.length > 0) return auth.apiKey(key);
  const authorization = request.headers.authorization;
  if (authorization?.toLowerCase().startsWith('bearer ')) {
    if (!auth.bearer) throw new AppError('UNAUTHORIZED', 'bearer tokens are not configured on this server (set ARGUS_JWT_SECRET or ARGUS_JWT_PUBLIC_KEY)');
    return auth.bearer(authorization.slice(7).trim());
  }
  // The console's session cookie (found by the session-auth hook): the owner and role of the credential it was made from.
  if (request.consoleSession) return sessionPrincipal(request.consoleSession);
  throw new AppError('UNAUTHORIZED', 'credentials required: send an X-API-Key header or an Authorization: Bearer token');
}

/** Throws FORBIDDEN unless the request acts as an admin. */
export function requireAdmin(request: FastifyRequest): void {
  if (request.principal.role !== 'admin') throw new AppError('FORBIDDEN', 'this needs an admin key or token');
}

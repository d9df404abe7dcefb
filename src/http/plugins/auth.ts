/**
 * Identity. Every API request acts as a principal: from `X-API-Key`, from `Authorization: Bearer <JWT>`, or —
 * with auth turned off for local development — as one default owner. Missing or bad credentials → 401.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../../app/ports.js';
import { AppError } from '../../domain/errors.js';

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

/** The principal of every request when auth is off. */
export const ANONYMOUS: Principal = { ownerId: 'default', subject: 'default', role: 'admin', via: 'anonymous' };

/** Adds the `onRequest` hook that sets `request.principal` in the current scope. */
export function authenticate(app: FastifyInstance, auth: Authenticator | null): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    request.principal = auth ? await principalOf(request, auth) : ANONYMOUS;
  });
}

async function principalOf(request: FastifyRequest, auth: Authenticator): Promise<Principal> {
  const key = request.headers['x-api-key'];
  if (typeof key === 'string' && key.length > 0) return auth.apiKey(key);
  const authorization = request.headers.authorization;
  if (authorization?.toLowerCase().startsWith('bearer ')) {
    if (!auth.bearer) throw new AppError('UNAUTHORIZED', 'bearer tokens are not configured on this server (set ARGUS_JWT_SECRET or ARGUS_JWT_PUBLIC_KEY)');
    return auth.bearer(authorization.slice(7).trim());
  }
  throw new AppError('UNAUTHORIZED', 'credentials required: send an X-API-Key header or an Authorization: Bearer token');
}

/** Throws FORBIDDEN unless the request acts as an admin. */
export function requireAdmin(request: FastifyRequest): void {
  if (request.principal.role !== 'admin') throw new AppError('FORBIDDEN', 'this needs an admin key or token');
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { decodeJwt } from 'jose';
import Type, { type Static } from 'typebox';
import type { Clock, Principal } from '../../app/ports.js';
import { startSession, type SessionRecord, type SessionRepository, hashSessionId } from '../../app/sessions.js';
import { AppError } from '../../domain/errors.js';
import { errorResponses, named, secured } from '../schemas/common.js';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from '../plugins/session-auth.js';

const Session = named(
  'Session',
  Type.Object({
    owner_id: Type.String({ description: 'The owner every request of this session acts as' }),
    subject: Type.String({ description: 'The user id as the credential names it' }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('user')]),
    via: Type.Union([Type.Literal('api_key'), Type.Literal('jwt'), Type.Literal('anonymous')], { description: 'The credential the session was made from' }),
    auth: Type.Boolean({ description: 'False when the server runs with ARGUS_AUTH=off (no sign-in needed)' }),
    csrf_token: Type.Union([Type.String(), Type.Null()], { description: 'Send it as X-CSRF-Token on requests that change something (null without a session)' }),
    expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
);

/** What the session routes need. */
export interface SessionRouteDeps {
  readonly sessions: SessionRepository;
  readonly clock: Clock;
  readonly ttlS: number;
  readonly cookieSecure: 'auto' | 'true' | 'false';
  /** False with ARGUS_AUTH=off. */
  readonly auth: boolean;
}

function view(principal: Principal, auth: boolean, session: SessionRecord | null): Static<typeof Session> {
  return {
    owner_id: principal.ownerId,
    subject: principal.subject,
    role: principal.role,
    via: principal.via,
    auth,
    csrf_token: session?.csrfToken ?? null,
    expires_at: session?.expiresAt.toISOString() ?? null,
  };
}

/**
 * `/api/v1/session`: the console's sign-in. POST with an API key (X-API-Key) or a token (Authorization: Bearer) in
 * the usual header — never in the URL or body, which logs and histories keep — sets the session cookie; GET reads
 * the session (owner, role, CSRF token); DELETE signs out (the stored session is deleted, so the cookie is dead
 * even if a copy of it survives).
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRouteDeps> = async (app, deps) => {
  app.post(
    '/session',
    {
      schema: {
        tags: ['identity'],
        summary: 'Sign in the console: send your API key (X-API-Key) or token (Bearer); the answer sets an HttpOnly session cookie',
        security: secured,
        response: { 201: Session, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => {
      if (!deps.auth) return reply.status(201).send(view(request.principal, false, null));
      // A session is made from a credential, not from another session (which would extend it for ever).
      if (request.consoleSession) throw new AppError('BAD_REQUEST', 'sign in with an X-API-Key header or an Authorization: Bearer token, not with the session cookie');
      let notAfter: Date | undefined;
      if (request.principal.via === 'jwt') {
        const exp = decodeJwt(request.headers.authorization!.slice(7).trim()).exp;
        if (exp) notAfter = new Date(exp * 1000);
      }
      const { id, record } = await startSession(deps, request.principal, deps.ttlS, notAfter);
      setSessionCookie(request, reply, id, record.expiresAt, deps.cookieSecure);
      // Never cached: the answer carries the CSRF token.
      void reply.header('cache-control', 'no-store');
      return reply.status(201).send(view(request.principal, true, record));
    },
  );

  app.get(
    '/session',
    { schema: { tags: ['identity'], summary: 'The current session: owner, role and CSRF token', security: secured, response: { 200: Session, ...errorResponses(401) } } },
    async (request, reply) => {
      void reply.header('cache-control', 'no-store');
      return view(request.principal, deps.auth, request.consoleSession);
    },
  );

  app.delete(
    '/session',
    { schema: { tags: ['identity'], summary: 'Sign out: the session is revoked and its cookie cleared', security: secured, response: { 204: Type.Null(), ...errorResponses(401, 403) } } },
    async (request, reply) => {
      const id = request.cookies[SESSION_COOKIE];
      if (request.consoleSession) await deps.sessions.delete(request.consoleSession.idHash);
      // With a header credential and a cookie, the cookie's session is still the one to end.
      else if (id && deps.auth) await deps.sessions.delete(hashSessionId(id));
      clearSessionCookie(request, reply, deps.cookieSecure);
      return reply.status(204).send(null);
    },
  );
};

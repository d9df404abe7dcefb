/**
 * The error envelope. Every error that reaches Fastify — a use case's AppError, a schema violation, a
 * multipart limit, an unexpected crash — leaves as `{error: {code, message, request_id}}`. 5xx answers say
 * nothing about the cause; it goes to the log with the request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError, type ErrorCode } from '../../domain/errors.js';
import { fieldProblems, problemsMessage } from '../validation.js';
import type { ErrorContext, ErrorReporter } from '../../app/error-reporter.js';
import { indexRoutes } from './method-not-allowed.js';

interface Envelope {
  error: { code: string; message: string; request_id: string; details?: unknown };
}

/** Sends an error envelope. */
export function sendError(reply: FastifyReply, request: FastifyRequest, status: number, code: ErrorCode, message: string, details?: unknown): FastifyReply {
  const body: Envelope = { error: { code, message, request_id: request.id } };
  if (details !== undefined) body.error.details = details;
  return reply.status(status).type('application/json; charset=utf-8').send(body);
}

/** How each part of a request is named in messages. */
const WHERE: Record<string, string> = { querystring: 'query', body: 'body', params: 'path', headers: 'headers' };

/** Fastify's own error codes and what they mean to a client. */
const FASTIFY_CODES: Record<string, { status: number; code: ErrorCode }> = {
  FST_REQ_FILE_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_PARTS_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_FILES_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_FIELDS_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'BAD_REQUEST' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'BAD_REQUEST' },
};

/**
 * Installs the error and not-found handlers; 5xx failures (503 aside) also go to the reporter, if any. Call it
 * before any route is registered: a known path asked with another method is then a 405 naming the methods.
 */
export function errorEnvelope(app: FastifyInstance, reporter?: ErrorReporter): void {
  const routes = indexRoutes(app);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAppError(err)) {
      if (err.retryAfterS !== undefined) void reply.header('retry-after', String(err.retryAfterS));
      if (err.statusCode >= 500 && err.statusCode !== 503) {
        request.log.error({ err }, 'request failed');
        reporter?.capture(err, requestContext(request));
      }
      return sendError(reply, request, err.statusCode, err.code, err.message, err.details);
    }
    if (err.validation) {
      const where = err.validationContext ?? 'request';
      const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[where];
      const problems = fieldProblems(err.validation, schema);
      return sendError(reply, request, 422, 'VALIDATION_ERROR', problemsMessage(WHERE[where] ?? where, problems), problems);
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (known) {
      if (known.status === 413) void reply.header('connection', 'close');
      const message = known.status === 415 ? `a body of type ${request.headers['content-type'] ?? '(none)'} is not accepted here: send multipart/form-data with the file in the field 'file', or application/json where the route takes JSON` : err.message;
      return sendError(reply, request, known.status, known.code, message);
    }
    if (err.statusCode === 429) return sendError(reply, request, 429, 'RATE_LIMITED', err.message);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, request, err.statusCode, err.statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST', err.message);
    }
    if (isUnavailable(err)) {
      // The database or Redis is restarting: nothing was done, and the client should simply try again.
      request.log.warn({ err: err.message }, 'a backing service is unavailable');
      void reply.header('retry-after', '5');
      return sendError(reply, request, 503, 'SERVICE_UNAVAILABLE', 'a backing service (database or queue) is unavailable for a moment; retry shortly');
    }
    request.log.error({ err }, 'unhandled error');
    reporter?.capture(err, requestContext(request));
    return sendError(reply, request, 500, 'INTERNAL_ERROR', 'internal server error');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = routes.allowed(request.url);
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      return sendError(reply, request, 405, 'METHOD_NOT_ALLOWED', `${path} does not take ${request.method}; it takes ${allowed.join(', ')}`);
    }
    return sendError(reply, request, 404, 'NOT_FOUND', `no route ${request.method} ${path}`);
  });
}

/** What an error report says about its request: identifiers only, never headers, query or body. */
function requestContext(request: FastifyRequest): ErrorContext {
  // `principal` is set inside /api/v1 once the caller is known; elsewhere, or before that, it is absent.
  return { source: 'http', requestId: request.id, method: request.method, route: request.routeOptions.url, ownerId: request.principal?.ownerId };
}

/** Socket-level failures and the PostgreSQL states that mean "the server is going away or not back yet". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_MESSAGES = /connection terminated|connection is closed|terminating connection|timeout exceeded when trying to connect|reached the max retries per request|the database system is (starting up|shutting down)/i;

/** True when an error (or one it wraps) says PostgreSQL or Redis cannot be reached right now. */
export function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    if (e instanceof Error && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/**
 * Request ids. An incoming `X-Request-Id` is kept when it is a sane token (so a gateway's id follows the
 * request through Argus's logs); otherwise a UUID is made. Every response carries it back.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Fastify's `genReqId`: the caller's X-Request-Id when well-formed, else a new UUID. */
export function genReqId(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  const incoming = Array.isArray(header) ? header[0] : header;
  return incoming && SAFE_ID.test(incoming) ? incoming : randomUUID();
}

/** Adds the `X-Request-Id` response header. */
export function requestIdHeader(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
}

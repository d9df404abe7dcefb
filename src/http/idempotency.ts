/**
 * The HTTP side of Idempotency-Key: reads the header, runs the route's work once per key (src/app/idempotency.ts)
 * and sends the answer, marked `Idempotent-Replayed: true` when it is a stored one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { idempotent, type Answer, type IdempotencyDeps } from '../app/idempotency.js';

/** The request's Idempotency-Key header, if any. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  return Array.isArray(key) ? key[0] : key;
}

/**
 * Answers with `work`'s answer, or the first answer to the same key; `asked` is what the request asks for. `tidy`
 * runs before the answer is sent (a replay leaves staged uploads to remove: the client must not see them).
 */
export async function answerOnce<T>(
  deps: IdempotencyDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  asked: unknown,
  work: () => Promise<Answer<T>>,
  tidy?: () => Promise<void>,
): Promise<FastifyReply> {
  const scope = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const answer = await idempotent(deps, { ownerId: request.principal.ownerId, key: idempotencyKeyOf(request), scope, request: asked }, work);
  await tidy?.();
  if (answer.location) void reply.header('location', answer.location);
  if (answer.replayed) void reply.header('idempotent-replayed', 'true');
  return reply.status(answer.status).send(answer.body);
}

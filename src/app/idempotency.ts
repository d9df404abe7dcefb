/**
 * Idempotency-Key, with Stripe's semantics: a retry with the same key and the same request gets the first answer
 * (the work is not done twice); the same key with another request is a 409; a key is kept 24 hours. A first request
 * that fails forgets its key, so the client may retry with it. Keys belong to their owner.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { AppError } from '../domain/errors.js';
import type { Clock, IdempotencyRepository } from './ports.js';

/** How long an answer is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** What a request that created work answered. */
export interface Answer<T> {
  readonly status: number;
  readonly body: T;
  readonly location?: string;
}

/** Dependencies of idempotent requests. */
export interface IdempotencyDeps {
  readonly idempotency: IdempotencyRepository;
  readonly clock: Clock;
}

/** A request that may carry a key: `request` is what it asks for, with uploads by content (ids or hashes). */
export interface IdempotentRequest {
  readonly ownerId: string;
  readonly key: string | undefined;
  /** The route (method and path pattern): one key cannot be reused on another route. */
  readonly scope: string;
  readonly request: unknown;
}

/** Refuses a key a client could not mean: 1 to 255 visible ASCII characters. */
export function checkIdempotencyKey(key: string): void {
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new AppError('VALIDATION_ERROR', 'Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)', [{ field: 'Idempotency-Key', problem: 'malformed' }]);
  }
}

/** Runs `work` once per key; a retry gets the stored answer with `replayed: true`. Without a key, just runs it. */
export async function idempotent<T>(deps: IdempotencyDeps, ask: IdempotentRequest, work: () => Promise<Answer<T>>): Promise<Answer<T> & { replayed: boolean }> {
  if (ask.key === undefined) return { ...(await work()), replayed: false };
  checkIdempotencyKey(ask.key);
  const fingerprint = createHash('sha256').update(stringify({ scope: ask.scope, request: ask.request }) ?? '').digest('hex');
  const now = deps.clock.now();
  const taken = await deps.idempotency.reserve(ask.ownerId, ask.key, fingerprint, now, new Date(now.getTime() - IDEMPOTENCY_TTL_MS));
  if (!taken) {
    const first = await deps.idempotency.find(ask.ownerId, ask.key);
    // Gone between the two statements (the first request failed and released it): the caller may simply retry.
    if (!first) throw new AppError('CONFLICT', 'a request with this Idempotency-Key has just failed; retry', [{ field: 'Idempotency-Key', problem: 'released' }]);
    if (first.fingerprint !== fingerprint) {
      throw new AppError('CONFLICT', 'this Idempotency-Key was used for another request in the last 24 hours; use a new key for a new request', [{ field: 'Idempotency-Key', problem: 'reused with another request' }]);
    }
    if (first.status === null) {
      const running = new AppError('CONFLICT', 'the first request with this Idempotency-Key is still running; retry in a moment', [{ field: 'Idempotency-Key', problem: 'in progress' }]);
      running.retryAfterS = 1;
      throw running;
    }
    return { status: first.status, body: first.body as T, ...(first.location ? { location: first.location } : {}), replayed: true };
  }
  let answer: Answer<T>;
  try {
    answer = await work();
  } catch (err) {
    await deps.idempotency.release(ask.ownerId, ask.key);
    throw err;
  }
  await deps.idempotency.complete(ask.ownerId, ask.key, { status: answer.status, body: answer.body, location: answer.location ?? null });
  return { ...answer, replayed: false };
}

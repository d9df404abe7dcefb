/**
 * Rate limits, on @fastify/rate-limit (its store is in memory, or Redis when given, so limits hold across API
 * instances): per caller (key, else owner, else address) for authenticated requests, and per client address for
 * failed authentications only.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { FailureLimiter } from './auth.js';

/** Rate-limit settings. */
export interface RateLimitOptions {
  /** Requests per minute and caller; 0 = unlimited. */
  readonly perMinute: number;
  /** Failed authentications per minute and client address; 0 = unlimited. */
  readonly authFailuresPerMinute: number;
  /** A shared store for several API instances. */
  readonly redis?: Redis | undefined;
}

/**
 * Registers the per-caller limit (checked once the caller is known) in this scope and returns the limiter of
 * failed authentications (null when unlimited), for the auth hook.
 */
export async function rateLimits(app: FastifyInstance, options: RateLimitOptions): Promise<FailureLimiter | null> {
  await app.register(rateLimit, {
    global: options.perMinute > 0,
    max: Math.max(1, options.perMinute),
    timeWindow: '1 minute',
    hook: 'preHandler',
    keyGenerator: (request) => `caller:${request.principal?.keyId ?? request.principal?.ownerId ?? request.ip}`,
    ...(options.redis ? { redis: options.redis, nameSpace: 'argus-rl-', skipOnError: true } : {}),
  });
  if (options.authFailuresPerMinute <= 0) return null;
  const limiter = app.createRateLimit({ max: options.authFailuresPerMinute, timeWindow: 60_000, keyGenerator: (request) => `authfail:${request.ip}` });
  return {
    async blockedFor(request: FastifyRequest): Promise<number> {
      const state = await limiter(request, { increment: false });
      // isAllowed means "on the allow list"; `remaining` reaches 0 once `max` failures are counted (isExceeded would
      // let one more through).
      if (state.isAllowed) return 0;
      return state.remaining === 0 ? Math.max(1, state.ttlInSeconds) : 0;
    },
    async record(request: FastifyRequest): Promise<void> {
      await limiter(request);
    },
  };
}

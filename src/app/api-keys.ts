import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import type { ApiKeyRecord, ApiKeyRepository, Clock, Principal } from './ports.js';

const KEY_PREFIX = 'argus_';

/** SHA-256 of a key: keys are random and long, so a fast hash is enough and lookups stay O(1). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What creating a key returns: the record and the secret, which is shown this once and never again. */
export interface CreatedApiKey {
  readonly record: ApiKeyRecord;
  readonly key: string;
}

/** Creates an API key. The owner defaults to a new one of its own. */
export async function createApiKey(
  deps: { keys: ApiKeyRepository; clock: Clock },
  input: { name: string; ownerId?: string; role?: 'admin' | 'user' },
): Promise<CreatedApiKey> {
  const name = input.name.trim();
  if (!name || name.length > 100) throw new AppError('VALIDATION_ERROR', 'a key needs a name of 1-100 characters');
  const owner = input.ownerId?.trim();
  // Token users own `jwt:*`; a key acting as one of them would reach into their data.
  if (owner && (owner.startsWith('jwt:') || owner === 'me' || !/^[\x21-\x7e]{1,200}$/.test(owner))) {
    throw new AppError('VALIDATION_ERROR', "owner_id: 1-200 printable characters without spaces, not 'me' and not starting with 'jwt:' (token users' namespace)");
  }
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = {
    id: randomUUID(),
    name,
    ownerId: owner || `owner_${randomUUID()}`,
    role: input.role ?? 'user',
    prefix: key.slice(0, KEY_PREFIX.length + 6),
    createdAt: deps.clock.now(),
    lastUsedAt: null,
  };
  await deps.keys.insert(record, hashApiKey(key));
  return { record, key };
}

/**
 * On the very first start of a new database, creates one admin key so the operator can get in. Only once: deleting
 * every key later never mints a new one into the log (`argus keys create --admin` is the way back in).
 */
export async function ensureAdminKey(deps: { keys: ApiKeyRepository; clock: Clock }): Promise<CreatedApiKey | null> {
  if (!(await deps.keys.claimBootstrap(deps.clock.now()))) return null;
  // A database that had keys before the bootstrap flag existed is not new.
  if ((await deps.keys.count()) > 0) return null;
  return createApiKey(deps, { name: 'admin', ownerId: 'admin', role: 'admin' });
}

/** The principal behind an API key, or UNAUTHORIZED. */
export async function authenticateApiKey(deps: { keys: ApiKeyRepository; clock: Clock }, key: string): Promise<Principal> {
  const record = key.startsWith(KEY_PREFIX) ? await deps.keys.findByHash(hashApiKey(key)) : null;
  if (!record) throw new AppError('UNAUTHORIZED', 'invalid API key');
  const now = deps.clock.now();
  // Recording every use would make each request a write; a minute's precision is enough for "last used".
  if (!record.lastUsedAt || now.getTime() - record.lastUsedAt.getTime() > 60_000) await deps.keys.touch(record.id, now);
  return { ownerId: record.ownerId, subject: record.ownerId, role: record.role, via: 'api_key', keyId: record.id };
}

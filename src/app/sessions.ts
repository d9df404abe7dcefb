/**
 * Console sessions. A browser cannot put an API key on `<img>`, `<video>` or `EventSource` requests, so the console
 * signs in once with a key or token and gets a cookie instead: a random id whose SHA-256 names a stored session that
 * acts as the same owner, with the same role, as the credential it was made from. State-changing requests made
 * with the cookie must also carry the session's CSRF token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock, Principal } from './ports.js';

/** A stored session (the cookie's id itself is never stored, only its hash). */
export interface SessionRecord {
  readonly idHash: string;
  readonly ownerId: string;
  readonly subject: string;
  readonly role: 'admin' | 'user';
  readonly via: Principal['via'];
  /** The API key the session was made from; revoking the key deletes the session. */
  readonly keyId: string | null;
  readonly csrfToken: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** Where sessions are kept. */
export interface SessionRepository {
  insert(record: SessionRecord): Promise<void>;
  /** The session with this id hash, unless it has expired at `now`. */
  find(idHash: string, now: Date): Promise<SessionRecord | null>;
  delete(idHash: string): Promise<boolean>;
  /** Removes sessions that expired before `now`; returns how many. */
  deleteExpired(now: Date): Promise<number>;
}

/** SHA-256 of a cookie's session id: the id is 256 random bits, so a fast hash is enough. */
export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Starts a session for a principal; returns the cookie's id (shown only now) and the stored record. */
export async function startSession(
  deps: { sessions: SessionRepository; clock: Clock },
  principal: Principal,
  ttlS: number,
  notAfter?: Date,
): Promise<{ id: string; record: SessionRecord }> {
  const now = deps.clock.now();
  // Opportunistic clean-up: sign-ins are rare, so sweeping here keeps the table small without a timer.
  await deps.sessions.deleteExpired(now);
  const id = randomBytes(32).toString('base64url');
  let expiresAt = new Date(now.getTime() + ttlS * 1000);
  // A session made from a token never outlives the token.
  if (notAfter && notAfter < expiresAt) expiresAt = notAfter;
  const record: SessionRecord = {
    idHash: hashSessionId(id),
    ownerId: principal.ownerId,
    subject: principal.subject,
    role: principal.role,
    via: principal.via,
    keyId: principal.keyId ?? null,
    csrfToken: randomBytes(24).toString('base64url'),
    createdAt: now,
    expiresAt,
  };
  await deps.sessions.insert(record);
  return { id, record };
}

/** The principal a session acts as: the owner and role of the credential it was made from. */
export function sessionPrincipal(record: SessionRecord): Principal {
  return { ownerId: record.ownerId, subject: record.subject, role: record.role, via: record.via, ...(record.keyId ? { keyId: record.keyId } : {}) };
}

/** Whether a CSRF token sent with a request is the session's own (compared in constant time). */
export function csrfMatches(record: SessionRecord, sent: string | undefined): boolean {
  if (!sent) return false;
  const a = Buffer.from(record.csrfToken);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

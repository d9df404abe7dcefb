/** Ports: who calls and under which key or token; idempotency records; the per-owner AI settings; the clock. */
import type { AiSettingsPatch } from '../../domain/ai-settings.js';

/** Who a request acts as. Every stored thing belongs to exactly one owner. */
export interface Principal {
  /**
   * The owner everything is stored under. API-key owners are named as their keys say; token users live in a
   * namespace of their own (`jwt:<sub>`), so no token can name itself into a key owner's data or back.
   */
  readonly ownerId: string;
  /** The caller's user id as their credential names it: a key's owner id, or a token's `sub`. */
  readonly subject: string;
  readonly role: 'admin' | 'user';
  readonly via: 'api_key' | 'jwt' | 'anonymous';
  readonly keyId?: string;
}

/** A stored API key, without its secret. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly role: 'admin' | 'user';
  readonly prefix: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
}

/** Persistence of API keys; only their SHA-256 hashes are stored. */
export interface ApiKeyRepository {
  insert(record: ApiKeyRecord, hash: string): Promise<void>;
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
  count(): Promise<number>;
  list(ownerId?: string): Promise<ApiKeyRecord[]>;
  delete(id: string): Promise<boolean>;
  touch(id: string, at: Date): Promise<void>;
  /** Marks that the first admin key was handed out; true only for the one call that marked it (once per database). */
  claimBootstrap(at: Date): Promise<boolean>;
}

/** Verifies bearer tokens (JWT) and names the principal they carry. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** The time, injectable for tests. */
export interface Clock {
  now(): Date;
}

/** Per-user AI settings as stored: only the keys the user set. */
export interface AiSettingsRepository {
  get(ownerId: string): Promise<AiSettingsPatch | null>;
  put(ownerId: string, settings: AiSettingsPatch, at: Date): Promise<void>;
}

/** The first answer to a request sent with an Idempotency-Key. */
export interface IdempotencyRecord {
  readonly ownerId: string;
  readonly key: string;
  /** SHA-256 of what the request asked for (route and canonical body). */
  readonly fingerprint: string;
  /** Null while the first request runs. */
  readonly status: number | null;
  readonly body: unknown;
  readonly location: string | null;
  readonly createdAt: Date;
}

/** Where Idempotency-Key answers are kept (shared by every API instance). */
export interface IdempotencyRepository {
  /** Takes the key for a new request; false when the owner has a record of it created at or after `expiredBefore`. */
  reserve(ownerId: string, key: string, fingerprint: string, now: Date, expiredBefore: Date): Promise<boolean>;
  find(ownerId: string, key: string): Promise<IdempotencyRecord | null>;
  /** Stores the first request's answer. */
  complete(ownerId: string, key: string, answer: { status: number; body: unknown; location: string | null }): Promise<void>;
  /** Forgets a key whose first request failed, so that a retry with it runs again. */
  release(ownerId: string, key: string): Promise<void>;
}

import { createPublicKey, type KeyObject } from 'node:crypto';
import { jwtVerify, type JWTPayload } from 'jose';
import type { Principal, TokenVerifier } from '../../app/ports.js';
import { AppError } from '../../domain/errors.js';

/** Claims that may name the user, in order: the standard `sub`, then .NET's and seed 000's. */
const USER_ID_CLAIMS = ['sub', 'nameid', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier', 'userId', 'user_id'];
const ROLE_CLAIMS = ['role', 'roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];

/** How tokens are checked: an HS256 secret or an RS256 public key (PEM), with optional issuer and audience. */
export interface JwtOptions {
  readonly secret?: string | undefined;
  readonly publicKeyPem?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
  /** Refuse tokens without `exp` (default true): a token that never expires cannot be taken back. */
  readonly requireExp?: boolean;
  /** Seconds of clock skew allowed on exp, nbf and iat (default 30). */
  readonly clockToleranceS?: number;
  /** Refuse tokens issued longer ago than this many seconds (0 or absent: no limit). */
  readonly maxAgeS?: number;
}

/** The owner id of a token's user: a namespace of its own, apart from API-key owners. */
export function tokenOwnerId(subject: string): string {
  return `jwt:${subject}`;
}

/** Verifies JWT bearer tokens with `jose`. */
export class JoseTokenVerifier implements TokenVerifier {
  private readonly key: Uint8Array | KeyObject;
  private readonly algorithms: string[];

  constructor(private readonly options: JwtOptions) {
    if (options.publicKeyPem) {
      this.key = createPublicKey(options.publicKeyPem);
      this.algorithms = ['RS256'];
    } else if (options.secret) {
      this.key = new TextEncoder().encode(options.secret);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('JWT verification needs a secret or a public key');
    }
  }

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const tolerance = this.options.clockToleranceS ?? 30;
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: this.algorithms,
        clockTolerance: tolerance,
        ...(this.options.requireExp !== false ? { requiredClaims: ['exp'] } : {}),
        ...(this.options.maxAgeS ? { maxTokenAge: this.options.maxAgeS } : {}),
        ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
        ...(this.options.audience ? { audience: this.options.audience } : {}),
      }));
      // jose checks a future `iat` only together with a maximum age; a token from the future is refused either way.
      if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + tolerance) throw new Error('"iat" claim timestamp check failed (it should be in the past)');
    } catch (err) {
      throw new AppError('UNAUTHORIZED', `invalid bearer token: ${err instanceof Error ? err.message : 'rejected'}`);
    }
    let subject: string | undefined;
    for (const claim of USER_ID_CLAIMS) {
      const v = payload[claim];
      if ((typeof v === 'string' && v.length > 0 && v.length <= 200) || typeof v === 'number') {
        subject = String(v);
        break;
      }
    }
    if (subject === undefined) throw new AppError('UNAUTHORIZED', 'the token names no user (sub, nameid or userId)');
    const roles = ROLE_CLAIMS.flatMap((c): unknown[] => {
      const v = payload[c];
      return Array.isArray(v) ? (v as unknown[]) : typeof v === 'string' ? [v] : [];
    });
    return { ownerId: tokenOwnerId(subject), subject, role: roles.some((r) => typeof r === 'string' && r.toLowerCase() === 'admin') ? 'admin' : 'user', via: 'jwt' };
  }
}

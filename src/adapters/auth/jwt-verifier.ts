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
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: this.algorithms,
        ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
        ...(this.options.audience ? { audience: this.options.audience } : {}),
      }));
    } catch (err) {
      throw new AppError('UNAUTHORIZED', `invalid bearer token: ${err instanceof Error ? err.message : 'rejected'}`);
    }
    let ownerId: string | undefined;
    for (const claim of USER_ID_CLAIMS) {
      const v = payload[claim];
      if ((typeof v === 'string' && v.length > 0) || typeof v === 'number') {
        ownerId = String(v);
        break;
      }
    }
    if (ownerId === undefined) throw new AppError('UNAUTHORIZED', 'the token names no user (sub, nameid or userId)');
    const roles = ROLE_CLAIMS.flatMap((c): unknown[] => {
      const v = payload[c];
      return Array.isArray(v) ? (v as unknown[]) : typeof v === 'string' ? [v] : [];
    });
    return { ownerId, role: roles.some((r) => typeof r === 'string' && r.toLowerCase() === 'admin') ? 'admin' : 'user', via: 'jwt' };
  }
}

/**
 * Signing of outgoing webhooks per Standard Webhooks (https://www.standardwebhooks.com), so receivers can verify
 * them with any of its libraries: `webhook-signature` is `v1,` + base64 HMAC-SHA256, keyed with the base64-decoded
 * part of the `whsec_` secret, over `<webhook-id>.<webhook-timestamp>.<body>`.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** The three headers a Standard Webhooks message carries. */
export type WebhookHeaders = Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>;

/** Bytes of key material in a new secret: 192 bits, what the spec's reference implementations generate. */
const SECRET_BYTES = 24;

/** A new signing secret: `whsec_` + base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString('base64')}`;
}

/**
 * The headers to send with `body` as message `msgId` at time `at` (sent as whole seconds since the epoch).
 * Throws when `secret` is not a `whsec_`/base64 secret.
 */
export function signedHeaders(secret: string, msgId: string, body: string, at: Date): WebhookHeaders {
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(msgId, at, body),
  };
}

/**
 * True when `headers` (names in any case, as node:http gives them or not) carry a valid v1 signature of `body` under
 * `secret` and a timestamp within five minutes of now — the library's replay window. False for anything else,
 * including a malformed secret, so a receiver can treat every failure alike.
 */
export function verifySignature(
  secret: string,
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  body: string,
): boolean {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    // A repeated header is ambiguous; take the first, as the signature header already lists several signatures itself.
    const v = typeof value === 'string' ? value : value?.[0];
    if (v !== undefined) flat[name.toLowerCase()] = v;
  }
  try {
    new Webhook(secret).verify(body, flat, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
}

/**
 * Outbound HTTP to URLs that users supply (a `video_url` or `image_url` to fetch, a webhook to deliver), guarded
 * against server-side request forgery: unless `allowPrivate`, nothing is sent to loopback, private, link-local (cloud
 * metadata at 169.254.169.254 included), carrier-grade NAT, multicast, reserved or otherwise non-public addresses.
 *
 * The address check sits in the socket's DNS lookup, so it judges the address actually connected to: a name that
 * resolves to a public address when checked and to 127.0.0.1 when connecting (DNS rebinding) gets nowhere. Literal-IP
 * URLs never reach a lookup, so they are checked up front, as is every redirect hop.
 *
 * Errors are AppErrors: VALIDATION_ERROR (422) for a URL that is not http(s) or carries credentials, BAD_REQUEST (400)
 * for a refused address, a failed connection, too many redirects or the time limit, PAYLOAD_TOO_LARGE (413) past
 * `maxBytes`. A caller's own abort rejects with the caller's abort reason, untouched. Messages name the URL without its
 * query string, which often holds a signed token.
 */
import dns from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import ipaddr from 'ipaddr.js';
import { Agent, request, type Dispatcher } from 'undici';
import { AppError, isAppError } from '../../domain/errors.js';

/** Limits of a {@link SafeFetcher}. */
export interface SafeFetchOptions {
  /** Allow non-public addresses (ARGUS_ALLOW_PRIVATE_URLS): for tests and for deployments fetching from their LAN. */
  allowPrivate: boolean;
  /** Time limit of a whole request: connecting, every redirect hop, headers and body. */
  timeoutMs: number;
  /** Largest body `get` lets through. */
  maxBytes: number;
}

/** What {@link SafeFetcher.get} resolves with. */
export interface FetchedResponse {
  status: number;
  contentType: string | null;
  /** The declared Content-Length, when there is a valid one. */
  contentLength: number | null;
  /** The body, at most `maxBytes`; iterate it to the end or break out of it to release the connection. */
  body: AsyncIterable<Uint8Array>;
}

/** What {@link SafeFetcher.post} resolves with. */
export interface PostResult {
  status: number;
  /** At most the first 4 KiB of the response body, as UTF-8. */
  text: string;
  /** Milliseconds from sending to having read `text`. */
  ms: number;
}

/** Redirects a GET follows before giving up; browsers allow 20, a media URL needing more than 5 is broken. */
export const MAX_REDIRECTS = 5;
/** How much of a POST's response is kept: enough to see why a webhook receiver said no. */
const POST_TEXT_BYTES = 4096;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = 'argus';
const ALLOW_HINT = 'set ARGUS_ALLOW_PRIVATE_URLS=true to allow';
/** IPv6 global unicast, the only IPv6 space allocated for the public internet. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
/** NAT64 well-known prefix: the last 32 bits are the IPv4 address reached through the translator. */
const NAT64_V6 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const UNDICI_TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Parses a URL to fetch: http or https only, no `user:password@`. AppError VALIDATION_ERROR (422) otherwise. */
export function checkUrlSyntax(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AppError('VALIDATION_ERROR', `not a valid URL: ${url.length > 200 ? `${url.slice(0, 200)}…` : url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new AppError('VALIDATION_ERROR', `only http and https URLs can be fetched, not ${u.protocol}`);
  }
  if (u.username !== '' || u.password !== '') {
    // Credentials in URLs end up in logs and job records; signed URLs or a token in the query do not need them.
    throw new AppError('VALIDATION_ERROR', 'URLs with credentials (user:password@host) are not accepted');
  }
  return u;
}

/**
 * Why `address` is not a public unicast address — an ipaddr.js range name such as 'loopback', 'private',
 * 'linkLocal', 'uniqueLocal', 'carrierGradeNat' — or null when it is public. IPv4-mapped and NAT64 IPv6 addresses are
 * judged by the IPv4 address they carry; other IPv6 must be in 2000::/3 and outside its special ranges (6to4 and
 * Teredo tunnels included). Anything that is not an IP address is 'invalid'.
 */
export function nonPublicRange(address: string): string | null {
  if (net.isIP(address) === 0) return 'invalid';
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv4') {
    const range: string = ip.range();
    return range === 'unicast' ? null : range;
  }
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return nonPublicRange(v6.toIPv4Address().toString());
  if (v6.match(NAT64_V6)) {
    const [hi = 0, lo = 0] = v6.parts.slice(6);
    return nonPublicRange(`${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`);
  }
  const range: string = v6.range();
  if (range !== 'unicast') return range;
  return v6.match(GLOBAL_UNICAST_V6) ? null : 'reserved';
}

/** Refuses a URL whose host is a literal non-public IP (names are checked when connecting). AppError BAD_REQUEST. */
export function checkUrlHost(url: URL, allowPrivate: boolean): void {
  if (allowPrivate) return;
  // URL keeps IPv6 literals bracketed and has already normalised IPv4 spellings such as 0x7f.1 or 2130706433.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(host) === 0) return;
  const range = nonPublicRange(host);
  if (range !== null) throw refusal(host, host, range, url);
}

/**
 * The next hop of a redirect from `from` to its Location header, checked like a URL a user gives (BAD_REQUEST rather
 * than 422 though: the server redirected there, not the user).
 */
export function checkRedirect(from: URL, location: string | null, allowPrivate: boolean): URL {
  if (location === null || location === '') {
    throw new AppError('BAD_REQUEST', `${describeUrl(from)} redirected without a Location header`);
  }
  let next: URL;
  try {
    next = checkUrlSyntax(new URL(location, from).href);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new AppError('BAD_REQUEST', `${describeUrl(from)} redirected to a URL that cannot be fetched: ${why}`);
  }
  checkUrlHost(next, allowPrivate);
  return next;
}

/** HTTP client for user-supplied URLs, with the address guard, a time limit and a size limit. */
export class SafeFetcher {
  private readonly opts: SafeFetchOptions;
  private readonly agent: Agent;

  /** One connection pool per fetcher; `close()` it on shutdown. */
  constructor(opts: SafeFetchOptions) {
    this.opts = { ...opts };
    this.agent = new Agent({
      connect: { timeout: opts.timeoutMs, ...(opts.allowPrivate ? {} : { lookup: guardedLookup }) },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
  }

  /**
   * GET a URL, following up to {@link MAX_REDIRECTS} redirects (each hop checked); resolves with status, headers,
   * content type and a body stream limited to maxBytes (an AppError PAYLOAD_TOO_LARGE 413 up front when the declared
   * length is over, or while streaming when it goes over). A non-2xx status resolves like any other. The time limit
   * keeps running while the body is read.
   */
  async get(url: string, signal?: AbortSignal): Promise<FetchedResponse> {
    let current = checkUrlSyntax(url);
    checkUrlHost(current, this.opts.allowPrivate);
    const deadline = new Deadline(this.opts.timeoutMs, current, signal);
    try {
      for (let hops = 0; ; hops++) {
        const res = await request(current, {
          method: 'GET',
          headers: { 'user-agent': USER_AGENT, accept: '*/*' },
          dispatcher: this.agent,
          signal: deadline.signal,
        });
        if (REDIRECT_STATUSES.has(res.statusCode)) {
          // Keep-alive survives a small redirect body; a big one is cut off, which closes the connection.
          await res.body.dump({ limit: 64 * 1024 });
          if (hops >= MAX_REDIRECTS) {
            throw new AppError('BAD_REQUEST', `${describeUrl(url)} redirected more than ${MAX_REDIRECTS} times`);
          }
          current = checkRedirect(current, header(res.headers, 'location'), this.opts.allowPrivate);
          deadline.url = current;
          continue;
        }
        const contentLength = parseLength(header(res.headers, 'content-length'));
        if (contentLength !== null && contentLength > this.opts.maxBytes) {
          discard(res.body);
          throw tooLarge(current, this.opts.maxBytes);
        }
        // The deadline may abort a body the caller never reads (say, after checking the status). undici keeps an 'error'
        // listener of its own on bodies today; this one guarantees such an abort can never become an uncaught error.
        // Iterating the body still reports it.
        res.body.on('error', () => undefined);
        return {
          status: res.statusCode,
          contentType: header(res.headers, 'content-type'),
          contentLength,
          body: limitBody(res.body, this.opts.maxBytes, deadline),
        };
      }
    } catch (err) {
      deadline.done();
      throw deadline.mapError(err);
    }
  }

  /**
   * POST a JSON body with headers (Content-Type defaults to application/json); resolves with status and at most 4 KiB
   * of the response text; never throws on a non-2xx, and does not follow redirects (a 3xx is returned as is). Throws
   * on a refused address, a connection failure or the time limit.
   */
  async post(url: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<PostResult> {
    const target = checkUrlSyntax(url);
    checkUrlHost(target, this.opts.allowPrivate);
    const deadline = new Deadline(this.opts.timeoutMs, target, signal);
    const started = performance.now();
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    try {
      const res = await request(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...lower },
        body,
        dispatcher: this.agent,
        signal: deadline.signal,
      });
      const text = await readPrefix(res.body, POST_TEXT_BYTES);
      return { status: res.statusCode, text, ms: Math.round(performance.now() - started) };
    } catch (err) {
      throw deadline.mapError(err);
    } finally {
      deadline.done();
    }
  }

  /** Closes the pooled connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * The socket's DNS lookup: resolves all addresses of the name and refuses the connection when any of them is not
 * public (a name with one private address among public ones is more likely an attack than a mistake).
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    for (const a of addresses) {
      const range = nonPublicRange(a.address);
      if (range !== null) return callback(refusal(hostname, a.address, range), '');
    }
    const first = addresses[0];
    if (!first) return callback(new AppError('BAD_REQUEST', `${hostname} has no address`), '');
    // net.connect asks for all addresses when it tries IPv4 and IPv6 in parallel (autoSelectFamily), else one.
    if (options.all === true) callback(null, addresses);
    else callback(null, first.address, first.family);
  });
};

/** Words for the ranges an operator will meet most; the rest go by their ipaddr.js name. */
const RANGE_WORDS: Readonly<Record<string, string>> = {
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private (unique local)',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
};

function refusal(host: string, address: string, range: string, url?: URL): AppError {
  const kind = RANGE_WORDS[range] ?? `non-public (${range})`;
  const what = host === address ? `${address} is a ${kind} address` : `${host} resolves to a ${kind} address ${address}`;
  return new AppError('BAD_REQUEST', `${what}; ${ALLOW_HINT}`, {
    ...(url ? { url: describeUrl(url) } : {}),
    address,
    range,
  });
}

/** A URL for messages: origin and path, without the query, which may hold a signature or token. */
function describeUrl(url: URL | string): string {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

function tooLarge(url: URL, maxBytes: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `${describeUrl(url)} is larger than the limit of ${maxBytes} bytes`, {
    maxBytes,
  });
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | null {
  const v = headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? null;
}

function parseLength(v: string | null): number | null {
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/** Passes the body through, failing once it exceeds `maxBytes`; releases the connection and the deadline at the end. */
async function* limitBody(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  deadline: Deadline,
): AsyncGenerator<Uint8Array> {
  let seen = 0;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      seen += chunk.byteLength;
      // Content-Length can be absent or lie; only the bytes actually received count.
      if (seen > maxBytes) throw tooLarge(deadline.url, maxBytes);
      yield chunk;
    }
  } catch (err) {
    throw deadline.mapError(err);
  } finally {
    // Stops the download when the consumer breaks out early or the limit hit; a no-op after a complete body.
    discard(body);
    deadline.done();
  }
}

/** Drops a body we no longer want, closing its connection. */
function discard(body: Dispatcher.ResponseData['body']): void {
  // undici reports a destroy without an error as an AbortError 'error' event, which would be uncaught without a listener.
  body.on('error', () => undefined);
  body.destroy();
}

/** Reads up to `limit` bytes of a body as UTF-8 and drops the rest without waiting for it. */
async function readPrefix(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  let left = limit;
  try {
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      const part = chunk.byteLength > left ? chunk.subarray(0, left) : chunk;
      // stream: true holds back a character cut in half at the limit instead of decoding it as U+FFFD.
      text += decoder.decode(part, { stream: true });
      left -= part.byteLength;
      if (left <= 0) break;
    }
  } finally {
    discard(body);
  }
  return text;
}

/** The time limit of one request, linked to the caller's abort signal; `url` is the hop being fetched, for messages. */
class Deadline {
  url: URL;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onOuterAbort: () => void;
  private readonly timeoutMs: number;
  private readonly outer: AbortSignal | undefined;

  constructor(timeoutMs: number, url: URL, outer?: AbortSignal) {
    this.timeoutMs = timeoutMs;
    this.url = url;
    this.outer = outer;
    this.onOuterAbort = () => this.controller.abort(outer?.reason);
    if (outer?.aborted) this.onOuterAbort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    // The reason becomes the error undici rejects with, wherever the request is: connecting, waiting or streaming.
    this.timer = setTimeout(() => this.controller.abort(this.timeoutError()), timeoutMs);
    // A body nobody reads must not keep the process alive; the abort still frees its connection if it runs.
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  done(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  /** Turns whatever a request threw into the error the caller should see. */
  mapError(err: unknown): unknown {
    if (isAppError(err)) return err;
    if (this.outer?.aborted) return err;
    if (err instanceof Error && 'code' in err && UNDICI_TIMEOUT_CODES.has(String(err.code))) return this.timeoutError();
    const why = err instanceof Error ? err.message : String(err);
    const code = err instanceof Error && 'code' in err ? String(err.code) : undefined;
    return new AppError('BAD_REQUEST', `could not fetch ${describeUrl(this.url)}: ${why}`, code ? { code } : undefined);
  }

  private timeoutError(): AppError {
    const where = describeUrl(this.url);
    return new AppError('BAD_REQUEST', `timed out after ${this.timeoutMs} ms waiting for a complete response from ${where}`, {
      timeoutMs: this.timeoutMs,
    });
  }
}

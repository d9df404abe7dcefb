import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../../domain/errors.js';
import { checkRedirect, checkUrlHost, checkUrlSyntax, MAX_REDIRECTS, nonPublicRange, SafeFetcher } from './safe-fetch.js';

const MAX_BYTES = 10_000;
let server: Server;
let base: string;
let hits = 0;
const fetchers: SafeFetcher[] = [];

function fetcher(allowPrivate: boolean, timeoutMs = 2000): SafeFetcher {
  const f = new SafeFetcher({ allowPrivate, timeoutMs, maxBytes: MAX_BYTES });
  fetchers.push(f);
  return f;
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

/** The AppError a promise rejects with (fails the test when it resolves or rejects with something else). */
async function appErrorOf(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err;
}

function route(req: IncomingMessage, res: ServerResponse): void {
  hits++;
  const url = new URL(req.url ?? '/', 'http://x');
  const chain = /^\/chain\/(\d+)$/.exec(url.pathname);
  if (chain) {
    const n = Number(chain[1]);
    if (n === 0) res.end('arrived');
    else res.writeHead(302, { location: `/chain/${n - 1}` }).end();
    return;
  }
  switch (url.pathname) {
    case '/hello':
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': '5' }).end('hello');
      return;
    case '/big': {
      // Chunked, no Content-Length: only counting the bytes can catch it.
      res.writeHead(200, { 'content-type': 'video/mp4' });
      const chunk = Buffer.alloc(4096, 1);
      for (let i = 0; i < 5; i++) res.write(chunk);
      res.end();
      return;
    }
    case '/big-declared':
      res.writeHead(200, { 'content-length': String(MAX_BYTES + 1) }).end(Buffer.alloc(MAX_BYTES + 1));
      return;
    case '/stall-headers':
      return; // never answers
    case '/stall-body':
      res.writeHead(200, { 'content-type': 'image/jpeg' });
      res.write('partial');
      return;
    case '/redirect':
      res.writeHead(302, { location: url.searchParams.get('to') ?? '' }).end();
      return;
    case '/echo': {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, headers: req.headers, body }));
      });
      return;
    }
    case '/fail':
      req.resume();
      req.on('end', () => res.writeHead(500).end('é'.repeat(5000))); // 10 000 bytes of 2-byte characters
      return;
    default:
      res.writeHead(404).end('not found');
  }
}

beforeAll(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(fetchers.map((f) => f.close()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('checkUrlSyntax', () => {
  it('accepts http and https URLs', () => {
    expect(checkUrlSyntax('https://example.com/a.jpg?sig=1').hostname).toBe('example.com');
    expect(checkUrlSyntax('http://example.com:8080/').port).toBe('8080');
  });

  it.each(['ftp://example.com/a.mp4', 'file:///etc/passwd', 'http://user:pw@example.com/', 'http://user@example.com/', 'not a url'])(
    'refuses %s with a 422',
    (url) => {
      let err: unknown;
      try {
        checkUrlSyntax(url);
      } catch (e) {
        err = e;
      }
      expect(isAppError(err) && [err.code, err.statusCode]).toEqual(['VALIDATION_ERROR', 422]);
    },
  );
});

describe('nonPublicRange', () => {
  it.each([
    ['8.8.8.8', null],
    ['2606:4700:4700::1111', null],
    ['64:ff9b::808:808', null], // NAT64 of 8.8.8.8
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'linkLocal'], // mapped 169.254.169.254
    ['64:ff9b::a00:1', 'private'], // NAT64 of 10.0.0.1
    ['::7f00:1', 'reserved'], // deprecated IPv4-compatible form of 127.0.0.1
    ['2002:a00:1::1', '6to4'],
    ['2001:db8::1', 'reserved'],
    ['example.com', 'invalid'],
  ])('%s → %s', (address, expected) => {
    expect(nonPublicRange(address)).toBe(expected);
  });
});

describe('SafeFetcher address guard', () => {
  it('refuses a server on 127.0.0.1 unless private addresses are allowed', async () => {
    const before = hits;
    const err = await appErrorOf(fetcher(false).get(`${base}/hello`));
    expect([err.code, err.statusCode]).toEqual(['BAD_REQUEST', 400]);
    expect(err.message).toBe('127.0.0.1 is a loopback address; set ARGUS_ALLOW_PRIVATE_URLS=true to allow');
    const postErr = await appErrorOf(fetcher(false).post(`${base}/echo`, '{}', {}));
    expect(postErr.code).toBe('BAD_REQUEST');
    expect(hits).toBe(before);

    const res = await fetcher(true).get(`${base}/hello`);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/plain; charset=utf-8');
    expect(res.contentLength).toBe(5);
    expect(await readAll(res.body)).toBe('hello');
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
    ['http://[::1]/', '::1 is a loopback address'],
    ['http://10.1.2.3/', '10.1.2.3 is a private address'],
    ['http://[::ffff:7f00:1]:8080/', '::ffff:7f00:1 is a loopback address'],
    ['http://2130706433/', '127.0.0.1 is a loopback address'], // the URL parser's decimal IPv4
    ['http://0x7f.1/', '127.0.0.1 is a loopback address'],
    ['https://100.64.1.1/', '100.64.1.1 is a carrier-grade NAT address'],
    ['http://[fd00::1]/', 'fd00::1 is a private (unique local) address'],
    ['http://0.0.0.0/', '0.0.0.0 is a unspecified address'],
  ])('refuses the literal address in %s before connecting', async (url, message) => {
    const err = await appErrorOf(fetcher(false).get(url));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toBe(`${message}; set ARGUS_ALLOW_PRIVATE_URLS=true to allow`);
  });

  it('refuses a name that resolves to a loopback address, checking at connect time', async () => {
    const before = hits;
    const port = (server.address() as AddressInfo).port;
    const err = await appErrorOf(fetcher(false).get(`http://localhost:${port}/hello`));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/^localhost resolves to a loopback address (127\.0\.0\.1|::1); set ARGUS_ALLOW_PRIVATE_URLS=true to allow$/);
    expect(hits).toBe(before);
  });

  it('rejects non-http schemes and credentials with a 422', async () => {
    for (const url of ['ftp://example.com/x.mp4', 'http://user:pw@example.com/']) {
      const err = await appErrorOf(fetcher(true).get(url));
      expect([err.code, err.statusCode]).toEqual(['VALIDATION_ERROR', 422]);
    }
    const err = await appErrorOf(fetcher(true).post('ftp://example.com/', '{}', {}));
    expect(err.code).toBe('VALIDATION_ERROR');
  });

  it('lets checkUrlHost pass names and public literals (names are judged by the lookup)', () => {
    expect(() => checkUrlHost(new URL('http://example.com/'), false)).not.toThrow();
    expect(() => checkUrlHost(new URL('http://8.8.8.8/'), false)).not.toThrow();
    expect(() => checkUrlHost(new URL('http://[2606:4700::1]/'), false)).not.toThrow();
    expect(() => checkUrlHost(new URL('http://10.0.0.1/'), true)).not.toThrow();
  });
});

describe('SafeFetcher limits', () => {
  it('fails with 413 when a streamed body goes over maxBytes', async () => {
    const res = await fetcher(true).get(`${base}/big`);
    expect(res.status).toBe(200);
    expect(res.contentLength).toBeNull();
    let received = 0;
    const err = await appErrorOf(
      (async () => {
        for await (const c of res.body) received += c.byteLength;
      })(),
    );
    expect([err.code, err.statusCode]).toEqual(['PAYLOAD_TOO_LARGE', 413]);
    expect(err.message).toContain(`/big is larger than the limit of ${MAX_BYTES} bytes`);
    expect(received).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('fails with 413 up front when the declared length is over maxBytes', async () => {
    const err = await appErrorOf(fetcher(true).get(`${base}/big-declared`));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('times out a server that never answers', async () => {
    const started = Date.now();
    const err = await appErrorOf(fetcher(true, 300).get(`${base}/stall-headers?token=secret`));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toBe(`timed out after 300 ms waiting for a complete response from ${base}/stall-headers`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('times out a body that stalls: the limit covers the whole response', async () => {
    const started = Date.now();
    const res = await fetcher(true, 300).get(`${base}/stall-body`);
    expect(res.status).toBe(200);
    let text = '';
    const err = await appErrorOf(
      (async () => {
        for await (const c of res.body) text += Buffer.from(c).toString();
      })(),
    );
    expect(text).toBe('partial');
    expect(err.message).toMatch(/^timed out after 300 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('survives a body nobody reads until the time limit, and reports the timeout when it is read later', async () => {
    const res = await fetcher(true, 150).get(`${base}/stall-body`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const err = await appErrorOf(readAll(res.body));
    expect(err.message).toMatch(/^timed out after 150 ms/);
  });

  it('passes a caller abort through untouched', async () => {
    const ac = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => ac.abort(reason), 50);
    await expect(fetcher(true, 5000).get(`${base}/stall-headers`, ac.signal)).rejects.toBe(reason);
  });

  it('reports a refused connection as a 400', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const err = await appErrorOf(fetcher(true).get(`http://127.0.0.1:${port}/x`));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(new RegExp(`^could not fetch http://127\\.0\\.0\\.1:${port}/x: .*ECONNREFUSED`));
  });
});

describe('SafeFetcher redirects', () => {
  it(`follows up to ${MAX_REDIRECTS} redirects and no more`, async () => {
    const ok = await fetcher(true).get(`${base}/chain/${MAX_REDIRECTS}`);
    expect(ok.status).toBe(200);
    expect(await readAll(ok.body)).toBe('arrived');

    const err = await appErrorOf(fetcher(true).get(`${base}/chain/${MAX_REDIRECTS + 1}`));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toBe(`${base}/chain/${MAX_REDIRECTS + 1} redirected more than ${MAX_REDIRECTS} times`);
  });

  it('checks every hop: a redirect to a literal private address is refused', async () => {
    const from = new URL('https://media.example.com/video.mp4');
    for (const to of ['http://169.254.169.254/latest/meta-data/', 'http://[::1]:8080/', '//10.0.0.5/x']) {
      let err: unknown;
      try {
        checkRedirect(from, to, false);
      } catch (e) {
        err = e;
      }
      expect(isAppError(err) && err.code).toBe('BAD_REQUEST');
      expect(isAppError(err) && err.message).toMatch(/ is a (link-local|loopback|private) address; set ARGUS_ALLOW_PRIVATE_URLS=true to allow$/);
    }
    expect(checkRedirect(from, '/other.mp4?x=1', false).href).toBe('https://media.example.com/other.mp4?x=1');
    expect(checkRedirect(from, 'http://cdn.example.net/v.mp4', false).hostname).toBe('cdn.example.net');
    expect(() => checkRedirect(from, 'file:///etc/passwd', false)).toThrow(/redirected to a URL that cannot be fetched/);
    expect(() => checkRedirect(from, null, false)).toThrow(/without a Location header/);
  });

  it('applies the hop check while fetching', async () => {
    // Allowed first hop (private allowed), so only the redirect target's scheme can stop it.
    const err = await appErrorOf(fetcher(true).get(`${base}/redirect?to=${encodeURIComponent('ftp://example.com/x')}`));
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/redirected to a URL that cannot be fetched: only http and https/);
    const ok = await fetcher(true).get(`${base}/redirect?to=/hello`);
    expect(await readAll(ok.body)).toBe('hello');
  });
});

describe('SafeFetcher.post', () => {
  it('sends the JSON body and headers and returns status and text', async () => {
    const res = await fetcher(true).post(`${base}/echo`, '{"type":"ping"}', { 'Webhook-Id': 'msg_1' });
    expect(res.status).toBe(201);
    expect(res.ms).toBeGreaterThanOrEqual(0);
    const echoed = JSON.parse(res.text);
    expect(echoed.method).toBe('POST');
    expect(echoed.body).toBe('{"type":"ping"}');
    expect(echoed.headers['content-type']).toBe('application/json');
    expect(echoed.headers['webhook-id']).toBe('msg_1');
  });

  it('returns a non-2xx without throwing and keeps at most 4 KiB of its text', async () => {
    const res = await fetcher(true).post(`${base}/fail`, '{}', {});
    expect(res.status).toBe(500);
    // 2048 two-byte characters fill the 4096 bytes exactly.
    expect(res.text).toBe('é'.repeat(2048));
  });

  it('does not follow redirects', async () => {
    const res = await fetcher(true).post(`${base}/redirect?to=/echo`, '{}', {});
    expect(res.status).toBe(302);
  });

  it('times out', async () => {
    const err = await appErrorOf(fetcher(true, 300).post(`${base}/stall-headers`, '{}', {}));
    expect(err.message).toMatch(/^timed out after 300 ms/);
  });
});

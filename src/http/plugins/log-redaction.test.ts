import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactUrl } from './log-redaction.js';

describe('redactUrl', () => {
  it.each([
    ['/api/v1/media?api_key=argus_secret', '/api/v1/media?api_key=[REDACTED]'],
    ['/api/v1/media?limit=5&api_key=argus_secret&offset=2', '/api/v1/media?limit=5&api_key=[REDACTED]&offset=2'],
    ['/x?ACCESS_TOKEN=abc&token=def', '/x?ACCESS_TOKEN=[REDACTED]&token=[REDACTED]'],
    ['/x?api%5Fkey=abc', '/x?api%5Fkey=[REDACTED]'],
    ['/x?limit=5', '/x?limit=5'],
    ['/x', '/x'],
  ])('%s → %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });

  it('never lets a secret value through, whatever else the query holds', () => {
    const secret = 'argus_S3CRET_value';
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), fc.stringMatching(/^[a-z0-9]{0,8}$/))), fc.constantFrom('api_key', 'token', 'Api-Key', 'password'), (pairs, name) => {
        const all = [...pairs.map(([k, v]) => `${k}=${v}`), `${name}=${secret}`];
        expect(redactUrl(`/p?${all.join('&')}`)).not.toContain(secret);
      }),
    );
  });
});

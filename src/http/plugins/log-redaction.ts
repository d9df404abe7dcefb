/**
 * Credentials never reach the log. Argus refuses keys in URLs, but a client may still send one there
 * (`?api_key=...`): the request log line masks the values of query parameters that name a credential.
 */
import type { FastifyRequest } from 'fastify';

/** Query parameter names whose values are credentials. */
const SECRET_PARAM = /^(api[_-]?key|x[_-]api[_-]key|key|token|access[_-]?token|id[_-]?token|refresh[_-]?token|jwt|auth|authorization|password|passwd|secret|client[_-]?secret|session|sig|signature)$/i;

/** The URL with every credential-like query value replaced by `[REDACTED]`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // A malformed escape is logged as sent, but still judged by its raw name.
      }
      return SECRET_PARAM.test(name.trim()) ? `${rawName}=[REDACTED]` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}

/** Fastify's request serializer, with the URL redacted. */
export function requestSerializer(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket ? req.socket.remotePort : undefined,
  };
}

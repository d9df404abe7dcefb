/**
 * Errors Node's HTTP parser raises before Fastify sees a request — headers too large (431), headers or a body that
 * took too long (408), a request that is not HTTP (400) — answered in the same error envelope as every other error,
 * then the connection is closed.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../../domain/errors.js';

/** Status, code and message for a parser error. */
function describe(err: NodeJS.ErrnoException): [number, ErrorCode, string] {
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, 'HEADERS_TOO_LARGE', 'the request headers are too large'];
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'REQUEST_TIMEOUT', 'the request was not received in time'];
  return [400, 'BAD_REQUEST', 'the request is not valid HTTP'];
}

/** Fastify's `clientErrorHandler`: writes the envelope to the raw socket (no request exists yet) and closes it. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = describe(err);
  const body = JSON.stringify({ error: { code, message, request_id: randomUUID() } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * A floor under upload speed. Node bounds a whole request (requestTimeout) and a silent connection (the idle
 * timeout), but a client that drips one byte a second is neither silent nor — for an hour — late, and holds a
 * connection and a half-written file all that time. Every request with a body must keep arriving at
 * `minBytesPerSecond` on average over each `windowMs`, or its connection is answered 408 and closed.
 */
import type { FastifyInstance } from 'fastify';

/** The floor: bytes per second averaged over a window of this many milliseconds (0 turns it off). */
export interface MinUploadRate {
  readonly minBytesPerSecond: number;
  readonly windowMs: number;
}

/** Adds the watch to every request that carries a body. */
export function minUploadRate(app: FastifyInstance, rate: MinUploadRate): void {
  if (rate.minBytesPerSecond <= 0) return;
  const minBytes = (rate.minBytesPerSecond * rate.windowMs) / 1000;
  app.addHook('onRequest', async (request, reply) => {
    const raw = request.raw;
    const hasBody = raw.headers['transfer-encoding'] !== undefined || Number(raw.headers['content-length'] ?? 0) > 0;
    if (!hasBody || raw.readableEnded) return;
    const socket = raw.socket;
    // socket.bytesRead counts what arrived without taking the stream's data from its consumer.
    let last = socket.bytesRead;
    const timer = setInterval(() => {
      const now = socket.bytesRead;
      if (now - last >= minBytes) {
        last = now;
        return;
      }
      clearInterval(timer);
      request.log.warn({ bytes_in_window: now - last, window_ms: rate.windowMs }, 'upload too slow: closing the connection');
      const body = JSON.stringify({
        error: { code: 'REQUEST_TIMEOUT', message: `the upload is slower than ${rate.minBytesPerSecond} bytes/s; the connection is closed`, request_id: request.id },
      });
      if (socket.writable && !reply.raw.headersSent) {
        socket.end(`HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
      }
      setTimeout(() => socket.destroy(), 1000).unref();
    }, rate.windowMs);
    timer.unref();
    const stop = (): void => clearInterval(timer);
    // The body has arrived, or an answer went out without reading it (a refusal): nothing left to watch.
    raw.once('end', stop);
    raw.once('close', stop);
    raw.once('error', stop);
    reply.raw.once('finish', stop);
    reply.raw.once('close', stop);
  });
}

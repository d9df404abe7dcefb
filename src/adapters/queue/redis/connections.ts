/**
 * Redis connections for the scale-out mode. ioredis reconnects by itself; commands issued meanwhile wait in its
 * offline queue (or fail, where a caller must not hang). BullMQ needs connections that never give up on a command.
 */
import { Redis } from 'ioredis';

/** Opens a Redis connection for commands and publishing: a command fails after 3 reconnection attempts. */
export function redisClient(url: string, name: string): Redis {
  const client = new Redis(url, { connectionName: `argus-${name}`, maxRetriesPerRequest: 3, enableOfflineQueue: true, lazyConnect: false });
  // Errors surface through the commands that fail; the connection itself reconnects.
  client.on('error', () => undefined);
  return client;
}

/** Opens a connection for BullMQ (blocking commands; it must wait for Redis rather than fail). */
export function bullmqConnection(url: string, name: string): Redis {
  const client = new Redis(url, { connectionName: `argus-${name}`, maxRetriesPerRequest: null, enableReadyCheck: false });
  client.on('error', () => undefined);
  return client;
}

/**
 * Job events across processes: a worker publishes each event (already stored in the database) on a Redis channel
 * per job, and every API instance with a client watching that job relays it to its SSE streams. Replay and
 * `Last-Event-ID` resume come from the database, so a message Redis drops (it keeps none) is never lost for good.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { JobEventBus } from '../../../app/ports.js';
import type { JobEvent } from '../../../domain/job.js';

const PREFIX = 'argus:events:';

/** A JobEventBus on Redis pub/sub: one publishing connection, one subscribing connection per process. */
export class RedisEventBus implements JobEventBus {
  private readonly local = new EventEmitter().setMaxListeners(0);
  /** Per job: how many listeners this process has, and the subscription they wait for. */
  private readonly channels = new Map<string, { count: number; ready: Promise<unknown> }>();

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
  ) {
    sub.on('message', (channel: string, message: string) => {
      if (!channel.startsWith(PREFIX)) return;
      try {
        this.local.emit(channel.slice(PREFIX.length), JSON.parse(message) as JobEvent);
      } catch {
        // Not one of ours.
      }
    });
  }

  publish(jobId: string, event: JobEvent): void {
    // A publish that fails (Redis restarting) only delays live viewers: the event is stored and replayed.
    this.pub.publish(PREFIX + jobId, JSON.stringify(event)).catch(() => undefined);
  }

  async subscribe(jobId: string, listener: (event: JobEvent) => void): Promise<() => void> {
    this.local.on(jobId, listener);
    let channel = this.channels.get(jobId);
    if (channel) channel.count++;
    else {
      channel = { count: 1, ready: this.sub.subscribe(PREFIX + jobId) };
      this.channels.set(jobId, channel);
    }
    try {
      await channel.ready;
    } catch (err) {
      // Not subscribed after all: forget this listener, and the channel unless someone else waits on a retry.
      this.local.off(jobId, listener);
      if (--channel.count <= 0 && this.channels.get(jobId) === channel) this.channels.delete(jobId);
      throw err;
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.local.off(jobId, listener);
      const current = this.channels.get(jobId);
      if (!current || --current.count > 0) return;
      this.channels.delete(jobId);
      this.sub.unsubscribe(PREFIX + jobId).catch(() => undefined);
    };
  }
}

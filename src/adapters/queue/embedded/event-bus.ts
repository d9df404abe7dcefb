/** Job events within one process (embedded mode). Scale-out replaces this with Redis pub/sub behind the same port. */
import { EventEmitter } from 'node:events';
import type { JobEventBus } from '../../../app/ports.js';
import type { JobEvent } from '../../../domain/job.js';

/** An in-process event bus keyed by job id. */
export class MemoryEventBus implements JobEventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(jobId: string, event: JobEvent): void {
    this.emitter.emit(jobId, event);
  }

  async subscribe(jobId: string, listener: (event: JobEvent) => void): Promise<() => void> {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }
}

/**
 * Sends due webhook and callback deliveries in the background: every `intervalMs`, and at once when told a job
 * ended. Deliveries live in the database, so retries continue across restarts.
 */
import type { Logger } from 'pino';
import { deliverDue, type DeliverDeps } from '../app/webhooks.js';

/** The background delivery loop. */
export class DeliveryLoop {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly deps: DeliverDeps,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.notify(), this.intervalMs);
    this.timer.unref();
    this.notify();
  }

  /** Runs a pass now (or right after the current one). */
  notify(): void {
    if (!this.timer) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = (async () => {
      try {
        while ((await deliverDue(this.deps)) > 0 && this.timer);
      } catch (err) {
        this.logger.error({ err }, 'webhook delivery pass failed');
      }
    })().finally(() => {
      this.busy = null;
      if (this.again) {
        this.again = false;
        this.notify();
      }
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
  }
}

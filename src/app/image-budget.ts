/**
 * A budget of decoded pixels shared by the requests being analysed at once. A decoded image costs a few bytes per
 * pixel for as long as its analysis runs, so the sum of the pixels in flight bounds the memory image analysis can
 * take: a request waits for room (first come, first served), and one that cannot get it in time — or arrives when
 * too many already wait — is refused with 503 and Retry-After instead of growing the process.
 */
import { AppError } from '../domain/errors.js';

/** The budget's limits. */
export interface ImageBudgetOptions {
  /** Decoded pixels in flight at most; a single larger image runs alone. */
  readonly pixels: number;
  /** How long a request may wait for room. */
  readonly maxWaitMs: number;
  /** How many requests may wait at once. */
  readonly maxWaiting: number;
}

interface Waiter {
  readonly cost: number;
  readonly grant: () => void;
}

/** A weighted semaphore over decoded pixels. */
export class ImageBudget {
  private used = 0;
  private readonly queue: Waiter[] = [];

  constructor(private readonly options: ImageBudgetOptions) {}

  /** Pixels currently held. */
  get inUse(): number {
    return this.used;
  }

  /** Waits for room for `pixels` and returns the function that gives it back (once). SERVICE_UNAVAILABLE when refused. */
  async acquire(pixels: number): Promise<() => void> {
    const cost = Math.max(1, Math.min(pixels, this.options.pixels));
    if (this.queue.length === 0 && this.used + cost <= this.options.pixels) return this.take(cost);
    if (this.queue.length >= this.options.maxWaiting) throw busy('too many images are waiting to be analysed');
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        cost,
        grant: () => {
          clearTimeout(timer);
          resolve(this.take(cost));
        },
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        reject(busy(`no room to analyse this image within ${this.options.maxWaitMs} ms`));
        // A large waiter leaving may let smaller ones behind it in.
        this.drain();
      }, this.options.maxWaitMs);
      this.queue.push(waiter);
    });
  }

  private take(cost: number): () => void {
    this.used += cost;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= cost;
      this.drain();
    };
  }

  private drain(): void {
    while (this.queue.length > 0 && this.used + (this.queue[0] as Waiter).cost <= this.options.pixels) {
      (this.queue.shift() as Waiter).grant();
    }
  }
}

function busy(message: string): AppError {
  const err = new AppError('SERVICE_UNAVAILABLE', `${message}; retry shortly`);
  err.retryAfterS = 5;
  return err;
}

/**
 * Reusable input tensors. A model's input is a few megabytes; allocating one per image would churn the heap at
 * hundreds of images per second, so buffers go back to a small pool once the engine hands them back.
 */
export class TensorPool {
  private readonly free = new Map<number, Float32Array[]>();

  /** @param keep how many free buffers of each size to keep. */
  constructor(private readonly keep = 4) {}

  /** A buffer of exactly `length` elements (contents undefined). */
  take(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  /** Returns a buffer for reuse; dropped when the pool for its size is full. */
  give(buffer: Float32Array): void {
    // The engine transfers buffers between threads; a detached one has length 0 and is useless.
    if (buffer.length === 0) return;
    const list = this.free.get(buffer.length) ?? [];
    if (list.length < this.keep) list.push(buffer);
    this.free.set(buffer.length, list);
  }
}

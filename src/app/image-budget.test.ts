import { describe, expect, it } from 'vitest';
import { ImageBudget } from './image-budget.js';

describe('ImageBudget', () => {
  it('lets images in while their pixels fit, and the next one in when room is given back', async () => {
    const budget = new ImageBudget({ pixels: 100, maxWaitMs: 1000, maxWaiting: 10 });
    const a = await budget.acquire(60);
    const b = await budget.acquire(40);
    expect(budget.inUse).toBe(100);
    let cGot = false;
    const c = budget.acquire(50).then((r) => {
      cGot = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(cGot).toBe(false);
    a();
    a(); // twice is once
    const releaseC = await c;
    expect(budget.inUse).toBe(90);
    b();
    releaseC();
    expect(budget.inUse).toBe(0);
  });

  it('runs an image larger than the whole budget alone', async () => {
    const budget = new ImageBudget({ pixels: 100, maxWaitMs: 1000, maxWaiting: 10 });
    const big = await budget.acquire(10_000);
    expect(budget.inUse).toBe(100);
    big();
  });

  it('refuses with 503 and Retry-After when the wait is too long or too many wait', async () => {
    const budget = new ImageBudget({ pixels: 10, maxWaitMs: 50, maxWaiting: 1 });
    const held = await budget.acquire(10);
    const waiting = budget.acquire(5);
    await expect(budget.acquire(5)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', statusCode: 503, retryAfterS: 5 });
    await expect(waiting).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    held();
    expect(budget.inUse).toBe(0);
    (await budget.acquire(10))();
  });

  it('serves waiters in order, so a large image is not starved by small ones', async () => {
    const budget = new ImageBudget({ pixels: 10, maxWaitMs: 1000, maxWaiting: 10 });
    const first = await budget.acquire(6);
    const order: string[] = [];
    const big = budget.acquire(10).then((r) => (order.push('big'), r));
    const small = budget.acquire(2).then((r) => (order.push('small'), r));
    first();
    (await big)();
    (await small)();
    expect(order).toEqual(['big', 'small']);
  });
});

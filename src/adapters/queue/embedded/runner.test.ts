import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { JobRecord, JobRepository } from '../../../app/ports.js';
import { EmbeddedJobRunner } from './runner.js';

describe('EmbeddedJobRunner.stop', () => {
  it('puts back a job whose claim was in flight when the runner stopped, and never runs it', async () => {
    let answerClaim: (job: JobRecord | null) => void = () => undefined;
    const released: string[] = [];
    const ran: string[] = [];
    const jobs = {
      recover: () => Promise.resolve({ requeued: 0, failed: [] }),
      claimNext: () => new Promise<JobRecord | null>((resolve) => (answerClaim = resolve)),
      release: (id: string) => {
        released.push(id);
        return Promise.resolve();
      },
    } as unknown as JobRepository;
    const runner = new EmbeddedJobRunner({
      jobs,
      clock: { now: () => new Date() },
      logger: pino({ level: 'silent' }),
      handler: (job) => {
        ran.push(job.id);
        return Promise.resolve();
      },
      outcome: { fail: () => Promise.resolve(true), announce: () => Promise.resolve() },
      concurrency: 1,
      pollMs: 60_000,
    });
    await runner.start(); // starts a pump, whose claim now waits
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false); // stop() waits for the claim in flight
    answerClaim({ id: 'job-1', attempts: 1, maxAttempts: 3 } as JobRecord);
    await stopping;
    expect(ran).toEqual([]);
    expect(released).toEqual(['job-1']);
  });
});

import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { isFinished, parseTasks, taskState } from './job.js';

describe('jobs', () => {
  it("maps statuses to seed 003's task states", () => {
    expect(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => taskState(s as never))).toEqual(['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED', 'FAILED']);
    expect(isFinished('running')).toBe(false);
    expect(isFinished('cancelled')).toBe(true);
  });

  it('parses task lists and refuses unknown tasks', () => {
    expect(parseTasks(undefined)).toEqual(['detect']);
    expect(parseTasks('detect, blur,detect')).toEqual(['detect', 'blur']);
    expect(parseTasks(['BLUR'])).toEqual(['blur']);
    expect(() => parseTasks('detect,dance')).toThrow(AppError);
  });
});

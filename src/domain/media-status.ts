import { AppError } from './errors.js';

/** The media lifecycle of seeds 000-002, with the numeric values they use. */
export const MediaStatus = {
  New: 1,
  AIProcessing: 2,
  AIProcessed: 3,
  Error: 6,
} as const;

export type MediaStatus = (typeof MediaStatus)[keyof typeof MediaStatus];

const NAMES: Record<MediaStatus, string> = { 1: 'New', 2: 'AIProcessing', 3: 'AIProcessed', 6: 'Error' };

/** Transitions the lifecycle allows. Re-analysis of processed or failed media starts a new AIProcessing. */
const ALLOWED: Record<MediaStatus, readonly MediaStatus[]> = {
  1: [MediaStatus.AIProcessing, MediaStatus.Error],
  2: [MediaStatus.AIProcessed, MediaStatus.Error],
  3: [MediaStatus.AIProcessing],
  6: [MediaStatus.AIProcessing],
};

/** The name of a status value, e.g. `AIProcessing` for 2. */
export function mediaStatusName(status: MediaStatus): string {
  return NAMES[status];
}

/** True when `value` is one of the lifecycle's numeric status values. */
export function isMediaStatus(value: number): value is MediaStatus {
  return value in NAMES;
}

/** The outcome of a status change: the new status and the reason (kept only for Error). */
export interface StatusChange {
  readonly status: MediaStatus;
  readonly reason: string | null;
}

/**
 * The one place a media status changes. Refuses impossible transitions (e.g. New → AIProcessed) and an
 * Error without a reason.
 */
export function transitionMediaStatus(from: MediaStatus, to: MediaStatus, reason?: string): StatusChange {
  if (!ALLOWED[from].includes(to)) {
    throw new AppError('CONFLICT', `media status cannot change from ${NAMES[from]} to ${NAMES[to]}`);
  }
  if (to === MediaStatus.Error) {
    if (!reason?.trim()) throw new AppError('BAD_REQUEST', 'an Error status needs a reason');
    return { status: to, reason: reason.trim() };
  }
  return { status: to, reason: null };
}

import { transitionMediaStatus, type MediaStatus } from '../domain/media-status.js';
import type { Clock, MediaRecord, MediaRepository } from './ports.js';

/**
 * Moves a record's status if the lifecycle allows it from where it is now. Another analysis of the same media
 * may be under way (AIProcessing already): then the status is left to whichever finishes.
 */
export async function moveMediaStatus(deps: { media: MediaRepository; clock: Clock }, record: MediaRecord, to: MediaStatus, reason?: string): Promise<MediaRecord> {
  let change;
  try {
    change = transitionMediaStatus(record.status, to, reason);
  } catch {
    return record;
  }
  const at = deps.clock.now();
  const moved = await deps.media.updateStatus(record.ownerId, record.id, record.status, change.status, change.reason, at);
  return moved ? { ...record, status: change.status, statusReason: change.reason, updatedAt: at } : record;
}

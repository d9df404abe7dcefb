/**
 * Per-user AI settings read through a cache in this process. Every analysis request reads its owner's settings, and
 * on the embedded database that read is a query run on the main thread (PGlite is WebAssembly): about 0.7 ms of CPU
 * each, measured. Only for a database this process alone writes — the embedded PGlite, which no other process can
 * open — so every change passes through `put` here and no read can miss one. With PostgreSQL other processes write
 * too, and the settings are read from it each time.
 */
import type { AiSettingsRepository } from '../../app/ports.js';
import type { AiSettingsPatch } from '../../domain/ai-settings.js';

/** Owners whose settings are kept at most; the longest-unread are forgotten first. */
const MAX_OWNERS = 10_000;

/** An AiSettingsRepository that remembers what it read and what it wrote, owner by owner. */
export class CachedAiSettingsRepository implements AiSettingsRepository {
  private readonly known = new Map<string, AiSettingsPatch | null>();
  /** Bumped by every write: a read that started before one does not keep what it read. */
  private generation = 0;

  constructor(
    private readonly inner: AiSettingsRepository,
    private readonly maxOwners = MAX_OWNERS,
  ) {}

  async get(ownerId: string): Promise<AiSettingsPatch | null> {
    if (this.known.has(ownerId)) {
      const value = this.known.get(ownerId) ?? null;
      // Read again: it moves to the end of the eviction order.
      this.known.delete(ownerId);
      this.known.set(ownerId, value);
      return value;
    }
    const generation = this.generation;
    const value = await this.inner.get(ownerId);
    if (generation === this.generation) this.remember(ownerId, value);
    return value;
  }

  async put(ownerId: string, settings: AiSettingsPatch, at: Date): Promise<void> {
    this.generation++;
    this.known.delete(ownerId);
    try {
      await this.inner.put(ownerId, settings, at);
    } finally {
      // Reads that overlapped the write (and may hold the old value) keep nothing either.
      this.generation++;
      this.known.delete(ownerId);
    }
  }

  private remember(ownerId: string, value: AiSettingsPatch | null): void {
    this.known.set(ownerId, value);
    if (this.known.size > this.maxOwners) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}

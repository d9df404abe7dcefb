/**
 * Reading and changing a user's AI settings. Users see and change their own; admins anyone's. What is stored is
 * only what the user set, so a default changed by a later release reaches everyone who did not override it.
 */
import { applySettings, checkSettingsAgree, parseAiSettingsPatch, type AiSettings, type AiSettingsPatch } from '../domain/ai-settings.js';
import { AppError } from '../domain/errors.js';
import type { ModelTask } from '../domain/model-manifest.js';
import type { AiSettingsRepository, Clock, ModelCatalog, Principal } from './ports.js';

/** Dependencies of the settings use cases. */
export interface AiSettingsDeps {
  readonly settings: AiSettingsRepository;
  readonly models: ModelCatalog;
  readonly clock: Clock;
  /** The deployment's defaults. */
  readonly defaults: AiSettings;
}

const MODEL_KEYS: Partial<Record<keyof AiSettings, ModelTask>> = {
  detection_model: 'detect',
  face_detection_model: 'face-detect',
  face_embedding_model: 'face-embed',
  text_detection_model: 'text-detect',
  text_recognition_model: 'text-recognize',
  text_classification_model: 'text-classify',
  bib_detection_model: 'bib-detect',
};

/** Values of model settings that name no model. */
const NO_MODEL: Partial<Record<keyof AiSettings, readonly string[]>> = { text_classification_model: ['none'], bib_detection_model: ['auto', 'none'] };

/** The settings that apply to `ownerId`'s analyses: defaults overlaid with what they set. */
export async function effectiveSettings(deps: Pick<AiSettingsDeps, 'settings' | 'defaults'>, ownerId: string): Promise<AiSettings> {
  return applySettings(deps.defaults, (await deps.settings.get(ownerId)) ?? {});
}

/** GET: `userId`'s effective settings. */
export async function getUserSettings(deps: AiSettingsDeps, principal: Principal, userId: string): Promise<AiSettings> {
  return effectiveSettings(deps, ownerOfUser(principal, userId));
}

/** PUT (`replace`) or PATCH (`merge`): validates, stores and returns the new effective settings. */
export async function changeUserSettings(
  deps: AiSettingsDeps,
  principal: Principal,
  userId: string,
  body: unknown,
  mode: 'replace' | 'merge',
): Promise<AiSettings> {
  const ownerId = ownerOfUser(principal, userId);
  const patch = parseAiSettingsPatch(body);
  checkModels(deps.models, patch);
  const stored: AiSettingsPatch = mode === 'merge' ? { ...((await deps.settings.get(ownerId)) ?? {}), ...patch } : patch;
  const effective = applySettings(deps.defaults, stored);
  checkSettingsAgree(effective);
  await deps.settings.put(ownerId, stored, deps.clock.now());
  return effective;
}

/**
 * The owner a user id in a path names: `me`, or the caller's own user id (a key's owner, a token's `sub`), is the
 * caller; any other id is an owner id, open to admins only.
 */
export function ownerOfUser(principal: Principal, userId: string): string {
  if (userId === 'me' || userId === principal.subject || userId === principal.ownerId) return principal.ownerId;
  if (principal.role !== 'admin') throw new AppError('FORBIDDEN', "only an admin may read or change another user's settings; use 'me' for your own");
  return userId;
}

/**
 * Refuses (422) a model setting that names no model of its task, listing the ones that would do. The model's file
 * may still be missing (it can be pulled).
 */
export function checkModels(models: ModelCatalog, patch: AiSettingsPatch): void {
  const known = models.list();
  for (const [key, task] of Object.entries(MODEL_KEYS)) {
    const id = patch[key as keyof AiSettings];
    if (id === undefined || NO_MODEL[key as keyof AiSettings]?.includes(String(id))) continue;
    const m = known.find((s) => s.manifest.id === id && s.state !== 'invalid_manifest');
    if (!m || m.manifest.task !== task) {
      const choices = known.filter((s) => s.manifest.task === task && s.state !== 'invalid_manifest').map((s) => s.manifest.id);
      throw new AppError('VALIDATION_ERROR', `${key}: '${String(id)}' is not a ${task} model; choose one of ${choices.join(', ')}`);
    }
  }
}

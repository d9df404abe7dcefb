/**
 * Per-user AI settings (seed 000): the knobs every analysis reads. Clients send keys in snake_case, camelCase
 * or PascalCase; Argus stores and answers in snake_case. Unknown keys are refused, missing keys take defaults,
 * and a request's own parameters override the settings for that call.
 */
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { AppError } from './errors.js';

/** The default of `probability_threshold`, which stands for "the detector's own calibrated threshold". */
export const DEFAULT_PROBABILITY_THRESHOLD = 0.3;

const Probability = (description: string, def: number): ReturnType<typeof Type.Number> =>
  Type.Number({ minimum: 0, maximum: 1, default: def, description });

/** Every setting, its range and its default. */
export const AiSettingsSchema = Type.Object(
  {
    // 0.3 is YOLOX-nano's calibrated threshold; left at it, each detector uses its own (see chosenDetectionThreshold).
    probability_threshold: Probability("Minimum detection confidence; at the default 0.3 each detector uses its own calibrated threshold", DEFAULT_PROBABILITY_THRESHOLD),
    // COCO's 100 per image: at low thresholds a detector otherwise returns a thousand boxes for one photo.
    max_detections: Type.Integer({ minimum: 1, maximum: 10_000, default: 100, description: 'Most detections returned per image, the highest-scored' }),
    classes: Type.Array(Type.String({ minLength: 1 }), { maxItems: 100, default: [], description: 'Classes of interest; empty means all' }),
    detection_model: Type.String({ minLength: 1, default: 'yolox_nano', description: 'Model for object detection' }),
    face_detection_model: Type.String({ minLength: 1, default: 'yunet', description: 'Model for face detection' }),
    face_embedding_model: Type.String({ minLength: 1, default: 'mobilefacenet', description: 'Model for face embeddings' }),
    frame_period_recognition: Type.Integer({ minimum: 1, maximum: 10_000, default: 4, description: 'Video: analyse every Nth frame' }),
    frame_recognition_seconds: Type.Number({ minimum: 0, maximum: 3600, default: 0, description: 'Video: at least this many seconds between analysed frames' }),
    tracking_intersection_threshold: Probability('Tracking: IoU above which a detection continues a track', 0.3),
    tracking_max_age_seconds: Type.Number({ minimum: 0, maximum: 60, default: 1, description: 'Tracking: a track unseen this long ends' }),
    tracking_min_hits: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'Tracking: detections before a track is reported' }),
    big_image_tile_overlap_percent: Type.Number({ minimum: 0, maximum: 50, default: 20, description: 'Large images: overlap between tiles, in percent of a tile' }),
    model_batch_size: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Tiles or frames per inference call where the model allows batches' }),
    // Calibrated for MobileFaceNet on the 20-person test set: 0.47% false accepts per pair at 0.5 (5.4% at the seed's 0.4).
    face_similarity_threshold: Probability('Faces: minimum cosine similarity for a match', 0.5),
    blur_threshold: Type.Number({ exclusiveMinimum: 0, default: 100, description: 'Laplacian variance below which an image is blurry' }),
    text_detection_model: Type.String({ minLength: 1, default: 'ppocr_v4_det', description: 'Model for finding text lines' }),
    text_recognition_model: Type.String({ minLength: 1, default: 'ppocr_v4_rec', description: 'Model for reading text lines' }),
    text_classification_model: Type.String({ minLength: 1, default: 'none', description: "Model turning upside-down lines (e.g. ppocr_mobile_v2_cls); 'none' skips it" }),
    text_min_confidence: Probability('Text: minimum mean character confidence of a line', 0.5),
    bib_detection_model: Type.String({
      minLength: 1,
      default: 'auto',
      description: "Bibs: a bib-detect model; 'auto' uses one if registered, 'none' always reads torsos with OCR",
    }),
    bib_min_digits: Type.Integer({ minimum: 1, maximum: 10, default: 1, description: 'Bibs: fewest digits of a bib number' }),
    bib_max_digits: Type.Integer({ minimum: 1, maximum: 10, default: 6, description: 'Bibs: most digits of a bib number' }),
    bib_min_confidence: Probability('Bibs: minimum OCR confidence of a bib number', 0.8),
  },
  { additionalProperties: false },
);

export type AiSettings = Static<typeof AiSettingsSchema>;
export type AiSettingsPatch = Partial<AiSettings>;
export type AiSettingKey = keyof AiSettings;

const KEYS = new Set(Object.keys(AiSettingsSchema.properties));

/** The defaults, optionally with deployment-wide overrides (e.g. the configured blur threshold). */
export function defaultAiSettings(overrides: AiSettingsPatch = {}): AiSettings {
  return { ...(Value.Default(AiSettingsSchema, {}) as AiSettings), ...overrides };
}

/** `probabilityThreshold`, `ProbabilityThreshold` and `probability_threshold` all become `probability_threshold`. */
export function toSnakeCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    // ASCII only: full Unicode lower-casing turns U+212A KELVIN SIGN into "k", which let "trac\u212aing_min_hits" in.
    .replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * Normalises a client's settings object to snake_case and checks every value. Throws VALIDATION_ERROR (422)
 * naming unknown keys, keys given twice in different casings, and values out of range.
 */
export function parseAiSettingsPatch(input: unknown): AiSettingsPatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AppError('VALIDATION_ERROR', 'settings must be a JSON object');
  }
  const out: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    const snake = toSnakeCase(key);
    if (!KEYS.has(snake)) {
      unknown.push(key);
      continue;
    }
    if (snake in out) throw new AppError('VALIDATION_ERROR', `setting '${snake}' is given more than once`);
    out[snake] = value;
  }
  if (unknown.length) {
    throw new AppError('VALIDATION_ERROR', `unknown setting${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, { unknown, known: [...KEYS] });
  }
  const partial = Type.Partial(AiSettingsSchema);
  if (!Value.Check(partial, out)) {
    const errors = [...Value.Errors(partial, out)].map((e) => ({ path: e.instancePath, message: e.message }));
    const first = errors[0];
    throw new AppError('VALIDATION_ERROR', `invalid setting ${first?.path.slice(1) ?? ''}: ${first?.message ?? 'bad value'}`, errors);
  }
  return out;
}

/** Settings with `patch` laid over `base`; undefined values in the patch change nothing. */
export function applySettings(base: AiSettings, patch: AiSettingsPatch): AiSettings {
  const merged: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) merged[k] = v;
  return merged as AiSettings;
}

/** Refuses settings whose values contradict each other (each one alone passed the schema). */
export function checkSettingsAgree(s: Pick<AiSettings, 'bib_min_digits' | 'bib_max_digits'>): void {
  if (s.bib_min_digits > s.bib_max_digits) {
    throw new AppError('VALIDATION_ERROR', `bib_min_digits (${s.bib_min_digits}) is more than bib_max_digits (${s.bib_max_digits}): no bib could be kept`);
  }
}

/**
 * The detection threshold the user chose in their settings, or undefined when `probability_threshold` is at its
 * default: each detector then uses its own calibrated threshold (0.3 is YOLOX-nano's; PicoDet scores higher).
 */
export function chosenDetectionThreshold(s: Pick<AiSettings, 'probability_threshold'>): number | undefined {
  return s.probability_threshold === DEFAULT_PROBABILITY_THRESHOLD ? undefined : s.probability_threshold;
}

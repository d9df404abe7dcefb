/**
 * What Argus knows about a model before it loads it: the manifest. Built-in models ship one in code; users
 * register their own by dropping `<name>.model.json` beside the `.onnx` file in a models directory.
 */
import Type, { type Static } from 'typebox';

/** The jobs a model can do. A request for one task never picks a model made for another. */
export const MODEL_TASKS = ['detect', 'face-detect', 'face-embed', 'text-detect', 'text-recognize', 'text-classify', 'bib-detect'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

const Triple = Type.Tuple([Type.Number(), Type.Number(), Type.Number()]);

/** How pixels become the model's input tensor. */
export const ModelInputSchema = Type.Object(
  {
    /** Input tensor name; the model's first input when absent. */
    name: Type.Optional(Type.String({ minLength: 1 })),
    width: Type.Integer({ minimum: 8, maximum: 4096 }),
    height: Type.Integer({ minimum: 8, maximum: 4096 }),
    colour: Type.Union([Type.Literal('rgb'), Type.Literal('bgr')]),
    /** value = (pixel - mean) / std per channel, in the model's colour order. */
    mean: Type.Optional(Triple),
    std: Type.Optional(Triple),
    /** letterbox: keep aspect ratio, image top-left; letterbox-centre: Ultralytics style; stretch: fill. */
    resize: Type.Union([Type.Literal('letterbox'), Type.Literal('letterbox-centre'), Type.Literal('stretch')]),
    /** Grey value for letterbox padding. */
    pad: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    /** Whether the batch dimension is dynamic, so several tiles can run in one call. */
    dynamicBatch: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** A model's manifest as written in a `.model.json` file or in the built-in catalogue. */
export const ModelManifestSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,63}$' }),
    task: Type.Enum(MODEL_TASKS),
    file: Type.String({ pattern: '^[^/\\\\]+\\.onnx$' }),
    /** Hex SHA-256 of the file. Optional for user models (they are then reported as unverified). */
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    licence: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    input: ModelInputSchema,
    /** Which output decoder reads the model (e.g. yolox, yolov5, yolov8, nanodet, yunet, arcface). */
    decoder: Type.String({ minLength: 1 }),
    /** A detector's calibrated default confidence threshold, used when neither request nor settings set one. */
    threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** A detector's own class-aware NMS IoU threshold (default 0.45, YOLOX's). */
    nmsIou: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    /** Class names by class id, for detectors. */
    labels: Type.Optional(Type.Array(Type.String())),
    /** Embedding size, for embedders. */
    dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Character dictionary of a text recognizer: a file beside the model, one character per line. */
    dictionary: Type.Optional(Type.String({ pattern: '^[^/\\\\.][^/\\\\]*$' })),
  },
  { additionalProperties: false },
);

export type ModelManifest = Static<typeof ModelManifestSchema>;
export type ModelInputSpec = Static<typeof ModelInputSchema>;

/** Where a model stands on this machine. */
export type ModelState = 'ok' | 'unverified' | 'missing' | 'checksum_mismatch' | 'invalid_manifest';

/** A manifest with what the registry found on disk. */
export interface ModelStatus {
  readonly manifest: ModelManifest;
  readonly state: ModelState;
  /** Absolute path of the file when found. */
  readonly path: string | null;
  /** Where the manifest came from: 'builtin', or the path of the user's manifest file. */
  readonly source: string;
  readonly detail?: string;
}

/** True when a model in this state can be loaded. */
export function isUsable(state: ModelState): boolean {
  return state === 'ok' || state === 'unverified';
}

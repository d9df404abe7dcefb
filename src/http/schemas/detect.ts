/** Schemas of object detection: the form, the detections, the stored result. */
import { named } from './common.js';
import Type from 'typebox';
import { MediaId } from './media.js';

export const BoxSchema = named('Box', Type.Object(
  { x1: Type.Number(), y1: Type.Number(), x2: Type.Number(), y2: Type.Number() },
  { description: 'Box in original-image pixels, clipped to the image' },
));

export const DetectionSchema = named('Detection', Type.Object({
  label: Type.String(),
  class_id: Type.Integer({ minimum: 0 }),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  box: BoxSchema,
}));

/** The text fields of `POST /detect` besides `file`. */
export const DetectFields = Type.Object(
  {
    model: Type.Optional(Type.String({ minLength: 1, description: 'Detection model id (default: your settings, then yolox_nano)' })),
    classes: Type.Optional(Type.String({ description: 'Comma-separated class names to keep, e.g. "person,dog"' })),
    threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "Minimum confidence (default: your probability_threshold, or the model's own calibrated one when that is left at 0.3)" })),
    max_detections: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Most detections returned, the highest-scored (default: your max_detections, 100)' })),
    store: Type.Optional(Type.Boolean({ description: 'Also store the image and its detections; answers with media_id' })),
    tiling: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('off'), Type.Literal('on')], { description: 'Tile large images (auto: when much larger than the model input)' })),
  },
  { additionalProperties: false },
);

export const DetectForm = Type.Object({ file: Type.String({ format: 'binary' }), ...DetectFields.properties });

export const DetectResponse = named('DetectResult', Type.Object({
  media_id: Type.Optional(MediaId),
  width: Type.Integer(),
  height: Type.Integer(),
  model: Type.String(),
  detections: Type.Array(DetectionSchema),
  tiles: Type.Integer({ description: 'Tiles analysed besides the whole image (0 when not tiled)' }),
  timings: Type.Object({ preprocess_ms: Type.Number(), inference_ms: Type.Number(), postprocess_ms: Type.Number(), total_ms: Type.Number() }),
}));

export const StoredDetections = named('StoredDetections', Type.Object({
  media_id: MediaId,
  model: Type.String(),
  analysed_at: Type.String({ format: 'date-time' }),
  width: Type.Integer(),
  height: Type.Integer(),
  detections: Type.Array(DetectionSchema),
}));

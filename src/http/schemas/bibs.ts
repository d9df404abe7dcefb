/** Schemas of text recognition, bib recognition and bib search. */
import { named } from './common.js';
import Type from 'typebox';
import { BoxSchema } from './detect.js';
import { MediaId } from './media.js';

const Point = Type.Tuple([Type.Number(), Type.Number()]);

export const TextResponse = named('TextResult', Type.Object({
  width: Type.Integer(),
  height: Type.Integer(),
  text: Type.String({ description: 'Every line in reading order, rows separated by newlines' }),
  lines: Type.Array(
    Type.Object({
      text: Type.String(),
      confidence: Type.Number({ minimum: 0, maximum: 1, description: 'Mean probability of the characters read' }),
      box: BoxSchema,
      polygon: Type.Array(Point, { description: 'The rotated text region: 4 corners clockwise from top-left' }),
    }),
  ),
  timings: Type.Record(Type.String(), Type.Number()),
}));

export const BibResponse = named('BibResult', Type.Object({
  media_id: Type.Optional(MediaId),
  width: Type.Integer(),
  height: Type.Integer(),
  bibs_detected: Type.Integer(),
  detections: Type.Array(
    Type.Object({
      bib_number: Type.String(),
      confidence: Type.Number({ minimum: 0, maximum: 1 }),
      box: BoxSchema,
      person_box: Type.Union([BoxSchema, Type.Null()], { description: 'The person the bib was read on; null when read on the whole image' }),
    }),
  ),
  mode: Type.Union([Type.Literal('detector'), Type.Literal('ocr')], { description: 'detector: a registered bib detector; ocr: OCR on torsos (or the whole image)' }),
  persons: Type.Array(BoxSchema),
  models: Type.Object({ persons: Type.String(), bib_detector: Type.Union([Type.String(), Type.Null()]), text_detector: Type.String(), text_recognizer: Type.String() }),
  indexed: Type.Optional(Type.Object({ bibs: Type.Integer(), faces: Type.Integer(), faces_with_bib: Type.Integer() }, { description: 'With store=true: what the bib index now holds for this image' })),
  timings: Type.Object({ total_ms: Type.Number() }),
}));

export const BibMediaResponse = named('MediaByBibResult', Type.Object({
  bib_number: Type.String(),
  total: Type.Integer(),
  threshold: Type.Number({ description: 'Face similarity used for inferred matches' }),
  media: Type.Array(
    Type.Object({
      media_id: MediaId,
      name: Type.String(),
      kind: Type.Union([Type.Literal('image'), Type.Literal('video')]),
      confidence: Type.Number({ description: 'The bib reading\'s confidence, or the face similarity when inferred' }),
      inferred: Type.Boolean({ description: 'true: the bib is not visible here, its carrier\'s face is' }),
      source: Type.Union([Type.Literal('bib'), Type.Literal('face')]),
      box: BoxSchema,
      frame_index: Type.Union([Type.Integer(), Type.Null()]),
      timestamp: Type.Union([Type.Number(), Type.Null()]),
      sightings: Type.Optional(Type.Integer()),
      similarity: Type.Optional(Type.Number()),
    }),
  ),
}));

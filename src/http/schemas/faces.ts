/** Schemas of seed 004's face endpoints: detect, enroll, search, compare and persons. */
import { named } from './common.js';
import Type from 'typebox';
import { BoxSchema } from './detect.js';

const Angle = (what: string) => Type.Union([Type.Number(), Type.Null()], { description: `${what} in degrees, estimated from the landmarks (null when they make no face)` });

export const FaceQualitySchema = named('FaceQuality', Type.Object({
  size: Type.Number({ description: 'Shorter side of the box, pixels' }),
  sharpness: Type.Union([Type.Number(), Type.Null()], { description: 'Laplacian variance of the aligned face' }),
  yaw: Angle('Left-right turn'),
  pitch: Angle('Up-down tilt'),
  roll: Angle('In-plane rotation'),
  score: Type.Number({ minimum: 0, maximum: 1, description: 'Overall quality: detection score x size x sharpness x pose' }),
}));

export const FaceSchema = named('Face', Type.Object({
  box: BoxSchema,
  landmarks: Type.Array(Type.Tuple([Type.Number(), Type.Number()]), { description: 'Right eye, left eye, nose tip, right and left mouth corners' }),
  score: Type.Number({ description: 'Detection score' }),
  quality: FaceQualitySchema,
}));

const Match = named('FaceMatch', Type.Object({ person_id: Type.String({ format: 'uuid' }), person_name: Type.String(), similarity: Type.Number() }));

export const FaceDetectResponse = named('FaceDetectResult', Type.Object({
  width: Type.Integer(),
  height: Type.Integer(),
  model: Type.String(),
  faces_detected: Type.Integer(),
  faces: Type.Array(FaceSchema),
}));

export const EnrollResponse = named('Enrollment', Type.Object({
  person_id: Type.String({ format: 'uuid' }),
  person_name: Type.String(),
  person_created: Type.Boolean({ description: 'false: the name was known in the collection, and the face was added to that person' }),
  collection: Type.String(),
  face_id: Type.String({ format: 'uuid' }),
  model: Type.String({ description: 'The embedding model' }),
  face: FaceSchema,
}));

export const FaceSearchResponse = named('FaceSearchResult', Type.Object({
  collection: Type.String(),
  model: Type.String(),
  threshold: Type.Number(),
  faces_detected: Type.Integer(),
  faces: Type.Array(Type.Object({ ...FaceSchema.properties, matches: Type.Array(Match, { description: 'Best first, only at or above the threshold' }) })),
}));

export const CompareResponse = named('FaceComparison', Type.Object({
  similarity: Type.Number({ description: 'Cosine similarity of the two largest faces' }),
  same_person: Type.Boolean(),
  threshold: Type.Number(),
  model: Type.String(),
  face1: FaceSchema,
  face2: FaceSchema,
}));

const PersonFields = {
  person_id: Type.String({ format: 'uuid' }),
  person_name: Type.String(),
  collection: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  face_count: Type.Integer(),
};

export const PersonList = named('PersonList', Type.Object({ items: Type.Array(Type.Object(PersonFields)), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }));

export const PersonDetail = named('Person', Type.Object({
  ...PersonFields,
  faces: Type.Array(Type.Object({ face_id: Type.String({ format: 'uuid' }), model: Type.String(), box: BoxSchema, quality: FaceQualitySchema, created_at: Type.String({ format: 'date-time' }) })),
}));

export const FaceMediaResponse = named('MediaByFaceResult', Type.Object({
  model: Type.String(),
  threshold: Type.Number(),
  face: FaceSchema,
  total: Type.Integer(),
  media: Type.Array(
    Type.Object({
      media_id: Type.String(),
      name: Type.String(),
      kind: Type.Union([Type.Literal('image'), Type.Literal('video')]),
      similarity: Type.Number({ description: 'Of the most similar face in this medium' }),
      box: BoxSchema,
      frame_index: Type.Union([Type.Integer(), Type.Null()]),
      timestamp: Type.Union([Type.Number(), Type.Null()]),
    }),
    { description: 'Most similar first, one entry per medium, only at or above the threshold' },
  ),
}));

export const CollectionList = named(
  'CollectionList',
  Type.Object({
    items: Type.Array(Type.Object({ collection: Type.String(), persons: Type.Integer(), faces: Type.Integer() }, { title: 'Collection' })),
  }),
);

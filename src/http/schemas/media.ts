import Type, { type Static } from 'typebox';
import type { MediaRecord } from '../../app/ports.js';
import { mediaStatusName } from '../../domain/media-status.js';
import { Paging, named } from './common.js';

export const MediaId = Type.String({ pattern: '^V?[0-9a-f]{16}$', description: 'Content id: XxHash64 sampling hash, 16 hex digits' });

export const Media = named('Media', Type.Object({
  id: MediaId,
  name: Type.String({ description: 'Original file name, sanitised' }),
  kind: Type.Union([Type.Literal('image'), Type.Literal('video')]),
  size: Type.Integer(),
  content_type: Type.String(),
  sha256: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()], { description: 'SHA-256 of the whole content; storage is deduplicated on it, never on the id' }),
  status: Type.Integer({ description: 'New=1, AIProcessing=2, AIProcessed=3, Error=6' }),
  status_name: Type.String(),
  status_reason: Type.Union([Type.String(), Type.Null()]),
  owner_id: Type.String(),
  content_url: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}));

export const MediaList = named('MediaList', Type.Object({
  items: Type.Array(Media),
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
}));

export const MediaListQuery = Type.Object(
  {
    ...Paging,
    kind: Type.Optional(Type.Union([Type.Literal('image'), Type.Literal('video')])),
    status: Type.Optional(
      Type.Union([...[1, 2, 3, 6].map((s) => Type.Literal(s)), ...['New', 'AIProcessing', 'AIProcessed', 'Error'].map((s) => Type.Literal(s))], {
        description: 'By status number (New=1, AIProcessing=2, AIProcessed=3, Error=6) or name',
      }),
    ),
  },
  { additionalProperties: false },
);

export const MediaUploadForm = Type.Object({
  file: Type.String({ format: 'binary', description: 'The image or video' }),
});

/** The API view of a media record (the server-side path stays private). */
export function mediaView(r: MediaRecord): Static<typeof Media> {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    size: r.size,
    content_type: r.contentType,
    sha256: r.sha256,
    status: r.status,
    status_name: mediaStatusName(r.status),
    status_reason: r.statusReason,
    owner_id: r.ownerId,
    content_url: `/api/v1/media/${r.id}/content`,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  };
}

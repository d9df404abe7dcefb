/** The database schema, shared by PGlite and PostgreSQL. `npm run db:generate` turns changes into a migration. */
import { bigint, foreignKey, index, jsonb, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
};

export const media = pgTable(
  'media',
  {
    ownerId: text('owner_id').notNull(),
    id: text('id').notNull(),
    name: text('name').notNull(),
    path: text('path').notNull(),
    kind: text('kind', { enum: ['image', 'video'] }).notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    contentType: text('content_type').notNull(),
    status: smallint('status').notNull(),
    statusReason: text('status_reason'),
    ...timestamps,
  },
  (t) => [
    primaryKey({ columns: [t.ownerId, t.id] }),
    index('media_owner_created_idx').on(t.ownerId, t.createdAt),
    index('media_path_idx').on(t.path),
  ],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    ownerId: text('owner_id').notNull(),
    role: text('role', { enum: ['admin', 'user'] }).notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('api_keys_owner_idx').on(t.ownerId)],
);

/** Per-user AI settings: only the keys the user set, in snake_case; defaults fill the rest when read. */
export const aiSettings = pgTable('ai_settings', {
  ownerId: text('owner_id').primaryKey(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/** The latest result of each analysis task on a stored medium (detections, faces, bibs). */
export const mediaAnalyses = pgTable(
  'media_analyses',
  {
    ownerId: text('owner_id').notNull(),
    mediaId: text('media_id').notNull(),
    task: text('task').notNull(),
    model: text('model').notNull(),
    result: jsonb('result').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.ownerId, t.mediaId, t.task] }),
    foreignKey({ columns: [t.ownerId, t.mediaId], foreignColumns: [media.ownerId, media.id] }).onDelete('cascade'),
  ],
);

CREATE TABLE "instance_state" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "media" ADD COLUMN "sha256" text;--> statement-breakpoint
-- An installation that already has keys handed out its first admin key before this table existed.
INSERT INTO "instance_state" ("key", "value", "created_at") SELECT 'bootstrap_admin_key', '{"before_migration": true}'::jsonb, now() WHERE EXISTS (SELECT 1 FROM "api_keys");
--> statement-breakpoint
-- Media paths become keys relative to their kind's directory, so the media volume can be mounted or restored anywhere.
UPDATE "media" SET "path" = regexp_replace("path", '^.*/', '') WHERE "path" LIKE '/%';

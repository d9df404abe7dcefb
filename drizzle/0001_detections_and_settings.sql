CREATE TABLE "ai_settings" (
	"owner_id" text PRIMARY KEY NOT NULL,
	"settings" jsonb NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "media_analyses" (
	"owner_id" text NOT NULL,
	"media_id" text NOT NULL,
	"task" text NOT NULL,
	"model" text NOT NULL,
	"result" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "media_analyses_owner_id_media_id_task_pk" PRIMARY KEY("owner_id","media_id","task")
);
--> statement-breakpoint
ALTER TABLE "media_analyses" ADD CONSTRAINT "media_analyses_owner_id_media_id_media_owner_id_id_fk" FOREIGN KEY ("owner_id","media_id") REFERENCES "public"."media"("owner_id","id") ON DELETE cascade ON UPDATE no action;
CREATE TABLE "bib_sightings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"media_id" text NOT NULL,
	"number" text NOT NULL,
	"confidence" double precision NOT NULL,
	"box" jsonb NOT NULL,
	"person_box" jsonb,
	"frame_index" integer,
	"timestamp" double precision,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "media_faces" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"media_id" text NOT NULL,
	"model" text NOT NULL,
	"dims" integer NOT NULL,
	"embedding" vector NOT NULL,
	"box" jsonb NOT NULL,
	"bib_number" text,
	"frame_index" integer,
	"timestamp" double precision,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "bib_sightings" ADD CONSTRAINT "bib_sightings_owner_id_media_id_media_owner_id_id_fk" FOREIGN KEY ("owner_id","media_id") REFERENCES "public"."media"("owner_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "media_faces" ADD CONSTRAINT "media_faces_owner_id_media_id_media_owner_id_id_fk" FOREIGN KEY ("owner_id","media_id") REFERENCES "public"."media"("owner_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bib_sightings_number_idx" ON "bib_sightings" USING btree ("owner_id","number");--> statement-breakpoint
CREATE INDEX "bib_sightings_media_idx" ON "bib_sightings" USING btree ("owner_id","media_id");--> statement-breakpoint
CREATE INDEX "media_faces_bib_idx" ON "media_faces" USING btree ("owner_id","bib_number");--> statement-breakpoint
CREATE INDEX "media_faces_media_idx" ON "media_faces" USING btree ("owner_id","media_id");
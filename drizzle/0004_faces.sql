CREATE EXTENSION IF NOT EXISTS vector;
--> statement-breakpoint
CREATE TABLE "face_embeddings" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"person_id" text NOT NULL,
	"collection" text NOT NULL,
	"model" text NOT NULL,
	"dims" integer NOT NULL,
	"embedding" vector NOT NULL,
	"media_id" text,
	"box" jsonb NOT NULL,
	"quality" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "persons" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"collection" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "face_embeddings" ADD CONSTRAINT "face_embeddings_person_id_persons_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."persons"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "face_embeddings_scope_idx" ON "face_embeddings" USING btree ("owner_id","collection","model");--> statement-breakpoint
CREATE INDEX "face_embeddings_person_idx" ON "face_embeddings" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "persons_owner_collection_idx" ON "persons" USING btree ("owner_id","collection","created_at");
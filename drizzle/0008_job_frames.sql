CREATE TABLE "job_frames" (
	"job_id" text NOT NULL,
	"index" integer NOT NULL,
	"timestamp" double precision NOT NULL,
	"data" jsonb NOT NULL,
	CONSTRAINT "job_frames_job_id_index_pk" PRIMARY KEY("job_id","index")
);
--> statement-breakpoint
ALTER TABLE "job_frames" ADD CONSTRAINT "job_frames_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_frames_job_time_idx" ON "job_frames" USING btree ("job_id","timestamp");
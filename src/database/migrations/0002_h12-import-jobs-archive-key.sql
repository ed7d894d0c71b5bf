CREATE TABLE "import_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"athlete_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"staged_files" json NOT NULL,
	"files_total" integer NOT NULL,
	"files_done" integer DEFAULT 0 NOT NULL,
	"activities_created" integer DEFAULT 0 NOT NULL,
	"samples_written" integer DEFAULT 0 NOT NULL,
	"results" json DEFAULT '[]'::json NOT NULL,
	"error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "import_jobs_status_known" CHECK ("import_jobs"."status" in ('queued', 'running', 'completed', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "source_archive_key" text;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "source_archive_index" integer;--> statement-breakpoint
ALTER TABLE "import_jobs" ADD CONSTRAINT "import_jobs_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "import_jobs_athlete_id_idx" ON "import_jobs" USING btree ("athlete_id");
CREATE TABLE "originals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"athlete_id" uuid NOT NULL,
	"sha256" text NOT NULL,
	"source" text NOT NULL,
	"object_key" text NOT NULL,
	"file_name" text,
	"format" text,
	"byte_size" bigint,
	"stored_byte_size" bigint,
	"status" text NOT NULL,
	"reason" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "originals_status_check" CHECK ("originals"."status" in ('imported', 'rejected')),
	CONSTRAINT "originals_sha256_hex" CHECK ("originals"."sha256" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "originals_byte_sizes_non_negative" CHECK (("originals"."byte_size" is null or "originals"."byte_size" >= 0) and ("originals"."stored_byte_size" is null or "originals"."stored_byte_size" >= 0))
);
--> statement-breakpoint
CREATE TABLE "export_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"athlete_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"object_key" text,
	"byte_size" bigint,
	"sha256" text,
	"counts" json,
	"error" text,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "export_jobs_status_known" CHECK ("export_jobs"."status" in ('queued', 'running', 'completed', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "originals" ADD CONSTRAINT "originals_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "export_jobs" ADD CONSTRAINT "export_jobs_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "originals_athlete_id_sha256_key" ON "originals" USING btree ("athlete_id","sha256");--> statement-breakpoint
CREATE INDEX "originals_athlete_id_received_at_idx" ON "originals" USING btree ("athlete_id","received_at","id");--> statement-breakpoint
CREATE INDEX "originals_object_key_idx" ON "originals" USING btree ("object_key");--> statement-breakpoint
CREATE INDEX "export_jobs_athlete_id_idx" ON "export_jobs" USING btree ("athlete_id");--> statement-breakpoint
CREATE INDEX "export_jobs_expires_at_idx" ON "export_jobs" USING btree ("expires_at");--> statement-breakpoint
-- hand-written: begin
-- Originals archived before this table: one row per distinct archive key an activity points at
-- (imported, sizes unknown, received when its first activity was created).
INSERT INTO "originals" ("athlete_id", "sha256", "source", "object_key", "format", "status", "received_at")
SELECT DISTINCT ON (a."athlete_id", m[2])
  a."athlete_id", m[2], m[1], a."source_archive_key",
  CASE WHEN m[3] IN ('fit', 'gpx', 'tcx') THEN m[3] WHEN m[1] = 'file' THEN 'apple_health' ELSE 'json' END,
  'imported', a."created_at"
FROM "activities" a
CROSS JOIN LATERAL regexp_match(a."source_archive_key", '^raw/athlete_id=[^/]+/source=([a-z_]+)/([0-9a-f]{64})\.([a-z0-9]+)') AS m
WHERE a."source_archive_key" IS NOT NULL AND m IS NOT NULL
ORDER BY a."athlete_id", m[2], a."created_at"
ON CONFLICT DO NOTHING;
-- hand-written: end

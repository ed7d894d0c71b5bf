ALTER TABLE "athlete_source_priorities" ADD COLUMN "reelection_pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "athlete_source_priorities" ADD COLUMN "changed_primaries" integer;--> statement-breakpoint
ALTER TABLE "athlete_source_priorities" ADD COLUMN "reelected_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "activity_duplicate_overrides_athlete_id_idx" ON "activity_duplicate_overrides" USING btree ("athlete_id");
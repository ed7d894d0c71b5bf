CREATE TABLE "activity_duplicate_backfills" (
	"version" integer PRIMARY KEY NOT NULL,
	"completed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "activity_duplicate_overrides" (
	"athlete_id" uuid NOT NULL,
	"activity_id" uuid NOT NULL,
	"other_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "activity_duplicate_overrides_kind_check" CHECK ("activity_duplicate_overrides"."kind" in ('separate', 'same', 'primary')),
	CONSTRAINT "activity_duplicate_overrides_pair_order" CHECK (("activity_duplicate_overrides"."kind" = 'primary' and "activity_duplicate_overrides"."activity_id" = "activity_duplicate_overrides"."other_id") or ("activity_duplicate_overrides"."kind" <> 'primary' and "activity_duplicate_overrides"."activity_id" < "activity_duplicate_overrides"."other_id"))
);
--> statement-breakpoint
CREATE TABLE "athlete_source_priorities" (
	"athlete_id" uuid PRIMARY KEY NOT NULL,
	"priorities" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "activities_athlete_start_time_idx";--> statement-breakpoint
DROP INDEX "activities_user_start_time_idx";--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "duplicate_of" uuid;--> statement-breakpoint
ALTER TABLE "activity_duplicate_overrides" ADD CONSTRAINT "activity_duplicate_overrides_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activity_duplicate_overrides" ADD CONSTRAINT "activity_duplicate_overrides_activity_id_activities_id_fk" FOREIGN KEY ("activity_id") REFERENCES "public"."activities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activity_duplicate_overrides" ADD CONSTRAINT "activity_duplicate_overrides_other_id_activities_id_fk" FOREIGN KEY ("other_id") REFERENCES "public"."activities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "athlete_source_priorities" ADD CONSTRAINT "athlete_source_priorities_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "activity_duplicate_overrides_key" ON "activity_duplicate_overrides" USING btree ("activity_id","other_id","kind");--> statement-breakpoint
CREATE INDEX "activity_duplicate_overrides_other_id_idx" ON "activity_duplicate_overrides" USING btree ("other_id");--> statement-breakpoint
ALTER TABLE "activities" ADD CONSTRAINT "activities_duplicate_of_fk" FOREIGN KEY ("duplicate_of") REFERENCES "public"."activities"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "activities_duplicate_of_idx" ON "activities" USING btree ("duplicate_of") WHERE "activities"."duplicate_of" is not null;--> statement-breakpoint
CREATE INDEX "activities_athlete_start_time_idx" ON "activities" USING btree ("athlete_id","start_time" DESC NULLS FIRST,"id" DESC NULLS FIRST,"duration_s","distance_m","duplicate_of");--> statement-breakpoint
CREATE INDEX "activities_user_start_time_idx" ON "activities" USING btree ("user_id","start_time" DESC NULLS FIRST,"id" DESC NULLS FIRST,"duration_s","distance_m","duplicate_of");--> statement-breakpoint
-- A database without activities has no duplicates to group: its backfill is done (DuplicateBackfill, docs/data-model.md "Duplicates across sources").
INSERT INTO "activity_duplicate_backfills" ("version") SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM "activities");

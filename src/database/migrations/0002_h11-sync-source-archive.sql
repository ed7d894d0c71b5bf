ALTER TABLE "sync_states" DROP CONSTRAINT "sync_states_counters_non_negative";--> statement-breakpoint
ALTER TABLE "activities" ALTER COLUMN "source_data" SET DATA TYPE jsonb;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "source_archive_key" text;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "source_archive_index" integer;--> statement-breakpoint
ALTER TABLE "activities" ADD COLUMN "source_data_hash" text;--> statement-breakpoint
ALTER TABLE "sync_states" ADD COLUMN "run_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_states" ADD COLUMN "last_batch_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sync_states" ADD COLUMN "unchanged_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_states" ADD COLUMN "batch_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "activities" ADD CONSTRAINT "activities_source_archive_index_non_negative" CHECK ("activities"."source_archive_index" >= 0);--> statement-breakpoint
ALTER TABLE "sync_states" ADD CONSTRAINT "sync_states_counters_non_negative" CHECK ("sync_states"."created_count" >= 0 and "sync_states"."updated_count" >= 0 and "sync_states"."deleted_count" >= 0 and "sync_states"."unchanged_count" >= 0 and "sync_states"."batch_count" >= 0);
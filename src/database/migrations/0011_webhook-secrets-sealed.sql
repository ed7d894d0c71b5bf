ALTER TABLE "changes" DROP CONSTRAINT "changes_entity_check";--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "secret_key_id" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_key_id" text;--> statement-breakpoint
ALTER TABLE "changes" ADD CONSTRAINT "changes_entity_check" CHECK ("changes"."entity" in ('activity', 'stream', 'athlete', 'sync_state', 'connection', 'sync_run', 'import'));
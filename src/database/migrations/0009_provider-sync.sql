CREATE TABLE "provider_apps" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text NOT NULL,
	"client_id" text NOT NULL,
	"window_index" bigint DEFAULT 0 NOT NULL,
	"window_used" integer DEFAULT 0 NOT NULL,
	"day_index" bigint DEFAULT 0 NOT NULL,
	"day_used" integer DEFAULT 0 NOT NULL,
	"window_limit" integer NOT NULL,
	"day_limit" integer NOT NULL,
	"blocked_until" timestamp with time zone,
	"subscription_id" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_apps_provider_check" CHECK ("provider_apps"."provider" in ('strava', 'garmin'))
);
--> statement-breakpoint
CREATE TABLE "provider_sync_items" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connection_id" uuid NOT NULL,
	"queue" text NOT NULL,
	"kind" text NOT NULL,
	"external_id" text NOT NULL,
	"priority" smallint NOT NULL,
	"position" bigint NOT NULL,
	"lease_until" timestamp with time zone,
	"generation" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_sync_items_kind_check" CHECK ("provider_sync_items"."kind" in ('list', 'fetch', 'delete'))
);
--> statement-breakpoint
ALTER TABLE "provider_sync_items" ADD CONSTRAINT "provider_sync_items_connection_id_provider_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."provider_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "provider_apps_provider_client_id_key" ON "provider_apps" USING btree ("provider","client_id");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_sync_items_connection_id_kind_external_id_key" ON "provider_sync_items" USING btree ("connection_id","kind","external_id");--> statement-breakpoint
CREATE INDEX "provider_sync_items_next_idx" ON "provider_sync_items" USING btree ("connection_id","priority","position");--> statement-breakpoint
CREATE INDEX "provider_sync_items_queue_idx" ON "provider_sync_items" USING btree ("queue");
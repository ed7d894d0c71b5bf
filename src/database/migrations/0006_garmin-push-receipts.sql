CREATE TABLE "provider_push_receipts" (
	"provider" text NOT NULL,
	"body_sha256" text NOT NULL,
	"kind" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_push_receipts_provider_check" CHECK ("provider_push_receipts"."provider" in ('strava', 'garmin'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "provider_push_receipts_provider_body_sha256_key" ON "provider_push_receipts" USING btree ("provider","body_sha256");
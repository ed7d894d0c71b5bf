ALTER TABLE "provider_connections" ADD COLUMN "refresh_lease_id" uuid;--> statement-breakpoint
ALTER TABLE "provider_connections" ADD COLUMN "refresh_lease_until" timestamp with time zone;
CREATE TABLE "oauth_states" (
	"state_hash" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"athlete_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"code_verifier" text,
	"return_to" text,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "oauth_states_provider_check" CHECK ("oauth_states"."provider" in ('strava', 'garmin'))
);
--> statement-breakpoint
CREATE TABLE "provider_connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"athlete_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"provider" text NOT NULL,
	"provider_athlete_id" text NOT NULL,
	"scopes" text[] NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"tokens_ciphertext" text,
	"tokens_key_id" text,
	"token_expires_at" timestamp with time zone,
	"connected_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_event_at" timestamp with time zone,
	"backfill_status" text DEFAULT 'pending' NOT NULL,
	"backfill_fetched" integer DEFAULT 0 NOT NULL,
	"backfill_pending" integer DEFAULT 0 NOT NULL,
	"backfill_next_attempt_at" timestamp with time zone,
	"backfill_last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_connections_provider_check" CHECK ("provider_connections"."provider" in ('strava', 'garmin')),
	CONSTRAINT "provider_connections_status_check" CHECK ("provider_connections"."status" in ('active', 'backfilling', 'rate_limited', 'revoked', 'error')),
	CONSTRAINT "provider_connections_backfill_status_check" CHECK ("provider_connections"."backfill_status" in ('pending', 'running', 'done', 'rate_limited', 'error')),
	CONSTRAINT "provider_connections_tokens_key_check" CHECK (("provider_connections"."tokens_ciphertext" is null) = ("provider_connections"."tokens_key_id" is null))
);
--> statement-breakpoint
ALTER TABLE "oauth_states" ADD CONSTRAINT "oauth_states_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth_states" ADD CONSTRAINT "oauth_states_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_connections" ADD CONSTRAINT "provider_connections_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_connections" ADD CONSTRAINT "provider_connections_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "oauth_states_expires_at_idx" ON "oauth_states" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_connections_athlete_id_provider_key" ON "provider_connections" USING btree ("athlete_id","provider");--> statement-breakpoint
CREATE UNIQUE INDEX "provider_connections_provider_account_key" ON "provider_connections" USING btree ("provider","provider_athlete_id");--> statement-breakpoint
CREATE INDEX "provider_connections_user_id_idx" ON "provider_connections" USING btree ("user_id");
CREATE TABLE "account" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"provider_id" text NOT NULL,
	"user_id" text NOT NULL,
	"access_token" text,
	"refresh_token" text,
	"id_token" text,
	"access_token_expires_at" timestamp with time zone,
	"refresh_token_expires_at" timestamp with time zone,
	"scope" text,
	"password" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "session" (
	"id" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"token" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ip_address" text,
	"user_agent" text,
	"user_id" text NOT NULL,
	CONSTRAINT "session_token_unique" UNIQUE("token")
);
--> statement-breakpoint
CREATE TABLE "user" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"email_verified" boolean DEFAULT false NOT NULL,
	"image" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "verification" (
	"id" text PRIMARY KEY NOT NULL,
	"identifier" text NOT NULL,
	"value" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "athletes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" text NOT NULL,
	"display_name" text NOT NULL,
	"date_of_birth" date,
	"sex" text,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "athletes_sex_check" CHECK ("athletes"."sex" in ('female', 'male', 'other'))
);
--> statement-breakpoint
CREATE TABLE "activity_types" (
	"slug" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"category" text NOT NULL,
	"tier" smallint NOT NULL,
	CONSTRAINT "activity_types_tier_check" CHECK ("activity_types"."tier" in (1, 2))
);
--> statement-breakpoint
CREATE TABLE "activities" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"athlete_id" uuid NOT NULL,
	"parent_id" uuid,
	"activity_type" text NOT NULL,
	"source_activity_type" text,
	"source" text DEFAULT 'manual' NOT NULL,
	"external_id" text,
	"name" text,
	"notes" text,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"duration_s" double precision,
	"moving_time_s" double precision,
	"distance_m" double precision,
	"active_energy_kcal" double precision,
	"avg_heart_rate_bpm" double precision,
	"max_heart_rate_bpm" double precision,
	"elevation_gain_m" double precision,
	"elevation_loss_m" double precision,
	"avg_speed_m_s" double precision,
	"max_speed_m_s" double precision,
	"is_indoor" boolean,
	"device_name" text,
	"source_data" json,
	"revision" integer DEFAULT 1 NOT NULL,
	"source_data_received_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "activities_end_after_start" CHECK ("activities"."end_time" >= "activities"."start_time"),
	CONSTRAINT "activities_not_own_parent" CHECK ("activities"."parent_id" is null or "activities"."parent_id" <> "activities"."id"),
	CONSTRAINT "activities_revision_positive" CHECK ("activities"."revision" >= 1),
	CONSTRAINT "activities_duration_s_non_negative" CHECK ("activities"."duration_s" >= 0),
	CONSTRAINT "activities_moving_time_s_non_negative" CHECK ("activities"."moving_time_s" >= 0),
	CONSTRAINT "activities_distance_m_non_negative" CHECK ("activities"."distance_m" >= 0),
	CONSTRAINT "activities_active_energy_kcal_non_negative" CHECK ("activities"."active_energy_kcal" >= 0),
	CONSTRAINT "activities_avg_heart_rate_bpm_non_negative" CHECK ("activities"."avg_heart_rate_bpm" >= 0),
	CONSTRAINT "activities_max_heart_rate_bpm_non_negative" CHECK ("activities"."max_heart_rate_bpm" >= 0),
	CONSTRAINT "activities_elevation_gain_m_non_negative" CHECK ("activities"."elevation_gain_m" >= 0),
	CONSTRAINT "activities_elevation_loss_m_non_negative" CHECK ("activities"."elevation_loss_m" >= 0),
	CONSTRAINT "activities_avg_speed_m_s_non_negative" CHECK ("activities"."avg_speed_m_s" >= 0),
	CONSTRAINT "activities_max_speed_m_s_non_negative" CHECK ("activities"."max_speed_m_s" >= 0)
);
--> statement-breakpoint
CREATE TABLE "activity_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"activity_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone,
	"metadata" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "activity_events_end_after_start" CHECK ("activity_events"."end_time" is null or "activity_events"."end_time" >= "activity_events"."start_time")
);
--> statement-breakpoint
CREATE TABLE "activity_statistics" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"activity_id" uuid NOT NULL,
	"key" text NOT NULL,
	"value" double precision NOT NULL,
	"unit" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "activity_statistics_key_snake_case" CHECK ("activity_statistics"."key" ~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$')
);
--> statement-breakpoint
CREATE TABLE "activity_streams" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"activity_id" uuid NOT NULL,
	"stream_type" text NOT NULL,
	"object_key" text NOT NULL,
	"format" text DEFAULT 'parquet' NOT NULL,
	"schema_version" integer DEFAULT 1 NOT NULL,
	"sample_count" integer NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"min_value" double precision,
	"max_value" double precision,
	"avg_value" double precision,
	"byte_size" bigint NOT NULL,
	"checksum_sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "activity_streams_object_key_unique" UNIQUE("object_key"),
	CONSTRAINT "activity_streams_end_after_start" CHECK ("activity_streams"."end_time" >= "activity_streams"."start_time"),
	CONSTRAINT "activity_streams_sample_count_non_negative" CHECK ("activity_streams"."sample_count" >= 0),
	CONSTRAINT "activity_streams_byte_size_non_negative" CHECK ("activity_streams"."byte_size" >= 0),
	CONSTRAINT "activity_streams_checksum_format" CHECK ("activity_streams"."checksum_sha256" ~ '^[0-9a-f]{64}$')
);
--> statement-breakpoint
CREATE TABLE "sync_states" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"athlete_id" uuid NOT NULL,
	"source" text NOT NULL,
	"cursor" text,
	"status" text DEFAULT 'idle' NOT NULL,
	"last_synced_at" timestamp with time zone,
	"last_attempt_at" timestamp with time zone,
	"last_error" text,
	"created_count" integer DEFAULT 0 NOT NULL,
	"updated_count" integer DEFAULT 0 NOT NULL,
	"deleted_count" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_states_status_check" CHECK ("sync_states"."status" in ('idle', 'running', 'error')),
	CONSTRAINT "sync_states_counters_non_negative" CHECK ("sync_states"."created_count" >= 0 and "sync_states"."updated_count" >= 0 and "sync_states"."deleted_count" >= 0)
);
--> statement-breakpoint
ALTER TABLE "account" ADD CONSTRAINT "account_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session" ADD CONSTRAINT "session_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "athletes" ADD CONSTRAINT "athletes_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activities" ADD CONSTRAINT "activities_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activities" ADD CONSTRAINT "activities_parent_id_activities_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."activities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activities" ADD CONSTRAINT "activities_activity_type_activity_types_slug_fk" FOREIGN KEY ("activity_type") REFERENCES "public"."activity_types"("slug") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "activity_events" ADD CONSTRAINT "activity_events_activity_id_activities_id_fk" FOREIGN KEY ("activity_id") REFERENCES "public"."activities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activity_statistics" ADD CONSTRAINT "activity_statistics_activity_id_activities_id_fk" FOREIGN KEY ("activity_id") REFERENCES "public"."activities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activity_streams" ADD CONSTRAINT "activity_streams_activity_id_activities_id_fk" FOREIGN KEY ("activity_id") REFERENCES "public"."activities"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_states" ADD CONSTRAINT "sync_states_athlete_id_athletes_id_fk" FOREIGN KEY ("athlete_id") REFERENCES "public"."athletes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_user_id_idx" ON "account" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "session_user_id_idx" ON "session" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "verification_identifier_idx" ON "verification" USING btree ("identifier");--> statement-breakpoint
CREATE INDEX "athletes_user_id_idx" ON "athletes" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "activities_athlete_source_external_id_key" ON "activities" USING btree ("athlete_id","source","external_id") WHERE "activities"."external_id" is not null;--> statement-breakpoint
CREATE INDEX "activities_athlete_start_time_idx" ON "activities" USING btree ("athlete_id","start_time" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "activities_parent_id_idx" ON "activities" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "activity_events_activity_start_time_idx" ON "activity_events" USING btree ("activity_id","start_time");--> statement-breakpoint
CREATE UNIQUE INDEX "activity_statistics_activity_id_key_key" ON "activity_statistics" USING btree ("activity_id","key");--> statement-breakpoint
CREATE UNIQUE INDEX "activity_streams_activity_id_stream_type_key" ON "activity_streams" USING btree ("activity_id","stream_type");--> statement-breakpoint
CREATE UNIQUE INDEX "sync_states_athlete_id_source_key" ON "sync_states" USING btree ("athlete_id","source");
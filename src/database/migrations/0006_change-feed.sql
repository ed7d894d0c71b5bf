CREATE TABLE "change_feed_horizon" (
	"id" smallint PRIMARY KEY NOT NULL,
	"pruned_pos" bigint NOT NULL,
	"pruned_seq" bigint NOT NULL,
	"pruned_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "change_feed_horizon_single_row" CHECK ("change_feed_horizon"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "changes" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"pos" bigint NOT NULL,
	"user_id" text NOT NULL,
	"athlete_id" uuid NOT NULL,
	"entity" text NOT NULL,
	"op" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"activity_id" uuid,
	"revision" integer,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "changes_entity_check" CHECK ("changes"."entity" in ('activity', 'stream', 'athlete', 'sync_state', 'connection')),
	CONSTRAINT "changes_op_check" CHECK ("changes"."op" in ('upsert', 'delete'))
);
--> statement-breakpoint
CREATE INDEX "changes_user_pos_idx" ON "changes" USING btree ("user_id","pos","seq");--> statement-breakpoint
CREATE INDEX "changes_athlete_pos_idx" ON "changes" USING btree ("athlete_id","pos","seq");--> statement-breakpoint
CREATE INDEX "changes_entity_pos_idx" ON "changes" USING btree ("entity_id","pos");--> statement-breakpoint
CREATE INDEX "changes_pos_idx" ON "changes" USING btree ("pos","seq");
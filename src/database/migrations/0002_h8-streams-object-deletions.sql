CREATE TABLE "stream_object_deletions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"object_key" text NOT NULL,
	"reason" text NOT NULL,
	"not_before" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stream_object_deletions_object_key_unique" UNIQUE("object_key"),
	CONSTRAINT "stream_object_deletions_reason" CHECK ("stream_object_deletions"."reason" in ('deleted', 'superseded', 'failed_upload'))
);
--> statement-breakpoint
CREATE INDEX "stream_object_deletions_not_before_idx" ON "stream_object_deletions" USING btree ("not_before");
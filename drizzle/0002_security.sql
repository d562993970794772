CREATE TABLE "rate_window" (
	"bucket" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"requests" integer NOT NULL,
	CONSTRAINT "rate_window_bucket_window_start_pk" PRIMARY KEY("bucket","window_start")
);
--> statement-breakpoint
CREATE TABLE "request_signature" (
	"signature" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent" ADD COLUMN "require_signature" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "rate_window_expiry_idx" ON "rate_window" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "request_signature_expiry_idx" ON "request_signature" USING btree ("expires_at");
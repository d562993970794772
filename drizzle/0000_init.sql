CREATE TYPE "public"."message_status" AS ENUM('queued', 'sent', 'delivered', 'leased', 'acked', 'nacked', 'failed', 'dead');--> statement-breakpoint
CREATE TABLE "agent" (
	"id" text PRIMARY KEY NOT NULL,
	"tier" text DEFAULT 'standard' NOT NULL,
	"hmac_secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "agent_key" (
	"agent_id" text NOT NULL,
	"kid" text NOT NULL,
	"public_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "agent_key_agent_id_kid_pk" PRIMARY KEY("agent_id","kid")
);
--> statement-breakpoint
CREATE TABLE "api_key" (
	"id" text PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"hash" text NOT NULL,
	"tier" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"event" text NOT NULL,
	"agent_id" text,
	"message_id" text,
	"request_id" text,
	"detail" jsonb
);
--> statement-breakpoint
CREATE TABLE "message" (
	"id" text PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"to_agent_id" text NOT NULL,
	"from_agent_id" text NOT NULL,
	"version" text DEFAULT '1.0' NOT NULL,
	"type" text NOT NULL,
	"subject" text NOT NULL,
	"correlation_id" text,
	"headers" json,
	"body" json NOT NULL,
	"signature" jsonb,
	"timestamp" text NOT NULL,
	"ttl_sec" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"idempotency_key" text,
	"fingerprint" text NOT NULL,
	"status" "message_status" DEFAULT 'delivered' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"lease_id" uuid,
	"lease_until" timestamp with time zone,
	"acked_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "policy" (
	"name" text PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"priority" integer DEFAULT 100 NOT NULL,
	"from_agent_pattern" text,
	"to_agent_pattern" text,
	"type_pattern" text,
	"subject_pattern" text,
	"action" text NOT NULL,
	"rate_limit_per_hour" integer,
	"max_size_kb" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "session" (
	"id" uuid PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_key" ADD CONSTRAINT "agent_key_agent_id_agent_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agent"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_key" ADD CONSTRAINT "api_key_agent_id_agent_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agent"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "message" ADD CONSTRAINT "message_to_agent_id_agent_id_fk" FOREIGN KEY ("to_agent_id") REFERENCES "public"."agent"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session" ADD CONSTRAINT "session_agent_id_agent_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agent"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_key_agent_idx" ON "api_key" USING btree ("agent_id");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_message_idx" ON "audit_log" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "message_ready_idx" ON "message" USING btree ("to_agent_id","seq") WHERE "message"."status" in ('delivered', 'leased');--> statement-breakpoint
CREATE INDEX "message_to_status_idx" ON "message" USING btree ("to_agent_id","status");--> statement-breakpoint
CREATE INDEX "message_correlation_idx" ON "message" USING btree ("correlation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "message_idempotency_idx" ON "message" USING btree ("to_agent_id","idempotency_key") WHERE "message"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "message_fingerprint_idx" ON "message" USING btree ("fingerprint","created_at");--> statement-breakpoint
CREATE INDEX "message_lease_idx" ON "message" USING btree ("lease_until") WHERE "message"."status" = 'leased';--> statement-breakpoint
CREATE INDEX "message_expiry_idx" ON "message" USING btree ("expires_at") WHERE "message"."status" in ('delivered', 'leased');--> statement-breakpoint
CREATE INDEX "message_finished_idx" ON "message" USING btree ("finished_at") WHERE "message"."status" in ('acked', 'dead');--> statement-breakpoint
CREATE INDEX "session_agent_idx" ON "session" USING btree ("agent_id","expires_at");
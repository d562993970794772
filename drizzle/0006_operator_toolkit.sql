ALTER TYPE "public"."message_status" ADD VALUE 'cancelled';--> statement-breakpoint
DROP INDEX "message_dead_idx";--> statement-breakpoint
DROP INDEX "message_finished_idx";--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "available_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "message_inbox_idx" ON "message" USING btree ("to_agent_id","status","seq");--> statement-breakpoint
CREATE INDEX "message_outbox_idx" ON "message" USING btree ("from_agent_id","status","seq");--> statement-breakpoint
CREATE INDEX "message_dead_idx" ON "message" USING btree ("to_agent_id","finished_at","id") WHERE "message"."status" = 'dead';--> statement-breakpoint
CREATE INDEX "message_finished_idx" ON "message" USING btree ("finished_at") WHERE "message"."finished_at" is not null;
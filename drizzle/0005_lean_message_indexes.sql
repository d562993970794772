DROP INDEX "message_to_status_idx";--> statement-breakpoint
DROP INDEX "message_fingerprint_idx";--> statement-breakpoint
DROP INDEX "message_correlation_idx";--> statement-breakpoint
CREATE INDEX "message_dead_idx" ON "message" USING btree ("to_agent_id","finished_at") WHERE "message"."status" = 'dead';--> statement-breakpoint
CREATE INDEX "message_correlation_idx" ON "message" USING btree ("correlation_id") WHERE "message"."correlation_id" is not null;--> statement-breakpoint
-- Every transition rewrites a message row. Room left on each page lets the new version stay on
-- the page of the old one, so a lease or an ACK touches one heap page instead of two.
ALTER TABLE "message" SET (fillfactor = 80);

CREATE TABLE "policy_rate" (
	"policy_name" text NOT NULL,
	"agent_id" text NOT NULL,
	"hits" timestamp with time zone[] NOT NULL,
	CONSTRAINT "policy_rate_policy_name_agent_id_pk" PRIMARY KEY("policy_name","agent_id")
);
--> statement-breakpoint
CREATE TABLE "policy_tier" (
	"name" text PRIMARY KEY NOT NULL,
	"requests_per_minute" integer
);
--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "leased_at" timestamp with time zone;
-- The message table is a queue: every row is inserted, updated two or three times and later
-- deleted. Vacuum and analyze it after 1-2% churn instead of the default 20%, so dead tuples
-- left by leases and acks never pile up in front of the ready index.
ALTER TABLE "message" SET (
  autovacuum_vacuum_scale_factor = 0.01,
  autovacuum_analyze_scale_factor = 0.02,
  autovacuum_vacuum_cost_delay = 1
);

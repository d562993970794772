-- Rate-limit counters are rewritten on every request and worthless after their minute, so they
-- skip the write-ahead log: no WAL flush per request, and a crash only forgives one window.
-- HMAC signatures (request_signature) stay logged: forgetting them would reopen replays.
ALTER TABLE "rate_window" SET UNLOGGED;

-- 0006_outbox_retries: when an undelivered mail is tried next (R61: queued durably and
-- retried with a growing delay).

ALTER TABLE outbox ADD COLUMN next_attempt_ms INTEGER NOT NULL DEFAULT 0;

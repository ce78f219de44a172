-- 0005_idempotency: answers to writes sent with an Idempotency-Key (R57), so a retried
-- request gets the first answer instead of doing the work twice.

CREATE TABLE idempotency (
    -- The caller's scope (a hash of its credential) and the key it chose.
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    -- What the request was (method, path, body hash): the same key with another request
    -- is refused.
    fingerprint TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    -- NULL while the first request is still being answered.
    status      INTEGER,
    headers     TEXT,
    body        BLOB,
    PRIMARY KEY (scope, key)
) STRICT;

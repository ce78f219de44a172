-- 0007_sign_in_failures: failed sign-ins per logon name and per source address (R16), kept
-- in the database so that a restart does not forget a lock and replicas count together.

CREATE TABLE sign_in_failure (
    key     TEXT PRIMARY KEY NOT NULL,
    count   INTEGER NOT NULL,
    last_ms INTEGER NOT NULL
) STRICT;

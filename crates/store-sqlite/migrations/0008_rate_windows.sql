-- 0008_rate_windows: events counted in fixed windows per key (R13: reset and invitation
-- mails per recipient and per source address), shared by every process on the database.

CREATE TABLE rate_window (
    key      TEXT PRIMARY KEY NOT NULL,
    start_ms INTEGER NOT NULL,
    count    INTEGER NOT NULL
) STRICT;

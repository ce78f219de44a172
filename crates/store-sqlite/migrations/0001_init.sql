-- 0001_init: the first Deputy schema (the Store port's tables).
--
-- Migrations are forward-only: never edit a released file, add the next one instead.
-- The runner applies each pending file in one transaction and records the version in
-- PRAGMA user_version; PRAGMA application_id marks the file as a Deputy database.

-- Facts about the deployment itself, such as its epoch (R66).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- The change feed: one row per committed change set, revisions from 1 without gaps.
CREATE TABLE changes (
    revision INTEGER PRIMARY KEY NOT NULL CHECK (revision > 0),
    at_ms    INTEGER NOT NULL,
    payload  TEXT NOT NULL
) STRICT;

-- The activity log (R21), hash-chained (R22): hash = sha256(prev_hash || canonical content).
CREATE TABLE activity (
    seq       INTEGER PRIMARY KEY NOT NULL CHECK (seq > 0),
    revision  INTEGER REFERENCES changes (revision),
    at_ms     INTEGER NOT NULL,
    action    TEXT NOT NULL,
    actor     TEXT,
    subject   TEXT,
    tenant    TEXT,
    acting_as TEXT NOT NULL,
    source    TEXT,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;

CREATE INDEX activity_by_actor ON activity (actor, seq) WHERE actor IS NOT NULL;
CREATE INDEX activity_by_subject ON activity (subject, seq) WHERE subject IS NOT NULL;
CREATE INDEX activity_by_tenant ON activity (tenant, seq) WHERE tenant IS NOT NULL;

-- Both logs are append-only. These triggers stop accidents, not attackers: the hash chain
-- is what makes tampering evident.
CREATE TRIGGER changes_append_only_update BEFORE UPDATE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the change feed is append-only');
END;
CREATE TRIGGER changes_append_only_delete BEFORE DELETE ON changes
BEGIN
    SELECT RAISE(ABORT, 'the change feed is append-only');
END;
CREATE TRIGGER activity_append_only_update BEFORE UPDATE ON activity
BEGIN
    SELECT RAISE(ABORT, 'the activity log is append-only');
END;
CREATE TRIGGER activity_append_only_delete BEFORE DELETE ON activity
BEGIN
    SELECT RAISE(ABORT, 'the activity log is append-only');
END;

-- The newest checkpoint only (a serialized engine state at a revision).
CREATE TABLE checkpoint (
    id       INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    revision INTEGER NOT NULL,
    blob     BLOB NOT NULL
) STRICT;

-- 0001_init: the first Deputy schema on PostgreSQL: the Store port's tables (the change
-- feed, its head, the activity chain, checkpoints) and the SecretStore port's (passwords,
-- secrets by hash, the mail outbox, signing keys, idempotency keys, throttle counters).
--
-- Migrations are forward-only: never edit a released file, add the next one instead. The
-- runner creates the schema `deputy`, applies each pending file in one transaction under
-- an advisory lock, and records the version in `meta` in the same transaction. Unqualified
-- names below land in `deputy` (the runner's search path).

-- Facts about the deployment: its schema version and its epoch (R66).
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- The head of the change feed: one row, the newest committed revision. A commit locks it
-- (`FOR UPDATE`): that lock is the revision precondition, and it makes revisions visible
-- in order.
CREATE TABLE head (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    revision bigint NOT NULL CHECK (revision >= 0)
);
INSERT INTO head (id, revision) VALUES (true, 0);

-- The change feed: one row per committed change set, revisions from 1 without gaps.
CREATE TABLE changes (
    revision bigint PRIMARY KEY CHECK (revision > 0),
    at_ms    bigint NOT NULL,
    payload  text NOT NULL
);

-- A change row is only ever the new head: the writer moves the head, then appends the row
-- it names, in one transaction. Whoever writes, the feed cannot fork or gap.
CREATE FUNCTION changes_at_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision IS DISTINCT FROM (SELECT revision FROM deputy.head) THEN
        RAISE EXCEPTION 'change % is not at the head of the feed', NEW.revision;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER changes_at_head BEFORE INSERT ON changes
    FOR EACH ROW EXECUTE FUNCTION changes_at_head();

-- The head of the activity chain (R22): the last entry's seq and hash (GENESIS at first).
CREATE TABLE activity_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq  bigint NOT NULL CHECK (seq >= 0),
    hash text NOT NULL
);
INSERT INTO activity_head (id, seq, hash)
    VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The activity log (R21), hash-chained (R22): hash = sha256(prev_hash || canonical content).
CREATE TABLE activity (
    seq       bigint PRIMARY KEY CHECK (seq > 0),
    revision  bigint REFERENCES changes (revision),
    at_ms     bigint NOT NULL,
    action    text NOT NULL,
    actor     text,
    subject   text,
    tenant    text,
    acting_as text NOT NULL,
    source    text,
    details   text NOT NULL,
    prev_hash text NOT NULL,
    hash      text NOT NULL
);

-- Hash indexes: a B-tree refuses keys over about 2.7 kB, and these fields hold whatever
-- the service logs; they are only ever compared for equality.
CREATE INDEX activity_by_actor ON activity USING hash (actor) WHERE actor IS NOT NULL;
CREATE INDEX activity_by_subject ON activity USING hash (subject) WHERE subject IS NOT NULL;
CREATE INDEX activity_by_tenant ON activity USING hash (tenant) WHERE tenant IS NOT NULL;

-- Both logs are append-only. These triggers stop accidents, not attackers: the hash chain
-- is what makes tampering evident.
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the % is append-only', TG_ARGV[0];
END;
$$;
CREATE TRIGGER changes_append_only BEFORE UPDATE OR DELETE ON changes
    FOR EACH ROW EXECUTE FUNCTION append_only('change feed');
CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION append_only('change feed');
CREATE TRIGGER activity_append_only BEFORE UPDATE OR DELETE ON activity
    FOR EACH ROW EXECUTE FUNCTION append_only('activity log');
CREATE TRIGGER activity_no_truncate BEFORE TRUNCATE ON activity
    FOR EACH STATEMENT EXECUTE FUNCTION append_only('activity log');

-- The newest checkpoint (a serialized engine state): its revision (NULL: none yet), locked
-- by a save, and its parts (a bytea holds at most 1 GB).
CREATE TABLE checkpoint_head (
    id       boolean PRIMARY KEY DEFAULT true CHECK (id),
    revision bigint CHECK (revision >= 0)
);
INSERT INTO checkpoint_head (id, revision) VALUES (true, NULL);

CREATE TABLE checkpoint_part (
    part integer PRIMARY KEY CHECK (part >= 0),
    data bytea NOT NULL
);

-- One Argon2id hash per principal (R15), as a PHC string.
CREATE TABLE password (
    principal   bigint PRIMARY KEY,
    phc         text NOT NULL,
    must_change boolean NOT NULL,
    changed_ms  bigint NOT NULL
);

-- Sessions, API keys, invitations and reset tokens, found by the hash of the secret.
CREATE TABLE secret (
    hash         text PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('session', 'api_key', 'invitation', 'password_reset')),
    principal    bigint NOT NULL,
    created_ms   bigint NOT NULL,
    expires_ms   bigint,
    last_used_ms bigint,
    used_ms      bigint,
    data         text NOT NULL
);

CREATE INDEX secret_by_principal ON secret (principal, kind);

-- Mail waiting for delivery, or delivered (R61), retried with a growing delay.
CREATE TABLE outbox (
    id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    created_ms      bigint NOT NULL,
    recipient       text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    sent_ms         bigint,
    attempts        bigint NOT NULL DEFAULT 0,
    last_error      text,
    next_attempt_ms bigint NOT NULL DEFAULT 0
);

CREATE INDEX outbox_due ON outbox (next_attempt_ms, id) WHERE sent_ms IS NULL;

-- The keys that sign access tokens (R71): every replica signs with the same keys and
-- publishes the same JWKS.
CREATE TABLE signing_key (
    kid          text PRIMARY KEY,
    created_ms   bigint NOT NULL,
    -- Signs from this instant on; published in the JWKS from creation.
    activates_ms bigint NOT NULL,
    -- Set once a newer key signs: still published until its tokens expired.
    retired_ms   bigint,
    -- The Ed25519 private key, PKCS#8 DER.
    private_der  bytea NOT NULL
);

-- Answers to writes sent with an Idempotency-Key (R57), per caller scope.
CREATE TABLE idempotency (
    scope       text NOT NULL,
    key         text NOT NULL,
    -- What the request was (method, path, body hash): the same key with another request
    -- is refused.
    fingerprint text NOT NULL,
    created_ms  bigint NOT NULL,
    expires_ms  bigint NOT NULL,
    -- NULL while the first request is still being answered.
    status      integer,
    headers     text,
    body        bytea,
    PRIMARY KEY (scope, key)
);

-- Failed sign-ins per logon name and per source address (R16), shared by every replica.
CREATE TABLE sign_in_failure (
    key     text PRIMARY KEY,
    count   bigint NOT NULL,
    last_ms bigint NOT NULL
);

-- Events counted in fixed windows per key (R13: mails per recipient and source address).
CREATE TABLE rate_window (
    key      text PRIMARY KEY,
    start_ms bigint NOT NULL,
    count    bigint NOT NULL
);

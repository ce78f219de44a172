-- 0003_secrets: passwords, sessions, API keys, single-use tokens and the mail outbox
-- (the SecretStore port). Secrets are stored only as hashes.

-- One Argon2id hash per principal (R15), as a PHC string.
CREATE TABLE password (
    principal   INTEGER PRIMARY KEY NOT NULL,
    phc         TEXT NOT NULL,
    must_change INTEGER NOT NULL CHECK (must_change IN (0, 1)),
    changed_ms  INTEGER NOT NULL
) STRICT;

-- Sessions, API keys, invitations and reset tokens, found by the hash of the secret.
CREATE TABLE secret (
    hash         TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('session', 'api_key', 'invitation', 'password_reset')),
    principal    INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER,
    last_used_ms INTEGER,
    used_ms      INTEGER,
    data         TEXT NOT NULL
) STRICT;

CREATE INDEX secret_by_principal ON secret (principal, kind);

-- Mail waiting for delivery, or delivered (R61).
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ms INTEGER NOT NULL,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    sent_ms    INTEGER,
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
) STRICT;

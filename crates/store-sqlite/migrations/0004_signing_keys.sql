-- 0004_signing_keys: the keys that sign access tokens (R71). Every replica signs with the
-- same keys and publishes the same JWKS; rotation adds a key that is published before it
-- signs, and retires the old one after its last tokens expired.

CREATE TABLE signing_key (
    kid          TEXT PRIMARY KEY NOT NULL,
    created_ms   INTEGER NOT NULL,
    -- Signs from this instant on; published in the JWKS from creation.
    activates_ms INTEGER NOT NULL,
    -- Set once a newer key signs: still published until its tokens expired.
    retired_ms   INTEGER,
    -- The Ed25519 private key, PKCS#8 DER.
    private_der  BLOB NOT NULL
) STRICT;

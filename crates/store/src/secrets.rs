//! The secrets port: passwords, sessions, API keys, single-use tokens and the mail outbox.
//!
//! These change far more often than access does (a session is touched on every request)
//! and must never travel in the change log or an export, so they live beside it, not in
//! it. Secrets are stored only as hashes (the service hashes; this port never sees a
//! token); each row carries an opaque `data` string the service owns, as change sets are
//! opaque to [`crate::Store`].

use crate::StoreError;

/// What a row of the secrets table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    Session,
    ApiKey,
    Invitation,
    PasswordReset,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Session => "session",
            SecretKind::ApiKey => "api_key",
            SecretKind::Invitation => "invitation",
            SecretKind::PasswordReset => "password_reset",
        }
    }

    pub fn parse(text: &str) -> Option<SecretKind> {
        Some(match text {
            "session" => SecretKind::Session,
            "api_key" => SecretKind::ApiKey,
            "invitation" => SecretKind::Invitation,
            "password_reset" => SecretKind::PasswordReset,
            _ => return None,
        })
    }
}

/// A session, API key or single-use token, found by the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRow {
    /// The hash of the secret (never the secret).
    pub hash: String,
    pub kind: SecretKind,
    /// The principal it belongs to (the engine's dense id).
    pub principal: u32,
    pub created_ms: i64,
    /// When it stops working; `None`: never (API keys without expiry).
    pub expires_ms: Option<i64>,
    /// Last use (sessions: idle expiry; API keys: "listed with last use", R24).
    pub last_used_ms: Option<i64>,
    /// Set once a single-use token was redeemed.
    pub used_ms: Option<i64>,
    /// Service-owned JSON (session context, key name).
    pub data: String,
}

/// A stored password (R15): the PHC string of its Argon2id hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRow {
    pub principal: u32,
    pub phc: String,
    /// "Must change password" (R14).
    pub must_change: bool,
    pub changed_ms: i64,
}

/// A mail waiting for, or past, delivery (R61).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub created_ms: i64,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub sent_ms: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// A mail to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    pub recipient: String,
    pub subject: String,
    pub body: String,
}

/// What [`SecretStore::count_sign_in_attempt`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// The count with this attempt.
    pub count: u32,
    /// When the attempt before it was counted (none: this one started the count).
    pub previous_ms: Option<i64>,
}

/// A key that signs access tokens (R71).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRow {
    pub kid: String,
    pub created_ms: i64,
    /// Signs from this instant on; published from creation, so verifiers learn it first.
    pub activates_ms: i64,
    pub retired_ms: Option<i64>,
    /// The private key, PKCS#8 DER.
    pub private_der: Vec<u8>,
}

/// A stored answer to a write with an `Idempotency-Key` (R57).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnswer {
    pub status: u16,
    /// Headers to replay, as JSON (`[[name, value], …]`).
    pub headers: String,
    pub body: Vec<u8>,
}

/// What `begin_idempotent` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotent {
    /// The key is new: the caller does the work, then `finish_idempotent`.
    Proceed,
    /// The same request is being answered right now.
    InProgress,
    /// The same request was answered: replay this.
    Done(StoredAnswer),
    /// The key was used for a different request.
    Mismatch,
}

/// INVARIANT: every write is durable when it returns, like [`crate::Store::commit`].
pub trait SecretStore: Send + Sync {
    fn put_password(&self, row: &PasswordRow) -> Result<(), StoreError>;
    fn password(&self, principal: u32) -> Result<Option<PasswordRow>, StoreError>;

    fn insert_secret(&self, row: &SecretRow) -> Result<(), StoreError>;
    fn secret(&self, hash: &str) -> Result<Option<SecretRow>, StoreError>;
    /// Marks a single-use token used if it is of `kind`, unused and unexpired at `now_ms`,
    /// and returns it; of many concurrent callers exactly one gets `Some`.
    fn redeem_secret(
        &self,
        hash: &str,
        kind: SecretKind,
        now_ms: i64,
    ) -> Result<Option<SecretRow>, StoreError>;
    /// Records a use (sessions, API keys) and replaces the service's data.
    fn touch_secret(&self, hash: &str, now_ms: i64, data: Option<&str>) -> Result<(), StoreError>;
    fn delete_secret(&self, hash: &str) -> Result<bool, StoreError>;
    /// Deletes every secret of `principal` of the given kinds; returns how many.
    fn delete_secrets_of(&self, principal: u32, kinds: &[SecretKind]) -> Result<usize, StoreError>;
    /// The principal's secrets of `kind`, newest first.
    fn secrets_of(&self, principal: u32, kind: SecretKind) -> Result<Vec<SecretRow>, StoreError>;

    fn queue_mail(&self, mail: &NewMail, now_ms: i64) -> Result<i64, StoreError>;
    /// Mail after id `after`, oldest first.
    fn outbox(&self, after: i64, limit: usize) -> Result<Vec<OutboxRow>, StoreError>;
    fn mark_mail(
        &self,
        id: i64,
        sent_ms: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Replaces a mail's body (after delivery, without the single-use links it carried:
    /// the outbox, and every backup of it, then holds nothing that opens an account).
    fn redact_mail(&self, id: i64, body: &str) -> Result<(), StoreError>;

    /// Undelivered mail due for an attempt at `now_ms` (fewer than `max_attempts` made).
    fn due_mail(
        &self,
        now_ms: i64,
        max_attempts: i64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Records a failed attempt and when to try again.
    fn retry_mail(&self, id: i64, error: &str, next_attempt_ms: i64) -> Result<(), StoreError>;

    /// The failed sign-ins counted under `key` (R16): how many, and the last one's time.
    fn sign_in_failures(&self, key: &str) -> Result<Option<(u32, i64)>, StoreError>;
    /// Counts one more sign-in attempt under `key` at `now_ms`, before its password is
    /// verified (R16: so parallel guesses cannot pass the limit), atomically: of concurrent
    /// callers each gets its own count. A count at or above `lock_after` whose lock
    /// (`lock_ms`) has run out starts over.
    fn count_sign_in_attempt(
        &self,
        key: &str,
        now_ms: i64,
        lock_after: u32,
        lock_ms: i64,
    ) -> Result<AttemptCount, StoreError>;
    /// Takes back one counted attempt that turned out to succeed (never below zero), so a
    /// success costs an address nothing and forgets none of its other failures.
    fn forgive_sign_in_attempt(&self, key: &str) -> Result<(), StoreError>;
    /// Forgets the failures under `key` (a success, or an admin's unlock).
    fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError>;

    /// Counts one event under `key` in fixed windows of `window_ms` (R13: mails per
    /// recipient and per source address) and returns the count in the current window,
    /// this one included. A window starts at the first event after the last one ended.
    fn count_in_window(&self, key: &str, now_ms: i64, window_ms: i64) -> Result<u32, StoreError>;

    fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<(), StoreError>;
    /// Every key, oldest first.
    fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError>;
    /// Marks a key retired at `at_ms` (it no longer signs; it stays published a while).
    fn retire_signing_key(&self, kid: &str, at_ms: i64) -> Result<(), StoreError>;
    /// Deletes keys retired before `before_ms`.
    fn delete_signing_keys_retired_before(&self, before_ms: i64) -> Result<(), StoreError>;

    /// Claims `(scope, key)` for a request with `fingerprint`, atomically: of concurrent
    /// callers one gets `Proceed`. Expired entries count as absent.
    fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<Idempotent, StoreError>;
    /// Stores the answer of a claimed request.
    fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError>;
    /// Releases a claim whose request failed without an answer worth keeping.
    fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError>;
}

/// A boxed secret store is one (`Box<dyn Backend>` above the port).
impl<S: SecretStore + ?Sized> SecretStore for Box<S> {
    fn put_password(&self, row: &PasswordRow) -> Result<(), StoreError> {
        (**self).put_password(row)
    }

    fn password(&self, principal: u32) -> Result<Option<PasswordRow>, StoreError> {
        (**self).password(principal)
    }

    fn insert_secret(&self, row: &SecretRow) -> Result<(), StoreError> {
        (**self).insert_secret(row)
    }

    fn secret(&self, hash: &str) -> Result<Option<SecretRow>, StoreError> {
        (**self).secret(hash)
    }

    fn redeem_secret(
        &self,
        hash: &str,
        kind: SecretKind,
        now_ms: i64,
    ) -> Result<Option<SecretRow>, StoreError> {
        (**self).redeem_secret(hash, kind, now_ms)
    }

    fn touch_secret(&self, hash: &str, now_ms: i64, data: Option<&str>) -> Result<(), StoreError> {
        (**self).touch_secret(hash, now_ms, data)
    }

    fn delete_secret(&self, hash: &str) -> Result<bool, StoreError> {
        (**self).delete_secret(hash)
    }

    fn delete_secrets_of(&self, principal: u32, kinds: &[SecretKind]) -> Result<usize, StoreError> {
        (**self).delete_secrets_of(principal, kinds)
    }

    fn secrets_of(&self, principal: u32, kind: SecretKind) -> Result<Vec<SecretRow>, StoreError> {
        (**self).secrets_of(principal, kind)
    }

    fn queue_mail(&self, mail: &NewMail, now_ms: i64) -> Result<i64, StoreError> {
        (**self).queue_mail(mail, now_ms)
    }

    fn outbox(&self, after: i64, limit: usize) -> Result<Vec<OutboxRow>, StoreError> {
        (**self).outbox(after, limit)
    }

    fn mark_mail(
        &self,
        id: i64,
        sent_ms: Option<i64>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        (**self).mark_mail(id, sent_ms, error)
    }

    fn redact_mail(&self, id: i64, body: &str) -> Result<(), StoreError> {
        (**self).redact_mail(id, body)
    }

    fn due_mail(
        &self,
        now_ms: i64,
        max_attempts: i64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        (**self).due_mail(now_ms, max_attempts, limit)
    }

    fn retry_mail(&self, id: i64, error: &str, next_attempt_ms: i64) -> Result<(), StoreError> {
        (**self).retry_mail(id, error, next_attempt_ms)
    }

    fn sign_in_failures(&self, key: &str) -> Result<Option<(u32, i64)>, StoreError> {
        (**self).sign_in_failures(key)
    }

    fn count_sign_in_attempt(
        &self,
        key: &str,
        now_ms: i64,
        lock_after: u32,
        lock_ms: i64,
    ) -> Result<AttemptCount, StoreError> {
        (**self).count_sign_in_attempt(key, now_ms, lock_after, lock_ms)
    }

    fn forgive_sign_in_attempt(&self, key: &str) -> Result<(), StoreError> {
        (**self).forgive_sign_in_attempt(key)
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<(), StoreError> {
        (**self).clear_sign_in_failures(key)
    }

    fn count_in_window(&self, key: &str, now_ms: i64, window_ms: i64) -> Result<u32, StoreError> {
        (**self).count_in_window(key, now_ms, window_ms)
    }

    fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<(), StoreError> {
        (**self).insert_signing_key(key)
    }

    fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        (**self).signing_keys()
    }

    fn retire_signing_key(&self, kid: &str, at_ms: i64) -> Result<(), StoreError> {
        (**self).retire_signing_key(kid, at_ms)
    }

    fn delete_signing_keys_retired_before(&self, before_ms: i64) -> Result<(), StoreError> {
        (**self).delete_signing_keys_retired_before(before_ms)
    }

    fn begin_idempotent(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<Idempotent, StoreError> {
        (**self).begin_idempotent(scope, key, fingerprint, now_ms, expires_ms)
    }

    fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        (**self).finish_idempotent(scope, key, answer)
    }

    fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        (**self).abandon_idempotent(scope, key)
    }
}

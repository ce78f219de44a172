//! Sign-in, sessions, API keys and invitations (R12–R17, R20, R23, R24).
//!
//! Secrets live in a [`SecretStore`] beside the change log, only as hashes. Every answer a
//! stranger can provoke is the same whether or not the account exists: an unknown logon is
//! checked against a dummy hash, failures are counted per logon name (known or not) and per
//! source address, and a locked or throttled account answers like a wrong password.

use crate::deputy::{Deputy, ServiceError};
use crate::passwords::{self, HashCost, PasswordError};
use crate::tokens;
use deputy_core::{Actor, Context, Impersonation, PrincipalId, Status, names};
use deputy_store::secrets::{NewMail, PasswordRow, SecretKind, SecretRow, SecretStore};
use deputy_store::{NewActivity, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// How long a session or key read from the store is trusted without reading it again.
/// Revocations through this process take effect at once (the entry is dropped); one made
/// by another replica is seen within this time.
const CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(5);
/// Beyond this many entries the cache is emptied (it refills from the store).
const CREDENTIAL_CACHE_MAX: usize = 100_000;

#[derive(Debug)]
struct CachedCredential {
    row: SecretRow,
    data: SessionData,
    fetched: Instant,
}

/// Tunables, with the spec's defaults.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// R23: idle expiry.
    pub session_idle_ms: i64,
    /// R23: absolute expiry.
    pub session_absolute_ms: i64,
    /// R12: invitation lifetime.
    pub invitation_ttl_ms: i64,
    /// R13: reset lifetime.
    pub reset_ttl_ms: i64,
    pub hash_cost: HashCost,
    /// R16: failures of one account before back-off, and before a lock.
    pub backoff_after: u32,
    pub lock_after: u32,
    pub lock_ms: i64,
    /// The same per source address, higher: many people can share one address (a NAT),
    /// and one of them must not lock out the rest.
    pub source_backoff_after: u32,
    pub source_lock_after: u32,
    /// Where links in mail point (R61), never the request's Host; also the `iss` and
    /// `aud` of access tokens (R71).
    pub public_origin: String,
    /// R71: how old the signing key may get before a new one is made, and how long a new
    /// key is published before it signs.
    pub key_rotation_ms: i64,
    pub key_publish_ahead_ms: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            session_idle_ms: 30 * 60_000,
            session_absolute_ms: 12 * 3_600_000,
            invitation_ttl_ms: 72 * 3_600_000,
            reset_ttl_ms: 10 * 60_000,
            hash_cost: HashCost::DEFAULT,
            backoff_after: 5,
            lock_after: 20,
            lock_ms: 15 * 60_000,
            source_backoff_after: 50,
            source_lock_after: 200,
            public_origin: "http://127.0.0.1:8080".into(),
            key_rotation_ms: 24 * 3_600_000,
            key_publish_ahead_ms: 3_600_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown logon, wrong password, locked, throttled or inactive: one answer for all.
    #[error(
        "sign-in failed: the logon name or password is wrong, or the account cannot sign in now"
    )]
    SignInFailed,
    /// No session or key, or an expired or revoked one.
    #[error("not signed in, or the session has ended")]
    Unauthenticated,
    /// The link's token is unknown, used or expired.
    #[error("this link is invalid or has expired; ask for a new one")]
    LinkInvalid,
    #[error("{0}")]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        AuthError::Service(ServiceError::Store(e))
    }
}

/// What a session row's `data` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionData {
    /// The deployment epoch it was made in (R66): older epochs are refused.
    pub epoch: u64,
    #[serde(default)]
    pub switched: Option<u32>,
    #[serde(default)]
    pub impersonating: Option<u32>,
    #[serde(default)]
    pub impersonation_expires_ms: Option<i64>,
    /// R14: nothing but a password change until it is done.
    #[serde(default)]
    pub must_change_password: bool,
    /// API keys: the name given at creation.
    #[serde(default)]
    pub name: Option<String>,
}

/// Who is calling, once a session or key checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The real principal behind the session.
    pub principal: PrincipalId,
    pub kind: SecretKind,
    /// The hash of the session or key (to sign out, rotate, or touch it).
    pub secret_hash: String,
    pub data: SessionData,
}

impl Caller {
    /// The engine's view of the caller: when impersonating, the target acts and the
    /// context names the real actor (R48).
    pub fn actor(&self) -> Actor {
        match (self.data.impersonating, self.data.impersonation_expires_ms) {
            // The target acts; `switched` stays the impersonator's own context.
            (Some(target), Some(expires_at)) => Actor::Principal {
                id: PrincipalId(target),
                ctx: Context {
                    switched: self.data.switched.map(deputy_core::TenantId),
                    impersonation: Some(Impersonation { actor: self.principal, expires_at }),
                },
            },
            _ => Actor::Principal {
                id: self.principal,
                ctx: Context {
                    switched: self.data.switched.map(deputy_core::TenantId),
                    impersonation: None,
                },
            },
        }
    }
}

/// A new session's secret, handed out once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub caller: Caller,
}

/// The use cases of credentials and sessions, over a deployment whose store also keeps
/// secrets.
pub struct Auth<S: Store + SecretStore> {
    deputy: Arc<Deputy<S>>,
    settings: AuthSettings,
    /// A hash of a random password, verified for unknown logons so they take as long.
    dummy_phc: String,
    /// Sessions and keys recently read, so most requests authenticate without IO. Only
    /// this cache's own short critical sections lock it; the state's writers never do.
    credentials: RwLock<HashMap<String, Arc<CachedCredential>>>,
}

impl<S: Store + SecretStore> std::fmt::Debug for Auth<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").field("settings", &self.settings).finish()
    }
}

impl<S: Store + SecretStore> Auth<S> {
    pub fn new(deputy: Arc<Deputy<S>>, settings: AuthSettings) -> Result<Self, AuthError> {
        let dummy_phc = passwords::hash(&passwords::generate()?, settings.hash_cost)?;
        Ok(Auth { deputy, settings, dummy_phc, credentials: RwLock::new(HashMap::new()) })
    }

    pub fn deputy(&self) -> &Arc<Deputy<S>> {
        &self.deputy
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    fn store(&self) -> &S {
        self.deputy.store()
    }

    /// Whether more attempts are allowed for `key` now (R16): free for the first few
    /// failures, then an exponential back-off, then a lock.
    /// The back-off and lock thresholds for a counter key.
    fn limits(&self, key: &str) -> (u32, u32) {
        let s = &self.settings;
        if key.starts_with("source:") {
            (s.source_backoff_after, s.source_lock_after)
        } else {
            (s.backoff_after, s.lock_after)
        }
    }

    /// Whether attempts under `key` must wait (R16). The counters live in the store, so a
    /// restart keeps a lock and replicas count together.
    fn throttled(&self, key: &str, now: i64) -> Result<bool, AuthError> {
        let (backoff_after, lock_after) = self.limits(key);
        let Some((count, last_ms)) = self.store().sign_in_failures(key)? else { return Ok(false) };
        let s = &self.settings;
        if count >= lock_after {
            return Ok(now < last_ms + s.lock_ms);
        }
        if count >= backoff_after {
            let exponent = (count - backoff_after).min(10);
            let wait = (1_000i64 << exponent).min(s.lock_ms);
            return Ok(now < last_ms + wait);
        }
        Ok(false)
    }

    /// Counts a failure; returns the new count.
    fn fail(&self, key: &str, now: i64) -> Result<u32, AuthError> {
        let (_, lock_after) = self.limits(key);
        Ok(self.store().record_sign_in_failure(key, now, lock_after, self.settings.lock_ms)?)
    }

    fn clear(&self, key: &str) -> Result<(), AuthError> {
        Ok(self.store().clear_sign_in_failures(key)?)
    }

    /// The key failures of a logon name are counted under.
    pub fn failure_key(logon: &str) -> String {
        format!("logon:{}", names::collision_key(logon))
    }

    /// Lifts a lock (R16); the caller has checked `users.modify` over the principal.
    pub fn unlock(&self, logon: &str) -> Result<(), AuthError> {
        self.clear(&Self::failure_key(logon))
    }

    fn audit(
        &self,
        action: &str,
        subject: Option<PrincipalId>,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        let tenant = subject.and_then(|p| s.principal(p)).map(|p| p.home.to_string());
        self.store().append_activity(&[NewActivity {
            at_ms: self.deputy.now(),
            action: action.to_owned(),
            actor: subject.map(|p| p.to_string()),
            subject: subject.map(|p| p.to_string()),
            tenant,
            acting_as: "[]".to_owned(),
            source: source.map(str::to_owned),
            details: "{}".to_owned(),
        }])?;
        Ok(())
    }

    /// Password sign-in (R15, R16, R17). `source` is the client address (after the trusted
    /// proxy rules). Rotates nothing: every sign-in makes a new session (R23).
    pub fn sign_in(
        &self,
        logon: &str,
        password: &str,
        source: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        let now = self.deputy.now();
        let logon_key = format!("logon:{}", names::collision_key(logon));
        let source_key = source.map(|s| format!("source:{s}"));
        let throttled = self.throttled(&logon_key, now)?
            || match source_key.as_deref() {
                Some(k) => self.throttled(k, now)?,
                None => false,
            };
        let s = self.deputy.snapshot();
        let principal = s.principal_by_logon(logon).and_then(|id| s.principal(id)).filter(|p| {
            // The logon must match as typed up to case and normalisation, not merely collide.
            names::fold(&p.logon) == names::fold(logon)
        });
        // A delegate with a linked password signs in with its owner's (R17).
        let password_of = principal.map(|p| match p.delegate.as_deref() {
            Some(d) if d.linked_password => p.owner().unwrap_or(p.id),
            _ => p.id,
        });
        let stored = match password_of {
            Some(id) => self.store().password(id.0)?,
            None => None,
        };
        // Always verify something, so unknown logons take as long as known ones.
        let matches =
            passwords::verify(password, stored.as_ref().map_or(&self.dummy_phc, |r| &r.phc));
        let can_sign_in = principal.is_some_and(|p| {
            p.status == Status::Active
                && s.tenant(p.home).is_some_and(|t| !t.blocked)
                && p.owner()
                    .is_none_or(|o| s.principal(o).is_some_and(|o| o.status == Status::Active))
        });
        match (principal, matches && can_sign_in && !throttled && stored.is_some()) {
            (Some(p), true) => {
                self.clear(&logon_key)?;
                if let Some(k) = &source_key {
                    self.clear(k)?;
                }
                let stored = stored.ok_or(AuthError::SignInFailed)?;
                // R15: a hash made with weaker parameters is replaced while we know the
                // password (on the row it came from: the owner's, for a linked delegate).
                if passwords::needs_rehash(&stored.phc, self.settings.hash_cost) {
                    let phc = passwords::hash(password, self.settings.hash_cost)?;
                    self.store().put_password(&PasswordRow { phc, ..stored.clone() })?;
                }
                let data = SessionData {
                    epoch: self.deputy.epoch(),
                    must_change_password: stored.must_change,
                    ..SessionData::default()
                };
                let session = self.new_session(p.id, data)?;
                self.audit("auth.signed_in", Some(p.id), source)?;
                Ok(session)
            }
            (found, _) => {
                let count = self.fail(&logon_key, now)?;
                if let Some(k) = &source_key {
                    self.fail(k, now)?;
                }
                if let Some(p) = found {
                    self.audit("auth.sign_in_failed", Some(p.id), source)?;
                    if count == self.settings.lock_after {
                        self.audit("auth.locked", Some(p.id), source)?;
                    }
                }
                Err(AuthError::SignInFailed)
            }
        }
    }

    fn new_session(
        &self,
        principal: PrincipalId,
        data: SessionData,
    ) -> Result<NewSession, AuthError> {
        let now = self.deputy.now();
        let (token, hash) = tokens::new_token().map_err(|e| StoreError::Backend(e.to_string()))?;
        let encoded =
            serde_json::to_string(&data).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.store().insert_secret(&SecretRow {
            hash: hash.clone(),
            kind: SecretKind::Session,
            principal: principal.0,
            created_ms: now,
            expires_ms: Some(now + self.settings.session_absolute_ms),
            last_used_ms: Some(now),
            used_ms: None,
            data: encoded,
        })?;
        Ok(NewSession {
            token,
            caller: Caller { principal, kind: SecretKind::Session, secret_hash: hash, data },
        })
    }

    /// The caller behind a session token or API key (R23, R24), or `Unauthenticated`.
    /// Sessions end after the idle or absolute limit, when the principal is no longer
    /// active, and when they belong to an older epoch (R66).
    pub fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        let now = self.deputy.now();
        let hash = tokens::hash_token(token);
        self.forget(&hash);
        let Some(mut row) = self.store().secret(&hash)? else {
            return Err(AuthError::Unauthenticated);
        };
        if !matches!(row.kind, SecretKind::Session | SecretKind::ApiKey) {
            return Err(AuthError::Unauthenticated);
        }
        let data: SessionData =
            serde_json::from_str(&row.data).map_err(|_| AuthError::Unauthenticated)?;
        let expired = row.expires_ms.is_some_and(|t| now >= t)
            || (row.kind == SecretKind::Session
                && row.last_used_ms.is_some_and(|t| now >= t + self.settings.session_idle_ms));
        let s = self.deputy.snapshot();
        let principal = PrincipalId(row.principal);
        let active = s.principal(principal).is_some_and(|p| {
            p.status == Status::Active && s.tenant(p.home).is_some_and(|t| !t.blocked)
        });
        if expired || !active || data.epoch != self.deputy.epoch() {
            self.forget(&hash);
            self.store().delete_secret(&hash)?;
            return Err(AuthError::Unauthenticated);
        }
        let mut data = data;
        // R48: an impersonation is re-verified on every use and ends when it no longer
        // holds (expired, target inactive, impersonator no longer allowed).
        if let (Some(target), Some(expires_at)) =
            (data.impersonating, data.impersonation_expires_ms)
        {
            let imp = Impersonation { actor: principal, expires_at };
            let switched = data.switched.map(deputy_core::TenantId);
            if !s.impersonation_holds(PrincipalId(target), imp, switched, now) {
                data.impersonating = None;
                data.impersonation_expires_ms = None;
                let encoded =
                    serde_json::to_string(&data).map_err(|e| StoreError::Backend(e.to_string()))?;
                self.store().touch_secret(&hash, now, Some(&encoded))?;
                self.audit("impersonation.ended", Some(principal), None)?;
                return Ok(Caller { principal, kind: row.kind, secret_hash: hash, data });
            }
        }
        // Touch at most once a minute: idle expiry needs no finer grain, and a check over
        // HTTP should not cost a durable write.
        if row.last_used_ms.is_none_or(|t| now - t >= 60_000) {
            self.store().touch_secret(&hash, now, None)?;
            row.last_used_ms = Some(now);
        }
        let kind = row.kind;
        let mut cache = self.credentials.write().unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= CREDENTIAL_CACHE_MAX {
            cache.clear();
        }
        cache.insert(
            hash.clone(),
            Arc::new(CachedCredential { row, data: data.clone(), fetched: Instant::now() }),
        );
        Ok(Caller { principal, kind, secret_hash: hash, data })
    }

    /// [`Auth::authenticate`] without IO, for a session or key read within the last few
    /// seconds; `None` when the store must be asked (unknown, stale, expiring, due for its
    /// once-a-minute touch, or an impersonation that ended).
    pub fn authenticate_cached(&self, token: &str) -> Option<Caller> {
        let hash = tokens::hash_token(token);
        let cached =
            self.credentials.read().unwrap_or_else(PoisonError::into_inner).get(&hash).cloned()?;
        if cached.fetched.elapsed() > CREDENTIAL_CACHE_TTL {
            return None;
        }
        let now = self.deputy.now();
        let row = &cached.row;
        let fresh = row.expires_ms.is_none_or(|t| now < t)
            && row.last_used_ms.is_some_and(|t| now - t < 60_000)
            && cached.data.epoch == self.deputy.epoch();
        let s = self.deputy.snapshot();
        let principal = PrincipalId(row.principal);
        let active = s.principal(principal).is_some_and(|p| {
            p.status == Status::Active && s.tenant(p.home).is_some_and(|t| !t.blocked)
        });
        let impersonation_holds =
            match (cached.data.impersonating, cached.data.impersonation_expires_ms) {
                (Some(target), Some(expires_at)) => s.impersonation_holds(
                    PrincipalId(target),
                    Impersonation { actor: principal, expires_at },
                    cached.data.switched.map(deputy_core::TenantId),
                    now,
                ),
                _ => true,
            };
        (fresh && active && impersonation_holds).then(|| Caller {
            principal,
            kind: row.kind,
            secret_hash: hash,
            data: cached.data.clone(),
        })
    }

    fn forget(&self, hash: &str) {
        self.credentials.write().unwrap_or_else(PoisonError::into_inner).remove(hash);
    }

    fn forget_principal(&self, principal: PrincipalId) {
        self.credentials
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, c| c.row.principal != principal.0);
    }

    /// Revokes an API key of `account` by its handle (the first 16 characters of its
    /// hash, as listed); the caller has checked `keys.manage`. Returns whether one was.
    pub fn revoke_api_key(&self, account: PrincipalId, handle: &str) -> Result<bool, AuthError> {
        let rows = self.store().secrets_of(account.0, SecretKind::ApiKey)?;
        let Some(row) = rows.into_iter().find(|r| handle.len() == 16 && r.hash.starts_with(handle))
        else {
            return Ok(false);
        };
        self.forget(&row.hash);
        let deleted = self.store().delete_secret(&row.hash)?;
        self.audit("auth.api_key_revoked", Some(account), None)?;
        Ok(deleted)
    }

    /// Ends a session (sign-out).
    pub fn sign_out(&self, caller: &Caller, source: Option<&str>) -> Result<(), AuthError> {
        if caller.kind == SecretKind::Session {
            self.forget(&caller.secret_hash);
            self.store().delete_secret(&caller.secret_hash)?;
            self.audit("auth.signed_out", Some(caller.principal), source)?;
        }
        Ok(())
    }

    /// Replaces a session by a new one with `data` (R23: rotation at switch, impersonation
    /// and privilege changes).
    pub fn rotate(&self, caller: &Caller, data: SessionData) -> Result<NewSession, AuthError> {
        let session = self.new_session(caller.principal, data)?;
        self.forget(&caller.secret_hash);
        self.store().delete_secret(&caller.secret_hash)?;
        Ok(session)
    }

    /// Sets a password chosen by its owner (R15): after a forced change, or from the
    /// profile with the current one. Ends the principal's other sessions (R23) and returns
    /// a fresh one.
    pub fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
        source: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        if caller.data.impersonating.is_some() {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::forbidden(
                    "R48",
                    "an impersonator cannot change the target's password",
                ),
            )));
        }
        let s = self.deputy.snapshot();
        if s.principal(caller.principal)
            .and_then(|p| p.delegate.as_deref())
            .is_some_and(|d| d.linked_password)
        {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::forbidden(
                    "R17",
                    "a secondary logon with a linked password signs in with its owner's and cannot change it",
                ),
            )));
        }
        let stored = self.store().password(caller.principal.0)?.ok_or(AuthError::SignInFailed)?;
        if !passwords::verify(current, &stored.phc) {
            return Err(AuthError::SignInFailed);
        }
        if current == new {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::invalid(
                    "new_password",
                    "the new password must differ from the current one",
                ),
            )));
        }
        passwords::validate(new)?;
        let now = self.deputy.now();
        let phc = passwords::hash(new, self.settings.hash_cost)?;
        self.store().put_password(&PasswordRow {
            principal: caller.principal.0,
            phc,
            must_change: false,
            changed_ms: now,
        })?;
        self.forget_principal(caller.principal);
        self.store().delete_secrets_of(
            caller.principal.0,
            &[SecretKind::Session, SecretKind::PasswordReset],
        )?;
        self.audit("auth.password_changed", Some(caller.principal), source)?;
        let data = SessionData { must_change_password: false, ..caller.data.clone() };
        self.new_session(caller.principal, data)
    }

    /// Sets a password for a principal by the system (bootstrap, R14's "entered or
    /// generated by the creator"): validated, hashed, `must_change` as given.
    pub fn set_password(
        &self,
        principal: PrincipalId,
        password: &str,
        must_change: bool,
    ) -> Result<(), AuthError> {
        passwords::validate(password)?;
        let phc = passwords::hash(password, self.settings.hash_cost)?;
        self.store().put_password(&PasswordRow {
            principal: principal.0,
            phc,
            must_change,
            changed_ms: self.deputy.now(),
        })?;
        Ok(())
    }

    /// Issues an invitation (R12) for a principal that is pending or invited: a new token
    /// (older ones die), the status `invited`, and a mail in the outbox with a link on the
    /// public origin. The caller's authority is checked by the engine's status change.
    pub fn invite(
        &self,
        actor: Actor,
        principal: PrincipalId,
        source: Option<&str>,
    ) -> Result<String, AuthError> {
        let s = self.deputy.snapshot();
        let p = s.principal(principal).ok_or_else(|| {
            AuthError::Service(ServiceError::Command(deputy_core::CommandError::not_found(
                "principal",
                principal,
            )))
        })?;
        // The engine decides whether the actor may invite (users.create or users.modify,
        // R10) and whether the principal can be invited (R11, R17); a resend is audited too.
        self.deputy.execute(actor, source, |tx| tx.set_status(principal, Status::Invited, None))?;
        let email = p.email.to_string();
        let logon = p.logon.to_string();
        let now = self.deputy.now();
        let (token, hash) = tokens::new_token().map_err(|e| StoreError::Backend(e.to_string()))?;
        self.store().delete_secrets_of(principal.0, &[SecretKind::Invitation])?;
        self.store().insert_secret(&SecretRow {
            hash,
            kind: SecretKind::Invitation,
            principal: principal.0,
            created_ms: now,
            expires_ms: Some(now + self.settings.invitation_ttl_ms),
            last_used_ms: None,
            used_ms: None,
            data: "{}".into(),
        })?;
        let link =
            format!("{}/invitation/{token}", self.settings.public_origin.trim_end_matches('/'));
        self.store().queue_mail(
            &NewMail {
                recipient: email,
                subject: "Your Deputy account: choose a password".into(),
                body: format!(
                    "An account with the logon name {logon} was created for you.\n\nChoose your password here (the link works once, for {} hours):\n{link}\n",
                    self.settings.invitation_ttl_ms / 3_600_000
                ),
            },
            now,
        )?;
        Ok(token)
    }

    /// Uses an invitation link (R12): sets the password, activates the principal and
    /// verifies its e-mail; of concurrent uses exactly one succeeds.
    pub fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        source: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        passwords::validate(password)?;
        let now = self.deputy.now();
        let row = self
            .store()
            .redeem_secret(&tokens::hash_token(token), SecretKind::Invitation, now)?
            .ok_or(AuthError::LinkInvalid)?;
        let principal = PrincipalId(row.principal);
        let phc = passwords::hash(password, self.settings.hash_cost)?;
        self.store().put_password(&PasswordRow {
            principal: principal.0,
            phc,
            must_change: false,
            changed_ms: now,
        })?;
        self.deputy.execute(Actor::System, source, |tx| {
            if tx.state().principal(principal).is_some_and(|p| p.status != Status::Active) {
                tx.set_status(principal, Status::Active, None)?;
            }
            tx.verify_email(principal)
        })?;
        self.audit("auth.invitation_accepted", Some(principal), source)?;
        let data = SessionData { epoch: self.deputy.epoch(), ..SessionData::default() };
        self.new_session(principal, data)
    }

    /// Creates an API key for a service account (R24); returns the key, shown once.
    /// `keys.manage` in the account's home tenant is required (checked here on the
    /// newest state), and the account must be a service account.
    pub fn create_api_key(
        &self,
        actor: Actor,
        account: PrincipalId,
        name: &str,
        expires_ms: Option<i64>,
    ) -> Result<String, AuthError> {
        let s = self.deputy.snapshot();
        let now = self.deputy.now();
        let not_found = || {
            AuthError::Service(ServiceError::Command(deputy_core::CommandError::not_found(
                "principal",
                account,
            )))
        };
        let p = s.principal(account).ok_or_else(not_found)?;
        if let Actor::Principal { id, ctx } = actor {
            let keys = s.catalog.permission_id("keys.manage").ok_or_else(not_found)?;
            let allowed = s
                .check(id, keys, deputy_core::Target::Tenant(p.home), ctx, now)
                .map(|d| d.is_allowed())
                .unwrap_or(false);
            if !allowed {
                return Err(not_found());
            }
        }
        if p.kind != deputy_core::PrincipalKind::ServiceAccount {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::conflict(
                    Some("R24"),
                    Some("principal"),
                    "API keys are for service accounts",
                ),
            )));
        }
        let (token, _) = tokens::new_token().map_err(|e| StoreError::Backend(e.to_string()))?;
        // The prefix tells keys from session tokens (and secret scanners find them).
        let key = format!("dpk_{token}");
        let hash = tokens::hash_token(&key);
        let data = SessionData {
            epoch: self.deputy.epoch(),
            name: Some(name.to_owned()),
            ..SessionData::default()
        };
        self.store().insert_secret(&SecretRow {
            hash,
            kind: SecretKind::ApiKey,
            principal: account.0,
            created_ms: now,
            expires_ms,
            last_used_ms: None,
            used_ms: None,
            data: serde_json::to_string(&data).map_err(|e| StoreError::Backend(e.to_string()))?,
        })?;
        self.audit("auth.api_key_created", Some(account), None)?;
        Ok(key)
    }

    /// "Forgot your password?" (R13): by logon name or e-mail. Mails a reset link to every
    /// matching active account that has a password of its own; the caller learns nothing
    /// (the answer is the same either way).
    pub fn forgot_password(
        &self,
        logon_or_email: &str,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        let wanted = logon_or_email.trim();
        let by_logon = s
            .principal_by_logon(wanted)
            .and_then(|id| s.principal(id))
            .filter(|p| names::fold(&p.logon) == names::fold(wanted))
            .map(|p| p.id);
        let targets: Vec<PrincipalId> = match by_logon {
            Some(p) => vec![p],
            // An e-mail can belong to several accounts (a person's old and new one).
            None if wanted.contains('@') => s
                .principals()
                .filter(|p| p.email_verified && p.email.eq_ignore_ascii_case(wanted))
                .map(|p| p.id)
                .collect(),
            None => Vec::new(),
        };
        for id in targets {
            let Some(p) = s.principal(id) else { continue };
            let linked = p.delegate.as_deref().is_some_and(|d| d.linked_password);
            if p.status == Status::Active
                && !linked
                && p.kind != deputy_core::PrincipalKind::ServiceAccount
            {
                self.send_reset(id, source)?;
            }
        }
        Ok(())
    }

    /// A reset mail triggered by a holder of `users.modify` over the principal (R13); the
    /// engine decides whether the actor may.
    pub fn reset_by_admin(
        &self,
        actor: Actor,
        principal: PrincipalId,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        self.require_manage(actor, principal, "R13")?;
        let s = self.deputy.snapshot();
        let p = s.principal(principal).ok_or(AuthError::LinkInvalid)?;
        if p.delegate.as_deref().is_some_and(|d| d.linked_password) {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::conflict(
                    Some("R17"),
                    Some("principal"),
                    "a secondary logon with a linked password signs in with its owner's; reset the owner's",
                ),
            )));
        }
        self.send_reset(principal, source)
    }

    fn require_manage(
        &self,
        actor: Actor,
        principal: PrincipalId,
        rule: &'static str,
    ) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        s.decide(actor, self.deputy.now(), |tx| {
            let p = tx
                .state()
                .principal(principal)
                .cloned()
                .ok_or_else(|| deputy_core::CommandError::not_found("principal", principal))?;
            tx.require_manage("users.modify", &p, rule)
        })
        .map_err(|e| AuthError::Service(ServiceError::Command(e)))?;
        Ok(())
    }

    fn send_reset(&self, principal: PrincipalId, source: Option<&str>) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        let Some(p) = s.principal(principal) else { return Ok(()) };
        let now = self.deputy.now();
        let (token, hash) = tokens::new_token().map_err(|e| StoreError::Backend(e.to_string()))?;
        self.store().delete_secrets_of(principal.0, &[SecretKind::PasswordReset])?;
        self.store().insert_secret(&SecretRow {
            hash,
            kind: SecretKind::PasswordReset,
            principal: principal.0,
            created_ms: now,
            expires_ms: Some(now + self.settings.reset_ttl_ms),
            last_used_ms: None,
            used_ms: None,
            data: "{}".into(),
        })?;
        let link = format!("{}/reset/{token}", self.settings.public_origin.trim_end_matches('/'));
        self.store().queue_mail(
            &NewMail {
                recipient: p.email.to_string(),
                subject: "Reset your Deputy password".into(),
                body: format!(
                    "Someone asked to reset the password of {}.\n\nIf it was you, choose a new one here (the link works once, for {} minutes):\n{link}\n\nIf not, ignore this mail; your password stays as it is.\n",
                    p.logon,
                    self.settings.reset_ttl_ms / 60_000
                ),
            },
            now,
        )?;
        self.audit("auth.reset_requested", Some(principal), source)?;
        Ok(())
    }

    /// Uses a reset link (R13): sets the new password and ends every session of the
    /// principal.
    pub fn reset_password(
        &self,
        token: &str,
        password: &str,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        passwords::validate(password)?;
        let now = self.deputy.now();
        let row = self
            .store()
            .redeem_secret(&tokens::hash_token(token), SecretKind::PasswordReset, now)?
            .ok_or(AuthError::LinkInvalid)?;
        let phc = passwords::hash(password, self.settings.hash_cost)?;
        self.store().put_password(&PasswordRow {
            principal: row.principal,
            phc,
            must_change: false,
            changed_ms: now,
        })?;
        self.forget_principal(PrincipalId(row.principal));
        self.store().delete_secrets_of(row.principal, &[SecretKind::Session])?;
        let principal = PrincipalId(row.principal);
        if let Some(p) = self.deputy.snapshot().principal(principal) {
            self.clear(&Self::failure_key(&p.logon))?;
        }
        self.audit("auth.password_reset", Some(principal), source)?;
        Ok(())
    }

    /// Lifts a sign-in lock (R16) by a holder of `users.modify` over the principal; audited.
    pub fn unlock_by_admin(
        &self,
        actor: Actor,
        principal: PrincipalId,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        self.require_manage(actor, principal, "R16")?;
        let s = self.deputy.snapshot();
        if let Some(p) = s.principal(principal) {
            self.unlock(&p.logon)?;
        }
        self.audit("auth.unlocked", Some(principal), source)?;
        Ok(())
    }

    /// Creates, rotates and forgets signing keys as they age (R71); run at start and
    /// periodically.
    pub fn maintain_signing_keys(&self) -> Result<(), AuthError> {
        crate::access_tokens::maintain_keys(
            self.store(),
            self.deputy.now(),
            self.settings.key_rotation_ms,
            self.settings.key_publish_ahead_ms,
        )?;
        Ok(())
    }

    /// A short-lived signed access token for the caller's session (R71).
    pub fn access_token(
        &self,
        caller: &Caller,
    ) -> Result<crate::access_tokens::AccessToken, AuthError> {
        if caller.kind != SecretKind::Session {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::invalid(
                    "authorization",
                    "access tokens are issued for sessions, not API keys",
                ),
            )));
        }
        let s = self.deputy.snapshot();
        let home =
            s.principal(caller.principal).map(|p| p.home).ok_or(AuthError::Unauthenticated)?;
        let origin = self.settings.public_origin.trim_end_matches('/');
        Ok(crate::access_tokens::issue(
            self.store(),
            caller,
            home,
            origin,
            origin,
            self.deputy.epoch(),
            self.deputy.now(),
        )?)
    }

    /// The published keys (R71).
    pub fn jwks(&self) -> Result<Vec<crate::access_tokens::Jwk>, AuthError> {
        Ok(crate::access_tokens::jwks(self.store())?)
    }

    /// R70: extends auto-extending grants and tells both tenants' admins, by mail, about
    /// grants that expire within `window_ms` (once per expiry). Commits only when there is
    /// something to do. Returns the number of mails queued.
    pub fn grant_upkeep(&self, window_ms: i64) -> Result<usize, AuthError> {
        use deputy_core::commands::partners::GrantUpkeep;
        let now = self.deputy.now();
        let pending = self
            .deputy
            .snapshot()
            .decide(Actor::System, now, |tx| tx.grant_upkeep(window_ms))
            .map_err(|e| AuthError::Service(ServiceError::Command(e)))?;
        if pending.changes.is_empty() {
            return Ok(0);
        }
        let done = self.deputy.execute(Actor::System, None, |tx| tx.grant_upkeep(window_ms))?;
        let s = self.deputy.snapshot();
        let admin = s.catalog.role_id("admin");
        let admins_of = |tenant: deputy_core::TenantId| -> Vec<PrincipalId> {
            s.members(tenant)
                .filter(|p| p.status == Status::Active && p.owner().is_none())
                .filter(|p| {
                    p.assignments.iter().any(|a| {
                        Some(a.bundle) == admin.map(deputy_core::Bundle::Role)
                            && matches!(a.scope, deputy_core::Scope::Tenant { tenant: t, .. } if t == tenant)
                    })
                })
                .map(|p| p.id)
                .collect()
        };
        let key = |t: deputy_core::TenantId| s.tenant(t).map_or(t.to_string(), |t| t.name.clone());
        let mut n = 0;
        for event in done.output {
            let (client, partner, expires_at, extended) = match event {
                GrantUpkeep::ExpiryNotice { client, partner, expires_at, .. } => {
                    (client, partner, expires_at, false)
                }
                GrantUpkeep::Extended { client, partner, expires_at, .. } => {
                    (client, partner, expires_at, true)
                }
            };
            let hours = ((expires_at - now) / 3_600_000).max(0);
            let (subject, body) = if extended {
                (
                    "Partner access extended".to_owned(),
                    format!(
                        "The partner access {} gave {} was extended; it now runs until {} (epoch milliseconds).\n",
                        key(client),
                        key(partner),
                        expires_at
                    ),
                )
            } else {
                (
                    "Partner access ends soon".to_owned(),
                    format!(
                        "The partner access {} gave {} ends in about {hours} hours (at {} epoch milliseconds). Extend it under Partner Access → Grant Access, or let it end.\n",
                        key(client),
                        key(partner),
                        expires_at
                    ),
                )
            };
            for p in admins_of(client).into_iter().chain(admins_of(partner)) {
                self.notify(p, &subject, &body)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Queues a mail to a principal's address (R61).
    pub fn notify(
        &self,
        principal: PrincipalId,
        subject: &str,
        body: &str,
    ) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        let Some(p) = s.principal(principal) else { return Ok(()) };
        self.store().queue_mail(
            &NewMail {
                recipient: p.email.to_string(),
                subject: subject.to_owned(),
                body: body.to_owned(),
            },
            self.deputy.now(),
        )?;
        Ok(())
    }

    /// Ends every session of a principal and of its delegates (R23, R36: a deactivated
    /// owner's delegates cannot act either).
    pub fn end_sessions(&self, principal: PrincipalId) -> Result<usize, AuthError> {
        let s = self.deputy.snapshot();
        let mut pending = vec![principal];
        let mut n = 0;
        while let Some(p) = pending.pop() {
            self.forget_principal(p);
            n += self.store().delete_secrets_of(p.0, &[SecretKind::Session])?;
            pending.extend(s.delegates_of(p));
        }
        Ok(n)
    }

    /// R20: a cancelled principal's sessions, API keys and pending tokens end at once (its
    /// cancelled delegates' too, R36).
    pub fn end_secrets_of_cancelled(&self, principal: PrincipalId) -> Result<usize, AuthError> {
        let s = self.deputy.snapshot();
        let mut pending = vec![principal];
        let mut n = 0;
        while let Some(p) = pending.pop() {
            if s.principal(p).is_some_and(|x| x.status == Status::Cancelled) {
                self.forget_principal(p);
                n += self.store().delete_secrets_of(
                    p.0,
                    &[
                        SecretKind::Session,
                        SecretKind::ApiKey,
                        SecretKind::Invitation,
                        SecretKind::PasswordReset,
                    ],
                )?;
                pending.extend(s.delegates_of(p));
            }
        }
        Ok(n)
    }

    /// Creates the first admin of a new deployment (R60): user `logon` in the root with a
    /// generated password that must be changed at first sign-in. Returns the password,
    /// to be shown once.
    pub fn bootstrap_admin(
        &self,
        logon: &str,
        email: &str,
    ) -> Result<(PrincipalId, String), AuthError> {
        let s = self.deputy.snapshot();
        let root = s.root().ok_or(ServiceError::NotInitialised)?;
        let created = self.deputy.execute(Actor::System, None, |tx| {
            tx.create_user(deputy_core::commands::users::NewUser {
                home: root,
                logon: logon.to_owned(),
                first_name: "First".into(),
                last_name: "Admin".into(),
                email: email.to_owned(),
                phone: None,
                roles: Vec::new(),
                status: Status::Active,
            })
        })?;
        let password = passwords::generate()?;
        self.set_password(created.output, &password, true)?;
        Ok((created.output, password))
    }
}

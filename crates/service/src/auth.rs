//! Sign-in, sessions, API keys and invitations (R12–R17, R20, R23, R24).
//!
//! Secrets live in a [`SecretStore`] beside the change log, only as hashes. Every answer a
//! stranger can provoke is the same whether or not the account exists: an unknown logon is
//! checked against a dummy hash, failures are counted per logon name (known or not) and per
//! source address, and a locked or throttled account answers like a wrong password.

use crate::deputy::{Deputy, ServiceError};
use crate::hashing::{Busy, HashLimits, Hasher};
use crate::passwords::{self, HashCost, PasswordError};
use crate::telemetry::SignInFailure;
use crate::{lifecycle, tokens};
use deputy_core::{Actor, Context, Impersonation, PrincipalId, Status, names};
use deputy_store::secrets::{AttemptCount, PasswordRow, SecretKind, SecretRow, SecretStore};
use deputy_store::{NewActivity, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

mod credentials;
pub(crate) mod grant_notices;
mod links;

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

/// The actor and subject of activity entries about a logon name that names nobody.
pub const UNKNOWN_LOGON: &str = "unknown";

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
    /// R15: how many hashes run at once and wait.
    pub hash_limits: HashLimits,
    /// R13: reset and invitation mails per recipient, and per source address, in each
    /// window; past them no mail is sent.
    pub mails_per_recipient: u32,
    pub mails_per_source: u32,
    pub mail_window_ms: i64,
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
            hash_limits: HashLimits::for_this_machine(),
            mails_per_recipient: 3,
            mails_per_source: 100,
            mail_window_ms: 3_600_000,
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
    /// R15: every hashing permit is taken and the queue is full.
    #[error("{0}")]
    Busy(#[from] Busy),
    /// R13: this address got its share of mails for now.
    #[error(
        "too many mails to this address or from this source; try again in {retry_after_s} seconds"
    )]
    TooManyMails { retry_after_s: u64 },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<deputy_core::CommandError> for AuthError {
    fn from(e: deputy_core::CommandError) -> Self {
        AuthError::Service(e.into())
    }
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
    /// The principal's status serial when the session began: a session from before a
    /// status change is refused (R23).
    #[serde(default)]
    pub status_serial: u32,
}

/// What an invitation's or reset's row `data` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct LinkData {
    /// The principal's status serial when the link was made: any status change since
    /// kills it (R12, R13).
    #[serde(default)]
    status_serial: u32,
}

fn encode<T: Serialize>(value: &T) -> Result<String, AuthError> {
    Ok(serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))?)
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
                    sessionless: false,
                },
            },
            _ => Actor::Principal {
                id: self.principal,
                ctx: Context {
                    switched: self.data.switched.map(deputy_core::TenantId),
                    impersonation: None,
                    sessionless: false,
                },
            },
        }
    }
}

impl Caller {
    /// The principal the session acts as: the target while impersonating (R48), else the
    /// principal signed in.
    pub fn acting_principal(&self) -> PrincipalId {
        self.data.impersonating.map_or(self.principal, PrincipalId)
    }

    /// The tenant the session acts in: while impersonating, the target's home, where the
    /// target acts (R48, R51 step 2: as in the target's home session); else the client
    /// switched into (R43), or home. One answer for `/v1/me`, the session answers and the
    /// portal.
    pub fn acting_tenant(&self, s: &deputy_core::State) -> Option<deputy_core::TenantId> {
        if let Some(target) = self.data.impersonating {
            return s.principal(PrincipalId(target)).map(|p| p.home);
        }
        self.data
            .switched
            .map(deputy_core::TenantId)
            .or_else(|| s.principal(self.principal).map(|p| p.home))
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
    /// Every password hash and verification goes through it (R15).
    hasher: Hasher,
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

/// The principal id of the decoy password row (R15): beyond any id a principal gets.
const DECOY_PASSWORD_ROW: u32 = u32::MAX;

impl<S: Store + SecretStore> Auth<S> {
    pub fn new(deputy: Arc<Deputy<S>>, settings: AuthSettings) -> Result<Self, AuthError> {
        let hasher = Hasher::new(settings.hash_cost, settings.hash_limits);
        let dummy_phc = hasher.permit()?.hash(&passwords::generate()?)?;
        // R15: an unknown logon reads this decoy row, a real row found like anyone's, so
        // that a miss is not faster than a hit. Its hash is of a random password nobody
        // holds, and no principal has its id.
        deputy.store().put_password(&PasswordRow {
            principal: DECOY_PASSWORD_ROW,
            phc: dummy_phc.clone(),
            must_change: false,
            changed_ms: 0,
        })?;
        Ok(Auth { deputy, settings, hasher, dummy_phc, credentials: RwLock::new(HashMap::new()) })
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

    /// The back-off and lock thresholds for a counter key.
    fn limits(&self, key: &str) -> (u32, u32) {
        let s = &self.settings;
        if key.starts_with("source:") {
            (s.source_backoff_after, s.source_lock_after)
        } else {
            (s.backoff_after, s.lock_after)
        }
    }

    /// Counts a sign-in attempt under `key` before its password is verified (R16), and
    /// says whether it may succeed: free for the first few, then an exponential back-off
    /// from the attempt before, then a lock. The count is atomic in the store, so of
    /// parallel guesses each sees the ones before it, and a restart or another replica
    /// counts on. Returns whether it may succeed, and the count.
    fn attempt(&self, key: &str, now: i64) -> Result<(bool, u32), AuthError> {
        let (backoff_after, lock_after) = self.limits(key);
        let s = &self.settings;
        let AttemptCount { count, previous_ms } =
            self.store().count_sign_in_attempt(key, now, lock_after, s.lock_ms)?;
        let Some(previous) = previous_ms else { return Ok((true, count)) };
        let before = count.saturating_sub(1);
        let allowed = if before >= lock_after {
            // The store starts over once a lock ran out, so this one still holds.
            false
        } else if before >= backoff_after {
            let exponent = (before - backoff_after).min(10);
            now >= previous + (1_000i64 << exponent).min(s.lock_ms)
        } else {
            true
        };
        Ok((allowed, count))
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
        let subject = subject.map(|p| p.to_string());
        self.append_entry(action, subject, tenant, source)
    }

    /// A failed sign-in's entry (R21), of the same shape whether or not the logon exists
    /// (R15: the same writes, down to the indexes): an unknown logon's names the subject
    /// `unknown` in the root tenant, where the operator reviews such attempts.
    fn audit_failure(
        &self,
        action: &str,
        subject: Option<PrincipalId>,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        if subject.is_some() {
            return self.audit(action, subject, source);
        }
        let root = self.deputy.snapshot().root().map(|t| t.to_string());
        self.append_entry(action, Some(UNKNOWN_LOGON.to_owned()), root, source)
    }

    /// An activity entry whose actor is its subject (sign-in and credential events).
    fn append_entry(
        &self,
        action: &str,
        subject: Option<String>,
        tenant: Option<String>,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        self.store().append_activity(&[NewActivity {
            at_ms: self.deputy.now(),
            action: action.to_owned(),
            actor: subject.clone(),
            subject,
            tenant,
            acting_as: "[]".to_owned(),
            source: source.map(str::to_owned),
            details: "{}".to_owned(),
        }])?;
        Ok(())
    }

    /// Password sign-in (R15, R16, R17). `source` is the client address (after the trusted
    /// proxy rules). Every sign-in makes a new session (R23).
    ///
    /// An unknown logon, a locked or throttled account and a wrong password answer alike
    /// and do the same work: a hashing permit, two counted attempts, one password read, one
    /// verification (a dummy hash for unknown logons) and one activity entry (R15).
    pub fn sign_in(
        &self,
        logon: &str,
        password: &str,
        source: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        // R15: a permit first, so a burst is refused before it costs memory or a count.
        let mut permit = self.hasher.permit().inspect_err(|_| {
            self.deputy.telemetry().sign_in_failed(SignInFailure::Busy);
        })?;
        let now = self.deputy.now();
        let logon_key = Self::failure_key(logon);
        let source_key = source.map(|s| format!("source:{s}"));
        // R16: counted before the password is verified, so parallel guesses cannot pass.
        let (logon_allowed, logon_count) = self.attempt(&logon_key, now)?;
        let source_allowed = match source_key.as_deref() {
            Some(k) => self.attempt(k, now)?.0,
            None => true,
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
        // The same read for unknown logons: of the decoy row, found as a real one is.
        let stored = self.store().password(password_of.map_or(DECOY_PASSWORD_ROW, |id| id.0))?;
        let matches = permit.verify(password, stored.as_ref().map_or(&self.dummy_phc, |r| &r.phc));
        let can_sign_in = principal.is_some_and(|p| {
            p.status == Status::Active
                && s.tenant(p.home).is_some_and(|t| !t.blocked)
                && p.owner()
                    .is_none_or(|o| s.principal(o).is_some_and(|o| o.status == Status::Active))
        });
        let stored = stored.filter(|_| matches && can_sign_in && logon_allowed && source_allowed);
        match (principal, stored) {
            (Some(p), Some(stored)) => {
                // A success clears this account's own count and takes back its own attempt
                // from the address, never the address's failures on other accounts.
                self.clear(&logon_key)?;
                if let Some(k) = &source_key {
                    self.store().forgive_sign_in_attempt(k)?;
                }
                // R15: a hash made with weaker parameters is replaced while we know the
                // password (on the row it came from: the owner's, for a linked delegate).
                if passwords::needs_rehash(&stored.phc, self.settings.hash_cost) {
                    let phc = permit.hash(password)?;
                    self.store().put_password(&PasswordRow { phc, ..stored.clone() })?;
                }
                drop(permit);
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
                drop(permit);
                let why = if found.is_none() {
                    SignInFailure::UnknownLogon
                } else if !(logon_allowed && source_allowed) {
                    SignInFailure::Throttled
                } else if !matches {
                    SignInFailure::WrongPassword
                } else {
                    SignInFailure::CannotSignIn
                };
                self.deputy.telemetry().sign_in_failed(why);
                let subject = found.map(|p| p.id);
                self.audit_failure("auth.sign_in_failed", subject, source)?;
                if logon_count == self.settings.lock_after {
                    self.audit_failure("auth.locked", subject, source)?;
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
        // A session reflects the status it was made in (R23).
        let status_serial =
            self.deputy.snapshot().principal(principal).map_or(0, |p| p.status_serial);
        let data = SessionData { status_serial, ..data };
        let (token, hash) = tokens::new_token().map_err(|e| StoreError::Backend(e.to_string()))?;
        let encoded = encode(&data)?;
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
            p.status == Status::Active
                && s.tenant(p.home).is_some_and(|t| !t.blocked)
                && (row.kind != SecretKind::Session || p.status_serial == data.status_serial)
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
            p.status == Status::Active
                && s.tenant(p.home).is_some_and(|t| !t.blocked)
                && (row.kind != SecretKind::Session || p.status_serial == cached.data.status_serial)
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

    /// Ends what dies with a committed status change of `principal` (R23, R12, R13, R20,
    /// R36: [`lifecycle::revoke_after_status_change`]), in the store and in this process's
    /// credential cache. The operations that change a status call it after their commit.
    pub fn end_secrets_after_status_change(&self, principal: PrincipalId) -> Result<(), AuthError> {
        let revoked = lifecycle::revoke_after_status_change(&self.deputy, principal)?;
        revoked.into_iter().for_each(|p| self.forget_principal(p));
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
        // `sub` is the target while impersonating: its home, and the session's one acting
        // tenant (what /v1/me and the session answers say too).
        let sub = caller.data.impersonating.map_or(caller.principal, PrincipalId);
        let home = s.principal(sub).map(|p| p.home).ok_or(AuthError::Unauthenticated)?;
        let acting = caller.acting_tenant(&s).unwrap_or(home);
        let origin = self.settings.public_origin.trim_end_matches('/');
        Ok(crate::access_tokens::issue(
            self.store(),
            caller,
            crate::access_tokens::TokenTenants { home, acting },
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

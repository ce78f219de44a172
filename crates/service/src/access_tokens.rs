//! Short-lived signed access tokens for sessions (R71): JWTs signed with Ed25519 (EdDSA),
//! keys published as a JWKS, rotated without downtime.
//!
//! Rotation: a new key is published in the JWKS at once but signs only from
//! `activates_ms` (after `publish_ahead_ms`), so verifiers that cache the JWKS learn it
//! before they meet it; the key it replaces stays published until every token it signed
//! has expired. Keys live in the store, so every replica signs and publishes the same.

use crate::auth::Caller;
use crate::deputy::ServiceError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deputy_core::{PrincipalId, TenantId};
use deputy_store::StoreError;
use deputy_store::secrets::{SecretStore, SigningKeyRow};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::{Deserialize, Serialize};

/// The longest an access token lives (R71: at most five minutes).
pub const TOKEN_TTL_MS: i64 = 5 * 60_000;

/// The `act` claim of RFC 8693: who really acts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Act {
    pub sub: String,
}

/// What an access token asserts: identity, never permissions (R71).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The principal acting (the impersonated one while impersonating).
    pub sub: String,
    /// `sub`'s home tenant.
    pub tenant: String,
    /// Where the session acts: home, or the client switched into.
    pub acting_tenant: String,
    /// The session (an opaque handle, not its secret).
    pub sid: String,
    /// The deployment epoch (R66).
    pub epoch: String,
    pub iat: i64,
    pub exp: i64,
    /// For switched or impersonated sessions: the real actor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Act>,
}

/// An access token and when it expires.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in_s: i64,
}

fn store_error(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Store(StoreError::Backend(e.to_string()))
}

/// Makes a new key (published now, signing from `activates_ms`).
pub fn new_key(now_ms: i64, activates_ms: i64) -> Result<SigningKeyRow, ServiceError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(store_error)?;
    let key = SigningKey::from_bytes(&seed);
    let der = key.to_pkcs8_der().map_err(store_error)?;
    let mut kid_bytes = [0u8; 9];
    getrandom::fill(&mut kid_bytes).map_err(store_error)?;
    Ok(SigningKeyRow {
        kid: URL_SAFE_NO_PAD.encode(kid_bytes),
        created_ms: now_ms,
        activates_ms,
        retired_ms: None,
        private_der: der.as_bytes().to_vec(),
    })
}

/// Ensures a key exists and rotates when the signing key is older than `rotate_after_ms`;
/// forgets keys retired longer ago than a token lives. Safe to run on every replica: at
/// worst two replicas add a key each, and both are published.
pub fn maintain_keys(
    store: &impl SecretStore,
    now_ms: i64,
    rotate_after_ms: i64,
    publish_ahead_ms: i64,
) -> Result<(), ServiceError> {
    let keys = store.signing_keys()?;
    let newest = keys.iter().filter(|k| k.retired_ms.is_none()).max_by_key(|k| k.created_ms);
    match newest {
        None => store.insert_signing_key(&new_key(now_ms, now_ms)?)?,
        Some(k) if now_ms - k.created_ms >= rotate_after_ms => {
            store.insert_signing_key(&new_key(now_ms, now_ms + publish_ahead_ms)?)?;
        }
        Some(_) => {}
    }
    // Once a newer key signs, the keys before it stop signing and are retired (keys
    // still waiting for their activation are not touched).
    let keys = store.signing_keys()?;
    if let Some(active) = signing_key(&keys, now_ms) {
        for k in keys.iter().filter(|k| {
            k.kid != active.kid && k.retired_ms.is_none() && k.activates_ms <= active.activates_ms
        }) {
            store.retire_signing_key(&k.kid, now_ms)?;
        }
    }
    store.delete_signing_keys_retired_before(now_ms - 2 * TOKEN_TTL_MS)?;
    Ok(())
}

/// The key that signs now: the newest whose activation has passed.
fn signing_key(keys: &[SigningKeyRow], now_ms: i64) -> Option<&SigningKeyRow> {
    keys.iter().filter(|k| k.activates_ms <= now_ms).max_by_key(|k| (k.activates_ms, k.created_ms))
}

/// The tenants a token names: `sub`'s home, and where the session acts (the target's home
/// while impersonating, the client when switched; R48, R51 step 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTenants {
    pub home: TenantId,
    pub acting: TenantId,
}

/// Signs an access token for a session.
pub fn issue(
    store: &impl SecretStore,
    caller: &Caller,
    tenants: TokenTenants,
    issuer: &str,
    audience: &str,
    epoch: u64,
    now_ms: i64,
) -> Result<AccessToken, ServiceError> {
    let keys = store.signing_keys()?;
    let key = signing_key(&keys, now_ms)
        .ok_or_else(|| store_error("no signing key yet: the server creates one at start"))?;
    let real = caller.principal;
    let (sub, act) = match caller.data.impersonating {
        Some(target) => (PrincipalId(target), Some(Act { sub: real.to_string() })),
        None if caller.data.switched.is_some() => (real, Some(Act { sub: real.to_string() })),
        None => (real, None),
    };
    let claims = Claims {
        iss: issuer.to_owned(),
        aud: audience.to_owned(),
        sub: sub.to_string(),
        tenant: tenants.home.to_string(),
        acting_tenant: tenants.acting.to_string(),
        // A handle derived from the session's hash: never the session secret itself.
        sid: caller.secret_hash.chars().take(16).collect(),
        epoch: format!("{epoch:x}"),
        iat: now_ms / 1000,
        exp: (now_ms + TOKEN_TTL_MS) / 1000,
        act,
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(&key.private_der),
    )
    .map_err(store_error)?;
    Ok(AccessToken { token, expires_in_s: TOKEN_TTL_MS / 1000 })
}

/// A public key as a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

/// The JWKS: every key that signs, will sign, or signed tokens that may still be valid.
pub fn jwks(store: &impl SecretStore) -> Result<Vec<Jwk>, ServiceError> {
    store
        .signing_keys()?
        .iter()
        .map(|k| {
            let key = SigningKey::from_pkcs8_der(&k.private_der).map_err(store_error)?;
            Ok(Jwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                x: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
                kid: k.kid.clone(),
                alg: "EdDSA".into(),
                use_: "sig".into(),
            })
        })
        .collect()
}

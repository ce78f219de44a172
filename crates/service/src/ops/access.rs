//! Access codes (R37a) and the catalog of permissions and roles (R25).

use super::{Asker, names, run};
use crate::auth::{Auth, AuthError};
use crate::{Committed, ServiceError};
use deputy_core::commands::access::Redemption;
use deputy_core::{AccessCodeId, CommandError, TenantId};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// An access code just issued: shown this once, stored only as its hash.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub id: AccessCodeId,
    pub code: String,
    pub tenant: TenantId,
}

/// Issues an access code for `tenant` giving `roles` to whoever redeems it, valid for
/// `days` (1–365, 30 when not given).
pub fn issue_code<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    roles: &[String],
    days: Option<i64>,
) -> Result<Committed<IssuedCode>, AuthError> {
    let days = days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(ServiceError::from(CommandError::invalid("days", "between 1 and 365")).into());
    }
    let (code, hash) = crate::tokens::new_token()
        .map_err(|e| ServiceError::Store(deputy_store::StoreError::Backend(e.to_string())))?;
    let expires_at = ctx.deputy().now() + days * 86_400_000;
    run(ctx, by, |tx| {
        let s = tx.state();
        let t = names::tenant(s, tenant, "id")?;
        let roles = names::roles(s, roles, "roles")?;
        let id = tx.issue_access_code(t, roles, hash.clone(), expires_at)?;
        Ok(IssuedCode { id, code: code.clone(), tenant: t })
    })
}

/// Redeems an access code: its roles go to the asker, or to the owner of the secondary
/// logon that redeems it (R37a).
pub fn redeem_code<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    code: &str,
) -> Result<Committed<Redemption>, AuthError> {
    let hash = crate::tokens::hash_token(code.trim());
    run(ctx, by, |tx| tx.redeem_access_code(&hash))
}

/// The entity tag of a catalog's text: what a change must name to replace it (R25).
pub fn catalog_etag(source: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(source.as_bytes());
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// Whether an `If-Match`-style list holds `etag` (strong comparison; `*` holds any).
pub fn etag_matches(expected: &str, etag: &str) -> bool {
    expected.split(',').map(str::trim).any(|tag| tag == "*" || tag == etag)
}

/// Replaces the catalog (R25: `catalog.manage` in the root; cycles refused; existing ids
/// kept), only if `expected` names the catalog being replaced (its [`catalog_etag`], or
/// `*`): decided on the state the change is made on, so two racing editors cannot both
/// pass. A mismatch is a conflict blaming `If-Match`.
pub fn change_catalog<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    expected: &str,
    toml: &str,
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        if !etag_matches(expected, &catalog_etag(&tx.state().catalog.source)) {
            return Err(CommandError::conflict(
                Some("R25"),
                Some("If-Match"),
                "the catalog changed since this `ETag` was read; read it again",
            ));
        }
        tx.change_catalog(toml)
    })
}

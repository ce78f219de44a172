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

/// A pending change to preview (R67), by the names a caller types.
#[derive(Debug, Clone)]
pub enum PendingChange {
    Deactivate {
        principal: String,
    },
    Cancel {
        principal: String,
    },
    Unassign {
        principal: String,
        assignment: String,
    },
    RevokeGrant {
        grant: String,
    },
    /// New terms for a grant (R40): narrowing shows who loses, widening who gains.
    ChangeGrant {
        grant: String,
        terms: super::partners::TermsSpec,
    },
    PlaceInGroup {
        group: String,
        tenant: String,
    },
}

/// Who would gain or lose which access if `change` were made: decided by the engine as
/// the asker on the newest state, compared within `budget` (R73), never committed (R67).
/// Returns the difference and the revision it was computed on.
pub fn what_if<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    change: &PendingChange,
    budget: std::time::Duration,
) -> Result<(deputy_core::review::AccessDiff, u64), AuthError> {
    let d = ctx.deputy();
    let answer = match change {
        PendingChange::Deactivate { principal } => d.what_if(by.actor, budget, |tx| {
            let p = names::principal(tx.state(), principal, "principal")?;
            tx.set_status(p, deputy_core::Status::Deactivated, None)
        }),
        PendingChange::Cancel { principal } => d.what_if(by.actor, budget, |tx| {
            let p = names::principal(tx.state(), principal, "principal")?;
            tx.cancel(p)
        }),
        PendingChange::Unassign { principal, assignment } => {
            let a = names::assignment(assignment, "assignment")?;
            d.what_if(by.actor, budget, |tx| {
                let p = names::principal(tx.state(), principal, "principal")?;
                tx.unassign(p, a)
            })
        }
        PendingChange::RevokeGrant { grant } => {
            let g = names::grant(grant, "grant")?;
            d.what_if(by.actor, budget, |tx| tx.revoke_grant(g))
        }
        PendingChange::ChangeGrant { grant, terms } => {
            let g = names::grant(grant, "grant")?;
            d.what_if(by.actor, budget, |tx| {
                let terms = terms.resolve(tx.state())?;
                tx.change_grant(g, terms)
            })
        }
        PendingChange::PlaceInGroup { group, tenant } => d.what_if(by.actor, budget, |tx| {
            let g = names::group(tx.state(), group, "group")?;
            let t = names::tenant(tx.state(), tenant, "tenant")?;
            tx.place_in_group(g, t)
        }),
    };
    Ok(answer?)
}

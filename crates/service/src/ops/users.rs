//! Principals (R10–R24, R34–R38): users, service accounts and secondary logons created,
//! changed, invited, reset, unlocked, activated, deactivated and cancelled, and the API
//! keys of service accounts. What dies with a status change dies here, for every shell.

use super::{Asker, names, run};
use crate::auth::{Auth, AuthError};
use crate::{Committed, ServiceError};
use deputy_core::commands::users::{NewDelegate, NewUser, ProfileUpdate};
use deputy_core::{CommandError, PrincipalId, Status};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;

/// A new user, by the names a caller types.
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    /// Roles in its home tenant (R19: none given, the tenant's default role).
    pub roles: Vec<String>,
}

/// A first password for a new user.
#[derive(Debug, Clone)]
pub enum NewPassword {
    /// Deputy makes one up and answers it, once.
    Generate,
    Given(String),
}

/// How a new user first gets in (R12).
#[derive(Debug, Clone)]
pub enum FirstAccess {
    /// Not yet: pending until someone sends the invitation.
    Pending,
    /// The invitation mail goes out now.
    Invitation,
    /// Active at once with a password (R14: changed at first sign-in if `must_change`).
    Password { password: NewPassword, must_change: bool },
    /// Active with no password yet (the console, for accounts set up by a reset later).
    Active,
}

/// A user just created, with its generated password when one was asked for (shown once).
#[derive(Debug)]
pub struct UserCreated {
    pub committed: Committed<PrincipalId>,
    pub generated_password: Option<String>,
}

/// Creates a user in `tenant` (R10, R19, R27: `users.create` there). A given password is
/// judged (R14) before anything changes.
pub fn create_user<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    spec: UserSpec,
    access: FirstAccess,
) -> Result<UserCreated, AuthError> {
    let password = match &access {
        FirstAccess::Password { password: NewPassword::Generate, .. } => {
            Some((crate::passwords::generate().map_err(AuthError::Password)?, true))
        }
        FirstAccess::Password { password: NewPassword::Given(v), .. } => {
            let names = [spec.first_name.as_str(), spec.last_name.as_str()];
            let context = crate::passwords::PasswordContext {
                logon: &spec.logon,
                email: &spec.email,
                other_inputs: &names,
            };
            crate::passwords::validate_for(v, &context)?;
            Some((v.clone(), false))
        }
        _ => None,
    };
    let status = match access {
        FirstAccess::Password { .. } | FirstAccess::Active => Status::Active,
        FirstAccess::Pending | FirstAccess::Invitation => Status::Pending,
    };
    let mut committed = run(ctx, by, |tx| {
        let s = tx.state();
        let home = names::tenant(s, tenant, "id")?;
        let roles = spec
            .roles
            .iter()
            .map(|r| crate::resolve::role(s, r).map_err(|e| CommandError::invalid("roles", e.0)))
            .collect::<Result<Vec<_>, _>>()?;
        tx.create_user(NewUser {
            home,
            logon: spec.logon.clone(),
            first_name: spec.first_name.clone(),
            last_name: spec.last_name.clone(),
            email: spec.email.clone(),
            phone: spec.phone.clone(),
            roles,
            status,
        })
    })?;
    let mut generated_password = None;
    match (password, access) {
        (Some((value, was_generated)), FirstAccess::Password { must_change, .. }) => {
            ctx.set_password(committed.output, &value, must_change)?;
            generated_password = was_generated.then_some(value);
        }
        (_, FirstAccess::Invitation) => {
            ctx.invite(by.actor, committed.output, by.source)?;
            committed.revision = ctx.deputy().snapshot().revision;
        }
        _ => {}
    }
    Ok(UserCreated { committed, generated_password })
}

/// Creates a service account in `tenant` (R24: `users.create` there); it gets roles and
/// API keys next.
pub fn create_service_account<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    tenant: &str,
    name: &str,
    description: &str,
) -> Result<Committed<PrincipalId>, AuthError> {
    run(ctx, by, |tx| {
        let t = names::tenant(tx.state(), tenant, "id")?;
        tx.create_service_account(t, name.to_owned(), description.to_owned())
    })
}

/// What a secondary logon may act for, by name (R35, R38).
#[derive(Debug, Clone, Default)]
pub struct DelegateAccess {
    /// The owner's groups it may act for; none: Full Access (R35).
    pub groups: Option<Vec<String>>,
    /// Resource kinds; none: all (R38).
    pub kinds: Option<Vec<String>>,
    /// Narrowing roles; none: everything the owner may.
    pub roles: Vec<String>,
}

/// A new secondary logon.
#[derive(Debug, Clone, Default)]
pub struct DelegateSpec {
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub access: DelegateAccess,
    /// Signs in with the owner's password (R17).
    pub linked_password: bool,
}

/// Creates a secondary logon of `owner` (R34): by its owner, or by a holder of
/// `users.create` who outranks the owner. It gets its set-password mail (R12) unless its
/// password is linked (R17).
pub fn create_delegate<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    owner: &str,
    spec: DelegateSpec,
) -> Result<Committed<PrincipalId>, AuthError> {
    let mut committed = run(ctx, by, |tx| {
        let s = tx.state();
        let a = &spec.access;
        tx.create_delegate(NewDelegate {
            owner: names::principal(s, owner, "id")?,
            logon: spec.logon.clone(),
            first_name: spec.first_name.clone(),
            last_name: spec.last_name.clone(),
            email: spec.email.clone(),
            groups: names::groups(s, a.groups.as_deref(), "groups")?,
            kinds: names::kinds(s, a.kinds.as_deref(), "kinds")?,
            roles: names::roles(s, &a.roles, "roles")?,
            linked_password: spec.linked_password,
        })
    })?;
    let inactive = ctx
        .deputy()
        .snapshot()
        .principal(committed.output)
        .is_some_and(|p| p.status != Status::Active);
    if !spec.linked_password && inactive {
        ctx.invite(by.actor, committed.output, by.source)?;
        committed.revision = ctx.deputy().snapshot().revision;
    }
    Ok(committed)
}

/// Changes what a secondary logon may act for (R35, R38, "Change Access").
pub fn set_delegate_access<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    delegate: &str,
    access: &DelegateAccess,
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        let s = tx.state();
        let d = names::principal(s, delegate, "id")?;
        let groups = names::groups(s, access.groups.as_deref(), "groups")?;
        let kinds = names::kinds(s, access.kinds.as_deref(), "kinds")?;
        let roles = names::roles(s, &access.roles, "roles")?;
        tx.set_delegate_access(d, groups, kinds, roles)
    })
}

/// Changes a principal's profile: its own, or one it manages (R18, R28).
pub fn update_profile<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
    update: ProfileUpdate,
) -> Result<Committed<()>, AuthError> {
    run(ctx, by, |tx| {
        let p = names::principal(tx.state(), principal, "id")?;
        tx.update_profile(p, update.clone())
    })
}

/// Activates or deactivates a principal (R11, R28). Its sessions and pending links end at
/// once (R23, R12, R13), and its delegates' sessions with them (R36).
pub fn set_status<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
    status: Status,
    reason: Option<String>,
) -> Result<Committed<PrincipalId>, AuthError> {
    let committed = run(ctx, by, |tx| {
        let p = names::principal(tx.state(), principal, "id")?;
        tx.set_status(p, status, reason.clone()).map(|()| p)
    })?;
    ctx.end_secrets_after_status_change(committed.output)?;
    Ok(committed)
}

/// Cancels a principal (terminal, R20) and its delegates (R36); every secret of theirs
/// ends, API keys too.
pub fn cancel<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
) -> Result<Committed<PrincipalId>, AuthError> {
    let committed = run(ctx, by, |tx| {
        let p = names::principal(tx.state(), principal, "id")?;
        tx.cancel(p).map(|()| p)
    })?;
    ctx.end_secrets_after_status_change(committed.output)?;
    Ok(committed)
}

/// A principal the asker may see (R58), else the answer for a missing one.
fn visible<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
) -> Result<PrincipalId, AuthError> {
    let s = ctx.deputy().snapshot();
    let missing = || {
        AuthError::from(ServiceError::from(CommandError::unknown(
            "id",
            format!("no principal `{principal}`"),
        )))
    };
    let p = s
        .principal(names::principal(&s, principal, "id").map_err(|_| missing())?)
        .ok_or_else(missing)?;
    let sees = s
        .decide(by.actor, ctx.deputy().now(), |tx| Ok(tx.visible_principal(p)))
        .is_ok_and(|d| d.output);
    if sees { Ok(p.id) } else { Err(missing()) }
}

/// Sends (or resends: the older link dies) the invitation mail (R12). Returns the
/// address it went to.
pub fn invite<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
) -> Result<String, AuthError> {
    let p = visible(ctx, by, principal)?;
    let email =
        ctx.deputy().snapshot().principal(p).map(|p| p.email.to_string()).unwrap_or_default();
    ctx.invite(by.actor, p, by.source)?;
    Ok(email)
}

/// Mails the principal a password reset link (R13), by a holder of `users.modify` over
/// it. Returns the address it went to.
pub fn reset_password<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
) -> Result<String, AuthError> {
    let s = ctx.deputy().snapshot();
    let p = names::principal(&s, principal, "id").map_err(ServiceError::from)?;
    let email = s.principal(p).map(|p| p.email.to_string()).unwrap_or_default();
    ctx.reset_by_admin(by.actor, p, by.source)?;
    Ok(email)
}

/// Lifts a sign-in lock (R16), by a holder of `users.modify` over the principal.
pub fn unlock<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    principal: &str,
) -> Result<(), AuthError> {
    let p =
        names::principal(&ctx.deputy().snapshot(), principal, "id").map_err(ServiceError::from)?;
    ctx.unlock_by_admin(by.actor, p, by.source)
}

/// Creates an API key for a service account (R24: `keys.manage` in its home tenant).
/// Returns the key, shown this once; only its hash is kept.
pub fn create_api_key<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    account: &str,
    name: &str,
    expires_at: Option<i64>,
) -> Result<String, AuthError> {
    let a =
        names::principal(&ctx.deputy().snapshot(), account, "id").map_err(ServiceError::from)?;
    ctx.create_api_key(by.actor, a, name, expires_at)
}

/// Revokes one API key of a service account by the id its list shows (R24). A key the
/// asker may not manage answers as a missing one.
pub fn revoke_api_key<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    account: &str,
    key: &str,
) -> Result<(), AuthError> {
    let missing = || {
        AuthError::from(ServiceError::from(CommandError::unknown(
            "key",
            format!("no API key `{key}` of `{account}`"),
        )))
    };
    let s = ctx.deputy().snapshot();
    let a = crate::resolve::principal(&s, account).map_err(|_| missing())?;
    if !may_manage_keys(ctx, by, a) || key.len() != 16 {
        return Err(missing());
    }
    if ctx.revoke_api_key(a, key)? { Ok(()) } else { Err(missing()) }
}

/// Whether the asker holds `keys.manage` in the account's home tenant (R24).
pub fn may_manage_keys<S: Store + SecretStore>(
    ctx: &Auth<S>,
    by: Asker<'_>,
    account: PrincipalId,
) -> bool {
    let s = ctx.deputy().snapshot();
    let Some(p) = s.principal(account) else { return false };
    s.decide(by.actor, ctx.deputy().now(), |tx| {
        Ok(tx.may(deputy_core::perms::KEYS_MANAGE, deputy_core::Target::Tenant(p.home)))
    })
    .is_ok_and(|d| d.output)
}

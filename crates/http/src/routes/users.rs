//! Users and other principals over HTTP: the caller itself, one principal, a tenant's
//! principals, new users and service accounts, invitations, status, cancellation,
//! password resets and unlocks. Secondary logons, API keys and profiles are its children.

use super::created::{Created, created};
use super::paging::{Page, PageParams, page};
use super::refs::{PrincipalRef, ScopeRef, TenantRef};
use super::{ApiJson, ApiQuery, blocking, op, written};
use crate::caller::{Authed, CallerMustChange, Source};
use crate::openapi::{ErrorsOfHashing, ErrorsOfMail, ErrorsOfRead, ErrorsOfSession, ErrorsOfWrite};
use crate::problem::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use deputy_core::{Principal, PrincipalId, PrincipalKind, State as Snapshot, Status};
use deputy_service::auth::AuthError;
use deputy_service::ops::users::{FirstAccess, NewPassword, UserSpec};
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod api_keys;
pub use api_keys::*;
mod delegates;
pub use delegates::*;
mod profile;
pub use profile::*;

/// A principal as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PrincipalView {
    pub id: String,
    /// `user`, `delegate` or `service_account`.
    pub kind: String,
    /// A delegate's owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<PrincipalRef>,
    pub home: TenantRef,
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub email_verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `pending`, `invited`, `active`, `deactivated` or `cancelled` (R11).
    pub status: String,
    /// Why the status last changed, when a reason was given or the system changed it
    /// (R44: "replaced by partner access").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// A secondary logon's access (R35, R38, R39): Full Access or what limits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<DelegateAccessView>,
    pub description: String,
    /// Only for callers who may manage the principal (R18).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_description: Option<String>,
    /// Holds `admin` in its home tenant: shown with a crown (R7).
    pub admin: bool,
    /// The home tenant's contact person (R4).
    pub contact: bool,
    /// What it was given (R32).
    pub assignments: Vec<AssignmentView>,
}

/// What a secondary logon may act for (R35, R38, R39).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DelegateAccessView {
    /// `full` (Full Access: every group of its owner, every kind, no narrowing roles) or
    /// `limited` (R39).
    #[serde(rename = "type")]
    pub access_type: String,
    /// The owner's groups it may act for; absent: all of them, present and future.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRef>>,
    /// The resource kinds it may act on; absent: all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<String>>,
    /// Narrowing roles: when any, it may do only what these hold.
    pub roles: Vec<String>,
    /// Signs in with its owner's password (R17).
    pub linked_password: bool,
}

/// A security group named by its id and name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
}

impl DelegateAccessView {
    fn of(s: &Snapshot, d: &deputy_core::DelegateAccess) -> DelegateAccessView {
        use deputy_core::{GroupAccess, KindAccess};
        let groups = match &d.groups {
            GroupAccess::Full => None,
            GroupAccess::Groups(gs) => Some(
                gs.iter()
                    .map(|g| GroupRef {
                        id: g.to_string(),
                        name: s.group(*g).map_or_else(String::new, |g| g.name.clone()),
                    })
                    .collect::<Vec<_>>(),
            ),
        };
        let kinds = match &d.kinds {
            KindAccess::All => None,
            KindAccess::Kinds(ks) => {
                Some(ks.iter().map(|k| s.catalog.kind_name(*k).to_owned()).collect::<Vec<_>>())
            }
        };
        let full = groups.is_none() && kinds.is_none() && d.roles.is_empty();
        DelegateAccessView {
            access_type: if full { "full" } else { "limited" }.to_owned(),
            groups,
            kinds,
            roles: d.roles.iter().map(|r| s.catalog.role_name(*r).to_owned()).collect(),
            linked_password: d.linked_password,
        }
    }
}

/// A role or permission given to a principal, and where it holds (R32).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<String>,
    /// Where it holds: `{type, id, key}` for a tenant (with `subtree`), resource or client
    /// tenant, `{type: group, id, name}` for a partner's security group.
    pub target: ScopeRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl AssignmentView {
    fn of(s: &Snapshot, a: &deputy_core::Assignment) -> AssignmentView {
        use deputy_core::Bundle;
        let (role, permission) = match a.bundle {
            Bundle::Role(r) => (Some(s.catalog.role_name(r).to_owned()), None),
            Bundle::Permission(x) => (None, Some(s.catalog.perm_name(x).to_owned())),
        };
        AssignmentView {
            id: a.id.to_string(),
            role,
            permission,
            target: ScopeRef::of(s, a.scope),
            expires_at: a.expires_at,
        }
    }
}

impl PrincipalView {
    pub(crate) fn of(s: &Snapshot, p: &Principal, show_internal: bool) -> PrincipalView {
        let admin = s.catalog.role_id("admin").is_some_and(|admin| {
            p.assignments.iter().any(|a| {
                a.bundle == deputy_core::Bundle::Role(admin)
                    && matches!(a.scope, deputy_core::Scope::Tenant { tenant, .. } if tenant == p.home)
            })
        });
        PrincipalView {
            id: p.id.to_string(),
            kind: match p.kind {
                PrincipalKind::User => "user",
                PrincipalKind::Delegate { .. } => "delegate",
                PrincipalKind::ServiceAccount => "service_account",
            }
            .to_owned(),
            owner: p.owner().map(|o| PrincipalRef::of(s, o)),
            home: TenantRef::of(s, p.home),
            logon: p.logon.to_string(),
            first_name: p.first_name.to_string(),
            last_name: p.last_name.to_string(),
            email: p.email.to_string(),
            email_verified: p.email_verified,
            phone: p.phone.as_deref().map(str::to_owned),
            status: p.status.as_str().to_owned(),
            status_reason: p.status_reason.as_deref().map(str::to_owned),
            access: p.delegate.as_deref().map(|d| DelegateAccessView::of(s, d)),
            description: p.description.to_string(),
            internal_description: show_internal.then(|| p.internal_description.to_string()),
            admin,
            contact: s.tenant(p.home).is_some_and(|t| t.contact == Some(p.id)),
            assignments: p.assignments.iter().map(|a| AssignmentView::of(s, a)).collect(),
        }
    }
}

/// The view of a principal a write just changed, on the state it made.
fn principal_view(app: &AppState, id: PrincipalId) -> Result<PrincipalView, ApiError> {
    let s = app.deputy().snapshot();
    let p = s.principal(id).ok_or_else(|| ApiError::not_found("no such principal"))?;
    Ok(PrincipalView::of(&s, p, true))
}

fn principal_id(s: &Snapshot, text: &str) -> Result<PrincipalId, ApiError> {
    resolve::principal(s, text).map_err(|_| ApiError::not_found(format!("no principal `{text}`")))
}

/// The signed-in principal and its session: where it acts, and whom it impersonates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub principal: PrincipalView,
    /// The tenant the session acts in: home, or the client switched into (R43); while
    /// impersonating, the target's home, where the target acts (R48).
    pub acting_tenant: TenantRef,
    /// While impersonating (R48): the principal acted as. The banner says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonating: Option<PrincipalView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonation_expires_at: Option<i64>,
    pub must_change_password: bool,
}

/// The calling principal (also while a password change is due) and its session.
#[utoipa::path(get, path = "/v1/me", tag = "principals", responses(
    (status = 200, description = "the caller and its session", body = MeView),
    ErrorsOfSession))]
pub async fn me(
    State(app): State<AppState>,
    CallerMustChange(caller): CallerMustChange,
) -> Result<Json<MeView>, ApiError> {
    let s = app.deputy().snapshot();
    let p = s.principal(caller.principal).ok_or_else(ApiError::unauthenticated)?;
    let impersonating = caller
        .data
        .impersonating
        .and_then(|t| s.principal(PrincipalId(t)))
        .map(|t| PrincipalView::of(&s, t, false));
    Ok(Json(MeView {
        principal: PrincipalView::of(&s, p, false),
        // Impersonating, the target's home, as the session answers say (R48).
        acting_tenant: TenantRef::of(&s, caller.acting_tenant(&s).unwrap_or(p.home)),
        impersonation_expires_at: impersonating.as_ref().and(caller.data.impersonation_expires_ms),
        impersonating,
        must_change_password: caller.data.must_change_password,
    }))
}

/// One principal, if the caller may see it (else 404, R58).
#[utoipa::path(get, path = "/v1/principals/{id}", tag = "principals",
    params(("id" = String, Path, description = "principal id (`p12`) or logon name")),
    responses((status = 200, description = "the principal", body = PrincipalView), ErrorsOfRead))]
pub async fn get_principal(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
) -> Result<Json<PrincipalView>, ApiError> {
    let s = app.deputy().snapshot();
    let p = s
        .principal(principal_id(&s, &id)?)
        .ok_or_else(|| ApiError::not_found("no such principal"))?;
    if !super::sees(&app, &s, caller.actor(), p) {
        return Err(ApiError::not_found(format!("no principal `{id}`")));
    }
    Ok(Json(PrincipalView::of(
        &s,
        p,
        super::holds(&app, &s, caller.actor(), deputy_core::perms::USERS_MODIFY, p.home),
    )))
}

/// The principals whose home is a tenant, for holders of `users.view` there (R58).
#[utoipa::path(get, path = "/v1/tenants/{id}/principals", tag = "principals",
    params(("id" = String, Path, description = "tenant id or key"), PageParams),
    responses((status = 200, description = "a page of the tenant's principals", body = Page<PrincipalView>), ErrorsOfRead))]
pub async fn tenant_principals(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Page<PrincipalView>>, ApiError> {
    let s = app.deputy().snapshot();
    let not_found = || ApiError::not_found(format!("no tenant `{id}`"));
    let tenant = resolve::tenant(&s, &id).map_err(|_| not_found())?;
    if !super::holds(&app, &s, caller.actor(), deputy_core::perms::USERS_VIEW, tenant) {
        return Err(not_found());
    }
    let manages = super::holds(&app, &s, caller.actor(), deputy_core::perms::USERS_MODIFY, tenant);
    let mut ids: Vec<u32> = s.members(tenant).map(|p| p.id.0).collect();
    ids.sort_unstable();
    let page = page(ids.into_iter(), &params, |id| {
        s.principal(PrincipalId(id)).map(|p| PrincipalView::of(&s, p, manages))
    })?;
    Ok(Json(page))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Role names given in the tenant (tenant scope), each under R27.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Send the invitation mail now (R10, default on); off leaves the user `pending`.
    /// Ignored when `password` is given.
    #[serde(default = "yes")]
    pub send_invitation: bool,
    /// Set a password now instead of inviting (R14): the user is `active` at once.
    #[serde(default)]
    pub password: Option<PasswordChoice>,
    /// With `password`: a new password must be chosen at the first sign-in (R14, default on).
    #[serde(default = "yes")]
    pub must_change_password: bool,
}

/// A password entered by the creator, or generated and shown once (R14; never mailed).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChoice {
    #[serde(default)]
    pub generate: bool,
    #[serde(default)]
    pub value: Option<String>,
}

/// A new user; with a generated password, the password (shown this once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserCreated {
    #[serde(flatten)]
    pub principal: PrincipalView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

fn yes() -> bool {
    true
}

/// Adds a user to a tenant (R10) and, by default, invites it (R12).
#[utoipa::path(post, path = "/v1/tenants/{id}/users", tag = "principals", request_body = NewUserRequest,
    params(("id" = String, Path, description = "tenant id (`t3`) or key")),
    responses(
    (status = 201, description = "created; with a generated password, the password, shown this once", body = UserCreated, headers(("consistency-token" = String, description = "the write's revision (R50)"))),
    ErrorsOfWrite, ErrorsOfMail, ErrorsOfHashing))]
pub async fn create_user(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<NewUserRequest>,
) -> Result<Response, ApiError> {
    let access = match body.password {
        None if body.send_invitation => FirstAccess::Invitation,
        None => FirstAccess::Pending,
        Some(PasswordChoice { generate: true, value: None }) => FirstAccess::Password {
            password: NewPassword::Generate,
            must_change: body.must_change_password,
        },
        Some(PasswordChoice { generate: false, value: Some(v) }) => FirstAccess::Password {
            password: NewPassword::Given(v),
            must_change: body.must_change_password,
        },
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "The request is not valid",
                "give either `generate: true` or a `value`",
            )
            .field("password"));
        }
    };
    let spec = UserSpec {
        logon: body.logon,
        first_name: body.first_name,
        last_name: body.last_name,
        email: body.email,
        phone: body.phone,
        roles: body.roles,
    };
    let worker = app.clone();
    let created = blocking(move || {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::users::create_user(worker.auth(), by, &tenant, spec, access).map_err(|e| match e {
            AuthError::Password(_) => ApiError::from(e).field("password.value"),
            e => ApiError::from(e),
        })
    })
    .await?;
    let s = app.deputy().snapshot();
    let p = s
        .principal(created.committed.output)
        .ok_or_else(|| ApiError::internal("created principal vanished"))?;
    let view = PrincipalView::of(&s, p, true);
    let generated = created.generated_password;
    let carries_secret = generated.is_some();
    let mut response = written(
        &created.committed,
        (StatusCode::CREATED, Json(UserCreated { principal: view, generated_password: generated })),
    );
    if carries_secret {
        response.extensions_mut().insert(crate::idempotency::CarriesSecret);
    }
    Ok(response)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccountRequest {
    /// Unique like a logon name.
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Creates a service account in a tenant (R24: `users.create` there); give it roles and
/// API keys next.
#[utoipa::path(post, path = "/v1/tenants/{id}/service-accounts", tag = "principals", request_body = ServiceAccountRequest,
    params(("id" = String, Path, description = "tenant id or key")),
    responses((status = 201, description = "created: the new service account, `{id, logon}`", body = Created), ErrorsOfWrite))]
pub async fn create_service_account(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ServiceAccountRequest>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::users::create_service_account(ctx, by, &id, &body.name, &body.description)
    })
    .await?;
    Ok(created(&app, &committed))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvitationSent {
    /// Where the mail went.
    pub email: String,
}

/// Sends (or resends: the older link dies) an invitation mail (R12, "Resend Logon Access
/// Email"). The link goes by mail only.
#[utoipa::path(post, path = "/v1/principals/{id}/invitation", tag = "principals",
    params(("id" = String, Path, description = "principal id or logon name")),
    responses(
    (status = 202, description = "the invitation mail is queued", body = InvitationSent),
    ErrorsOfWrite, ErrorsOfMail))]
pub async fn invite(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let email = op(&app, move |ctx| {
        ops::users::invite(ctx, Asker::new(caller.actor(), source.as_deref()), &id)
    })
    .await?;
    Ok(super::with_current_token(&app, (StatusCode::ACCEPTED, Json(InvitationSent { email }))))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `active` or `deactivated` (R11); cancelling is `POST …/cancel`.
    pub status: String,
    /// Why, kept with the status.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Activates or deactivates a principal (R11, R20, R28). A deactivated principal's
/// sessions stop working at once.
#[utoipa::path(post, path = "/v1/principals/{id}/status", tag = "principals", request_body = StatusChange,
    params(("id" = String, Path, description = "principal id or logon name")),
    responses(
    (status = 200, description = "the principal with its new status", body = PrincipalView),
    ErrorsOfWrite))]
pub async fn set_status(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusChange>,
) -> Result<Response, ApiError> {
    let status = match body.status.as_str() {
        "active" => Status::Active,
        "deactivated" => Status::Deactivated,
        other => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "The request is not valid",
                format!(
                    "status `{other}`: use `active` or `deactivated` (cancel with POST …/cancel)"
                ),
            )
            .field("status"));
        }
    };
    let committed = op(&app, move |ctx| {
        let by = Asker::new(caller.actor(), source.as_deref());
        ops::users::set_status(ctx, by, &id, status, body.reason)
    })
    .await?;
    Ok(written(&committed, Json(principal_view(&app, committed.output)?)))
}

/// Cancels a principal: terminal; its sessions, API keys and pending links end, and its
/// delegates are cancelled with it (R20, R36).
#[utoipa::path(post, path = "/v1/principals/{id}/cancel", tag = "principals",
    params(("id" = String, Path, description = "principal id or logon name")),
    responses(
    (status = 200, description = "the cancelled principal", body = PrincipalView),
    ErrorsOfWrite))]
pub async fn cancel(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let committed = op(&app, move |ctx| {
        ops::users::cancel(ctx, Asker::new(caller.actor(), source.as_deref()), &id)
    })
    .await?;
    Ok(written(&committed, Json(principal_view(&app, committed.output)?)))
}

/// Mails the principal a password reset link (R13), by a holder of `users.modify` over it.
#[utoipa::path(post, path = "/v1/principals/{id}/password-reset", tag = "principals",
    params(("id" = String, Path, description = "principal id or logon name")),
    responses(
    (status = 202, description = "the reset mail is queued", body = InvitationSent),
    ErrorsOfWrite, ErrorsOfMail))]
pub async fn password_reset(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let email = op(&app, move |ctx| {
        ops::users::reset_password(ctx, Asker::new(caller.actor(), source.as_deref()), &id)
    })
    .await?;
    Ok(super::with_current_token(&app, (StatusCode::ACCEPTED, Json(InvitationSent { email }))))
}

/// Lifts a sign-in lock (R16), by a holder of `users.modify` over the principal.
#[utoipa::path(post, path = "/v1/principals/{id}/unlock", tag = "principals",
    params(("id" = String, Path, description = "principal id or logon name")),
    responses(
    (status = 204, description = "unlocked"),
    ErrorsOfWrite))]
pub async fn unlock(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    op(&app, move |ctx| {
        ops::users::unlock(ctx, Asker::new(caller.actor(), source.as_deref()), &id)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

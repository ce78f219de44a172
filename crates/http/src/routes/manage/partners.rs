//! Partner access over HTTP (R40–R47): grants proposed, approved, changed and revoked,
//! and roles given to a partner's users for a client.

use super::*;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The partner tenant (id or key).
    pub partner: String,
    /// Role names: the most P's users may be given in C (R41).
    pub ceiling: Vec<String>,
    /// Only resources of these kinds.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// Also C's descendants (R47).
    #[serde(default)]
    pub subtree: bool,
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub auto_extend: bool,
}

/// Proposes a grant from client `{id}` to a partner (R40; active at once when the client
/// proposes it).
#[utoipa::path(post, path = "/v1/tenants/{id}/grants", tag = "partners", request_body = GrantRequest,
    params(("id" = String, Path, description = "the client tenant")),
    responses((status = 201, description = "proposed (or active, when the client proposed it): the grant's id", body = Created), ErrorsOfWrite))]
pub async fn propose_grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<Response, ApiError> {
    let s = app.deputy().snapshot();
    let client = resolve::tenant(&s, &id).map_err(missing("id"))?;
    let partner = resolve::tenant(&s, &body.partner).map_err(missing("partner"))?;
    let terms = GrantTerms {
        ceiling: roles(&s, &body.ceiling, "ceiling")?,
        kinds: kinds(&s, &body.kinds)?,
        subtree: body.subtree,
        expires_at: body.expires_at,
        auto_extend: body.auto_extend,
    };
    let committed =
        run(&app, &caller, source, move |tx| tx.propose_grant(client, partner, terms.clone()))
            .await?;
    Ok(created(&app, &committed))
}

fn grant_id(text: &str) -> Result<deputy_core::GrantId, ApiError> {
    text.parse().map_err(|_| ApiError::not_found(format!("no grant `{text}`")).field("id"))
}

/// Approves a proposed grant (R40: `partners.manage` in the client).
#[utoipa::path(post, path = "/v1/grants/{id}/approve", tag = "partners",
    params(("id" = String, Path, description = "grant id (`g4`)")),
    responses((status = 204, description = "approved: the grant is active"), ErrorsOfWrite))]
pub async fn approve_grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let grant = grant_id(&id)?;
    let committed = run(&app, &caller, source, move |tx| tx.approve_grant(grant)).await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

/// Revokes a grant (R40): every user of the partner loses it in the same revision.
#[utoipa::path(post, path = "/v1/grants/{id}/revoke", tag = "partners",
    params(("id" = String, Path, description = "grant id (`g4`)")),
    responses((status = 204, description = "revoked"), ErrorsOfWrite))]
pub async fn revoke_grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let grant = grant_id(&id)?;
    let committed = run(&app, &caller, source, move |tx| tx.revoke_grant(grant)).await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerRoleRequest {
    pub role: String,
    /// A client tenant; or give `group`.
    #[serde(default)]
    pub client: Option<String>,
    /// One of the partner tenant's security groups (`sg3`).
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerRoleGiven {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment: Option<String>,
    /// Accounts in the client deactivated as "replaced by partner access" (R44).
    pub replaced: Vec<String>,
    /// Accounts kept because replacing them would leave the client without an admin.
    pub kept: Vec<String>,
}

/// Gives a partner user a role for a client or a group of clients (R41, R44).
#[utoipa::path(post, path = "/v1/principals/{id}/partner-roles", tag = "partners", request_body = PartnerRoleRequest,
    params(("id" = String, Path, description = "the partner's user")),
    responses((status = 201, description = "given: the assignment, and the client accounts it replaced or kept (R44)", body = PartnerRoleGiven), ErrorsOfWrite))]
pub async fn give_partner_role(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PartnerRoleRequest>,
) -> Result<Response, ApiError> {
    let s = app.deputy().snapshot();
    let user = resolve::principal(&s, &id).map_err(missing("id"))?;
    let role = resolve::role(&s, &body.role).map_err(missing("role"))?;
    let scope = match (&body.client, &body.group) {
        (Some(c), None) => {
            Scope::Client { client: resolve::tenant(&s, c).map_err(missing("client"))? }
        }
        (None, Some(g)) => Scope::Group { group: resolve::group(&s, g).map_err(missing("group"))? },
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "The request is not valid",
                "give exactly one of `client` and `group`",
            )
            .field("client"));
        }
    };
    let expires_at = body.expires_at;
    let committed =
        run(&app, &caller, source, move |tx| tx.give_partner_role(user, scope, role, expires_at))
            .await?;
    let o = &committed.output;
    let view = PartnerRoleGiven {
        assignment: o.assignment.map(|a| a.to_string()),
        replaced: o.replaced.iter().map(ToString::to_string).collect(),
        kept: o.kept_for_r5.iter().map(ToString::to_string).collect(),
    };
    Ok(written(&committed, (StatusCode::CREATED, Json(view))))
}

/// Changes a grant's terms (R40: the client's side; narrowing takes effect at once).
#[utoipa::path(put, path = "/v1/grants/{id}", tag = "partners", request_body = GrantRequest,
    params(("id" = String, Path, description = "grant id (`g4`)")),
    responses((status = 204, description = "changed"), ErrorsOfWrite))]
pub async fn change_grant(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<Response, ApiError> {
    let s = app.deputy().snapshot();
    let grant = grant_id(&id)?;
    let terms = GrantTerms {
        ceiling: roles(&s, &body.ceiling, "ceiling")?,
        kinds: kinds(&s, &body.kinds)?,
        subtree: body.subtree,
        expires_at: body.expires_at,
        auto_extend: body.auto_extend,
    };
    let committed =
        run(&app, &caller, source, move |tx| tx.change_grant(grant, terms.clone())).await?;
    Ok(written(&committed, StatusCode::NO_CONTENT))
}

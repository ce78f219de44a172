//! Sessions over HTTP: sign-in, sign-out, password change, invitation links and password
//! resets (R12–R15, R23), access tokens and the keys that verify them; switching tenants
//! (R43) and impersonation (R48, R49, R68), each of which rotates the session (R23): the
//! old token stops working and a new one is set.

use super::refs::{PrincipalRef, TenantRef};
use super::{ApiJson, blocking, op};
use crate::caller::{Authed, CallerMustChange, Source};
use crate::openapi::{ErrorsOfCaller, ErrorsOfHashing, ErrorsOfSession, ErrorsOfWrite};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deputy_service::auth::NewSession;
use deputy_service::ops;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub logon: String,
    pub password: String,
}

/// A new session. The token is shown once; it is also set as the session cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionCreated {
    /// Present as `Authorization: Bearer <token>`, or let the cookie carry it.
    pub token: String,
    /// Who signed in: while impersonating, the impersonator (the real actor, R49).
    pub principal: PrincipalRef,
    /// While impersonating (R48): the principal acted as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonating: Option<PrincipalRef>,
    /// Where the session acts: home, or the client switched into (R43); while
    /// impersonating, the target's home, where the target acts (R48).
    pub acting_tenant: TenantRef,
    /// R14: only a password change is allowed until it is done.
    pub must_change_password: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationAccept {
    /// The token from the invitation link.
    pub token: String,
    pub password: String,
}

/// The session cookie (R23): HttpOnly, SameSite=Lax; `__Host-` and Secure over https.
pub fn with_session(app: &AppState, session: NewSession) -> Response {
    let config = app.config();
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax{}",
        config.cookie_name(),
        session.token,
        if config.secure() { "; Secure" } else { "" }
    );
    let s = app.deputy().snapshot();
    let data = &session.caller.data;
    // Impersonating, the session acts as the target at its home (R48, R51 step 2).
    let acting = session.caller.acting_tenant(&s);
    let body = SessionCreated {
        principal: PrincipalRef::of(&s, session.caller.principal),
        impersonating: data
            .impersonating
            .map(|p| PrincipalRef::of(&s, deputy_core::PrincipalId(p))),
        acting_tenant: acting.map_or_else(
            || TenantRef { id: String::new(), key: String::new() },
            |t| TenantRef::of(&s, t),
        ),
        must_change_password: session.caller.data.must_change_password,
        token: session.token,
    };
    let mut response = super::with_current_token(app, (StatusCode::OK, axum::Json(body)));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Signs in with a logon name and password. Every failure (unknown logon, wrong password,
/// locked or inactive account) gets the same answer (R15, R16).
#[utoipa::path(post, path = "/v1/auth/sign-in", tag = "auth", request_body = SignIn, security(()), responses(
    (status = 200, description = "signed in: the new session, its token also set as the session cookie", body = SessionCreated),
    (status = 401, description = "sign-in failed, with one answer for every cause (R15)", body = Problem, content_type = "application/problem+json"),
    ErrorsOfHashing))]
pub async fn sign_in(
    State(app): State<AppState>,
    Source(source): Source,
    ApiJson(body): ApiJson<SignIn>,
) -> Result<Response, ApiError> {
    let worker = app.clone();
    let session = blocking(move || {
        worker
            .auth()
            .sign_in(&body.logon, &body.password, source.as_deref())
            .map_err(ApiError::from)
    })
    .await?;
    Ok(with_session(&app, session))
}

/// Ends the calling session.
#[utoipa::path(post, path = "/v1/auth/sign-out", tag = "auth", responses(
    (status = 204, description = "signed out: the session ended and its cookie is cleared"),
    ErrorsOfSession))]
pub async fn sign_out(
    State(app): State<AppState>,
    Source(source): Source,
    CallerMustChange(caller): CallerMustChange,
) -> Result<Response, ApiError> {
    let worker = app.clone();
    blocking(move || worker.auth().sign_out(&caller, source.as_deref()).map_err(ApiError::from))
        .await?;
    Ok(without_session(app.config(), StatusCode::NO_CONTENT.into_response()))
}

/// `response` with the session cookie cleared (R23), after a sign-out.
pub fn without_session(config: &crate::state::HttpConfig, mut response: Response) -> Response {
    let expired = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        config.cookie_name(),
        if config.secure() { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// A refused change of one's own password: a wrong current password is named as such
/// (it is not a failed sign-in, R14), anything else as the service said.
pub fn password_change_refusal(e: deputy_service::auth::AuthError) -> ApiError {
    match e {
        deputy_service::auth::AuthError::SignInFailed => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong-password",
            "The current password is wrong",
            "the current password is wrong",
        )
        .field("current_password"),
        other => ApiError::from(other),
    }
}

/// Changes the caller's own password (also when a change is forced, R14). Other sessions
/// end; the answer is a new session.
#[utoipa::path(post, path = "/v1/auth/password", tag = "auth", request_body = PasswordChange, responses(
    (status = 200, description = "changed: the new session; every other one ended", body = SessionCreated),
    ErrorsOfSession,
    (status = 403, description = "an impersonator, or a secondary logon with a linked password, cannot change it (R48, R17)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "the current password is wrong, or the new one is refused (R15)", body = Problem, content_type = "application/problem+json"),
    ErrorsOfHashing))]
pub async fn change_password(
    State(app): State<AppState>,
    Source(source): Source,
    CallerMustChange(caller): CallerMustChange,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Response, ApiError> {
    let worker = app.clone();
    let session = blocking(move || {
        worker
            .auth()
            .change_password(&caller, &body.current_password, &body.new_password, source.as_deref())
            .map_err(password_change_refusal)
    })
    .await?;
    Ok(with_session(&app, session))
}

/// Uses an invitation link: sets the password, activates the account, verifies the
/// e-mail (R12). Single use.
#[utoipa::path(post, path = "/v1/auth/invitations/accept", tag = "auth", request_body = InvitationAccept, security(()), responses(
    (status = 200, description = "accepted and signed in: the new session", body = SessionCreated),
    (status = 400, description = "the link is invalid, used or expired (R12)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "the password is refused (R15)", body = Problem, content_type = "application/problem+json"),
    ErrorsOfHashing))]
pub async fn accept_invitation(
    State(app): State<AppState>,
    Source(source): Source,
    ApiJson(body): ApiJson<InvitationAccept>,
) -> Result<Response, ApiError> {
    let worker = app.clone();
    let session = blocking(move || {
        worker
            .auth()
            .accept_invitation(&body.token, &body.password, source.as_deref())
            .map_err(ApiError::from)
    })
    .await?;
    Ok(with_session(&app, session))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPassword {
    /// A logon name or an e-mail address.
    pub logon_or_email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub message: String,
}

/// "Forgot your password?" (R13). The answer is the same whether or not an account
/// matches, and it comes before any work is done, so its timing says nothing either.
#[utoipa::path(post, path = "/v1/auth/forgot-password", tag = "auth", request_body = ForgotPassword, security(()), responses(
    (status = 202, description = "accepted: if an account matches, a mail with a reset link is on its way (R13)", body = Accepted)))]
pub async fn forgot_password(
    State(app): State<AppState>,
    Source(source): Source,
    ApiJson(body): ApiJson<ForgotPassword>,
) -> (StatusCode, axum::Json<Accepted>) {
    (StatusCode::ACCEPTED, axum::Json(forgot_password_started(&app, body.logon_or_email, source)))
}

/// Starts "forgot your password?" (R13) without waiting for it: the answer, the same for
/// every input, must not depend on what happens, nor on how long it takes.
pub fn forgot_password_started(
    app: &AppState,
    logon_or_email: String,
    source: Option<String>,
) -> Accepted {
    let worker = app.clone();
    drop(tokio::task::spawn_blocking(move || {
        if let Err(e) = worker.auth().forgot_password(&logon_or_email, source.as_deref()) {
            tracing::error!(error = %e, "forgot-password failed");
        }
    }));
    Accepted { message: "if an account matches, a mail with a reset link is on its way".into() }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The token from the reset link.
    pub token: String,
    pub password: String,
}

/// Uses a reset link (R13): single use, 10 minutes; every session of the account ends.
#[utoipa::path(post, path = "/v1/auth/reset", tag = "auth", request_body = ResetPassword, security(()), responses(
    (status = 204, description = "the password is set; sign in with it"),
    (status = 400, description = "the link is invalid, used or expired (R13)", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "the password is refused (R15)", body = Problem, content_type = "application/problem+json"),
    ErrorsOfHashing))]
pub async fn reset_password(
    State(app): State<AppState>,
    Source(source): Source,
    ApiJson(body): ApiJson<ResetPassword>,
) -> Result<Response, ApiError> {
    let worker = app.clone();
    blocking(move || {
        worker
            .auth()
            .reset_password(&body.token, &body.password, source.as_deref())
            .map_err(ApiError::from)
    })
    .await?;
    Ok(super::with_current_token(&app, StatusCode::NO_CONTENT))
}

/// An access token (R71).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessTokenView {
    /// A JWT signed with EdDSA; verify it with the keys at `/.well-known/jwks.json`.
    pub access_token: String,
    pub token_type: String,
    /// Seconds until it expires (at most 300).
    pub expires_in: i64,
}

/// A short-lived signed access token for the calling session (R71): it asserts who acts
/// (`sub`, `tenant`, `acting_tenant`, `act` when switched or impersonating), never what
/// they may do.
#[utoipa::path(post, path = "/v1/auth/token", tag = "auth", responses(
    (status = 200, description = "the access token", body = AccessTokenView),
    ErrorsOfCaller,
    (status = 422, description = "access tokens are issued for sessions, not API keys", body = Problem, content_type = "application/problem+json")))]
pub async fn access_token(
    State(app): State<AppState>,
    crate::caller::Authed(caller): crate::caller::Authed,
) -> Result<axum::Json<AccessTokenView>, ApiError> {
    let worker = app.clone();
    let issued =
        blocking(move || worker.auth().access_token(&caller).map_err(ApiError::from)).await?;
    Ok(axum::Json(AccessTokenView {
        access_token: issued.token,
        token_type: "Bearer".into(),
        expires_in: issued.expires_in_s,
    }))
}

/// The public keys that verify access tokens (R71).
#[derive(Debug, Serialize, ToSchema)]
pub struct JwksView {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<deputy_service::access_tokens::Jwk>,
}

/// The JSON Web Key Set: the keys that sign, will sign soon, or signed tokens that may
/// still be valid.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth", security(()), responses(
    (status = 200, description = "the key set", body = JwksView)))]
pub async fn jwks(State(app): State<AppState>) -> Result<axum::Json<JwksView>, ApiError> {
    let worker = app.clone();
    let keys = blocking(move || worker.auth().jwks().map_err(ApiError::from)).await?;
    Ok(axum::Json(JwksView { keys }))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchRequest {
    /// The client tenant (id or key) to act in, or the caller's home tenant to return.
    pub tenant: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpersonateRequest {
    /// The principal to impersonate (id or logon name).
    pub target: String,
    /// Why: free text or a ticket id (R68).
    pub reason: String,
    /// At most 60 (the default).
    #[serde(default)]
    pub minutes: Option<i64>,
    /// Tell the target by e-mail (R68).
    #[serde(default)]
    pub notify_target: bool,
}

fn with_token(mut response: Response, token: deputy_service::Token) -> Response {
    if let Ok(value) = HeaderValue::from_str(&token.to_string()) {
        response.headers_mut().insert(super::CONSISTENCY_TOKEN.clone(), value);
    }
    response
}

/// What the caller may not see answers exactly as what does not exist (R58): the
/// engine's "not found" becomes the handler's own for a name that resolves to nothing.
/// Switches the session into a client tenant, or home (R43, "Switch Tenant").
#[utoipa::path(post, path = "/v1/session/switch", tag = "session", request_body = SwitchRequest, responses(
    (status = 200, description = "switched: the new session; the old token stopped working (R23)", body = SessionCreated),
    ErrorsOfWrite))]
pub async fn switch(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    ApiJson(body): ApiJson<SwitchRequest>,
) -> Result<Response, ApiError> {
    let (session, token) =
        op(&app, move |ctx| ops::sessions::switch(ctx, &caller, source.as_deref(), &body.tenant))
            .await?;
    Ok(with_token(with_session(&app, session), token))
}

/// Starts impersonating a principal (R48, R68): a reason, at most 60 minutes, optionally
/// a notice to the target. Every action meanwhile is audited with both identities (R49).
#[utoipa::path(post, path = "/v1/session/impersonate", tag = "session", request_body = ImpersonateRequest, responses(
    (status = 200, description = "impersonating: the new session; the old token stopped working (R23)", body = SessionCreated),
    ErrorsOfWrite))]
pub async fn impersonate(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
    ApiJson(body): ApiJson<ImpersonateRequest>,
) -> Result<Response, ApiError> {
    let (session, token) = op(&app, move |ctx| {
        let ask = ops::sessions::Impersonate {
            target: &body.target,
            reason: &body.reason,
            minutes: body.minutes,
            notify_target: body.notify_target,
        };
        ops::sessions::impersonate(ctx, &caller, source.as_deref(), ask)
    })
    .await?;
    Ok(with_token(with_session(&app, session), token))
}

/// Stops impersonating; the session returns to the impersonator.
#[utoipa::path(post, path = "/v1/session/stop-impersonating", tag = "session", responses(
    (status = 200, description = "stopped: the impersonator's new session", body = SessionCreated),
    ErrorsOfWrite))]
pub async fn stop_impersonating(
    State(app): State<AppState>,
    Authed(caller): Authed,
    Source(source): Source,
) -> Result<Response, ApiError> {
    let (session, token) =
        op(&app, move |ctx| ops::sessions::stop_impersonating(ctx, &caller, source.as_deref()))
            .await?;
    Ok(with_token(with_session(&app, session), token))
}

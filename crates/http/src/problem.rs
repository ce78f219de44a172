//! Errors as `application/problem+json` (RFC 9457, R57): the one place that decides an
//! HTTP status. Each problem has a stable machine-readable `type` (`urn:deputy:problem:…`);
//! 5xx bodies stay generic and the cause goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deputy_core::{CheckError, CommandError, ErrorKind};
use deputy_service::ServiceError;
use deputy_service::auth::AuthError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Stable and machine-readable: `urn:deputy:problem:not-found`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The spec rule that refused the request (`R27`), when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The request field at fault, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Every way a request can fail.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    rule: Option<String>,
    field: Option<String>,
    /// Seconds to wait before trying again (`Retry-After`, on 429 and 503).
    retry_after: Option<u16>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            slug,
            title,
            detail: detail.into(),
            rule: None,
            field: None,
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, seconds: u16) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn rule(mut self, rule: impl Into<String>) -> Self {
        self.rule = Some(rule.into());
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", "The request is malformed", detail)
    }

    /// Well-formed by the OpenAPI document, refused by a rule it cannot state (R55, R57).
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "The request is not valid",
            detail,
        )
        .field(field)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// A name in a check or lookup that names nothing the caller may ask about (R55): the
    /// documented `unknown-name` type, with the field at fault.
    pub fn unknown_name(field: &'static str, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "unknown-name", "A name is unknown", detail)
            .field(field)
            .rule("R55")
    }

    pub fn unauthenticated() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Not signed in",
            "sign in, or present a valid session token or API key",
        )
    }

    /// A failure whose cause must not reach the client: logged, answered generically.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed; the cause is in its log",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:deputy:problem:{}", self.slug),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            rule: self.rule.clone(),
            field: self.field.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.problem())).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"deputy\""),
            );
        }
        response
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        let (status, slug, title) = match e.kind {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ErrorKind::Invalid => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", "The request is not valid")
            }
            ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Refused by the rules"),
            ErrorKind::Conflict => {
                (StatusCode::CONFLICT, "conflict", "Conflicts with the current state")
            }
        };
        ApiError {
            status,
            slug,
            title,
            detail: e.message,
            rule: e.rule.map(str::to_owned),
            field: e.field.map(str::to_owned),
            retry_after: None,
        }
    }
}

impl From<CheckError> for ApiError {
    fn from(e: CheckError) -> Self {
        let field = match e {
            CheckError::UnknownPrincipal(_) => "principal",
            CheckError::UnknownPermission(_) => "permission",
            CheckError::UnknownTenant(_) | CheckError::UnknownResource(_) => "target",
        };
        ApiError::new(StatusCode::NOT_FOUND, "unknown-name", "A name is unknown", e.to_string())
            .field(field)
            .rule("R55")
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Command(c) => c.into(),
            // R63e: waited for up to the bound; never answered from older data.
            ServiceError::FutureRevision { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "future-revision",
                "The consistency token is ahead of this server",
                e.to_string(),
            )
            .field("consistency_token")
            .rule("R63e")
            .retry_after(1),
            ServiceError::StaleEpoch { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "stale-epoch",
                "The consistency token is from before a restore",
                e.to_string(),
            )
            .field("consistency_token")
            .rule("R66"),
            ServiceError::BadToken(_) => {
                ApiError::bad_request(e.to_string()).field("consistency_token")
            }
            ServiceError::NotInitialised => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not-initialised",
                "The deployment is not initialised",
                e.to_string(),
            ),
            ServiceError::Store(_) | ServiceError::Replay { .. } => ApiError::internal(e),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::SignInFailed => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign-in-failed",
                "Sign-in failed",
                e.to_string(),
            ),
            AuthError::Unauthenticated => ApiError::unauthenticated(),
            // Well-formed, but no live link has this token: 422, as every refusal of a
            // request the OpenAPI document admits (400 is for what it does not).
            AuthError::LinkInvalid => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "link-invalid",
                "The link is invalid or has expired",
                e.to_string(),
            )
            .field("token")
            .rule("R12"),
            AuthError::Password(p) => match p {
                deputy_service::passwords::PasswordError::Hashing(_) => ApiError::internal(p),
                other => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "password-rejected",
                    "The password is not accepted",
                    other.to_string(),
                )
                .field("password")
                .rule("R15"),
            },
            AuthError::Busy(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too many sign-ins at once",
                e.to_string(),
            )
            .rule("R15")
            .retry_after(1),
            AuthError::TooManyMails { retry_after_s } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-mails",
                "Too many mails to this address",
                e.to_string(),
            )
            .rule("R13")
            .retry_after(u16::try_from(retry_after_s).unwrap_or(u16::MAX)),
            AuthError::Service(s) => s.into(),
        }
    }
}

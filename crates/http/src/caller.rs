//! Who is calling: a session (cookie or bearer token) or an API key, and from where.

use crate::problem::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use deputy_service::auth::Caller;
use std::net::{IpAddr, SocketAddr};

/// The client's address: the peer, or the last address a trusted proxy put in
/// `X-Forwarded-For` (R16: nobody else may choose the address their failures count on).
#[derive(Debug, Clone)]
pub struct Source(pub Option<String>);

impl FromRequestParts<AppState> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let Some(peer) = peer else { return Ok(Source(None)) };
        if !app.config().trusted_proxies.contains(&peer) {
            return Ok(Source(Some(peer.to_string())));
        }
        // Walk the chain from the right, skipping our own trusted proxies.
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        Ok(Source(Some(
            client_address(peer, &app.config().trusted_proxies, &forwarded).to_string(),
        )))
    }
}

/// The client behind a chain of proxies: the peer unless it is trusted; then the right-most
/// forwarded address that is not itself a trusted proxy (entries left of it could be forged).
pub fn client_address(peer: IpAddr, trusted: &[IpAddr], forwarded: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    forwarded.iter().rev().find(|a| !trusted.contains(a)).copied().unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn r16_forwarded_for_is_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = ip("10.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        let chain = [ip("203.0.113.66"), ip("198.51.100.7"), ip("10.0.0.2")];
        // From an untrusted peer the header is ignored.
        assert_eq!(client_address(ip("192.0.2.1"), &trusted, &chain), ip("192.0.2.1"));
        // From a trusted proxy: the right-most untrusted address, not a forged left one.
        assert_eq!(client_address(proxy, &trusted, &chain), ip("198.51.100.7"));
        assert_eq!(client_address(proxy, &trusted, &[]), proxy);
    }
}

/// The secret a request presents: `Authorization: Bearer …`, else the session cookie.
fn presented_secret(parts: &Parts, cookie_name: &str) -> Option<String> {
    if let Some(value) = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned());
    }
    crate::csrf::cookie(&parts.headers, cookie_name).map(str::to_owned)
}

/// The caller a request's credential names (the portal uses it too).
pub async fn authenticate(parts: &Parts, app: &AppState) -> Result<Caller, ApiError> {
    let secret = presented_secret(parts, app.config().cookie_name())
        .ok_or_else(ApiError::unauthenticated)?;
    // Most requests: a credential read in the last seconds, checked without IO.
    if let Some(caller) = app.auth().authenticate_cached(&secret) {
        name_in_log(parts, &caller);
        return Ok(caller);
    }
    let auth_app = app.clone();
    let caller = tokio::task::spawn_blocking(move || auth_app.auth().authenticate(&secret))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)?;
    name_in_log(parts, &caller);
    Ok(caller)
}

/// Tells the access log who the request is (R62).
fn name_in_log(parts: &Parts, caller: &Caller) {
    if let Some(slot) = parts.extensions.get::<crate::routes::PrincipalSlot>() {
        let _ = slot.0.set(caller.principal.to_string());
    }
}

/// A signed-in caller whose session may act: refused while a password change is due
/// (R14), except on the routes that take [`CallerMustChange`].
#[derive(Debug, Clone)]
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let caller = authenticate(parts, app).await?;
        if caller.data.must_change_password {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "password-change-required",
                "A password change is required",
                "choose a new password (POST /v1/auth/password) before doing anything else",
            )
            .rule("R14"));
        }
        Ok(Authed(caller))
    }
}

/// A signed-in caller, also one that must change its password first.
#[derive(Debug, Clone)]
pub struct CallerMustChange(pub Caller);

impl FromRequestParts<AppState> for CallerMustChange {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        Ok(CallerMustChange(authenticate(parts, app).await?))
    }
}

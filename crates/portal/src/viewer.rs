//! The signed-in person a page is rendered for, or a redirect to sign in.

use crate::guard;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use deputy_core::{Actor, State as Snapshot, TenantId};
use deputy_http::AppState;
use deputy_http::caller::{Authed, CallerMustChange, authenticate};
use deputy_http::routes::users::{MeView, me};
use deputy_service::auth::Caller;

/// A signed-in caller, its own view of itself, and the CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub caller: Caller,
    pub me: MeView,
    pub csrf: String,
}

impl Viewer {
    /// The caller as the API's handlers take it.
    pub fn authed(&self) -> Authed {
        Authed(self.caller.clone())
    }

    pub fn actor(&self) -> Actor {
        self.caller.actor()
    }

    /// The tenant the session acts in: its home, or the client it switched into (R43);
    /// while impersonating, the target's home, where the target acts (R48).
    pub fn acting_tenant(&self, s: &Snapshot) -> Option<TenantId> {
        self.caller.acting_tenant(s)
    }

    /// Whether the viewer, in its session, holds `permission` in `tenant`.
    pub fn holds(&self, app: &AppState, s: &Snapshot, permission: &str, tenant: TenantId) -> bool {
        deputy_http::routes::holds(app, s, self.actor(), permission, tenant)
    }

    /// The principal whose access the pages show: the impersonated one while impersonating.
    pub fn acting_principal(&self) -> &deputy_http::routes::users::PrincipalView {
        self.me.impersonating.as_ref().unwrap_or(&self.me.principal)
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let Ok(caller) = authenticate(parts, app).await else {
            return Err(Redirect::to("/sign-in").into_response());
        };
        // R14: nothing but the password form (or leaving) until the password is changed.
        let allowed = matches!(parts.uri.path(), "/password" | "/sign-out");
        if caller.data.must_change_password && !allowed {
            return Err(Redirect::to("/password").into_response());
        }
        let me = me(State(app.clone()), CallerMustChange(caller.clone()))
            .await
            .map_err(|_| Redirect::to("/sign-in").into_response())?
            .0;
        let csrf = guard::expected_token(app, &parts.headers).unwrap_or_default();
        Ok(Viewer { caller, me, csrf })
    }
}

//! The session a check is asked in (R51): at home, switched into a client, impersonating,
//! or none at all; and which paths of step 6 each counts.

use crate::ids::*;
use serde::Serialize;

/// An impersonation in progress: the real actor and when it ends (R48, R68).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Impersonation {
    pub actor: PrincipalId,
    pub expires_at: Millis,
}

/// The session a check runs in (R51): at home, or switched into a client, and whom it
/// impersonates; or no session at all. `switched` is the real actor's context when
/// impersonating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Context {
    pub switched: Option<TenantId>,
    pub impersonation: Option<Impersonation>,
    /// No session (R51): a portal's back end asking about P counts P's direct and partner
    /// paths alike. Only meaningful with `switched: None`; a switched context wins.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sessionless: bool,
}

/// Which paths of step 6 count (R51): direct ones at home, partner ones into one client
/// when switched, both without a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    Home,
    Switched(TenantId),
    Anywhere,
}

impl Reach {
    pub(super) fn of(switched: Option<TenantId>, sessionless: bool) -> Reach {
        match (switched, sessionless) {
            (Some(c), _) => Reach::Switched(c),
            (None, false) => Reach::Home,
            (None, true) => Reach::Anywhere,
        }
    }
}

impl Context {
    /// At home: direct paths only.
    pub const HOME: Context = Context { switched: None, impersonation: None, sessionless: false };
    /// No session: direct and partner paths alike (R51), the default of the API's checks.
    pub const NONE: Context = Context { switched: None, impersonation: None, sessionless: true };

    pub fn switched(into: TenantId) -> Context {
        Context { switched: Some(into), impersonation: None, sessionless: false }
    }

    pub(super) fn reach(&self) -> Reach {
        Reach::of(self.switched, self.sessionless)
    }
}

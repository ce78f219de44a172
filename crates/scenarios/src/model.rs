//! The shape of a scenario file: a world, then steps (writes, checks, explains and
//! observations), deserialised with serde from TOML.
//!
//! Names are the ones people type: tenant keys, logon names, resource keys, role and
//! permission names. A file never names an id, so the same file runs on every layer.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// One scenario file.
///
/// Every run starts on a deployment with the root tenant `root` and its first admin
/// `operator` (R60), then builds `world` and runs `setup` (the demo loads both), then runs
/// `steps`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The spec's id for it (`S1`).
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub tenants: Vec<TenantDef>,
    #[serde(default)]
    pub users: Vec<UserDef>,
    #[serde(default)]
    pub assignments: Vec<AssignmentDef>,
    #[serde(default)]
    pub resources: Vec<ResourceDef>,
    #[serde(default)]
    pub delegates: Vec<DelegateDef>,
    #[serde(default)]
    pub grants: Vec<GrantDef>,
    #[serde(default)]
    pub partner_roles: Vec<PartnerRoleDef>,
    /// Steps that are part of the world the demo shows (run by the demo too).
    #[serde(default)]
    pub setup: Vec<Step>,
    /// The scenario's story on that world.
    #[serde(default)]
    pub steps: Vec<Step>,
}

/// A tenant, created by the console (the operator through the API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantDef {
    pub key: String,
    pub name: String,
    #[serde(default = "root")]
    pub parent: String,
    /// Flagged partner (SPEC §1).
    #[serde(default)]
    pub partner: bool,
}

fn root() -> String {
    "root".into()
}

/// A user of the world: active, with a password.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDef {
    pub logon: String,
    pub home: String,
    pub first_name: String,
    pub last_name: String,
    /// Default: `LOGON@example.com`.
    pub email: Option<String>,
    /// The e-mail is verified (the API verifies every joined user's).
    #[serde(default)]
    pub verified: bool,
    /// Who adds the user; default the console (the operator through the API).
    pub by: Option<String>,
}

impl UserDef {
    pub fn email(&self) -> String {
        self.email.clone().unwrap_or_else(|| format!("{}@example.com", self.logon))
    }
}

/// A role (or a single permission) assigned in a tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentDef {
    pub principal: String,
    pub role: Option<String>,
    pub permission: Option<String>,
    pub tenant: String,
    #[serde(default)]
    pub subtree: bool,
    /// Who gives it; default the console (the operator through the API).
    pub by: Option<String>,
    /// The principal redeems an access code issued by this user (R37a). Through the API
    /// it is done so; the engine and service give the role as the console does.
    pub redeemed_from: Option<String>,
}

/// A resource of a tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDef {
    pub tenant: String,
    pub key: String,
    /// Default: the key.
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub kind: Option<String>,
    /// Who creates it; default the console (the operator through the API).
    pub by: Option<String>,
}

/// A secondary logon, created by its owner with Full Access, that set its password from
/// the mailed link.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegateDef {
    pub owner: String,
    pub logon: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
}

impl DelegateDef {
    pub fn email(&self) -> String {
        self.email.clone().unwrap_or_else(|| format!("{}@example.com", self.logon))
    }
}

/// A grant proposed by the client's side (active at once).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantDef {
    pub client: String,
    pub partner: String,
    pub ceiling: Vec<String>,
    #[serde(default)]
    pub subtree: bool,
    pub by: String,
}

/// A role given to a partner's user for one client (R41).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerRoleDef {
    pub principal: String,
    pub role: String,
    pub client: String,
    pub by: String,
    /// Accounts of the client the role replaced (R44); checked when given.
    pub replaces: Option<Vec<String>>,
}

/// A layer a scenario runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// `deputy-core`: commands decided on an in-memory state.
    Engine,
    /// `deputy-service`: `Deputy` committing to a SQLite file.
    Service,
    /// The HTTP API, through its router, signed in as each actor.
    Http,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Engine => "engine",
            Layer::Service => "service",
            Layer::Http => "http",
        }
    }
}

/// The session a check is asked in (R51), besides `switched_into` and `impersonator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionName {
    /// No session: direct and partner paths alike.
    None,
    /// At home: direct paths only.
    Home,
}

/// One context or several, each checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Contexts {
    One(SessionName),
    Many(Vec<SessionName>),
}

/// One step. It may write (`do`, as `as`), then check (`allowed`, `denied`), explain, and
/// observe (`status`, `contact`, `admin`), in that order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// What the step shows, in words (printed when it fails).
    pub note: Option<String>,
    /// Run only on these layers (what only a session or the API can say).
    pub only: Option<Vec<Layer>>,
    /// Who writes: a logon. Default the console (the operator through the API).
    #[serde(rename = "as")]
    pub actor: Option<String>,
    /// The write.
    #[serde(rename = "do")]
    pub action: Option<Action>,
    /// The write must be refused by this rule (`R6`); without it, it must succeed.
    pub refused: Option<String>,
    /// The refusal's exact words, a snapshot (`UPDATE_EXPECT=1` rewrites it).
    pub says: Option<Spanned<String>>,
    /// The refusal's HTTP status (checked where the layer answers one).
    pub http_status: Option<u16>,
    /// The writer's or the checked principal's session: `none` or `home` (default none for
    /// checks; home for writers).
    pub context: Option<Contexts>,
    /// The session is switched into this tenant.
    pub switched_into: Option<String>,
    /// The session is this principal impersonating the actor or checked principal.
    pub impersonator: Option<String>,
    /// Checks that must be allowed: `PRINCIPAL PERMISSION TARGET`.
    #[serde(default)]
    pub allowed: Vec<String>,
    /// Checks that must be denied.
    #[serde(default)]
    pub denied: Vec<String>,
    /// The step every denial of this step fails at (`entitlement`).
    pub failed_step: Option<String>,
    /// A check to explain: `PRINCIPAL PERMISSION TARGET`.
    pub explain: Option<String>,
    /// The explanation's exact text, a snapshot (`UPDATE_EXPECT=1` rewrites it).
    pub text: Option<Spanned<String>>,
    /// Principals' statuses after the step.
    #[serde(default)]
    pub status: BTreeMap<String, String>,
    /// Tenants' contact persons after the step.
    #[serde(default)]
    pub contact: BTreeMap<String, String>,
    /// Principals shown with the crown (holding `admin` in their home).
    #[serde(default)]
    pub admin: Vec<String>,
}

/// A write a step does.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// A user of the world joins: added, then active with a password (through the API: by
    /// the invitation's link, which verifies the e-mail).
    #[serde(skip_deserializing)]
    Join(UserDef),
    CreateTenant(TenantDef),
    /// The partner's wizard: a sub-account of a client (R46).
    CreateSubAccount {
        client: String,
        key: String,
        name: String,
    },
    CreateUser(NewUserDef),
    /// Send the invitation of a `pending` user (R11, R12).
    Invite {
        principal: String,
    },
    Assign(AssignmentDef),
    /// Remove the principal's assignment of `role` (or `permission`) in `tenant`.
    Unassign {
        principal: String,
        role: Option<String>,
        permission: Option<String>,
        tenant: String,
    },
    CreateResource(ResourceDef),
    CreateDelegate(DelegateDef),
    CreateGroup {
        owner: String,
        name: String,
    },
    /// Move a tenant into one of the owner's groups (R38).
    PlaceInGroup {
        owner: String,
        group: String,
        tenant: String,
    },
    /// A delegate's groups (by name, of its owner) and kinds; absent: Full Access, all kinds.
    SetDelegateAccess {
        delegate: String,
        groups: Option<Vec<String>>,
        kinds: Option<Vec<String>>,
    },
    ProposeGrant(GrantDef),
    /// Revoke the grant from `client` to `partner` (R40).
    RevokeGrant {
        client: String,
        partner: String,
    },
    GivePartnerRole(PartnerRoleDef),
    /// Switch the actor's session into a client (R43).
    SwitchTenant {
        tenant: String,
    },
    SetStatus {
        principal: String,
        status: String,
    },
    Cancel {
        principal: String,
    },
    UpdateProfile {
        principal: String,
        first_name: Option<String>,
        phone: Option<String>,
    },
    /// Switch company-level permissions off or on (R3).
    SetEntitlements {
        tenant: String,
        #[serde(default)]
        remove: Vec<String>,
        #[serde(default)]
        add: Vec<String>,
    },
}

/// A user added by a step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserDef {
    pub logon: String,
    pub home: String,
    /// Default: the logon.
    pub first_name: Option<String>,
    /// Default: `Example`.
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// `pending` (no invitation), `invited` or `active` (with a password).
    pub status: String,
    /// `generated`: the creator has a random password generated (R14); else it is entered.
    pub password: Option<String>,
}

impl NewUserDef {
    pub fn email(&self) -> String {
        self.email.clone().unwrap_or_else(|| format!("{}@example.com", self.logon))
    }
    pub fn first_name(&self) -> String {
        self.first_name.clone().unwrap_or_else(|| self.logon.clone())
    }
    pub fn last_name(&self) -> String {
        self.last_name.clone().unwrap_or_else(|| "Example".into())
    }
}

/// A check named in a step: `PRINCIPAL PERMISSION TARGET` in the session of the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub principal: String,
    pub permission: String,
    /// `tenant:KEY`, `resource:KEY` or a bare tenant key.
    pub target: String,
    pub session: Session,
}

/// A session as a step names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// No session at all (a back end asking, R51).
    pub sessionless: bool,
    pub switched_into: Option<String>,
    pub impersonator: Option<String>,
}

impl Session {
    pub const HOME: Session =
        Session { sessionless: false, switched_into: None, impersonator: None };
}

/// A target named by a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetName<'a> {
    Tenant(&'a str),
    Resource(&'a str),
}

impl Query {
    pub fn target(&self) -> TargetName<'_> {
        match self.target.split_once(':') {
            Some(("resource", key)) => TargetName::Resource(key),
            Some(("tenant", key)) => TargetName::Tenant(key),
            _ => TargetName::Tenant(&self.target),
        }
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.principal, self.permission, self.target)?;
        let s = &self.session;
        match (&s.switched_into, s.sessionless) {
            (Some(c), _) => write!(f, " switched into {c}")?,
            (None, true) => write!(f, " without a session")?,
            (None, false) => write!(f, " at home")?,
        }
        if let Some(i) = &s.impersonator {
            write!(f, " impersonated by {i}")?;
        }
        Ok(())
    }
}

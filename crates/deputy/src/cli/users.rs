//! Principals at the console (R10–R24, R34–R38): users created, listed, shown, invited,
//! activated, deactivated, cancelled, updated and unlocked; service accounts; secondary
//! logons (delegates) and what they may act for.

use super::{Cli, Failure, Outcome, console_auth, done, initialised, made, narrowed};
use clap::Subcommand;
use deputy_core::commands::users::ProfileUpdate;
use deputy_core::{AttributeValue, Bundle, State, Status};
use deputy_http::routes::refs::{ScopeRef, TenantRef};
use deputy_service::auth::Auth;
use deputy_service::ops::users::FirstAccess;
use deputy_service::ops::{self, Asker};
use deputy_service::resolve;
use deputy_store::BoxedBackend;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user (R10); the first of a tenant becomes its contact person and admin (R4).
    Create {
        logon: String,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        first: String,
        #[arg(long)]
        last: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        /// pending, invited or active.
        #[arg(long, default_value = "invited")]
        status: String,
    },
    List {
        #[arg(long)]
        tenant: String,
    },
    Show {
        logon: String,
    },
    Activate {
        logon: String,
    },
    Deactivate {
        logon: String,
    },
    Cancel {
        logon: String,
    },
    /// Send (or resend) the invitation of a pending or invited user (R10, R12).
    Invite {
        logon: String,
    },
    /// Add a service account (R24).
    ServiceAccount {
        name: String,
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change profile fields and custom attributes (R18); `--attr KEY=VALUE`, `--attr KEY=` removes.
    Update {
        logon: String,
        #[arg(long)]
        first: Option<String>,
        #[arg(long)]
        last: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        internal: Option<String>,
        #[arg(long = "attr")]
        attributes: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DelegateCmd {
    /// Create a secondary logon of OWNER (R34).
    Create {
        logon: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        first: String,
        #[arg(long)]
        last: String,
        #[arg(long)]
        email: String,
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long = "kind")]
        kinds: Vec<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Sign in with the owner's password (R17).
        #[arg(long)]
        linked: bool,
    },
    /// Change a delegate's groups, kinds and roles (no --group: Full Access).
    Access {
        logon: String,
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long = "kind")]
        kinds: Vec<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
    },
}

/// How a new user first gets in (R12), from `--status`: `invited` sends the invitation.
fn first_access(text: &str) -> Result<FirstAccess, Failure> {
    match text {
        "pending" => Ok(FirstAccess::Pending),
        "invited" => Ok(FirstAccess::Invitation),
        "active" => Ok(FirstAccess::Active),
        other => Err(Failure::Usage(format!(
            "--status: `{other}` is not one of pending, invited, active"
        ))),
    }
}

/// `KEY=VALUE` as a typed attribute: integers and booleans as such, else text; `KEY=`
/// removes the attribute.
fn attribute(text: &str) -> Result<(String, Option<AttributeValue>), Failure> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| Failure::Usage(format!("--attr: `{text}` is not KEY=VALUE")))?;
    if key.is_empty() {
        return Err(Failure::Usage("--attr: the key is empty".into()));
    }
    let value = if value.is_empty() {
        None
    } else if let Ok(n) = value.parse::<i64>() {
        Some(AttributeValue::Integer(n))
    } else if let Ok(b) = value.parse::<bool>() {
        Some(AttributeValue::Bool(b))
    } else {
        Some(AttributeValue::Text(value.to_owned()))
    };
    Ok((key.to_owned(), value))
}

pub(super) fn user(cmd: &UserCmd, s: &State, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    match cmd {
        UserCmd::Create { logon, tenant, first, last, email, phone, roles, status } => {
            let spec = ops::users::UserSpec {
                logon: logon.clone(),
                first_name: first.clone(),
                last_name: last.clone(),
                email: email.clone(),
                phone: phone.clone(),
                roles: roles.clone(),
            };
            let created = ops::users::create_user(auth, by, tenant, spec, first_access(status)?)?;
            made(&created.committed, format!("created user `{logon}`"), "principal")
        }
        UserCmd::List { tenant } => {
            let t = resolve::tenant(s, tenant)?;
            let admin = s.catalog.admin_role;
            let contact = s.tenant(t).and_then(|t| t.contact);
            let rows: Vec<_> = s.members(t).map(|p| {
                let crown = p.assignments.iter().any(|a| a.bundle == Bundle::Role(admin));
                json!({"id": p.id.to_string(), "logon": p.logon, "name": p.display_name(), "status": p.status, "admin": crown, "contact": contact == Some(p.id), "delegate_of": p.owner().and_then(|o| s.principal(o)).map(|o| o.logon.clone())})
            }).collect();
            let text = s
                .members(t)
                .map(|p| {
                    let crown = if p.assignments.iter().any(|a| a.bundle == Bundle::Role(admin)) {
                        "♛ "
                    } else {
                        "  "
                    };
                    format!(
                        "{crown}{:<24} {:<24} {:<12}{}",
                        p.logon,
                        p.display_name(),
                        p.status.as_str(),
                        if contact == Some(p.id) { " (contact person)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok((json!({"users": rows}), text, 0))
        }
        UserCmd::Show { logon } => {
            let p = s
                .principal(resolve::principal(s, logon)?)
                .ok_or_else(|| Failure::NotFound(logon.clone()))?;
            let assignments: Vec<_> = p.assignments.iter().map(|a| json!({"id": a.id.to_string(), "role": match a.bundle { Bundle::Role(r) => s.catalog.role_name(r).to_owned(), Bundle::Permission(x) => s.catalog.perm_name(x).to_owned() }, "target": ScopeRef::of(s, a.scope), "expires_at": a.expires_at})).collect();
            let value = json!({"id": p.id.to_string(), "logon": p.logon, "home": TenantRef::of(s, p.home), "status": p.status, "email": p.email, "assignments": assignments});
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            Ok((value, text, 0))
        }
        UserCmd::Activate { logon } | UserCmd::Deactivate { logon } => {
            let status = if matches!(cmd, UserCmd::Activate { .. }) {
                Status::Active
            } else {
                Status::Deactivated
            };
            // The service's use case, so the same sessions and links die as over the API.
            let c = ops::users::set_status(auth, by, logon, status, None)?;
            let token = json!({"token": c.token().to_string()});
            done(c.revision, format!("`{logon}` is {}", status.as_str()), token)
        }
        UserCmd::Cancel { logon } => {
            let c = ops::users::cancel(auth, by, logon)?;
            let token = json!({"token": c.token().to_string()});
            done(c.revision, format!("`{logon}` is cancelled"), token)
        }
        UserCmd::Invite { logon } => {
            // R12: the invitation mail goes out (a resend: the older link dies).
            ops::users::invite(auth, by, logon)?;
            let revision = auth.deputy().snapshot().revision;
            done(revision, format!("`{logon}` is invited"), json!({}))
        }
        UserCmd::ServiceAccount { name, tenant, description } => {
            let c = ops::users::create_service_account(auth, by, tenant, name, description)?;
            made(&c, format!("created service account `{name}`"), "principal")
        }
        UserCmd::Update { logon, first, last, email, phone, description, internal, attributes } => {
            let attributes =
                attributes.iter().map(|a| attribute(a)).collect::<Result<Vec<_>, _>>()?;
            let update = ProfileUpdate {
                first_name: first.clone(),
                last_name: last.clone(),
                email: email.clone(),
                phone: phone.clone(),
                description: description.clone(),
                internal_description: internal.clone(),
                attributes,
            };
            let c = ops::users::update_profile(auth, by, logon, update)?;
            done(c.revision, format!("`{logon}` updated"), json!({}))
        }
    }
}

pub(super) fn delegate(cmd: &DelegateCmd, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    match cmd {
        DelegateCmd::Create { logon, owner, first, last, email, groups, kinds, roles, linked } => {
            let spec = ops::users::DelegateSpec {
                logon: logon.clone(),
                first_name: first.clone(),
                last_name: last.clone(),
                email: email.clone(),
                access: ops::users::DelegateAccess {
                    groups: narrowed(groups),
                    kinds: narrowed(kinds),
                    roles: roles.clone(),
                },
                linked_password: *linked,
            };
            let c = ops::users::create_delegate(auth, by, owner, spec)?;
            made(&c, format!("created secondary logon `{logon}`"), "principal")
        }
        DelegateCmd::Access { logon, groups, kinds, roles } => {
            let access = ops::users::DelegateAccess {
                groups: narrowed(groups),
                kinds: narrowed(kinds),
                roles: roles.clone(),
            };
            let c = ops::users::set_delegate_access(auth, by, logon, &access)?;
            done(c.revision, format!("access of `{logon}` changed"), json!({}))
        }
    }
}

/// Lifts a sign-in lock or back-off (R16).
pub(super) fn unlock(cli: &Cli, logon: &str) -> Outcome {
    // As the console operator whatever `--as` says, like every maintenance command.
    let auth = console_auth(cli, initialised(&cli.db)?)?;
    ops::users::unlock(&auth, Asker::CONSOLE, logon)?;
    let p = resolve::principal(&auth.deputy().snapshot(), logon)?;
    Ok((json!({"unlocked": p.to_string()}), format!("unlocked `{logon}`"), 0))
}

//! CLI commands that change tenants and principals beyond creating them: moves, default
//! roles, contact persons, descriptions, delegation settings, parent accounts (R46),
//! invitations, service accounts and profiles.

use crate::cli::{Failure, Outcome, TenantCmd, UserCmd, done, made};
use deputy_core::AttributeValue;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::ProfileUpdate;
use deputy_service::auth::Auth;
use deputy_service::ops::tenants::{TenantChange, Wizard};
use deputy_service::ops::{self, Asker};
use deputy_store::BoxedBackend;
use serde_json::json;

pub fn tenant(cmd: &TenantCmd, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    let change =
        |tenant: &str, change: TenantChange| ops::tenants::change(auth, by, tenant, change);
    match cmd {
        TenantCmd::Move { tenant, parent } => {
            let c = change(
                tenant,
                TenantChange { parent: Some(parent.clone()), ..Default::default() },
            )?;
            done(c.revision, format!("moved `{tenant}` under `{parent}`"), json!({}))
        }
        TenantCmd::DefaultRole { tenant, role } => {
            let c = change(
                tenant,
                TenantChange { default_role: Some(role.clone()), ..Default::default() },
            )?;
            done(c.revision, format!("new principals of `{tenant}` get `{role}`"), json!({}))
        }
        TenantCmd::Contact { tenant, logon } => {
            let c = change(
                tenant,
                TenantChange { contact: Some(logon.clone()), ..Default::default() },
            )?;
            done(c.revision, format!("`{logon}` is the contact person of `{tenant}`"), json!({}))
        }
        TenantCmd::Describe { tenant, name, description, internal } => {
            let c = change(
                tenant,
                TenantChange {
                    name: name.clone(),
                    description: description.clone(),
                    internal_description: internal.clone(),
                    ..Default::default()
                },
            )?;
            done(c.revision, format!("`{tenant}` described"), json!({}))
        }
        TenantCmd::Delegation { tenant, allowed, nested } => {
            let c = change(
                tenant,
                TenantChange {
                    delegates_allowed: Some(*allowed),
                    nested_delegates_allowed: Some(*nested),
                    ..Default::default()
                },
            )?;
            done(
                c.revision,
                format!("secondary logons in `{tenant}`: allowed {allowed}, nested {nested}"),
                json!({}),
            )
        }
        TenantCmd::CreateParent { key, client, name } => {
            let new = NewTenant {
                key: key.clone(),
                name: name.clone().unwrap_or_else(|| key.clone()),
                ..Default::default()
            };
            let c = ops::tenants::create_account(auth, by, client, Wizard::ParentAccount, new)?;
            made(&c, format!("created `{key}` as the parent account of `{client}`"), "tenant")
        }
        _ => Err(Failure::Internal("unhandled tenant command".into())),
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

pub fn user(cmd: &UserCmd, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    match cmd {
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
        _ => Err(Failure::Internal("unhandled user command".into())),
    }
}

//! CLI commands that change tenants and principals beyond creating them: moves, default
//! roles, contact persons, descriptions, delegation settings, parent accounts (R46),
//! invitations, service accounts and profiles.

use crate::cli::{Exec, Failure, Outcome, TenantCmd, UserCmd, done};
use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::ProfileUpdate;
use deputy_core::{AttributeValue, State, Status};
use deputy_service::resolve;
use serde_json::json;

pub fn tenant(cmd: &TenantCmd, s: &State, exec: Exec<'_>) -> Outcome {
    match cmd {
        TenantCmd::Move { tenant, parent } => {
            let (t, p) = (resolve::tenant(s, tenant)?, resolve::tenant(s, parent)?);
            let (_, rev) = exec(&|tx| tx.move_tenant(t, p).map(|_| json!({})))?;
            done(rev, format!("moved `{tenant}` under `{parent}`"), json!({}))
        }
        TenantCmd::DefaultRole { tenant, role } => {
            let (t, r) = (resolve::tenant(s, tenant)?, resolve::role(s, role)?);
            let (_, rev) = exec(&|tx| tx.set_default_role(t, r).map(|_| json!({})))?;
            done(rev, format!("new principals of `{tenant}` get `{role}`"), json!({}))
        }
        TenantCmd::Contact { tenant, logon } => {
            let (t, p) = (resolve::tenant(s, tenant)?, resolve::principal(s, logon)?);
            let (_, rev) = exec(&|tx| tx.set_contact_person(t, p).map(|_| json!({})))?;
            done(rev, format!("`{logon}` is the contact person of `{tenant}`"), json!({}))
        }
        TenantCmd::Describe { tenant, name, description, internal } => {
            let t = resolve::tenant(s, tenant)?;
            let (_, rev) = exec(&|tx| {
                tx.describe_tenant(t, name.clone(), description.clone(), internal.clone())
                    .map(|_| json!({}))
            })?;
            done(rev, format!("`{tenant}` described"), json!({}))
        }
        TenantCmd::Delegation { tenant, allowed, nested } => {
            let t = resolve::tenant(s, tenant)?;
            let (_, rev) = exec(&|tx| tx.set_delegation(t, *allowed, *nested).map(|_| json!({})))?;
            done(
                rev,
                format!("secondary logons in `{tenant}`: allowed {allowed}, nested {nested}"),
                json!({}),
            )
        }
        TenantCmd::CreateParent { key, client, name } => {
            let c = resolve::tenant(s, client)?;
            let new = NewTenant {
                key: key.clone(),
                name: name.clone().unwrap_or_else(|| key.clone()),
                ..Default::default()
            };
            let (v, rev) = exec(&|tx| {
                tx.create_parent_account(c, new.clone()).map(|t| json!({"tenant": t.to_string()}))
            })?;
            done(rev, format!("created `{key}` as the parent account of `{client}`"), v)
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

pub fn user(cmd: &UserCmd, s: &State, exec: Exec<'_>) -> Outcome {
    match cmd {
        UserCmd::Invite { logon } => {
            let p = resolve::principal(s, logon)?;
            let (_, rev) = exec(&|tx| tx.set_status(p, Status::Invited, None).map(|_| json!({})))?;
            done(rev, format!("`{logon}` is invited"), json!({}))
        }
        UserCmd::ServiceAccount { name, tenant, description } => {
            let t = resolve::tenant(s, tenant)?;
            let (v, rev) = exec(&|tx| {
                tx.create_service_account(t, name.clone(), description.clone())
                    .map(|p| json!({"principal": p.to_string()}))
            })?;
            done(rev, format!("created service account `{name}`"), v)
        }
        UserCmd::Update { logon, first, last, email, phone, description, internal, attributes } => {
            let p = resolve::principal(s, logon)?;
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
            let (_, rev) = exec(&|tx| tx.update_profile(p, update.clone()).map(|_| json!({})))?;
            done(rev, format!("`{logon}` updated"), json!({}))
        }
        _ => Err(Failure::Internal("unhandled user command".into())),
    }
}

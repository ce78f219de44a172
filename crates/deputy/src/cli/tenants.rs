//! Tenants at the console (R1–R9, R19, R34, R46): created, listed, entitled, suspended,
//! flagged as partners, moved, described; the partner wizards.

use super::{Outcome, done, made};
use clap::Subcommand;
use deputy_core::State;
use deputy_core::commands::tenants::NewTenant;
use deputy_service::auth::Auth;
use deputy_service::ops::tenants::{TenantChange, Wizard};
use deputy_service::ops::{self, Asker};
use deputy_store::BoxedBackend;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Create a tenant under PARENT (R1).
    Create {
        key: String,
        #[arg(long)]
        parent: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    List,
    /// A partner's "New account for a new customer" (R46): run with --as a partner user.
    CreateCustomer {
        key: String,
        #[arg(long)]
        partner: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a tenant's own entitlements (R3).
    Entitle {
        tenant: String,
        permissions: Vec<String>,
    },
    Suspend {
        tenant: String,
    },
    Resume {
        tenant: String,
    },
    /// Flag a tenant as a partner (or `--off`).
    Partner {
        tenant: String,
        #[arg(long)]
        off: bool,
    },
    /// Move a tenant under a new parent (R1).
    Move {
        tenant: String,
        #[arg(long)]
        parent: String,
    },
    /// Set the role new principals get (R19).
    DefaultRole {
        tenant: String,
        role: String,
    },
    /// Make an active user of the tenant its contact person (R4).
    Contact {
        tenant: String,
        logon: String,
    },
    /// Change name, description and internal description (R9).
    Describe {
        tenant: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        internal: Option<String>,
    },
    /// Allow secondary logons (and nested ones) in a tenant (R34).
    Delegation {
        tenant: String,
        #[arg(long, action = clap::ArgAction::Set, default_value_t = true)]
        allowed: bool,
        #[arg(long, action = clap::ArgAction::Set, default_value_t = false)]
        nested: bool,
    },
    /// A parent account of CLIENT, created by a partner through its grant (R46).
    CreateParent {
        key: String,
        #[arg(long)]
        client: String,
        #[arg(long)]
        name: Option<String>,
    },
}

pub(super) fn run(cmd: &TenantCmd, s: &State, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    let change =
        |tenant: &str, change: TenantChange| ops::tenants::change(auth, by, tenant, change);
    match cmd {
        TenantCmd::Create { key, parent, name, description } => {
            let new = NewTenant {
                key: key.clone(),
                name: name.clone().unwrap_or_else(|| key.clone()),
                description: description.clone(),
                ..Default::default()
            };
            let c = ops::tenants::create(auth, by, parent, new)?;
            made(&c, format!("created tenant `{key}`"), "tenant")
        }
        TenantCmd::CreateCustomer { key, partner, name } => {
            let new = NewTenant {
                key: key.clone(),
                name: name.clone().unwrap_or_else(|| key.clone()),
                ..Default::default()
            };
            let c = ops::tenants::create_account(auth, by, partner, Wizard::Customer, new)?;
            made(&c, format!("created customer `{key}`"), "tenant")
        }
        TenantCmd::List => {
            let rows: Vec<_> = s.tenants().map(|t| json!({"id": t.id.to_string(), "key": t.key, "name": t.name, "parent": t.parent.and_then(|p| s.tenant(p)).map(|p| p.key.clone()), "partner": t.partner, "suspended": t.suspended})).collect();
            let text = s
                .tenants()
                .map(|t| {
                    format!(
                        "{}{} {}{}{}",
                        "  ".repeat(t.depth()),
                        t.key,
                        t.name,
                        if t.partner { " [partner]" } else { "" },
                        if t.suspended { " [suspended]" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok((json!({"tenants": rows}), text, 0))
        }
        TenantCmd::Entitle { tenant, permissions } => {
            let c = ops::tenants::set_entitlements(auth, by, tenant, permissions)?;
            done(c.revision, format!("entitlements of `{tenant}` set"), json!({}))
        }
        TenantCmd::Suspend { tenant } | TenantCmd::Resume { tenant } => {
            let suspend = matches!(cmd, TenantCmd::Suspend { .. });
            let c = ops::tenants::set_suspended(auth, by, tenant, suspend)?;
            done(
                c.revision,
                format!("tenant `{tenant}` {}", if suspend { "suspended" } else { "resumed" }),
                json!({}),
            )
        }
        TenantCmd::Partner { tenant, off } => {
            let c = ops::tenants::set_partner(auth, by, tenant, !off)?;
            done(
                c.revision,
                format!("tenant `{tenant}` partner flag {}", if *off { "off" } else { "on" }),
                json!({}),
            )
        }
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
    }
}

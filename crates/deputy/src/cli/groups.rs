//! Security groups at the console (R38): created by a user or a partner tenant, tenants
//! placed in them, deleted.

use super::{Failure, Outcome, done, made};
use clap::Subcommand;
use deputy_service::auth::Auth;
use deputy_service::ops::{self, Asker};
use deputy_store::BoxedBackend;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Create a group of a user (`--user`) or a partner tenant (`--tenant`).
    Create {
        name: String,
        #[arg(long, conflicts_with = "tenant", required_unless_present = "tenant")]
        user: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Put TENANT in GROUP (out of its old group).
    Place {
        group: String,
        tenant: String,
    },
    Delete {
        group: String,
    },
}

pub(super) fn run(cmd: &GroupCmd, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    match cmd {
        GroupCmd::Create { name, user, tenant } => {
            let owner = match (user, tenant) {
                (Some(u), _) => ops::groups::Owner::User(u.clone()),
                (None, Some(t)) => ops::groups::Owner::Tenant(t.clone()),
                (None, None) => return Err(Failure::Usage("give --user or --tenant".into())),
            };
            let c = ops::groups::create(auth, by, owner, name)?;
            made(&c, format!("created group `{name}` ({})", c.output), "group")
        }
        GroupCmd::Place { group, tenant } => {
            let c = ops::groups::place(auth, by, group, tenant)?;
            done(c.revision, format!("placed `{tenant}` in {group}"), json!({}))
        }
        GroupCmd::Delete { group } => {
            let c = ops::groups::delete(auth, by, group)?;
            done(c.revision, format!("deleted {group}"), json!({}))
        }
    }
}

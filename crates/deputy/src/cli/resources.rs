//! Resources at the console (R29–R33): created in a tenant, typed by the catalog.

use super::{Outcome, made};
use clap::Subcommand;
use deputy_service::auth::Auth;
use deputy_service::ops::{self, Asker};
use deputy_store::BoxedBackend;

#[derive(Debug, Subcommand)]
pub enum ResourceCmd {
    Create {
        key: String,
        #[arg(long)]
        tenant: String,
        #[arg(long = "type")]
        resource_type: String,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

pub(super) fn run(cmd: &ResourceCmd, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    let ResourceCmd::Create { key, tenant, resource_type, kind, parent, name } = cmd;
    let spec = ops::resources::ResourceSpec {
        key: key.clone(),
        name: name.clone().unwrap_or_else(|| key.clone()),
        resource_type: resource_type.clone(),
        kind: kind.clone(),
        parent: parent.clone(),
    };
    let c = ops::resources::create(auth, by, tenant, spec)?;
    made(&c, format!("created resource `{key}`"), "resource")
}

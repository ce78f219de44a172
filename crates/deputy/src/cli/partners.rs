//! Partner access at the console (R40–R47, R70): grants proposed, approved, revoked,
//! changed, listed and kept up; roles given to a partner's users for clients.

use super::{Failure, Outcome, done, made, narrowed};
use clap::{Args, Subcommand};
use deputy_core::{Actor, GrantId, State, TenantId};
use deputy_service::auth::Auth;
use deputy_service::ops::{self, Asker};
use deputy_store::BoxedBackend;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum GrantCmd {
    Propose {
        #[arg(long)]
        client: String,
        #[arg(long)]
        partner: String,
        #[arg(long = "ceiling", required = true)]
        ceiling: Vec<String>,
        #[arg(long)]
        subtree: bool,
    },
    Approve {
        grant: String,
    },
    Revoke {
        grant: String,
    },
    List,
    /// Narrow or extend a grant (R40, R41): the client's side sets its whole terms.
    Change {
        grant: String,
        #[arg(long = "ceiling", required = true)]
        ceiling: Vec<String>,
        /// Only resources of these kinds (R38).
        #[arg(long = "kind")]
        kinds: Vec<String>,
        #[arg(long)]
        subtree: bool,
        /// Expires this many days from now.
        #[arg(long)]
        days: Option<i64>,
        #[arg(long)]
        auto_extend: bool,
    },
    /// Extend auto-extending grants and record expiry notices due within DAYS (R70).
    Upkeep {
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
}

#[derive(Debug, Args)]
pub struct PartnerRoleArgs {
    logon: String,
    role: String,
    /// For one client…
    #[arg(long, required_unless_present = "group")]
    client: Option<String>,
    /// …or for every client in one of the partner tenant's groups (`sg3`).
    #[arg(long, conflicts_with = "client")]
    group: Option<String>,
}

/// A grant id as typed (`g3`), refused in the argument's words before anything is asked.
fn grant_id(text: &str) -> Result<(), Failure> {
    match text.parse::<GrantId>() {
        Ok(_) => Ok(()),
        Err(_) => Err(Failure::Usage(format!("grant: `{text}` is not a grant id like `g3`"))),
    }
}

pub(super) fn grant(
    cmd: &GrantCmd,
    s: &State,
    auth: &Auth<BoxedBackend>,
    by: Asker<'_>,
) -> Outcome {
    let d = auth.deputy();
    match cmd {
        GrantCmd::Propose { client, partner, ceiling, subtree } => {
            let terms = ops::partners::TermsSpec {
                ceiling: ceiling.clone(),
                subtree: *subtree,
                ..Default::default()
            };
            let c = ops::partners::propose(auth, by, client, partner, &terms)?;
            made(&c, format!("grant {} from `{client}` to `{partner}`", c.output), "grant")
        }
        GrantCmd::Approve { grant } | GrantCmd::Revoke { grant } => {
            grant_id(grant)?;
            let approve = matches!(cmd, GrantCmd::Approve { .. });
            let c = if approve {
                ops::partners::approve(auth, by, grant)?
            } else {
                ops::partners::revoke(auth, by, grant)?
            };
            done(
                c.revision,
                format!("grant {grant} {}", if approve { "approved" } else { "revoked" }),
                json!({}),
            )
        }
        GrantCmd::Change { grant, ceiling, kinds, subtree, days, auto_extend } => {
            grant_id(grant)?;
            if days.is_some_and(|d| d < 1) {
                return Err(Failure::Usage("--days: at least 1".into()));
            }
            let now = d.now();
            let expires_at =
                days.map(|n| n.saturating_mul(24 * 60 * 60 * 1000).saturating_add(now));
            let terms = ops::partners::TermsSpec {
                ceiling: ceiling.clone(),
                kinds: narrowed(kinds),
                subtree: *subtree,
                expires_at,
                auto_extend: *auto_extend,
            };
            let c = ops::partners::change(auth, by, grant, &terms)?;
            done(c.revision, format!("grant {grant} changed"), json!({}))
        }
        GrantCmd::Upkeep { days } => {
            if by.actor != Actor::System {
                return Err(Failure::Usage(
                    "grant upkeep runs as the console (without --as)".into(),
                ));
            }
            let window = days.saturating_mul(24 * 60 * 60 * 1000);
            // R70: the server's upkeep, expiry and extension notices mailed as it does.
            let mails = ops::partners::upkeep(auth, window)?;
            let token = d.token();
            done(
                token.revision,
                format!("grant upkeep done: {mails} notices queued for mail"),
                json!({"mails": mails, "token": token.to_string()}),
            )
        }
        GrantCmd::List => {
            let name = |t: TenantId| s.tenant(t).map_or(t.to_string(), |t| t.key.clone());
            let rows: Vec<_> = s.grants().map(|g| json!({"id": g.id.to_string(), "client": name(g.client), "partner": name(g.partner), "status": g.status, "ceiling": g.ceiling.iter().map(|r| s.catalog.role_name(*r)).collect::<Vec<_>>(), "subtree": g.subtree})).collect();
            let text = s
                .grants()
                .map(|g| {
                    format!(
                        "{} {} → {} {:?} ceiling={:?}",
                        g.id,
                        name(g.client),
                        name(g.partner),
                        g.status,
                        g.ceiling.iter().map(|r| s.catalog.role_name(*r)).collect::<Vec<_>>()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok((json!({"grants": rows}), text, 0))
        }
    }
}

pub(super) fn partner_role(
    args: &PartnerRoleArgs,
    auth: &Auth<BoxedBackend>,
    by: Asker<'_>,
) -> Outcome {
    let PartnerRoleArgs { logon, role, client, group } = args;
    let (target, what) = match (client, group) {
        (Some(c), _) => (ops::partners::For::Client(c.clone()), c.clone()),
        (None, Some(g)) => (ops::partners::For::Group(g.clone()), g.clone()),
        (None, None) => return Err(Failure::Usage("give --client or --group".into())),
    };
    let c = ops::partners::give_role(auth, by, logon, role, target, None)?;
    let mut v = serde_json::to_value(&c.output).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("token".into(), json!(c.token().to_string()));
    }
    done(c.revision, format!("gave `{role}` for `{what}` to `{logon}`"), v)
}

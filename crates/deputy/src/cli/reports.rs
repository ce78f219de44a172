//! Reports at the console, all reads: what-if previews (R67), access reviews as text or
//! CSV (R72), the activity log and its verification (R21, R22), and the mail outbox (R61).

use super::checks::describe_path;
use super::{Cli, Failure, Outcome, initialised};
use clap::{Args, Subcommand};
use deputy_core::*;
use deputy_http::routes::refs::{PrincipalRef, ResourceRef, TenantRef};
use deputy_http::routes::reports::REVIEW_CSV_HEADER;
use deputy_service::Deputy;
use deputy_service::auth::Auth;
use deputy_service::resolve;
use deputy_store::{ActivityQuery, BoxedBackend, VerifyReport};
use serde_json::json;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct WhatIfArgs {
    #[command(subcommand)]
    change: WhatIfCmd,
    /// Rows per page.
    #[arg(long, default_value_t = 200)]
    limit: usize,
    /// The `next` cursor of the previous page.
    #[arg(long)]
    cursor: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WhatIfCmd {
    /// Deactivating a principal.
    Deactivate { logon: String },
    /// Cancelling a principal.
    Cancel { logon: String },
    /// Removing an assignment (`a12`).
    Unassign { logon: String, assignment: String },
    /// Revoking a grant (`g3`).
    RevokeGrant { grant: String },
    /// Moving a tenant to another group (`sg4`).
    Place { group: String, tenant: String },
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// A tenant key, or with --principal a logon name.
    subject: String,
    #[arg(long)]
    principal: bool,
    /// Print CSV instead of text.
    #[arg(long)]
    csv: bool,
}

#[derive(Debug, Subcommand)]
pub enum ActivityCmd {
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
    /// Recompute the hash chain and name the first broken entry (R22).
    Verify,
}

/// The time a what-if may take before it reports where it stopped.
const WHAT_IF_BUDGET: Duration = Duration::from_secs(10);

pub(super) fn what_if(auth: &Auth<BoxedBackend>, who: Actor, args: &WhatIfArgs) -> Outcome {
    use deputy_service::ops::{self, access::PendingChange};
    // Id syntax first, in the console's words.
    match &args.change {
        WhatIfCmd::Unassign { assignment, .. } if assignment.parse::<AssignmentId>().is_err() => {
            return Err(Failure::Usage(format!(
                "assignment: `{assignment}` is not an id like `a12`"
            )));
        }
        WhatIfCmd::RevokeGrant { grant } if grant.parse::<GrantId>().is_err() => {
            return Err(Failure::Usage(format!("grant: `{grant}` is not an id like `g3`")));
        }
        _ => {}
    }
    let change = match &args.change {
        WhatIfCmd::Deactivate { logon } => PendingChange::Deactivate { principal: logon.clone() },
        WhatIfCmd::Cancel { logon } => PendingChange::Cancel { principal: logon.clone() },
        WhatIfCmd::Unassign { logon, assignment } => {
            PendingChange::Unassign { principal: logon.clone(), assignment: assignment.clone() }
        }
        WhatIfCmd::RevokeGrant { grant } => PendingChange::RevokeGrant { grant: grant.clone() },
        WhatIfCmd::Place { group, tenant } => {
            PendingChange::PlaceInGroup { group: group.clone(), tenant: tenant.clone() }
        }
    };
    let (diff, rev) =
        ops::access::what_if(auth, ops::Asker::new(who, None), &change, WHAT_IF_BUDGET)?;
    let s = auth.deputy().snapshot();
    let name = |p: PrincipalId| s.principal(p).map_or(p.to_string(), |p| p.logon.to_string());
    let tname = |t: TenantId| s.tenant(t).map_or(t.to_string(), |t| t.key.clone());
    let (page, next) =
        diff.page(rev, args.cursor.as_deref(), args.limit).map_err(Failure::Usage)?;
    let rows: Vec<_> = page
        .iter()
        .map(|r| json!({"principal": PrincipalRef::of(&s, r.principal), "switched_into": r.switched.map(|t| TenantRef::of(&s, t)), "permission": s.catalog.perm_name(r.permission), "tenant": TenantRef::of(&s, r.tenant), "resource": r.resource.map(|x| ResourceRef::of(&s, x)), "change": if r.gained { "gains" } else { "loses" }}))
        .collect();
    let mut text = format!("at revision {rev}, nothing committed:\n");
    if diff.rows.is_empty() {
        text.push_str("  nobody's access changes\n");
    }
    for r in page {
        let via = r.switched.map(|c| format!(" (switched into {})", tname(c))).unwrap_or_default();
        let on = r
            .resource
            .and_then(|x| s.resource(x))
            .map(|x| format!(" on {}", x.key))
            .unwrap_or_default();
        text.push_str(&format!(
            "  {} {} `{}`{on} in {}{via}\n",
            name(r.principal),
            if r.gained { "gains" } else { "loses" },
            s.catalog.perm_name(r.permission),
            tname(r.tenant)
        ));
    }
    if let Some(why) = &diff.stopped {
        text.push_str(&format!("  (incomplete: {why})\n"));
    }
    if let Some(next) = &next {
        text.push_str(&format!("  … {} rows in all; more: --cursor {next}\n", diff.rows.len()));
    }
    Ok((
        json!({"revision": rev, "rows": rows, "next": next, "total": diff.rows.len(), "complete": diff.stopped.is_none(), "stopped": diff.stopped}),
        text.trim_end().to_owned(),
        0,
    ))
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

pub(super) fn review(d: &Deputy<BoxedBackend>, args: &ReviewArgs) -> Outcome {
    let s = d.snapshot();
    let (rows, rev) = if args.principal {
        d.review_principal(resolve::principal(&s, &args.subject)?)
    } else {
        d.review_tenant(resolve::tenant(&s, &args.subject)?)
    };
    let name = |p: PrincipalId| s.principal(p).map_or(p.to_string(), |p| p.logon.to_string());
    let tname = |t: TenantId| s.tenant(t).map_or(t.to_string(), |t| t.key.clone());
    let reasons = |r: &deputy_core::review::ReviewRow| {
        r.paths.iter().map(|p| describe_path(&s, p)).collect::<Vec<_>>()
    };
    let json_rows: Vec<_> = rows
        .iter()
        .map(|r| json!({"principal": PrincipalRef::of(&s, r.principal), "switched_into": r.switched.map(|t| TenantRef::of(&s, t)), "tenant": TenantRef::of(&s, r.tenant), "permission": s.catalog.perm_name(r.permission), "reasons": reasons(r)}))
        .collect();
    let text = if args.csv {
        // The API's columns (R57, R72); the reasons in words.
        let mut out = format!("{REVIEW_CSV_HEADER}\n");
        for r in &rows {
            let line = [
                r.principal.to_string(),
                name(r.principal),
                r.switched.map(|t| t.to_string()).unwrap_or_default(),
                r.switched.map(tname).unwrap_or_default(),
                r.tenant.to_string(),
                tname(r.tenant),
                s.catalog.perm_name(r.permission).to_owned(),
                reasons(r).join("; "),
            ];
            out.push_str(&line.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out.trim_end().to_owned()
    } else {
        rows.iter()
            .map(|r| {
                format!(
                    "{:<20} {:<22} {:<16}{}  — {}",
                    name(r.principal),
                    s.catalog.perm_name(r.permission),
                    tname(r.tenant),
                    r.switched
                        .map(|c| format!(" (switched into {})", tname(c)))
                        .unwrap_or_default(),
                    reasons(r).join("; ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok((json!({"revision": rev, "rows": json_rows}), text, 0))
}

pub(super) fn activity(cli: &Cli, cmd: &ActivityCmd) -> Outcome {
    let d = initialised(&cli.db)?;
    match cmd {
        ActivityCmd::List { limit, after } => {
            let entries = d.store().activity(&ActivityQuery {
                after_seq: *after,
                limit: *limit,
                ..Default::default()
            })?;
            let rows: Vec<_> = entries
                .iter()
                .map(|e| json!({"seq": e.seq, "revision": e.revision, "at_ms": e.entry.at_ms, "action": e.entry.action, "actor": e.entry.actor, "subject": e.entry.subject, "tenant": e.entry.tenant, "acting_as": e.entry.acting_as, "details": e.entry.details}))
                .collect();
            let text = entries
                .iter()
                .map(|e| {
                    format!(
                        "{:>6}  {:<32} actor={} subject={} tenant={}",
                        e.seq,
                        e.entry.action,
                        e.entry.actor.as_deref().unwrap_or("-"),
                        e.entry.subject.as_deref().unwrap_or("-"),
                        e.entry.tenant.as_deref().unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok((json!({"entries": rows}), text, 0))
        }
        ActivityCmd::Verify => match deputy_store::verify_activity(d.store())? {
            VerifyReport::Intact { entries } => Ok((
                json!({"intact": true, "entries": entries}),
                format!("activity log intact: {entries} entries verified"),
                0,
            )),
            VerifyReport::Broken { seq, reason } => {
                Err(Failure::Conflict(format!("activity log broken at entry {seq}: {reason}")))
            }
        },
    }
}

pub(super) fn outbox(cli: &Cli, after: i64, limit: usize) -> Outcome {
    use deputy_store::secrets::SecretStore;
    let store = deputy_backends::open(&cli.db)?;
    let rows = store.outbox(after, limit)?;
    let mut text = String::new();
    for m in &rows {
        let state = match (m.sent_ms, &m.last_error) {
            (Some(_), _) => "sent".to_owned(),
            (None, Some(e)) => format!("not sent after {} attempts: {e}", m.attempts),
            (None, None) => "queued".to_owned(),
        };
        text.push_str(&format!(
            "#{} to {} — {} [{state}]\n{}\n\n",
            m.id,
            m.recipient,
            m.subject,
            m.body.trim_end()
        ));
    }
    if rows.is_empty() {
        text.push_str("the outbox is empty");
    }
    let json_rows: Vec<_> = rows
                .iter()
                .map(|m| json!({"id": m.id, "recipient": m.recipient, "subject": m.subject, "body": m.body, "sent_ms": m.sent_ms, "attempts": m.attempts, "last_error": m.last_error}))
                .collect();
    Ok((json!({"mail": json_rows}), text.trim_end().to_owned(), 0))
}

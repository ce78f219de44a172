//! CLI commands that read rather than change: what-if previews (R67), access reviews as
//! JSON or CSV (R72), batch checks (R54); and access codes (R37a), whose token is shown once.

use crate::cli::{Failure, Outcome, done};
use clap::{Args, Subcommand};
use deputy_core::*;
use deputy_http::routes::refs::{PrincipalRef, TenantRef};
use deputy_http::routes::reports::REVIEW_CSV_HEADER;
use deputy_service::auth::Auth;
use deputy_service::ops::{self, Asker};
use deputy_service::resolve::{self, NotFound};
use deputy_service::{CheckItem, Deputy};
use deputy_store::BoxedBackend;
use serde_json::json;
use std::path::PathBuf;
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
pub enum AccessCodeCmd {
    /// Issue a code for TENANT carrying roles; the code is printed once.
    Issue {
        tenant: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Redeem a code (run with --as the redeemer).
    Redeem { code: String },
}

/// The time a what-if may take before it reports where it stopped.
const WHAT_IF_BUDGET: Duration = Duration::from_secs(10);

pub fn what_if(d: &Deputy<BoxedBackend>, who: Actor, args: &WhatIfArgs) -> Outcome {
    let cmd = &args.change;
    let s = d.snapshot();
    let (diff, rev) = match cmd {
        WhatIfCmd::Deactivate { logon } => {
            let p = resolve::principal(&s, logon)?;
            d.what_if(who, WHAT_IF_BUDGET, |tx| tx.set_status(p, Status::Deactivated, None))?
        }
        WhatIfCmd::Cancel { logon } => {
            let p = resolve::principal(&s, logon)?;
            d.what_if(who, WHAT_IF_BUDGET, |tx| tx.cancel(p))?
        }
        WhatIfCmd::Unassign { logon, assignment } => {
            let p = resolve::principal(&s, logon)?;
            let a: AssignmentId = assignment.parse().map_err(|_| {
                Failure::Usage(format!("assignment: `{assignment}` is not an id like `a12`"))
            })?;
            d.what_if(who, WHAT_IF_BUDGET, |tx| tx.unassign(p, a))?
        }
        WhatIfCmd::RevokeGrant { grant } => {
            let g: GrantId = grant
                .parse()
                .map_err(|_| Failure::Usage(format!("grant: `{grant}` is not an id like `g3`")))?;
            d.what_if(who, WHAT_IF_BUDGET, |tx| tx.revoke_grant(g))?
        }
        WhatIfCmd::Place { group, tenant } => {
            let g = resolve::group(&s, group)?;
            let t = resolve::tenant(&s, tenant)?;
            d.what_if(who, WHAT_IF_BUDGET, |tx| tx.place_in_group(g, t))?
        }
    };
    let name = |p: PrincipalId| s.principal(p).map_or(p.to_string(), |p| p.logon.to_string());
    let tname = |t: TenantId| s.tenant(t).map_or(t.to_string(), |t| t.key.clone());
    let (page, next) =
        diff.page(rev, args.cursor.as_deref(), args.limit).map_err(Failure::Usage)?;
    let rows: Vec<_> = page
        .iter()
        .map(|r| json!({"principal": PrincipalRef::of(&s, r.principal), "switched_into": r.switched.map(|t| TenantRef::of(&s, t)), "permission": s.catalog.perm_name(r.permission), "tenant": TenantRef::of(&s, r.tenant), "change": if r.gained { "gains" } else { "loses" }}))
        .collect();
    let mut text = format!("at revision {rev}, nothing committed:\n");
    if diff.rows.is_empty() {
        text.push_str("  nobody's access changes\n");
    }
    for r in page {
        let via = r.switched.map(|c| format!(" (switched into {})", tname(c))).unwrap_or_default();
        text.push_str(&format!(
            "  {} {} `{}` in {}{via}\n",
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

pub fn review(d: &Deputy<BoxedBackend>, args: &ReviewArgs) -> Outcome {
    let s = d.snapshot();
    let (rows, rev) = if args.principal {
        d.review_principal(resolve::principal(&s, &args.subject)?)
    } else {
        d.review_tenant(resolve::tenant(&s, &args.subject)?)
    };
    let name = |p: PrincipalId| s.principal(p).map_or(p.to_string(), |p| p.logon.to_string());
    let tname = |t: TenantId| s.tenant(t).map_or(t.to_string(), |t| t.key.clone());
    let reasons = |r: &deputy_core::review::ReviewRow| {
        r.paths.iter().map(|p| crate::cli::describe_path(&s, p)).collect::<Vec<_>>()
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

pub fn batch_check(d: &Deputy<BoxedBackend>, file: &PathBuf) -> Outcome {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", file.display())))?;
    let doc: Vec<serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Failure::Usage(format!("`{}` is not a JSON array: {e}", file.display())))?;
    let s = d.snapshot();
    let mut items = Vec::with_capacity(doc.len());
    for (i, v) in doc.iter().enumerate() {
        let field = |k: &str| {
            v.get(k).and_then(|x| x.as_str()).ok_or_else(|| {
                Failure::Usage(format!("item {i}: `{k}` is missing or not a string"))
            })
        };
        let principal = resolve::principal(&s, field("principal")?)
            .map_err(|e| Failure::NotFound(format!("item {i}: {e}")))?;
        let permission = resolve::permission(&s, field("permission")?)
            .map_err(|e| Failure::NotFound(format!("item {i}: {e}")))?;
        let target = resolve::target(&s, field("target")?)
            .map_err(|e| Failure::NotFound(format!("item {i}: {e}")))?;
        let switched = v
            .get("switched_into")
            .and_then(|x| x.as_str())
            .map(|t| resolve::tenant(&s, t))
            .transpose()
            .map_err(|e: NotFound| Failure::NotFound(format!("item {i}: {e}")))?;
        items.push(CheckItem {
            principal,
            permission,
            target,
            ctx: Context { switched, impersonation: None, sessionless: false },
        });
    }
    let (answers, rev) = d.check_batch(&items, Some(s.revision))?;
    let results: Vec<_> = answers
        .iter()
        .map(|a| match a {
            Ok(decision) => json!({"allowed": decision.is_allowed()}),
            Err(e) => json!({"error": e.to_string()}),
        })
        .collect();
    let text = answers
        .iter()
        .enumerate()
        .map(|(i, a)| {
            format!(
                "{i}: {}",
                match a {
                    Ok(d) if d.is_allowed() => "allowed".to_owned(),
                    Ok(_) => "denied".to_owned(),
                    Err(e) => format!("error: {e}"),
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok((json!({"revision": rev, "results": results}), text, 0))
}

pub fn access_code(auth: &Auth<BoxedBackend>, by: Asker<'_>, cmd: &AccessCodeCmd) -> Outcome {
    match cmd {
        AccessCodeCmd::Issue { tenant, roles, days } => {
            if !(1..=365).contains(days) {
                return Err(Failure::Usage("--days: between 1 and 365".into()));
            }
            let c = ops::access::issue_code(auth, by, tenant, roles, Some(*days))?;
            let s = auth.deputy().snapshot();
            let issued = &c.output;
            Ok((
                json!({"revision": c.revision, "code": issued.code, "id": issued.id.to_string(), "tenant": TenantRef::of(&s, issued.tenant)}),
                format!(
                    "access code for `{tenant}` (shown once, valid {days} days):\n{}",
                    issued.code
                ),
                0,
            ))
        }
        AccessCodeCmd::Redeem { code } => {
            let c = ops::access::redeem_code(auth, by, code)?;
            let s = auth.deputy().snapshot();
            let (tenant, holder) =
                (TenantRef::of(&s, c.output.tenant), PrincipalRef::of(&s, c.output.holder));
            let assignments: Vec<String> =
                c.output.assignments.iter().map(ToString::to_string).collect();
            done(
                c.revision,
                format!("access to `{}` added", tenant.key),
                json!({"tenant": tenant, "holder": holder, "assignments": assignments}),
            )
        }
    }
}

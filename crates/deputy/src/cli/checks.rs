//! Checks at the console (R50–R55): check, explain, lookups of resources and subjects,
//! batch checks, and granting paths in words.

use super::{Cli, Failure, Outcome};
use clap::Args;
use deputy_core::*;
use deputy_http::routes::checks::SubjectView;
use deputy_http::routes::refs::{PrincipalRef, TargetRef, TenantRef};
use deputy_service::resolve::{self, NotFound};
use deputy_service::{CheckItem, Deputy};
use deputy_store::BoxedBackend;
use serde_json::json;
use std::path::Path;

#[derive(Debug, Args)]
pub struct CheckArgs {
    logon: String,
    permission: String,
    /// `tenant:KEY`, `resource:KEY` or a bare key.
    target: String,
    /// Answer on data at least this fresh (a revision number).
    #[arg(long, conflicts_with = "token")]
    at_least: Option<u64>,
    /// Answer on data at least as fresh as this consistency token (`EPOCH.REVISION`, R50).
    #[arg(long)]
    token: Option<String>,
    /// Check as LOGON's session would while IMPERSONATOR impersonates it (R48); with
    /// `--switched`, the impersonator's session is switched.
    #[arg(long)]
    impersonator: Option<String>,
}

#[derive(Debug, Args)]
pub struct LookupResourcesArgs {
    logon: String,
    permission: String,
    #[arg(long = "type")]
    resource_type: Option<String>,
    #[arg(long)]
    cursor: Option<String>,
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

#[derive(Debug, Args)]
pub struct LookupSubjectsArgs {
    target: String,
    permission: String,
    #[arg(long)]
    cursor: Option<String>,
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

pub(super) fn check(
    cli: &Cli,
    d: &Deputy<BoxedBackend>,
    args: &CheckArgs,
    explain: bool,
) -> Outcome {
    let s = match (args.at_least, &args.token) {
        (Some(rev), _) => d.snapshot_at_least(rev)?,
        (None, Some(token)) => d.snapshot_for(token.parse()?)?,
        (None, None) => d.snapshot(),
    };
    let p = resolve::principal(&s, &args.logon)?;
    let x = resolve::permission(&s, &args.permission)?;
    let t = resolve::target(&s, &args.target)?;
    let switched = cli.switched.as_deref().map(|c| resolve::tenant(&s, c)).transpose()?;
    let impersonation = match &args.impersonator {
        Some(logon) => Some(Impersonation {
            actor: resolve::principal(&s, logon)?,
            expires_at: d.now() + deputy_core::commands::access::MAX_IMPERSONATION_MS,
        }),
        None => None,
    };
    // R51: no session unless one is named, as over the API.
    let ctx = Context { switched, impersonation, sessionless: !cli.home };
    let ex = s.explain(p, x, t, ctx, d.now())?;
    let allowed = ex.decision.is_allowed();
    let code = if allowed { 0 } else { 1 };
    let verdict = if allowed { "allowed" } else { "denied" };
    let value = json!({"allowed": allowed, "decision": ex.decision, "reason": ex.reason, "paths": ex.paths, "revision": s.revision});
    if !explain {
        return Ok((json!({"allowed": allowed, "revision": s.revision}), verdict.to_owned(), code));
    }
    let mut text =
        format!("{verdict}: {} {} {}", args.logon, args.permission, resolve::target_name(&s, t));
    if let Some(reason) = &ex.reason {
        text.push_str(&format!("\n  because {reason}"));
    }
    for path in &ex.paths {
        text.push_str(&format!("\n  {}", describe_path(&s, path)));
    }
    Ok((value, text, code))
}

pub(super) fn lookup_resources(
    cli: &Cli,
    d: &Deputy<BoxedBackend>,
    args: &LookupResourcesArgs,
) -> Outcome {
    let LookupResourcesArgs { logon, permission, resource_type, cursor, limit } = args;
    let s = d.snapshot();
    let p = resolve::principal(&s, logon)?;
    let x = resolve::permission(&s, permission)?;
    let ty = resource_type
        .as_deref()
        .map(|t| s.catalog.type_id(t).ok_or_else(|| NotFound(format!("no resource type `{t}`"))))
        .transpose()?;
    let ctx = Context {
        switched: cli.switched.as_deref().map(|c| resolve::tenant(&s, c)).transpose()?,
        impersonation: None,
        sessionless: !cli.home,
    };
    let page = s.lookup_resources(p, x, ty, ctx, d.now(), cursor.as_deref(), *limit)?;
    let names: Vec<String> = page.items.iter().map(|t| resolve::target_name(&s, *t)).collect();
    // The API's items (R57): `{type, id, key}`.
    let items: Vec<TargetRef> = page.items.iter().map(|t| TargetRef::of(&s, *t)).collect();
    let mut text = names.join("\n");
    if let Some(next) = &page.next {
        text.push_str(&format!("\n… more: --cursor {next}"));
    }
    Ok((json!({"items": items, "next": page.next, "revision": s.revision}), text, 0))
}

pub(super) fn lookup_subjects(
    cli: &Cli,
    d: &Deputy<BoxedBackend>,
    args: &LookupSubjectsArgs,
) -> Outcome {
    let LookupSubjectsArgs { target, permission, cursor, limit } = args;
    let s = d.snapshot();
    let t = resolve::target(&s, target)?;
    let x = resolve::permission(&s, permission)?;
    let ctx = Context {
        switched: cli.switched.as_deref().map(|c| resolve::tenant(&s, c)).transpose()?,
        impersonation: None,
        sessionless: !cli.home,
    };
    let page = s.lookup_subjects_for(t, x, ctx, d.now(), cursor.as_deref(), *limit)?;
    let rows: Vec<_> = page
        .items
        .iter()
        .map(|sub| SubjectView {
            principal: PrincipalRef::of(&s, sub.principal),
            switched_into: sub.switched.map(|c| TenantRef::of(&s, c)),
        })
        .collect();
    let mut text = page
        .items
        .iter()
        .map(|sub| {
            format!(
                "{}{}",
                s.principal(sub.principal).map_or("?", |p| p.logon.as_ref()),
                sub.switched
                    .and_then(|c| s.tenant(c))
                    .map(|c| format!(" (switched into {})", c.key))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    if let Some(next) = &page.next {
        text.push_str(&format!("\n… more: --cursor {next}"));
    }
    Ok((json!({"items": rows, "next": page.next, "revision": s.revision}), text, 0))
}

pub(super) fn batch_check(d: &Deputy<BoxedBackend>, file: &Path) -> Outcome {
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

/// One granting path in words: "role admin (subtree of root), assigned by system".
pub(super) fn describe_path(s: &State, path: &deputy_core::check::GrantingPath) -> String {
    let what = match (path.role, path.permission) {
        (Some(r), _) => format!("role `{}`", s.catalog.role_name(r)),
        (_, Some(x)) => format!("permission `{}`", s.catalog.perm_name(x)),
        _ => "?".into(),
    };
    let scope = match path.scope {
        Some(Scope::Tenant { tenant, subtree }) => format!(
            " in {}{}",
            s.tenant(tenant).map_or("?", |t| t.key.as_str()),
            if subtree { " and below" } else { "" }
        ),
        Some(Scope::Resource { resource }) => {
            format!(" on {}", s.resource(resource).map_or("?", |r| r.key.as_ref()))
        }
        Some(Scope::Client { client }) => {
            format!(" for client {}", s.tenant(client).map_or("?", |t| t.key.as_str()))
        }
        Some(Scope::Group { group }) => format!(" for the clients of group {group}"),
        None => String::new(),
    };
    let by = match &path.assigned_by {
        Some(Author::System) => ", assigned by the console".to_owned(),
        Some(Author::Principal(p)) => {
            format!(", assigned by {}", s.principal(*p).map_or("?", |p| p.logon.as_ref()))
        }
        None => String::new(),
    };
    let grant = path.grant.map(|g| format!(", through grant {g}")).unwrap_or_default();
    let holder = s.principal(path.holder).map_or("?", |p| p.logon.as_ref());
    let via = if path.through_delegates.is_empty() {
        String::new()
    } else {
        format!(
            " (as owner of {})",
            path.through_delegates
                .iter()
                .filter_map(|d| s.principal(*d))
                .map(|d| d.logon.as_ref())
                .collect::<Vec<_>>()
                .join(" → ")
        )
    };
    format!("{} path: {holder}{via} holds {what}{scope}{by}{grant}", path.origin)
}

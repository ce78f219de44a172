//! `deputy demo` (R60): a database holding scenarios S1–S4 (built by
//! `deputy_service::demo`), a tour of checks, and the portal served on it.

use super::checks::describe_path;
use super::{Cli, Failure, Outcome, open};
use deputy_core::*;
use deputy_service::resolve;
use serde_json::json;

/// Gives every person of the demo one fresh password, prints it with the tour, and serves
/// the portal on the demo database until interrupted.
pub(super) fn serve_demo(cli: &Cli, listen: &str, tour: &str) -> Result<(), Failure> {
    let raw = crate::config::RawConfig {
        database: Some(cli.db.clone()),
        listen: Some(listen.to_owned()),
        ..crate::config::RawConfig::default()
    };
    let config = crate::config::Config::validate(raw).map_err(Failure::Usage)?;
    let password = deputy_service::passwords::generate()
        .map_err(|e| Failure::Internal(format!("cannot generate a password: {e}")))?;
    let auth = deputy_service::auth::Auth::new(
        std::sync::Arc::new(open(&cli.db)?),
        deputy_service::auth::AuthSettings::default(),
    )
    .map_err(|e| Failure::Internal(e.to_string()))?;
    let s = auth.deputy().snapshot();
    let people = people(&s);
    for logon in &people {
        let p = resolve::principal(&s, logon)?;
        auth.set_password(p, &password, false).map_err(|e| Failure::Internal(e.to_string()))?;
    }
    drop(auth);
    println!("{tour}\n");
    println!("Sign in on the portal (its address follows) as any of: {}", people.join(", "));
    println!("  password (for everyone, this run): {password}");
    crate::serve::serve(config).map_err(Failure::Internal)
}

/// A tour line's answer, said against what the scenario expects, so that a denial the
/// scenario calls for does not read as a failure.
fn answer(allowed: bool, expected: bool) -> String {
    let word = |a: bool| if a { "allowed" } else { "denied" };
    if allowed == expected {
        format!("{}, as the scenario expects", word(allowed))
    } else {
        format!(
            "{} (the scenario expects {}: the demo data changed)",
            word(allowed),
            word(expected)
        )
    }
}

/// The demo's people who sign in with a password: active, not a service account, not a
/// secondary logon that signs in with its owner's (R17). One list for the tour's text and
/// for the passwords set when serving.
fn people(s: &State) -> Vec<String> {
    s.principals()
        .filter(|p| p.is_active() && !matches!(p.kind, PrincipalKind::ServiceAccount))
        .filter(|p| !p.delegate.as_deref().is_some_and(|d| d.linked_password))
        .map(|p| p.logon.to_string())
        .collect()
}

/// Builds the demo in `--db`, or reuses the demo a former run built there; with `fresh`,
/// a former demo's SQLite file is removed first. A database holding anything else is
/// never touched.
pub(super) fn demo(cli: &Cli, fresh: bool) -> Outcome {
    let mut d = open(&cli.db)?;
    let mut reused = false;
    if d.is_initialised() {
        if deputy_service::demo::handles(&d).is_err() {
            return Err(Failure::Conflict(format!(
                "`{}` holds a deployment that is not the demo's: pick another --db",
                cli.db
            )));
        }
        reused = true;
        if fresh {
            let location = deputy_backends::Location::parse(&cli.db)?;
            let deputy_backends::Location::Sqlite(path) = location else {
                return Err(Failure::Usage(
                    "--fresh removes a demo's SQLite file; for another database, drop it yourself"
                        .into(),
                ));
            };
            drop(d);
            for suffix in ["", "-wal", "-shm"] {
                let file = format!("{}{suffix}", path.display());
                if std::path::Path::new(&file).exists() {
                    std::fs::remove_file(&file)
                        .map_err(|e| Failure::Internal(format!("cannot remove `{file}`: {e}")))?;
                }
            }
            d = open(&cli.db)?;
            reused = false;
        }
    }
    let m = if reused {
        deputy_service::demo::handles(&d)?
    } else {
        d.initialise(None, "root", "Tax Agency")?;
        deputy_service::demo::build(&d)?
    };
    let s = d.snapshot();
    let now = d.now();
    let tour: Vec<(&str, PrincipalId, &str, Target, Context, bool)> = vec![
        (
            "S1 Jim files on the payroll client's Withholding account",
            m.jim,
            "returns.file",
            Target::Resource(m.bakery_withholding),
            Context::HOME,
            true,
        ),
        (
            "S1 …but not on its Sales & Use account",
            m.jim,
            "returns.file",
            Target::Resource(m.bakery_sales),
            Context::HOME,
            false,
        ),
        (
            "S1 …nor for the other client",
            m.jim,
            "returns.file",
            Target::Resource(m.florist_withholding),
            Context::HOME,
            false,
        ),
        (
            "S2 DataCo's customer manager, switched into Acme, adds users",
            m.dataco_cm,
            "users.create",
            Target::Tenant(m.acme),
            Context::switched(m.acme),
            true,
        ),
        (
            "S2 …but not at home in DataCo",
            m.dataco_cm,
            "users.create",
            Target::Tenant(m.dataco),
            Context::HOME,
            false,
        ),
        (
            "S3 BackupCo's senior IT manager, switched into Globex, manages tenants",
            m.sitm,
            "tenants.manage",
            Target::Tenant(m.customer_parent),
            Context::switched(m.customer_parent),
            true,
        ),
        (
            "S4 Ann, switched into the law firm, sees no matter until her provider gives her a role there",
            m.ann,
            "matters.view",
            Target::Resource(m.matter),
            Context::switched(m.law_firm),
            false,
        ),
    ];
    let how = if reused { "reused (built by an earlier run)" } else { "written" };
    let mut text = format!(
        "Demo deployment {how} in {} (revision {}).\nPeople: {}.\n",
        cli.db,
        s.revision,
        people(&s).join(", ")
    );
    let mut rows = Vec::new();
    for (title, p, perm, target, ctx, expected) in tour {
        let x = resolve::permission(&s, perm)?;
        let ex = s.explain(p, x, target, ctx, now)?;
        let who = s.principal(p).map_or("?", |p| p.logon.as_ref());
        text.push_str(&format!(
            "\n{title}\n  check {who} {perm} {} → {}\n",
            resolve::target_name(&s, target),
            answer(ex.decision.is_allowed(), expected)
        ));
        match &ex.reason {
            Some(r) => text.push_str(&format!("  because {r}\n")),
            None => {
                for path in &ex.paths {
                    text.push_str(&format!("  {}\n", describe_path(&s, path)));
                }
            }
        }
        rows.push(
            json!({"title": title, "allowed": ex.decision.is_allowed(), "expected": expected, "reason": ex.reason}),
        );
    }
    text.push_str(&format!(
        "\nTry: deputy --db {} explain jim returns.file resource:bakery-sales-use",
        cli.db
    ));
    Ok((json!({"revision": s.revision, "tour": rows}), text, 0))
}

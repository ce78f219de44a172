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
    let mut people = Vec::new();
    for p in s.principals() {
        let linked = p.delegate.as_deref().is_some_and(|d| d.linked_password);
        if p.is_active() && !linked && !matches!(p.kind, PrincipalKind::ServiceAccount) {
            auth.set_password(p.id, &password, false)
                .map_err(|e| Failure::Internal(e.to_string()))?;
            people.push(p.logon.to_string());
        }
    }
    drop(auth);
    println!("{tour}\n");
    println!("Sign in on the portal (its address follows) as any of: {}", people.join(", "));
    println!("  password (for everyone, this run): {password}");
    crate::serve::serve(config).map_err(Failure::Internal)
}

pub(super) fn demo(cli: &Cli) -> Outcome {
    let d = open(&cli.db)?;
    if d.is_initialised() {
        return Err(Failure::Conflict(format!(
            "`{}` holds a deployment already: pick another --db",
            cli.db
        )));
    }
    d.initialise(None, "root", "Tax Agency")?;
    let m = deputy_service::demo::build(&d)?;
    let s = d.snapshot();
    let now = d.now();
    let tour: Vec<(&str, PrincipalId, &str, Target, Context)> = vec![
        (
            "S1 Jim files on the payroll client's Withholding account",
            m.jim,
            "returns.file",
            Target::Resource(m.bakery_withholding),
            Context::HOME,
        ),
        (
            "S1 …but not on its Sales & Use account",
            m.jim,
            "returns.file",
            Target::Resource(m.bakery_sales),
            Context::HOME,
        ),
        (
            "S1 …nor for the other client",
            m.jim,
            "returns.file",
            Target::Resource(m.florist_withholding),
            Context::HOME,
        ),
        (
            "S2 DataCo's customer manager, switched into Acme, adds users",
            m.dataco_cm,
            "users.create",
            Target::Tenant(m.acme),
            Context::switched(m.acme),
        ),
        (
            "S2 …but not at home in DataCo",
            m.dataco_cm,
            "users.create",
            Target::Tenant(m.dataco),
            Context::HOME,
        ),
        (
            "S3 BackupCo's senior IT manager, switched into Globex, manages tenants",
            m.sitm,
            "tenants.manage",
            Target::Tenant(m.customer_parent),
            Context::switched(m.customer_parent),
        ),
        (
            "S4 Ann views matters only after the firm's grant gives her a role",
            m.ann,
            "matters.view",
            Target::Resource(m.matter),
            Context::switched(m.law_firm),
        ),
    ];
    let mut text = format!(
        "Demo deployment written to {} (revision {}).\nPeople: jane, jim, nora, bakery-admin, acme-admin, carla, sitm, sm, globex-cs, firm-admin, provider-admin, ann, operator.\n",
        cli.db, s.revision
    );
    let mut rows = Vec::new();
    for (title, p, perm, target, ctx) in tour {
        let x = resolve::permission(&s, perm)?;
        let ex = s.explain(p, x, target, ctx, now)?;
        let who = s.principal(p).map_or("?", |p| p.logon.as_ref());
        text.push_str(&format!(
            "\n{title}\n  check {who} {perm} {} → {}\n",
            resolve::target_name(&s, target),
            if ex.decision.is_allowed() { "allowed" } else { "denied" }
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
            json!({"title": title, "allowed": ex.decision.is_allowed(), "reason": ex.reason}),
        );
    }
    text.push_str(&format!(
        "\nTry: deputy --db {} explain jim returns.file resource:bakery-sales-use",
        cli.db
    ));
    Ok((json!({"revision": s.revision, "tour": rows}), text, 0))
}

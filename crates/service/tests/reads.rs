//! What-if (R67), batch check (R54) and access review (R72) on the demo deployment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::*;
use deputy_service::demo::{self, Demo};
use deputy_service::{CheckItem, Deputy};
use deputy_store::BoxedBackend;
use std::time::Duration;

fn demo_deputy() -> (Deputy<BoxedBackend>, Demo) {
    let d = Deputy::open(deputy_backends::in_memory().unwrap()).unwrap();
    d.initialise(None, "root", "Agency").unwrap();
    let m = demo::build(&d).unwrap();
    (d, m)
}

#[test]
fn r67_what_if_lists_losses_and_commits_nothing() {
    let (d, m) = demo_deputy();
    let before = d.snapshot().revision;
    let (diff, rev) = d
        .what_if(Actor::at_home(m.operator), Duration::from_secs(30), |tx| {
            tx.set_status(m.jane, Status::Deactivated, None)
        })
        .unwrap();
    assert_eq!(rev, before);
    assert_eq!(d.snapshot().revision, before, "nothing committed");
    assert!(diff.stopped.is_none());
    let file = d.snapshot().catalog.permission_id("returns.file").unwrap();
    assert!(diff.rows.iter().any(|r| r.principal == m.jane
        && r.tenant == m.bakery
        && r.permission == file
        && !r.gained));
    assert!(diff.rows.iter().all(|r| !r.gained), "deactivation only takes away");
    assert!(
        d.snapshot()
            .check(m.jane, file, Target::Tenant(m.bakery), Context::HOME, d.now())
            .unwrap()
            .is_allowed()
    );
}

#[test]
fn r67_what_if_on_grant_revocation_names_partner_users() {
    let (d, m) = demo_deputy();
    let viewer = d.snapshot().catalog.role_id("viewer").unwrap();
    d.execute(Actor::at_home(m.provider_admin), None, |tx| {
        tx.give_partner_role(m.ann, Scope::Client { client: m.law_firm }, viewer, None)
    })
    .unwrap();
    let (diff, _) = d
        .what_if(Actor::at_home(m.firm_admin), Duration::from_secs(30), |tx| {
            tx.revoke_grant(m.firm_grant)
        })
        .unwrap();
    let view = d.snapshot().catalog.permission_id("matters.view").unwrap();
    assert!(diff.rows.contains(&deputy_core::review::AccessChange {
        principal: m.ann,
        switched: Some(m.law_firm),
        permission: view,
        tenant: m.law_firm,
        resource: None,
        gained: false
    }));
}

#[test]
fn r67_what_if_reports_when_budget_is_reached() {
    let (d, m) = demo_deputy();
    let (diff, _) = d
        .what_if(Actor::at_home(m.operator), Duration::ZERO, |tx| {
            tx.set_status(m.jane, Status::Deactivated, None)
        })
        .unwrap();
    assert!(diff.stopped.unwrap().contains("time budget"));
}

#[test]
fn r67_what_if_refused_command_is_an_error() {
    let (d, m) = demo_deputy();
    let err = d
        .what_if(Actor::at_home(m.jim), Duration::from_secs(1), |tx| {
            tx.set_status(m.jane, Status::Deactivated, None)
        })
        .unwrap_err();
    assert!(err.to_string().contains("R29a"), "{err}");
}

#[test]
fn r54_batch_check_answers_each_triple() {
    let (d, m) = demo_deputy();
    let s = d.snapshot();
    let file = s.catalog.permission_id("returns.file").unwrap();
    let items = [
        CheckItem {
            principal: m.jim,
            permission: file,
            target: Target::Resource(m.bakery_withholding),
            ctx: Context::HOME,
        },
        CheckItem {
            principal: m.jim,
            permission: file,
            target: Target::Resource(m.bakery_sales),
            ctx: Context::HOME,
        },
        CheckItem {
            principal: PrincipalId(9_999),
            permission: file,
            target: Target::Tenant(m.bakery),
            ctx: Context::HOME,
        },
    ];
    let (answers, rev) = d.check_batch(&items, Some(s.revision)).unwrap();
    assert_eq!(rev, s.revision);
    assert_eq!(answers[0], Ok(Decision::Allowed));
    assert!(matches!(answers[1], Ok(Decision::Denied(_))));
    assert!(matches!(answers[2], Err(CheckError::UnknownPrincipal(_))));
}

#[test]
fn r72_access_review_for_tenant_and_principal_with_reasons() {
    let (d, m) = demo_deputy();
    let file = d.snapshot().catalog.permission_id("returns.file").unwrap();
    let (rows, _) = d.review_tenant(m.bakery);
    let jane = rows.iter().find(|r| r.principal == m.jane && r.permission == file).unwrap();
    assert!(!jane.paths.is_empty(), "with the reason");
    assert!(rows.iter().any(|r| r.principal == m.bakery_admin));
    let (mine, _) = d.review_principal(m.jane);
    assert!(mine.iter().any(|r| r.tenant == m.florist && r.permission == file));
    assert!(mine.iter().all(|r| {
        d.snapshot()
            .check(
                m.jane,
                r.permission,
                Target::Tenant(r.tenant),
                Context { switched: r.switched, impersonation: None, sessionless: false },
                d.now(),
            )
            .unwrap()
            .is_allowed()
    }));
}

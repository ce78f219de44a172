//! Scenarios S1–S4 of SPEC §11, end to end through the service layer on a SQLite file: the
//! files of `deputy-scenarios` run by its driver, and what a file cannot say (reopening the
//! file, racing replicas).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::commands::roles::NewAssignment;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::NewUser;
use deputy_core::*;
use deputy_scenarios::commands::{Commands, operator};
use deputy_scenarios::{ScenarioFile, driver};
use deputy_service::demo::layer::Service;
use deputy_service::demo::{self, Demo};
use deputy_service::{Deputy, ServiceError};
use deputy_store::BoxedBackend;
use deputy_store::Store;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    d: Deputy<BoxedBackend>,
    demo: Demo,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deputy.db");
    let d = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    d.initialise(None, "root", "Tax Agency").unwrap();
    let demo = demo::build(&d).unwrap();
    Fixture { _dir: dir, path, d, demo }
}

impl Fixture {
    fn check(&self, p: PrincipalId, perm: &str, target: Target, ctx: Context) -> bool {
        let s = self.d.snapshot();
        let x = s.catalog.permission_id(perm).unwrap();
        s.check(p, x, target, ctx, self.d.now()).unwrap().is_allowed()
    }

    fn role(&self, name: &str) -> RoleId {
        self.d.snapshot().catalog.role_id(name).unwrap()
    }

    fn rule_of(err: ServiceError) -> Option<&'static str> {
        match err {
            ServiceError::Command(e) => e.rule,
            other => panic!("expected a refused command, got {other}"),
        }
    }
}

fn new_user(home: TenantId, logon: &str, status: Status) -> NewUser {
    NewUser {
        home,
        logon: logon.into(),
        first_name: logon.into(),
        last_name: "X".into(),
        email: format!("{logon}@example.com"),
        phone: None,
        roles: vec![],
        status,
    }
}

/// Runs a scenario file on a fresh deployment on a SQLite file: the root, its first admin
/// `operator`, then the file's world and steps, every command committed through `Deputy`.
fn run_file(file: &ScenarioFile) {
    let dir = tempfile::tempdir().unwrap();
    let d =
        Deputy::open(deputy_backends::open_file(dir.path().join("deputy.db")).unwrap()).unwrap();
    let root = d.initialise(None, "root", "Tax Agency").unwrap().output;
    d.execute(Actor::System, None, |tx| tx.create_user(operator(root))).unwrap();
    let mut runner = Commands::new(Service::new(&d));
    if let Err(failures) = driver::run(&mut runner, file) {
        panic!("{failures}");
    }
}

#[test]
fn s1_tax_portal_secondary_logon() {
    run_file(&deputy_scenarios::S1);
}

#[test]
fn s2_data_platform_contact_person_customer_manager_entitlements() {
    let f = fixture();
    let m = f.demo.clone();
    let s = f.d.snapshot();
    assert_eq!(s.tenant(m.acme).unwrap().contact, Some(m.acme_first));
    let admin = Actor::at_home(m.acme_first);
    // Bob without invitation, invited later.
    let bob =
        f.d.execute(admin, None, |tx| tx.create_user(new_user(m.acme, "bob", Status::Pending)))
            .unwrap()
            .output;
    assert_eq!(f.d.snapshot().principal(bob).unwrap().status, Status::Pending);
    f.d.execute(admin, None, |tx| tx.set_status(bob, Status::Invited, None)).unwrap();
    assert_eq!(f.d.snapshot().principal(bob).unwrap().status, Status::Invited);
    // Removing one's own admin role is refused.
    let own =
        f.d.snapshot()
            .principal(m.acme_first)
            .unwrap()
            .assignments
            .iter()
            .find(|a| a.bundle == Bundle::Role(f.role("admin")))
            .unwrap()
            .id;
    let err = f.d.execute(admin, None, |tx| tx.unassign(m.acme_first, own)).unwrap_err();
    assert_eq!(Fixture::rule_of(err), Some("R6"));
    // The partner's customer manager, switched into Acme, adds a user there…
    let cm_in_acme = Actor::Principal { id: m.dataco_cm, ctx: Context::switched(m.acme) };
    f.d.execute(cm_in_acme, None, |tx| {
        tx.create_user(new_user(m.acme, "acme-new", Status::Pending))
    })
    .unwrap();
    // …but not in the partner's own company.
    let err =
        f.d.execute(Actor::at_home(m.dataco_cm), None, |tx| {
            tx.create_user(new_user(m.dataco, "dataco-new", Status::Pending))
        })
        .unwrap_err();
    assert_eq!(Fixture::rule_of(err), Some("R10"));
    // A permission requiring another cannot be given alone.
    let carol =
        f.d.execute(admin, None, |tx| tx.create_user(new_user(m.acme, "carol", Status::Active)))
            .unwrap()
            .output;
    let file = f.d.snapshot().catalog.permission_id("returns.file").unwrap();
    let alone = NewAssignment {
        principal: carol,
        bundle: Bundle::Permission(file),
        scope: Scope::Tenant { tenant: m.acme, subtree: false },
        expires_at: None,
    };
    let err = f.d.execute(admin, None, |tx| tx.assign(alone)).unwrap_err();
    assert_eq!(Fixture::rule_of(err), Some("R26"));
    // A company-level permission switched off by the operator makes the user-level one inert…
    let tp = NewAssignment {
        principal: carol,
        bundle: Bundle::Role(f.role("tax-preparer")),
        scope: Scope::Tenant { tenant: m.acme, subtree: false },
        expires_at: None,
    };
    f.d.execute(admin, None, |tx| tx.assign(tp)).unwrap();
    assert!(f.check(carol, "returns.file", Target::Tenant(m.acme), Context::HOME));
    let op = Actor::at_home(m.operator);
    f.d.execute(op, None, |tx| {
        tx.set_entitlements(m.acme, &["returns.view".into(), "payments.make".into()])
    })
    .unwrap();
    assert!(!f.check(carol, "returns.file", Target::Tenant(m.acme), Context::HOME));
    // …and switching it on revives it.
    f.d.execute(op, None, |tx| {
        tx.set_entitlements(
            m.acme,
            &["returns.view".into(), "returns.file".into(), "payments.make".into()],
        )
    })
    .unwrap();
    assert!(f.check(carol, "returns.file", Target::Tenant(m.acme), Context::HOME));
}

#[test]
fn s3_backup_portal_ranked_admins() {
    let f = fixture();
    let m = f.demo.clone();
    let sitm_in_customer =
        Actor::Principal { id: m.sitm, ctx: Context::switched(m.customer_parent) };
    // The wizard: a sub-account under the customer's parent account, and its first user.
    let sub =
        f.d.execute(sitm_in_customer, None, |tx| {
            tx.create_tenant(
                m.customer_parent,
                NewTenant {
                    key: "globex-eu".into(),
                    name: "Globex EU".into(),
                    ..Default::default()
                },
            )
        })
        .unwrap()
        .output;
    let first =
        f.d.execute(sitm_in_customer, None, |tx| {
            tx.create_user(new_user(sub, "globex-eu-admin", Status::Active))
        })
        .unwrap()
        .output;
    // Roles up to its own rank: yes; senior-manager: no.
    let give = |role: &str| NewAssignment {
        principal: first,
        bundle: Bundle::Role(f.role(role)),
        scope: Scope::Tenant { tenant: sub, subtree: false },
        expires_at: None,
    };
    f.d.execute(sitm_in_customer, None, |tx| tx.assign(give("customer-service"))).unwrap();
    let err =
        f.d.execute(sitm_in_customer, None, |tx| tx.assign(give("senior-manager"))).unwrap_err();
    assert_eq!(Fixture::rule_of(err), Some("R27"));
    // Cannot modify a senior manager at home.
    let err =
        f.d.execute(Actor::at_home(m.sitm), None, |tx| {
            tx.set_status(m.senior_manager, Status::Deactivated, None)
        })
        .unwrap_err();
    assert_eq!(Fixture::rule_of(err), Some("R28"));
    // Impersonates a customer-service account: checks run as the target, never above the impersonator.
    let imp = Context {
        switched: Some(m.customer_parent),
        impersonation: Some(Impersonation {
            actor: m.sitm,
            expires_at: f.d.now() + 60 * 60 * 1000,
        }),
        sessionless: false,
    };
    assert!(f.check(m.customer_service, "users.modify", Target::Tenant(m.customer_parent), imp));
    let s = f.d.snapshot();
    let audit_actor = Actor::Principal { id: m.customer_service, ctx: imp };
    let done =
        f.d.execute(audit_actor, Some("127.0.0.1"), |tx| {
            tx.update_profile(
                m.customer_service,
                deputy_core::commands::users::ProfileUpdate {
                    phone: Some("+1 555 0100".into()),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    let entries =
        f.d.store()
            .activity(&deputy_store::ActivityQuery {
                after_seq: 0,
                limit: 100_000,
                ..Default::default()
            })
            .unwrap();
    let last = entries.iter().rev().find(|e| e.revision == Some(done.revision)).unwrap();
    assert_eq!(
        last.entry.actor.as_deref(),
        Some(m.sitm.to_string().as_str()),
        "R49: the impersonator is the actor"
    );
    assert!(
        last.entry.acting_as.contains(&m.customer_service.to_string()),
        "and the target is named"
    );
    let _ = s;
}

#[test]
fn s4_legal_tech_partner_access_and_revocation_token() {
    let f = fixture();
    let m = f.demo.clone();
    let viewer = f.role("viewer");
    let outcome =
        f.d.execute(Actor::at_home(m.provider_admin), None, |tx| {
            tx.give_partner_role(m.ann, Scope::Client { client: m.law_firm }, viewer, None)
        })
        .unwrap()
        .output;
    assert_eq!(outcome.replaced, vec![m.ann_old], "Ann's old direct account is deactivated");
    assert_eq!(f.d.snapshot().principal(m.ann_old).unwrap().status, Status::Deactivated);
    let switched = Context::switched(m.law_firm);
    assert!(f.check(m.ann, "matters.view", Target::Resource(m.matter), switched));
    assert!(!f.check(m.ann, "matters.edit", Target::Resource(m.matter), switched));
    let revoked =
        f.d.execute(Actor::at_home(m.firm_admin), None, |tx| tx.revoke_grant(m.firm_grant))
            .unwrap();
    let s = f.d.snapshot_at_least(revoked.revision).unwrap();
    let view = s.catalog.permission_id("matters.view").unwrap();
    assert!(
        !s.check(m.ann, view, Target::Resource(m.matter), switched, f.d.now())
            .unwrap()
            .is_allowed()
    );
}

#[test]
fn r64_state_survives_reopen_and_replays_identically() {
    let f = fixture();
    let before = serde_json::to_string(&f.d.snapshot().to_changes()).unwrap();
    let revision = f.d.snapshot().revision;
    let path = f.path.clone();
    let reopened = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    assert_eq!(reopened.snapshot().revision, revision);
    assert_eq!(serde_json::to_string(&reopened.snapshot().to_changes()).unwrap(), before);
    // And from a checkpoint.
    reopened.checkpoint().unwrap();
    let again = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    assert_eq!(serde_json::to_string(&again.snapshot().to_changes()).unwrap(), before);
    let verified = deputy_store::verify_activity(again.store()).unwrap();
    assert!(matches!(verified, deputy_store::VerifyReport::Intact { entries } if entries > 50));
    // A checkpoint of many short lines (as a large state writes it) and one of a single
    // JSON array (as the first release wrote it) load the same state.
    let changes = again.snapshot().to_changes();
    let mut lines = Vec::new();
    for line in changes.chunks(7) {
        serde_json::to_writer(&mut lines, line).unwrap();
        lines.push(b'\n');
    }
    let single = serde_json::to_vec(&changes).unwrap();
    for blob in [lines, single] {
        let store = deputy_backends::open_file(&path).unwrap();
        deputy_store::Store::save_checkpoint(&store, &deputy_store::Checkpoint { revision, blob })
            .unwrap();
        let loaded = Deputy::open(store).unwrap();
        assert_eq!(loaded.snapshot().revision, revision);
        assert_eq!(serde_json::to_string(&loaded.snapshot().to_changes()).unwrap(), before);
    }
}

#[test]
fn r50_token_ahead_of_head_is_refused_clearly() {
    let f = fixture();
    let head = f.d.snapshot().revision;
    assert!(matches!(f.d.snapshot_at_least(head + 5), Err(ServiceError::FutureRevision { .. })));
}

#[test]
fn r5_racing_replicas_leave_one_admin() {
    // Two replicas on one SQLite file; each demotes the other admin at the same time.
    let f = fixture();
    let m = f.demo.clone();
    let nora = m.nh_second_admin;
    let replica_b = Deputy::open(deputy_backends::open_file(&f.path).unwrap()).unwrap();
    let s = f.d.snapshot();
    let admin = f.role("admin");
    let jane_admin = s
        .principal(m.jane)
        .unwrap()
        .assignments
        .iter()
        .find(|a| a.bundle == Bundle::Role(admin))
        .unwrap()
        .id;
    let nora_admin = s
        .principal(nora)
        .unwrap()
        .assignments
        .iter()
        .find(|a| a.bundle == Bundle::Role(admin))
        .unwrap()
        .id;
    let a = f.d.execute(Actor::at_home(m.jane), None, |tx| tx.unassign(nora, nora_admin));
    let b = replica_b.execute(Actor::at_home(nora), None, |tx| tx.unassign(m.jane, jane_admin));
    assert!(a.is_ok() != b.is_ok(), "exactly one demotion wins: {a:?} / {b:?}");
    replica_b.refresh().unwrap();
    let admins = deputy_core::tx::active_admins(&replica_b.snapshot(), m.natural_health).count();
    assert_eq!(admins, 1);
}

//! The service's operations (`deputy_service::ops`): what follows a commit happens here,
//! once, for every shell, so it is tested here, below the shells.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::commands::tenants::NewTenant;
use deputy_core::*;
use deputy_service::auth::{Auth, AuthError, AuthSettings};
use deputy_service::ops::{self, Asker};
use deputy_service::passwords::HashCost;
use deputy_service::{Deputy, ServiceError, demo};
use deputy_store::BoxedBackend;
use deputy_store::secrets::{SecretKind, SecretStore};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    _dir: tempfile::TempDir,
    auth: Auth<BoxedBackend>,
    demo: demo::Demo,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let d =
        Deputy::open(deputy_backends::open_file(dir.path().join("deputy.db")).unwrap()).unwrap();
    d.initialise(None, "root", "Tax Agency").unwrap();
    let demo = demo::build(&d).unwrap();
    let settings = AuthSettings {
        hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
        ..AuthSettings::default()
    };
    Fixture { _dir: dir, auth: Auth::new(Arc::new(d), settings).unwrap(), demo }
}

impl Fixture {
    fn logon(&self, p: PrincipalId) -> String {
        self.auth.deputy().snapshot().principal(p).unwrap().logon.to_string()
    }

    fn email(&self, p: PrincipalId) -> String {
        self.auth.deputy().snapshot().principal(p).unwrap().email.to_string()
    }

    fn signed_in(&self, p: PrincipalId) -> String {
        self.auth.set_password(p, PASSWORD, false).unwrap();
        self.auth.sign_in(&self.logon(p), PASSWORD, None).unwrap().token
    }

    fn sessions(&self, p: PrincipalId) -> usize {
        self.auth.deputy().store().secrets_of(p.0, SecretKind::Session).unwrap().len()
    }

    fn mail_to(&self, p: PrincipalId) -> Vec<(String, String)> {
        let to = self.email(p);
        let rows = self.auth.deputy().store().outbox(0, 10_000).unwrap();
        rows.into_iter().filter(|m| m.recipient == to).map(|m| (m.subject, m.body)).collect()
    }
}

fn refusal(e: AuthError) -> CommandError {
    match e {
        AuthError::Service(ServiceError::Command(c)) => c,
        other => panic!("expected a refused command, got {other}"),
    }
}

#[test]
fn r23_r36_a_deactivation_ends_the_sessions_of_the_principal_and_its_delegates() {
    let f = fixture();
    let (jane, jim) = (f.demo.jane, f.demo.jim);
    let token = f.signed_in(jane);
    f.signed_in(jim);
    assert_eq!((f.sessions(jane), f.sessions(jim)), (1, 1));
    let by = Asker::CONSOLE;
    let done =
        ops::users::set_status(&f.auth, by, &f.logon(jane), Status::Deactivated, None).unwrap();
    assert_eq!(done.output, jane);
    assert_eq!((f.sessions(jane), f.sessions(jim)), (0, 0), "deleted, not only refused");
    assert!(matches!(f.auth.authenticate(&token), Err(AuthError::Unauthenticated)));
}

#[test]
fn r20_a_cancellation_ends_every_secret_api_keys_too() {
    let f = fixture();
    let by = Asker::CONSOLE;
    let bakery = f.demo.bakery.to_string();
    let account =
        ops::users::create_service_account(&f.auth, by, &bakery, "robot", "").unwrap().output;
    let key = ops::users::create_api_key(&f.auth, by, "robot", "ci", None).unwrap();
    assert!(f.auth.authenticate(&key).is_ok());
    ops::users::cancel(&f.auth, by, "robot").unwrap();
    let keys = f.auth.deputy().store().secrets_of(account.0, SecretKind::ApiKey).unwrap();
    assert!(keys.is_empty(), "R20: a cancelled account's keys are deleted");
    assert!(f.auth.authenticate(&key).is_err());
}

#[test]
fn r44_replaced_accounts_lose_their_sessions_and_the_clients_admins_are_told() {
    let f = fixture();
    let m = f.demo.clone();
    f.signed_in(m.ann_old);
    let by = Asker::new(Actor::at_home(m.provider_admin), None);
    let given = ops::partners::give_role(
        &f.auth,
        by,
        &f.logon(m.ann),
        "viewer",
        ops::partners::For::Client(m.law_firm.to_string()),
        None,
    )
    .unwrap();
    assert_eq!(given.output.replaced, vec![m.ann_old]);
    assert_eq!(f.sessions(m.ann_old), 0, "R23: a replaced account is deactivated like any");
    let told = f.mail_to(m.firm_admin);
    assert!(
        told.iter().any(|(subject, body)| subject == "Accounts replaced by partner access"
            && body.contains(&f.logon(m.ann_old))),
        "R44: the client's admins are told, naming the account: {told:?}"
    );
}

#[test]
fn r34_r12_a_new_secondary_logon_gets_its_set_password_mail_unless_linked() {
    let f = fixture();
    let jane = f.demo.jane;
    let by = Asker::new(Actor::at_home(jane), None);
    let spec = |logon: &str, linked| ops::users::DelegateSpec {
        logon: logon.into(),
        first_name: "Pat".into(),
        last_name: "Clerk".into(),
        email: format!("{logon}@example.com"),
        access: ops::users::DelegateAccess::default(),
        linked_password: linked,
    };
    let own = ops::users::create_delegate(&f.auth, by, &f.logon(jane), spec("pat", false)).unwrap();
    let s = f.auth.deputy().snapshot();
    assert_eq!(s.principal(own.output).unwrap().status, Status::Invited);
    assert!(own.revision >= s.revision, "the answer's revision holds the invitation too");
    assert_eq!(f.mail_to(own.output).len(), 1, "its set-password mail is queued");
    let linked =
        ops::users::create_delegate(&f.auth, by, &f.logon(jane), spec("lin", true)).unwrap();
    assert!(f.mail_to(linked.output).is_empty(), "R17: a linked logon has no password to set");
}

#[test]
fn r57_a_name_that_names_nothing_is_refused_naming_its_field_and_changes_nothing() {
    let f = fixture();
    let before = f.auth.deputy().snapshot().revision;
    let new = NewTenant { key: "x".into(), name: "X".into(), ..Default::default() };
    let e = refusal(ops::tenants::create(&f.auth, Asker::CONSOLE, "no-such", new).unwrap_err());
    assert_eq!((e.kind, e.field), (ErrorKind::NotFound, Some("id")));
    let change = ops::tenants::TenantChange {
        default_role: Some("no-such-role".into()),
        ..Default::default()
    };
    let e = refusal(
        ops::tenants::change(&f.auth, Asker::CONSOLE, &f.demo.bakery.to_string(), change)
            .unwrap_err(),
    );
    assert_eq!((e.kind, e.field), (ErrorKind::NotFound, Some("default_role")));
    assert_eq!(f.auth.deputy().snapshot().revision, before, "nothing changed");
}

#[test]
fn r58_a_wizard_from_a_tenant_the_asker_cannot_see_answers_as_a_missing_one() {
    let f = fixture();
    let m = f.demo.clone();
    let new = NewTenant { key: "new-co".into(), name: "New Co".into(), ..Default::default() };
    let by = Asker::new(Actor::at_home(m.jim), None);
    let unseen = refusal(
        ops::tenants::create_account(
            &f.auth,
            by,
            &m.backupco.to_string(),
            ops::tenants::Wizard::Customer,
            new.clone(),
        )
        .unwrap_err(),
    );
    let missing = refusal(
        ops::tenants::create_account(&f.auth, by, "t9999", ops::tenants::Wizard::Customer, new)
            .unwrap_err(),
    );
    assert_eq!(unseen.kind, ErrorKind::NotFound);
    assert_eq!(
        unseen.message.replace(&m.backupco.to_string(), "T"),
        missing.message.replace("t9999", "T"),
        "the same words for both"
    );
}

#[test]
fn r67_what_if_by_names_shows_who_loses_and_commits_nothing() {
    let f = fixture();
    let m = f.demo.clone();
    let before = f.auth.deputy().snapshot().revision;
    let change = ops::access::PendingChange::Deactivate { principal: f.logon(m.jane) };
    let budget = std::time::Duration::from_secs(10);
    let (diff, revision) = ops::access::what_if(&f.auth, Asker::CONSOLE, &change, budget).unwrap();
    assert_eq!(revision, before);
    assert_eq!(f.auth.deputy().snapshot().revision, before, "nothing committed");
    assert_eq!(f.auth.deputy().snapshot().principal(m.jane).unwrap().status, Status::Active);
    let losers: std::collections::BTreeSet<_> =
        diff.rows.iter().filter(|r| !r.gained).map(|r| r.principal).collect();
    assert!(losers.contains(&m.jane), "{losers:?}");
    assert!(losers.contains(&m.jim), "R36: her secondary logon loses with her: {losers:?}");
    let file = f.auth.deputy().snapshot().catalog.permission_id("returns.file").unwrap();
    assert!(
        diff.rows.iter().any(|r| r.principal == m.jim
            && r.permission == file
            && r.resource == Some(m.bakery_withholding)
            && !r.gained),
        "R67: a kind-limited delegate's loss shows on the accounts it had"
    );
    let unknown = ops::access::PendingChange::Cancel { principal: "nobody".into() };
    let e = refusal(ops::access::what_if(&f.auth, Asker::CONSOLE, &unknown, budget).unwrap_err());
    assert_eq!((e.kind, e.field), (ErrorKind::NotFound, Some("principal")));
}

//! Credentials and sessions through the service layer (R12–R17, R20, R23, R24, R60).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::commands::users::NewUser;
use deputy_core::*;
use deputy_service::auth::{Auth, AuthError, AuthSettings};
use deputy_service::passwords::HashCost;
use deputy_service::{Deputy, demo};
use deputy_store::BoxedBackend;
use deputy_store::secrets::SecretStore;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    _dir: tempfile::TempDir,
    clock: Arc<AtomicI64>,
    auth: Auth<BoxedBackend>,
    demo: demo::Demo,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(1_800_000_000_000));
    let c = clock.clone();
    let d = Deputy::open(deputy_backends::open_file(dir.path().join("deputy.db")).unwrap())
        .unwrap()
        .with_clock(move || c.load(Ordering::SeqCst));
    d.initialise(None, "root", "Tax Agency").unwrap();
    let demo = demo::build(&d).unwrap();
    // Cheap hashing keeps the suite fast; the default cost is tested in `passwords`.
    let settings = AuthSettings {
        hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
        ..AuthSettings::default()
    };
    let auth = Auth::new(Arc::new(d), settings).unwrap();
    Fixture { _dir: dir, clock, auth, demo }
}

impl Fixture {
    fn logon(&self, p: PrincipalId) -> String {
        self.auth.deputy().snapshot().principal(p).unwrap().logon.to_string()
    }

    fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }
}

#[test]
fn r15_sign_in_answers_alike_for_unknown_logon_and_wrong_password() {
    let f = fixture();
    let jane = f.demo.jane;
    f.auth.set_password(jane, PASSWORD, false).unwrap();
    let unknown = f.auth.sign_in("nobody-here", PASSWORD, Some("10.0.0.1")).unwrap_err();
    let wrong = f.auth.sign_in(&f.logon(jane), "wrong password!!", Some("10.0.0.1")).unwrap_err();
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert!(matches!(unknown, AuthError::SignInFailed) && matches!(wrong, AuthError::SignInFailed));
    let session = f.auth.sign_in(&f.logon(jane).to_uppercase(), PASSWORD, None).unwrap();
    let caller = f.auth.authenticate(&session.token).unwrap();
    assert_eq!(caller.principal, jane);
    // The token is stored only as its hash.
    let rows = f
        .auth
        .deputy()
        .store()
        .secrets_of(jane.0, deputy_store::secrets::SecretKind::Session)
        .unwrap();
    assert!(rows.iter().all(|r| r.hash != session.token));
}

#[test]
fn r16_repeated_failures_lock_the_account_until_it_runs_out_or_is_unlocked() {
    let f = fixture();
    let jane = f.demo.jane;
    f.auth.set_password(jane, PASSWORD, false).unwrap();
    let logon = f.logon(jane);
    for _ in 0..20 {
        // Step past each back-off, so that every failure counts.
        f.advance(20 * 60_000);
        assert!(f.auth.sign_in(&logon, "wrong password!!", None).is_err());
    }
    f.advance(1_000);
    let locked = f.auth.sign_in(&logon, PASSWORD, None).unwrap_err();
    assert!(
        matches!(locked, AuthError::SignInFailed),
        "a locked account answers like a wrong password"
    );
    f.advance(16 * 60_000);
    assert!(f.auth.sign_in(&logon, PASSWORD, None).is_ok(), "the lock runs out");
    // After five failures an attempt inside the back-off fails even with the right password.
    for _ in 0..5 {
        let _ = f.auth.sign_in(&logon, "wrong password!!", None);
    }
    assert!(f.auth.sign_in(&logon, PASSWORD, None).is_err());
    f.auth.unlock(&logon).unwrap();
    assert!(f.auth.sign_in(&logon, PASSWORD, None).is_ok(), "an unlock lifts the back-off");
}

#[test]
fn r23_sessions_end_when_idle_and_at_sign_out() {
    let f = fixture();
    let jane = f.demo.jane;
    f.auth.set_password(jane, PASSWORD, false).unwrap();
    let s = f.auth.sign_in(&f.logon(jane), PASSWORD, None).unwrap();
    f.advance(29 * 60_000);
    let caller = f.auth.authenticate(&s.token).unwrap();
    f.advance(29 * 60_000);
    assert!(f.auth.authenticate(&s.token).is_ok(), "use keeps a session alive");
    f.advance(31 * 60_000);
    assert!(matches!(f.auth.authenticate(&s.token), Err(AuthError::Unauthenticated)));
    let s2 = f.auth.sign_in(&f.logon(jane), PASSWORD, None).unwrap();
    f.auth.sign_out(&caller, None).unwrap();
    assert!(f.auth.authenticate(&s2.token).is_ok(), "signing out one session keeps the others");
    f.auth.sign_out(&f.auth.authenticate(&s2.token).unwrap(), None).unwrap();
    assert!(f.auth.authenticate(&s2.token).is_err());
}

#[test]
fn r11_deactivated_principal_loses_its_sessions() {
    let f = fixture();
    let jim = f.demo.jim;
    f.auth.set_password(jim, PASSWORD, false).unwrap();
    let s = f.auth.sign_in(&f.logon(jim), PASSWORD, None).unwrap();
    f.auth
        .deputy()
        .execute(Actor::System, None, |tx| tx.set_status(jim, Status::Deactivated, None))
        .unwrap();
    assert!(f.auth.authenticate(&s.token).is_err());
    assert!(f.auth.sign_in(&f.logon(jim), PASSWORD, None).is_err());
}

#[test]
fn r12_invitation_is_single_use_and_fifty_redemptions_have_one_winner() {
    let f = fixture();
    let d = f.auth.deputy().clone();
    let bob = d
        .execute(Actor::at_home(f.demo.jane), None, |tx| {
            tx.create_user(NewUser {
                home: f.demo.natural_health,
                logon: "bob-nh".into(),
                first_name: "Bob".into(),
                last_name: "Smith".into(),
                email: "bob@example.com".into(),
                phone: None,
                roles: Vec::new(),
                status: Status::Pending,
            })
        })
        .unwrap()
        .output;
    let token = f.auth.invite(Actor::at_home(f.demo.jane), bob, None).unwrap();
    assert_eq!(d.snapshot().principal(bob).unwrap().status, Status::Invited);
    let mail = d.store().outbox(0, 100).unwrap();
    let last = mail.last().unwrap();
    assert_eq!(last.recipient, "bob@example.com");
    assert!(last.body.contains(&format!("http://127.0.0.1:8080/invitation/{token}")));
    let wins = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| scope.spawn(|| f.auth.accept_invitation(&token, PASSWORD, None).is_ok()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count()
    });
    assert_eq!(wins, 1);
    let bob_now = d.snapshot().principal(bob).unwrap().clone();
    assert_eq!(bob_now.status, Status::Active);
    assert!(bob_now.email_verified, "using the link verifies the e-mail (R12)");
    assert!(matches!(
        f.auth.accept_invitation(&token, PASSWORD, None),
        Err(AuthError::LinkInvalid)
    ));
    assert!(f.auth.sign_in("bob-nh", PASSWORD, None).is_ok());
}

#[test]
fn r12_a_newer_invitation_kills_the_older_and_links_expire() {
    let f = fixture();
    let d = f.auth.deputy().clone();
    let bob = d
        .execute(Actor::at_home(f.demo.jane), None, |tx| {
            tx.create_user(NewUser {
                home: f.demo.natural_health,
                logon: "bob-nh".into(),
                first_name: "Bob".into(),
                last_name: "Smith".into(),
                email: "bob@example.com".into(),
                phone: None,
                roles: Vec::new(),
                status: Status::Pending,
            })
        })
        .unwrap()
        .output;
    let first = f.auth.invite(Actor::at_home(f.demo.jane), bob, None).unwrap();
    let second = f.auth.invite(Actor::at_home(f.demo.jane), bob, None).unwrap();
    assert!(matches!(
        f.auth.accept_invitation(&first, PASSWORD, None),
        Err(AuthError::LinkInvalid)
    ));
    f.advance(73 * 3_600_000);
    assert!(matches!(
        f.auth.accept_invitation(&second, PASSWORD, None),
        Err(AuthError::LinkInvalid)
    ));
    // A weak password is refused before the link is used up.
    let third = f.auth.invite(Actor::at_home(f.demo.jane), bob, None).unwrap();
    assert!(matches!(f.auth.accept_invitation(&third, "short", None), Err(AuthError::Password(_))));
    assert!(f.auth.accept_invitation(&third, PASSWORD, None).is_ok());
}

#[test]
fn r10_invitations_need_authority_over_the_user() {
    let f = fixture();
    let d = f.auth.deputy().clone();
    let bob = d
        .execute(Actor::at_home(f.demo.jane), None, |tx| {
            tx.create_user(NewUser {
                home: f.demo.natural_health,
                logon: "bob-nh".into(),
                first_name: "Bob".into(),
                last_name: "Smith".into(),
                email: "bob@example.com".into(),
                phone: None,
                roles: Vec::new(),
                status: Status::Pending,
            })
        })
        .unwrap()
        .output;
    // Ann (a provider's user) has nothing to do with Natural Health.
    assert!(f.auth.invite(Actor::at_home(f.demo.ann), bob, None).is_err());
    assert_eq!(d.snapshot().principal(bob).unwrap().status, Status::Pending);
}

#[test]
fn r60_bootstrap_admin_must_change_the_generated_password() {
    let dir = tempfile::tempdir().unwrap();
    let d = Deputy::open(deputy_backends::open_file(dir.path().join("d.db")).unwrap()).unwrap();
    d.initialise(None, "root", "Operator").unwrap();
    let settings = AuthSettings {
        hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
        ..AuthSettings::default()
    };
    let auth = Auth::new(Arc::new(d), settings).unwrap();
    let (admin, password) = auth.bootstrap_admin("admin", "admin@example.com").unwrap();
    let s = auth.deputy().snapshot();
    let manage = s.catalog.permission_id("tenants.manage").unwrap();
    let root = s.root().unwrap();
    assert!(
        s.check(admin, manage, Target::Tenant(root), Context::HOME, auth.deputy().now())
            .unwrap()
            .is_allowed()
    );
    let session = auth.sign_in("admin", &password, None).unwrap();
    assert!(session.caller.data.must_change_password);
    assert!(auth.change_password(&session.caller, &password, "short", None).is_err());
    let changed = auth.change_password(&session.caller, &password, PASSWORD, None).unwrap();
    assert!(!changed.caller.data.must_change_password);
    assert!(
        auth.authenticate(&session.token).is_err(),
        "a password change ends the other sessions"
    );
    assert!(auth.authenticate(&changed.token).is_ok());
    assert!(auth.sign_in("admin", &password, None).is_err());
}

#[test]
fn r24_api_keys_for_service_accounts_only_by_keys_manage() {
    let f = fixture();
    let d = f.auth.deputy().clone();
    let nh = f.demo.natural_health;
    let robot = d
        .execute(Actor::at_home(f.demo.jane), None, |tx| {
            tx.create_service_account(nh, "nh-robot".into(), "Robot".into())
        })
        .unwrap()
        .output;
    assert!(f.auth.create_api_key(Actor::at_home(f.demo.ann), robot, "ci", None).is_err());
    assert!(f.auth.create_api_key(Actor::at_home(f.demo.jane), f.demo.jim, "ci", None).is_err());
    let key = f
        .auth
        .create_api_key(Actor::at_home(f.demo.jane), robot, "ci", Some(d.now() + 60_000))
        .unwrap();
    assert!(key.starts_with("dpk_"));
    assert_eq!(f.auth.authenticate(&key).unwrap().principal, robot);
    f.advance(61_000);
    assert!(f.auth.authenticate(&key).is_err(), "keys expire");
}

#[test]
fn r16_failures_from_one_address_throttle_it_but_not_others() {
    let f = fixture();
    let jane = f.demo.jane;
    f.auth.set_password(jane, PASSWORD, false).unwrap();
    // A password sprayer: one wrong guess for each of many names, from one address.
    for i in 0..200 {
        f.advance(20 * 60_000);
        let _ = f.auth.sign_in(&format!("name-{i}"), "spray password!", Some("203.0.113.9"));
    }
    f.advance(1_000);
    assert!(
        f.auth.sign_in(&f.logon(jane), PASSWORD, Some("203.0.113.9")).is_err(),
        "the address is locked"
    );
    assert!(
        f.auth.sign_in(&f.logon(jane), PASSWORD, Some("198.51.100.7")).is_ok(),
        "others are not"
    );
}

/// Verifies `token` against the published keys, as a portal would offline.
fn verify(f: &Fixture, token: &str) -> Result<deputy_service::access_tokens::Claims, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwks = f.auth.jwks().unwrap();
    let jwk = jwks.iter().find(|k| k.kid == kid).ok_or("kid not published")?;
    let key = jsonwebtoken::DecodingKey::from_ed_components(&jwk.x).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["http://127.0.0.1:8080"]);
    validation.set_issuer(&["http://127.0.0.1:8080"]);
    // The fixture's clock is in the future; check expiry against it, not the wall clock.
    validation.validate_exp = false;
    let data =
        jsonwebtoken::decode::<deputy_service::access_tokens::Claims>(token, &key, &validation)
            .map_err(|e| e.to_string())?;
    Ok(data.claims)
}

#[test]
fn r71_access_tokens_assert_identity_and_verify_against_the_jwks() {
    let f = fixture();
    f.auth.maintain_signing_keys().unwrap();
    let jane = f.demo.jane;
    f.auth.set_password(jane, PASSWORD, false).unwrap();
    let session = f.auth.sign_in(&f.logon(jane), PASSWORD, None).unwrap();
    let issued = f.auth.access_token(&session.caller).unwrap();
    assert!(issued.expires_in_s <= 300, "at most five minutes");
    let claims = verify(&f, &issued.token).unwrap();
    assert_eq!(claims.sub, jane.to_string());
    assert_eq!(claims.tenant, f.demo.natural_health.to_string());
    assert_eq!(claims.acting_tenant, claims.tenant);
    assert_eq!(claims.exp - claims.iat, 300);
    assert!(claims.act.is_none());
    assert!(!issued.token.contains(&session.token), "the session secret is not in the token");
    // Impersonating: `sub` is the target, `act` the real actor (RFC 8693).
    let operator = f.demo.operator;
    f.auth.set_password(operator, PASSWORD, false).unwrap();
    let op = f.auth.sign_in("operator", PASSWORD, None).unwrap();
    let d = f.auth.deputy().clone();
    let imp = d
        .execute(op.caller.actor(), None, |tx| {
            tx.start_impersonation(jane, "ticket 1", 60_000, 3_600_000)
        })
        .unwrap()
        .output;
    let data = deputy_service::auth::SessionData {
        impersonating: Some(jane.0),
        impersonation_expires_ms: Some(imp.expires_at),
        ..op.caller.data.clone()
    };
    let acting = f.auth.rotate(&op.caller, data).unwrap();
    let claims = verify(&f, &f.auth.access_token(&acting.caller).unwrap().token).unwrap();
    assert_eq!(claims.sub, jane.to_string());
    assert_eq!(claims.act.unwrap().sub, operator.to_string());
}

#[test]
fn r71_keys_rotate_without_downtime() {
    let f = fixture();
    f.auth.maintain_signing_keys().unwrap();
    let jane = f.demo.jane;
    f.auth.set_password(jane, PASSWORD, false).unwrap();
    let session = f.auth.sign_in(&f.logon(jane), PASSWORD, None).unwrap();
    let old = f.auth.access_token(&session.caller).unwrap().token;
    let old_kid = jsonwebtoken::decode_header(&old).unwrap().kid.unwrap();
    // A day later a new key is made: published at once, signing an hour later.
    f.advance(24 * 3_600_000);
    f.auth.maintain_signing_keys().unwrap();
    assert_eq!(f.auth.jwks().unwrap().len(), 2, "the next key is published ahead");
    let still_old = f.auth.access_token(&session.caller).unwrap().token;
    assert_eq!(jsonwebtoken::decode_header(&still_old).unwrap().kid.unwrap(), old_kid);
    f.advance(3_600_000);
    f.auth.maintain_signing_keys().unwrap();
    let new = f.auth.access_token(&session.caller).unwrap().token;
    let new_kid = jsonwebtoken::decode_header(&new).unwrap().kid.unwrap();
    assert_ne!(new_kid, old_kid, "the new key signs once active");
    assert!(verify(&f, &still_old).is_ok(), "tokens of the old key still verify");
    assert!(verify(&f, &new).is_ok());
    // Once the old key's tokens have all expired, it is no longer published.
    f.advance(11 * 60_000);
    f.auth.maintain_signing_keys().unwrap();
    let kids: Vec<String> = f.auth.jwks().unwrap().into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, vec![new_kid]);
}

#[test]
fn r70_grant_expiry_is_announced_to_both_sides_once() {
    let f = fixture();
    let d = f.auth.deputy().clone();
    // The law firm's grant to the provider expires in two days.
    let soon = d.now() + 2 * 24 * 3_600_000;
    let terms = deputy_core::commands::partners::GrantTerms {
        ceiling: vec![d.snapshot().catalog.role_id("viewer").unwrap()],
        expires_at: Some(soon),
        ..Default::default()
    };
    d.execute(Actor::at_home(f.demo.firm_admin), None, |tx| {
        tx.change_grant(f.demo.firm_grant, terms.clone())
    })
    .unwrap();
    let before = d.store().outbox(0, 10_000).unwrap().len();
    let revision = d.snapshot().revision;
    assert_eq!(f.auth.grant_upkeep(24 * 3_600_000).unwrap(), 0, "not within a day yet");
    assert_eq!(d.snapshot().revision, revision, "nothing to do commits nothing");
    let queued = f.auth.grant_upkeep(7 * 24 * 3_600_000).unwrap();
    assert!(queued >= 2, "the firm's and the provider's admins: {queued}");
    let mail = d.store().outbox(0, 10_000).unwrap();
    let recipients: Vec<&str> = mail[before..].iter().map(|m| m.recipient.as_str()).collect();
    assert!(
        recipients.contains(&"firm-admin@example.com")
            && recipients.contains(&"provider-admin@example.com"),
        "{recipients:?}"
    );
    assert!(mail[before..].iter().all(|m| m.subject == "Partner access ends soon"));
    assert_eq!(f.auth.grant_upkeep(7 * 24 * 3_600_000).unwrap(), 0, "told once per expiry");
}

#[test]
fn r23_r24_a_credential_just_read_authenticates_without_the_store_until_revoked() {
    let f = fixture();
    let d = f.auth.deputy().clone();
    let nh = f.demo.natural_health;
    let robot = d
        .execute(Actor::at_home(f.demo.jane), None, |tx| {
            tx.create_service_account(nh, "nh-cache".into(), "Bot".into())
        })
        .unwrap()
        .output;
    let key = f.auth.create_api_key(Actor::at_home(f.demo.jane), robot, "k", None).unwrap();
    assert!(f.auth.authenticate_cached(&key).is_none(), "not read yet");
    f.auth.authenticate(&key).unwrap();
    assert_eq!(f.auth.authenticate_cached(&key).map(|c| c.principal), Some(robot));
    let handle: String =
        d.store().secrets_of(robot.0, deputy_store::secrets::SecretKind::ApiKey).unwrap()[0]
            .hash
            .chars()
            .take(16)
            .collect();
    assert!(f.auth.revoke_api_key(robot, &handle).unwrap());
    assert!(f.auth.authenticate_cached(&key).is_none(), "a revocation drops it at once");
    assert!(f.auth.authenticate(&key).is_err());
    // Sessions too: sign-out drops the cached entry.
    f.auth.set_password(f.demo.jane, PASSWORD, false).unwrap();
    let session = f.auth.sign_in(&f.logon(f.demo.jane), PASSWORD, None).unwrap();
    let caller = f.auth.authenticate(&session.token).unwrap();
    assert!(f.auth.authenticate_cached(&session.token).is_some());
    f.auth.sign_out(&caller, None).unwrap();
    assert!(f.auth.authenticate_cached(&session.token).is_none());
}

#[test]
fn r16_a_lock_survives_a_restart() {
    let f = fixture();
    let jane = f.demo.jane;
    f.auth.set_password(jane, PASSWORD, false).unwrap();
    for _ in 0..20 {
        f.advance(20 * 60_000);
        let _ = f.auth.sign_in(&f.logon(jane), "wrong password!!", None);
    }
    f.advance(1_000);
    // A new Auth over the same deployment, as after a restart (or on another replica).
    let settings = AuthSettings {
        hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
        ..AuthSettings::default()
    };
    let restarted = Auth::new(f.auth.deputy().clone(), settings).unwrap();
    assert!(restarted.sign_in(&f.logon(jane), PASSWORD, None).is_err(), "still locked");
    restarted.unlock(&f.logon(jane)).unwrap();
    assert!(f.auth.sign_in(&f.logon(jane), PASSWORD, None).is_ok(), "and unlocked for both");
}

//! The `deputy` CLI from outside: exit codes, JSON output, and bad input that changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

fn deputy(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deputy")).arg("--db").arg(db).args(args).output().unwrap()
}

fn head(db: &Path) -> u64 {
    let out = deputy(db, &["--json", "activity", "list", "--limit", "100000"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["entries"].as_array().unwrap().len() as u64
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    assert_eq!(deputy(&db, &["init"]).status.code(), Some(0));
    assert_eq!(
        deputy(&db, &["tenant", "create", "acme", "--parent", "root"]).status.code(),
        Some(0)
    );
    assert_eq!(
        deputy(
            &db,
            &[
                "user",
                "create",
                "alice",
                "--tenant",
                "acme",
                "--first",
                "Alice",
                "--last",
                "A",
                "--email",
                "alice@example.com",
                "--status",
                "active"
            ]
        )
        .status
        .code(),
        Some(0)
    );
    (dir, db)
}

#[test]
fn r55_check_exit_codes_and_unknown_names() {
    let (_d, db) = setup();
    assert_eq!(deputy(&db, &["check", "alice", "users.view", "acme"]).status.code(), Some(0));
    assert_eq!(deputy(&db, &["check", "alice", "catalog.manage", "acme"]).status.code(), Some(1));
    let out = deputy(&db, &["check", "alicee", "users.view", "acme"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`alicee`"));
    let out = deputy(&db, &["check", "alice", "users.veiw", "acme"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`users.veiw`"));
    let out = deputy(&db, &["--json", "explain", "alice", "catalog.manage", "acme"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["allowed"], false);
    assert!(v["reason"].as_str().unwrap().contains("root tenant alone"));
}

#[test]
fn r10_bad_input_gets_clear_error_and_changes_nothing() {
    let (_d, db) = setup();
    let before = head(&db);
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &[
                "user",
                "create",
                "ALICE",
                "--tenant",
                "acme",
                "--first",
                "A",
                "--last",
                "B",
                "--email",
                "x@example.com",
            ],
            5,
            "taken",
        ),
        (
            &[
                "user",
                "create",
                "bob",
                "--tenant",
                "nope",
                "--first",
                "A",
                "--last",
                "B",
                "--email",
                "x@example.com",
            ],
            3,
            "nope",
        ),
        (
            &[
                "user",
                "create",
                "bob",
                "--tenant",
                "acme",
                "--first",
                "A",
                "--last",
                "B",
                "--email",
                "not-an-email",
            ],
            2,
            "email",
        ),
        (&["tenant", "create", "ACME", "--parent", "root"], 5, "taken"),
        (&["tenant", "create", "loop", "--parent", "acme"], 0, ""),
    ];
    for (args, code, needle) in cases {
        let out = deputy(&db, args);
        assert_eq!(
            out.status.code(),
            Some(*code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains(needle), "{args:?}");
    }
    assert_eq!(head(&db), before + 1, "only the valid command wrote");
}

#[test]
fn r22_activity_verifies_and_import_refuses_malformed_json() {
    let (dir, db) = setup();
    assert_eq!(deputy(&db, &["activity", "verify"]).status.code(), Some(0));
    let export = dir.path().join("export.json");
    assert_eq!(deputy(&db, &["export", export.to_str().unwrap()]).status.code(), Some(0));
    let fresh = dir.path().join("fresh.db");
    assert_eq!(deputy(&fresh, &["import", export.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(deputy(&fresh, &["check", "alice", "users.view", "acme"]).status.code(), Some(0));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let other = dir.path().join("other.db");
    let out = deputy(&other, &["import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
    // Importing into a database that holds a deployment is refused.
    assert_eq!(deputy(&db, &["import", export.to_str().unwrap()]).status.code(), Some(5));
}

#[test]
fn r27_acting_as_a_principal_follows_the_rules() {
    let (_d, db) = setup();
    assert_eq!(
        deputy(
            &db,
            &[
                "user",
                "create",
                "bob",
                "--tenant",
                "acme",
                "--first",
                "B",
                "--last",
                "B",
                "--email",
                "bob@example.com",
                "--status",
                "active"
            ]
        )
        .status
        .code(),
        Some(0)
    );
    let out = deputy(&db, &["--as", "bob", "assign", "bob", "admin", "--tenant", "acme"]);
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("R27"));
    assert_eq!(
        deputy(&db, &["--as", "alice", "assign", "bob", "read-only", "--tenant", "acme"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn demo_builds_scenarios_and_tours() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = deputy(&db, &["--json", "demo", "--no-serve"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tour = v["tour"].as_array().unwrap();
    assert_eq!(tour[0]["allowed"], true);
    assert_eq!(tour[1]["allowed"], false);
}

#[test]
fn r60_demo_runs_again_reusing_its_deployment_or_fresh_and_never_over_another() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let first = deputy(&db, &["--json", "demo", "--no-serve"]);
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    for tour in first["tour"].as_array().unwrap() {
        assert_eq!(tour["allowed"], tour["expected"], "every tour line answers as expected");
    }
    let again = deputy(&db, &["demo", "--no-serve"]);
    assert_eq!(again.status.code(), Some(0), "{}", String::from_utf8_lossy(&again.stderr));
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("reused"), "{text}");
    assert!(
        !text.contains("the scenario expects allowed") && !text.contains("the demo data changed")
    );
    let revision = |v: &serde_json::Value| v["revision"].as_u64().unwrap();
    let reused = deputy(&db, &["--json", "demo", "--no-serve"]);
    let reused: serde_json::Value = serde_json::from_slice(&reused.stdout).unwrap();
    assert_eq!(revision(&reused), revision(&first), "reusing writes nothing");
    // The people listed are those who sign in: the secondary logon with a linked password
    // (R17) and service accounts are not among them.
    let people = text.lines().find(|l| l.starts_with("People: ")).unwrap();
    assert!(people.contains("jane") && people.contains("operator"), "{people}");
    let fresh = deputy(&db, &["--json", "demo", "--no-serve", "--fresh"]);
    assert_eq!(fresh.status.code(), Some(0), "{}", String::from_utf8_lossy(&fresh.stderr));
    let fresh: serde_json::Value = serde_json::from_slice(&fresh.stdout).unwrap();
    assert_eq!(revision(&fresh), revision(&first), "built again from nothing");
    // A database holding another deployment is never reused or removed.
    let other = dir.path().join("other.db");
    assert_eq!(deputy(&other, &["init"]).status.code(), Some(0));
    for args in [&["demo", "--no-serve"][..], &["demo", "--no-serve", "--fresh"]] {
        let out = deputy(&other, args);
        assert_eq!(out.status.code(), Some(5), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(other.exists());
}

#[test]
fn r67_r72_r54_r37a_reads_and_codes_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    assert_eq!(deputy(&db, &["demo", "--no-serve"]).status.code(), Some(0));
    let before = head(&db);
    let out = deputy(&db, &["--as", "operator", "--json", "what-if", "deactivate", "jane"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["rows"].as_array().unwrap().iter().any(|r| r["principal"]["logon"] == "jane"
            && r["principal"]["id"].as_str().is_some_and(|id| id.starts_with('p'))
            && r["tenant"]["key"] == "bakery"
            && r["change"] == "loses"),
        "R57: what-if rows name principals and tenants as the API does: {v}"
    );
    assert_eq!(head(&db), before, "what-if commits nothing");
    // Paged to the end, the pages hold exactly the rows of one unpaged answer (R67, R73).
    let total = v["total"].as_u64().unwrap() as usize;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec!["--as", "operator", "--json", "what-if", "--limit", "7"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c.as_str()]);
        }
        args.extend(["deactivate", "jane"]);
        let page: serde_json::Value = serde_json::from_slice(&deputy(&db, &args).stdout).unwrap();
        seen.extend(page["rows"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), total);
    assert_eq!(&seen, v["rows"].as_array().unwrap());
    let out = deputy(&db, &["review", "bakery", "--csv"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with(
        "principal_id,principal_logon,switched_into_id,switched_into_key,tenant_id,tenant_key,permission,reasons\n"
    ));
    assert!(
        csv.lines().any(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f.len() > 7
                && f[0].starts_with('p')
                && f[1..4] == ["jane", "", ""]
                && f[4].starts_with('t')
                && f[5..7] == ["bakery", "returns.file"]
        }),
        "R57, R72: both the id and the logon or key: {csv}"
    );
    let out = deputy(
        &db,
        &[
            "--as",
            "bakery-admin",
            "--json",
            "access-code",
            "issue",
            "bakery",
            "--role",
            "tax-preparer",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = v["code"].as_str().unwrap().to_owned();
    assert_eq!(v["tenant"]["key"], "bakery", "R57: the tenant by id and key: {v}");
    let out = deputy(&db, &["--as", "ann", "--json", "access-code", "redeem", &code]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tenant"]["key"], "bakery", "{v}");
    assert!(v["tenant"]["id"].as_str().is_some_and(|id| id.starts_with('t')), "{v}");
    assert_eq!(v["holder"]["logon"], "ann", "R37a: the holder by id and logon: {v}");
    let again = deputy(&db, &["--as", "ann", "access-code", "redeem", &code]);
    assert_eq!(again.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&again.stderr).contains("unknown, used, revoked or expired"));
    assert_eq!(deputy(&db, &["check", "ann", "returns.file", "bakery"]).status.code(), Some(0));
    let batch = dir.path().join("b.json");
    std::fs::write(&batch, r#"[{"principal":"jim","permission":"returns.file","target":"bakery-withholding"},{"principal":"jim","permission":"returns.file","target":"bakery"}]"#).unwrap();
    let out = deputy(&db, &["--json", "batch-check", batch.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["results"][0]["allowed"], true);
    assert_eq!(v["results"][1]["allowed"], false);
    std::fs::write(
        &batch,
        r#"[{"principal":"nobody","permission":"returns.file","target":"bakery"}]"#,
    )
    .unwrap();
    let out = deputy(&db, &["batch-check", batch.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("item 0"));
}

#[test]
fn r7_user_list_marks_admins_with_a_crown_and_the_contact_person() {
    let (_d, db) = setup();
    assert_eq!(
        deputy(
            &db,
            &[
                "user",
                "create",
                "bob",
                "--tenant",
                "acme",
                "--first",
                "B",
                "--last",
                "B",
                "--email",
                "bob@example.com",
                "--status",
                "active"
            ]
        )
        .status
        .code(),
        Some(0)
    );
    let out = deputy(&db, &["user", "list", "--tenant", "acme"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let alice = text.lines().find(|l| l.contains("alice")).unwrap();
    let bob = text.lines().find(|l| l.contains("bob")).unwrap();
    assert!(alice.starts_with('♛') && alice.contains("(contact person)"), "{alice}");
    assert!(!bob.starts_with('♛'), "{bob}");
    let v: serde_json::Value = serde_json::from_slice(
        &deputy(&db, &["--json", "user", "list", "--tenant", "acme"]).stdout,
    )
    .unwrap();
    assert_eq!(v["users"][0]["admin"], true);
    assert_eq!(v["users"][1]["admin"], false);
}

#[test]
fn r63_the_database_is_a_url_or_a_path_and_unknown_schemes_are_refused() {
    let (dir, db) = setup();
    // The same file named as a path and as a URL is the same deployment.
    let url = format!("sqlite:{}", db.display());
    let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
        .args(["--db", &url, "check", "alice", "users.view", "acme"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // A scheme this build does not serve says so, a PostgreSQL server that does not answer
    // says so, and neither creates anything.
    for (url, words) in [
        ("mysql://127.0.0.1/deputy", "unknown database scheme"),
        ("postgres://127.0.0.1:1/deputy", "PostgreSQL"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
            .current_dir(dir.path())
            .args(["--db", url, "init"])
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0), "{url}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(words), "{url}: {stderr}");
    }
    let files: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files, vec![std::ffi::OsString::from("d.db")], "nothing else was created");
}

#[test]
fn r66_backup_restore_new_epoch_refuses_old_tokens() {
    let (dir, db) = setup();
    let out = deputy(&db, &["--json", "tenant", "create", "beta", "--parent", "root"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = v["token"].as_str().unwrap().to_owned();
    assert_eq!(
        deputy(&db, &["check", "alice", "users.view", "acme", "--token", &token]).status.code(),
        Some(0),
        "R50: a fresh token answers"
    );
    let backup = dir.path().join("backup.db");
    assert_eq!(deputy(&db, &["backup", backup.to_str().unwrap()]).status.code(), Some(0));
    let restored = dir.path().join("restored.db");
    assert_eq!(deputy(&restored, &["restore", backup.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(
        deputy(&restored, &["check", "alice", "users.view", "acme"]).status.code(),
        Some(0),
        "the data came back"
    );
    let out = deputy(&restored, &["check", "alice", "users.view", "acme", "--token", &token]);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another epoch"));
    let out = deputy(&db, &["check", "alice", "users.view", "acme", "--token", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn r1_r19_r24_r18_r48_management_commands() {
    let (_d, db) = setup();
    let ok = |args: &[&str]| {
        let out = deputy(&db, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["tenant", "create", "beta", "--parent", "root"]);
    ok(&["tenant", "move", "beta", "--parent", "acme"]);
    let out = deputy(&db, &["tenant", "move", "acme", "--parent", "beta"]);
    assert_eq!(out.status.code(), Some(5), "R1: not under its own subtree");
    ok(&["tenant", "default-role", "acme", "power-user"]);
    ok(&[
        "user",
        "create",
        "carl",
        "--tenant",
        "acme",
        "--first",
        "C",
        "--last",
        "C",
        "--email",
        "carl@example.com",
        "--status",
        "active",
    ]);
    ok(&["check", "carl", "backups.view", "acme"]);
    ok(&["user", "service-account", "bot", "--tenant", "acme"]);
    ok(&["user", "update", "carl", "--attr", "quota_bytes=5000", "--phone", "+1 555 0100"]);
    let v: serde_json::Value =
        serde_json::from_slice(&deputy(&db, &["--json", "user", "show", "carl"]).stdout).unwrap();
    assert_eq!(v["logon"], "carl");
    assert_eq!(v["home"]["key"], "acme", "R57: {v}");
    let out = deputy(&db, &["user", "update", "carl", "--attr", "novalue"]);
    assert_eq!(out.status.code(), Some(2));
    // A check during impersonation never exceeds the impersonator (R48): carl cannot
    // impersonate alice (lower rank), so the check is denied.
    let out = deputy(
        &db,
        &["--json", "explain", "alice", "users.view", "acme", "--impersonator", "carl"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"]["failed_step"], "impersonation");
}

#[test]
fn r41_grant_change_narrows_the_ceiling_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    assert_eq!(deputy(&db, &["demo", "--no-serve"]).status.code(), Some(0));
    assert_eq!(
        deputy(
            &db,
            &["--as", "provider-admin", "partner-role", "ann", "paralegal", "--client", "law-firm"]
        )
        .status
        .code(),
        Some(0)
    );
    assert_eq!(
        deputy(&db, &["--switched", "law-firm", "check", "ann", "matters.edit", "matter-1042"])
            .status
            .code(),
        Some(0)
    );
    let grants: serde_json::Value =
        serde_json::from_slice(&deputy(&db, &["--json", "grant", "list"]).stdout).unwrap();
    let id = grants["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["client"] == "law-firm")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = deputy(
        &db,
        &["--as", "firm-admin", "grant", "change", &id, "--ceiling", "viewer", "--days", "30"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        deputy(&db, &["--switched", "law-firm", "check", "ann", "matters.edit", "matter-1042"])
            .status
            .code(),
        Some(1),
        "paralegal is now outside the ceiling"
    );
}

/// R20, R23: the console's deactivation and cancellation end the same sessions and links
/// as the API's, because both run the service's one use case.
#[test]
fn r20_r23_cli_deactivate_and_cancel_end_sessions_links_and_keys() {
    use deputy_service::auth::{Auth, AuthSettings};
    use deputy_service::passwords::HashCost;
    use deputy_store::secrets::{SecretKind, SecretStore};
    let (_d, db) = setup();
    // Alice is acme's only admin (R5); Bob is the one who goes.
    let create = [
        "user",
        "create",
        "bob",
        "--tenant",
        "acme",
        "--first",
        "Bob",
        "--last",
        "B",
        "--email",
        "bob@example.com",
        "--status",
        "active",
    ];
    assert_eq!(deputy(&db, &create).status.code(), Some(0));
    let open = |db: &Path| {
        let deputy = deputy_service::Deputy::open(deputy_backends::open_file(db).unwrap()).unwrap();
        let settings = AuthSettings {
            hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
            ..AuthSettings::default()
        };
        Auth::new(std::sync::Arc::new(deputy), settings).unwrap()
    };
    let auth = open(&db);
    let bob = auth.deputy().snapshot().principal_by_logon("bob").unwrap();
    auth.set_password(bob, "correct horse battery staple", false).unwrap();
    let session = auth.sign_in("bob", "correct horse battery staple", None).unwrap();
    auth.reset_by_admin(deputy_core::Actor::System, bob, None).unwrap();
    let store = auth.deputy().store();
    let n = |kind| store.secrets_of(bob.0, kind).unwrap().len();
    assert_eq!((n(SecretKind::Session), n(SecretKind::PasswordReset)), (1, 1));
    drop(auth);

    let out = deputy(&db, &["user", "deactivate", "bob"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let auth = open(&db);
    let store = auth.deputy().store();
    let n = |kind| store.secrets_of(bob.0, kind).unwrap().len();
    assert_eq!((n(SecretKind::Session), n(SecretKind::PasswordReset)), (0, 0), "deleted");
    assert!(auth.authenticate(&session.token).is_err());
    drop(auth);

    // Reactivated, a new session; then cancelled from the console: gone too.
    assert_eq!(deputy(&db, &["user", "activate", "bob"]).status.code(), Some(0));
    let auth = open(&db);
    let session = auth.sign_in("bob", "correct horse battery staple", None).unwrap();
    drop(auth);
    assert_eq!(deputy(&db, &["user", "cancel", "bob"]).status.code(), Some(0));
    let auth = open(&db);
    assert!(auth.authenticate(&session.token).is_err());
    assert_eq!(auth.deputy().store().secrets_of(bob.0, SecretKind::Session).unwrap().len(), 0);
}

#[test]
fn r53_r57_cli_lookups_answer_the_apis_objects() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    assert_eq!(deputy(&db, &["demo", "--no-serve"]).status.code(), Some(0));
    let out = deputy(&db, &["--json", "lookup-resources", "jim", "returns.file"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    assert!(
        items.iter().any(|t| t["type"] == "resource"
            && t["key"] == "bakery-withholding"
            && t["id"].as_str().is_some_and(|id| id.starts_with('r'))),
        "{v}"
    );
    let out = deputy(&db, &["--json", "lookup-subjects", "bakery", "returns.file"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["items"].as_array().unwrap().iter().any(|i| i["principal"]["logon"] == "jane"
            && i["principal"]["id"].as_str().is_some_and(|id| id.starts_with('p'))),
        "{v}"
    );
}

/// The mail the outbox holds, as `outbox --json` answers it.
fn outbox(db: &Path) -> Vec<serde_json::Value> {
    let out = deputy(db, &["--json", "outbox", "--limit", "1000"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["mail"].as_array().unwrap().clone()
}

fn status_of(db: &Path, logon: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&deputy(db, &["--json", "user", "show", logon]).stdout).unwrap();
    v["status"].as_str().unwrap().to_owned()
}

fn create_user(db: &Path, logon: &str, status: Option<&str>) -> Output {
    let email = format!("{logon}@example.com");
    let mut args = vec![
        "user", "create", logon, "--tenant", "acme", "--first", "F", "--last", "L", "--email",
        &email,
    ];
    if let Some(status) = status {
        args.extend(["--status", status]);
    }
    deputy(db, &args)
}

/// R12: the console's invitation is the server's: the mail with its link goes out, and the
/// link points at the deployment's public origin.
#[test]
fn r12_user_invite_queues_the_invitation_in_the_outbox() {
    let (_d, db) = setup();
    assert_eq!(create_user(&db, "bob", Some("pending")).status.code(), Some(0));
    assert!(outbox(&db).is_empty(), "a pending user gets no mail yet");
    let out = Command::new(env!("CARGO_BIN_EXE_deputy"))
        .env("DEPUTY_PUBLIC_ORIGIN", "https://deputy.example.com")
        .arg("--db")
        .arg(&db)
        .args(["user", "invite", "bob"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("`bob` is invited (revision "));
    assert_eq!(status_of(&db, "bob"), "invited");
    let mail = outbox(&db);
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0]["recipient"], "bob@example.com");
    let body = mail[0]["body"].as_str().unwrap();
    assert!(body.contains("https://deputy.example.com/invitation/"), "{body}");
}

/// R12: `--status` says how a new user first gets in: `invited` (the default) sends the
/// invitation, `pending` waits for one, `active` needs none.
#[test]
fn r12_user_create_status_invited_sends_the_invitation() {
    let (_d, db) = setup();
    for (logon, status) in [("carol", None), ("dave", Some("pending")), ("erin", Some("active"))] {
        let out = create_user(&db, logon, status);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(
        [status_of(&db, "carol"), status_of(&db, "dave"), status_of(&db, "erin")],
        ["invited", "pending", "active"]
    );
    let mail = outbox(&db);
    let to: Vec<_> = mail.iter().map(|m| m["recipient"].as_str().unwrap()).collect();
    assert_eq!(to, ["carol@example.com"], "only the invited user is mailed");
    assert!(mail[0]["body"].as_str().unwrap().contains("/invitation/"));
    let out = create_user(&db, "fred", Some("asleep"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--status"));
}

/// R34, R12: a secondary logon made at the console gets its set-password mail, unless it
/// signs in with its owner's password (R17).
#[test]
fn r34_r12_delegate_create_sends_the_set_password_mail() {
    let (_d, db) = setup();
    let ok = |args: &[&str]| {
        let out = deputy(&db, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["tenant", "delegation", "acme", "--allowed", "true"]);
    let delegate = |logon: &str, linked: bool| {
        let email = format!("{logon}@example.com");
        let mut args =
            vec!["delegate", "create", logon, "--owner", "alice", "--first", "A", "--last", "S"];
        args.extend(["--email", &email]);
        if linked {
            args.push("--linked");
        }
        ok(&args);
    };
    delegate("alice-assistant", false);
    delegate("alice-linked", true);
    let mail = outbox(&db);
    let to: Vec<_> = mail.iter().map(|m| m["recipient"].as_str().unwrap()).collect();
    assert_eq!(to, ["alice-assistant@example.com"], "{mail:?}");
    assert_eq!(status_of(&db, "alice-assistant"), "invited");
}

/// R70: the console's grant upkeep is the server's: the admins of both sides are told
/// by mail that a grant ends soon.
#[test]
fn r70_grant_upkeep_mails_the_expiry_notices() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    assert_eq!(deputy(&db, &["demo", "--no-serve"]).status.code(), Some(0));
    let grants: serde_json::Value =
        serde_json::from_slice(&deputy(&db, &["--json", "grant", "list"]).stdout).unwrap();
    let id = grants["grants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["client"] == "law-firm")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = deputy(
        &db,
        &["--as", "firm-admin", "grant", "change", &id, "--ceiling", "paralegal", "--days", "3"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let before = outbox(&db).len();
    let out = deputy(&db, &["grant", "upkeep", "--days", "7"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mail = outbox(&db);
    let notices: Vec<_> =
        mail[before..].iter().filter(|m| m["subject"] == "Partner access ends soon").collect();
    assert!(!notices.is_empty(), "{mail:?}");
    assert!(notices.iter().all(|m| m["body"].as_str().unwrap().contains("ends in about")));
    assert_eq!(
        deputy(&db, &["--as", "firm-admin", "grant", "upkeep"]).status.code(),
        Some(2),
        "upkeep is the console's"
    );
}

//! The API over real sockets: a server on a free loopback port, on a fresh SQLite file
//! holding the demo deployment (S1–S4's people), driven with an HTTP client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::{Actor, PrincipalId};
use deputy_http::{AppState, HttpConfig};
use deputy_service::auth::{Auth, AuthSettings};
use deputy_service::passwords::HashCost;
use deputy_service::{Deputy, demo};
use deputy_store::Store;
use deputy_store::secrets::SecretStore;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

const PASSWORD: &str = "correct horse battery staple";

struct Server {
    base: String,
    app: AppState,
    demo: demo::Demo,
    clock: Arc<AtomicI64>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(1_800_000_000_000));
    let c = clock.clone();
    let path = dir.path().join("deputy.db");
    let (app, demo) = tokio::task::spawn_blocking(move || {
        let d = Deputy::open(deputy_backends::open_file(path).unwrap())
            .unwrap()
            .with_clock(move || c.load(Ordering::SeqCst));
        d.initialise(None, "root", "Tax Agency").unwrap();
        let demo = demo::build(&d).unwrap();
        let settings = AuthSettings {
            hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
            public_origin: "https://portal.example".into(),
            ..AuthSettings::default()
        };
        let auth = Auth::new(Arc::new(d), settings).unwrap();
        auth.maintain_signing_keys().unwrap();
        for p in [
            demo.operator,
            demo.jane,
            demo.jim,
            demo.nh_second_admin,
            demo.firm_admin,
            demo.ann,
            demo.bakery_admin,
        ] {
            auth.set_password(p, PASSWORD, false).unwrap();
        }
        let config = HttpConfig {
            // Plain http on loopback: the cookie is `deputy`, without Secure (R23).
            public_origin: "http://127.0.0.1".into(),
            trusted_proxies: vec![],
            metrics: Default::default(),
        };
        (AppState::new(auth, config), demo)
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = app.clone();
    tokio::spawn(async move {
        deputy_http::serve(listener, served, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server { base, app, demo, clock, http: reqwest::Client::new(), _dir: dir, _stop: stop }
}

impl Server {
    fn logon(&self, p: PrincipalId) -> String {
        self.app.deputy().snapshot().principal(p).unwrap().logon.to_string()
    }

    async fn sign_in(&self, p: PrincipalId) -> String {
        let r = self
            .http
            .post(format!("{}/v1/auth/sign-in", self.base))
            .json(&json!({"logon": self.logon(p), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r =
            self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r62_health_readiness_metrics_and_r57_openapi_document() {
    let s = start().await;
    let r = s.http.get(format!("{}/healthz", s.base)).send().await.unwrap();
    assert_eq!((r.status(), r.text().await.unwrap()), (StatusCode::OK, "ok".to_owned()));
    let r = s.http.get(format!("{}/readyz", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = s
        .http
        .get(format!("{}/v1/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/check",
        "/v1/check/batch",
        "/v1/explain",
        "/v1/auth/sign-in",
        "/v1/tenants/{id}/users",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let metrics =
        s.http.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(
            "deputy_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("deputy_revision "));
}

/// The value of the first sample line of `name` whose labels contain `labels`.
fn sample(metrics: &str, name: &str, labels: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        let (head, value) = rest.rsplit_once(' ')?;
        (head.is_empty() || head.starts_with('{')).then_some(())?;
        head.contains(labels).then(|| value.parse().ok())?
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r62_metrics_show_process_commits_revision_lag_and_sign_in_failures() {
    let s = start().await;
    let scrape = || async {
        s.http.get(format!("{}/metrics", s.base)).send().await.unwrap().text().await.unwrap()
    };
    let before = scrape().await;
    assert!(
        sample(&before, "process_resident_memory_bytes", "").is_some_and(|b| b > 1e6),
        "{before}"
    );
    assert!(sample(&before, "process_open_fds", "").is_some_and(|n| n >= 3.0), "{before}");
    assert!(sample(&before, "process_cpu_seconds_total", "").is_some(), "{before}");
    assert_eq!(sample(&before, "deputy_revision_lag", ""), Some(0.0), "{before}");
    let commits = sample(&before, "deputy_commits_total", "").unwrap();
    // A wrong password and an unknown logon, told apart only here.
    for (logon, password) in
        [(s.logon(s.demo.jane), "not her password"), ("nobody".into(), PASSWORD)]
    {
        let r = s
            .http
            .post(format!("{}/v1/auth/sign-in", s.base))
            .json(&json!({"logon": logon, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // A write is one more durable change set, and its commit was timed.
    let jane = s.sign_in(s.demo.jane).await;
    let (status, body) = s
        .post(
            &jane,
            "/v1/groups",
            json!({"name": "Metrics clients", "owner_principal": s.logon(s.demo.jane)}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let after = scrape().await;
    let failures = |reason: &str| {
        sample(&after, "deputy_sign_in_failures_total", &format!("reason=\"{reason}\""))
    };
    assert_eq!(failures("wrong_password"), Some(1.0), "{after}");
    assert_eq!(failures("unknown_logon"), Some(1.0), "{after}");
    assert!(sample(&after, "deputy_commits_total", "").unwrap() > commits, "{after}");
    assert!(sample(&after, "deputy_commit_duration_seconds_count", "").is_some_and(|n| n >= 1.0));
    assert_eq!(sample(&after, "deputy_revision_lag", ""), Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r15_r16_sign_in_failures_answer_alike_unknown_wrong_and_locked() {
    let s = start().await;
    let attempt = |logon: String, password: &'static str| {
        let http = s.http.clone();
        let url = format!("{}/v1/auth/sign-in", s.base);
        async move {
            let r = http
                .post(url)
                .json(&json!({"logon": logon, "password": password}))
                .send()
                .await
                .unwrap();
            let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
            (r.status(), content_type, r.text().await.unwrap())
        }
    };
    let unknown = attempt("no-such-user".into(), PASSWORD).await;
    let wrong = attempt(s.logon(s.demo.jane), "not the password").await;
    assert_eq!(unknown, wrong);
    assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.1, "application/problem+json");
    // Lock Jane: twenty failures (the wrong password above was the first), each after
    // its back-off.
    for _ in 1..20 {
        s.clock.fetch_add(20 * 60_000, Ordering::SeqCst);
        attempt(s.logon(s.demo.jane), "not the password").await;
    }
    s.clock.fetch_add(1_000, Ordering::SeqCst);
    let locked = attempt(s.logon(s.demo.jane), PASSWORD).await;
    assert_eq!(locked, unknown, "a locked account answers like an unknown logon");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_session_cookie_on_loopback_http_and_sign_out() {
    let s = start().await;
    let r = s
        .http
        .post(format!("{}/v1/auth/sign-in", s.base))
        .json(&json!({"logon": "jane", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("deputy="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure")
    );
    let token = cookie.trim_start_matches("deputy=").split(';').next().unwrap().to_owned();
    // The cookie alone authenticates.
    let me: Value = s
        .http
        .get(format!("{}/v1/me", s.base))
        .header("cookie", format!("deputy={token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["logon"], "jane");
    assert_eq!(me["admin"], true, "Jane wears the crown (R7)");
    let (status, _) = s.post(&token, "/v1/auth/sign-out", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = s.get(&token, "/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["type"], "urn:deputy:problem:unauthenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r14_must_change_password_allows_nothing_else_until_changed() {
    let s = start().await;
    s.app.auth().set_password(s.demo.florist_admin, PASSWORD, true).unwrap();
    let r: Value = s
        .http
        .post(format!("{}/v1/auth/sign-in", s.base))
        .json(&json!({"logon": "florist-admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["must_change_password"], true);
    let token = r["token"].as_str().unwrap();
    let (status, body) = s.get(token, &format!("/v1/principals/{}", s.demo.florist_admin)).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (StatusCode::FORBIDDEN, Some("urn:deputy:problem:password-change-required"))
    );
    let (status, body) = s
        .post(
            token,
            "/v1/auth/password",
            json!({"current_password": PASSWORD, "new_password": "password1234"}),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password")),
        "{body}"
    );
    let (status, body) = s
        .post(
            token,
            "/v1/auth/password",
            json!({"current_password": PASSWORD, "new_password": "a much better passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["token"].as_str().unwrap();
    assert_eq!(s.get(token, "/v1/me").await.0, StatusCode::UNAUTHORIZED, "the old session ended");
    assert_eq!(
        s.get(fresh, &format!("/v1/principals/{}", s.demo.florist_admin)).await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r10_r12_add_user_invite_and_fifty_concurrent_redemptions_have_one_winner() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let r = s
        .http
        .post(format!("{}/v1/tenants/natural-health/users", s.base))
        .bearer_auth(&jane)
        .json(&json!({"logon": "bob-nh", "first_name": "Bob", "last_name": "Smith", "email": "bob@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token_header = r.headers()["consistency-token"].to_str().unwrap().to_owned();
    let bob: Value = r.json().await.unwrap();
    assert_eq!(bob["status"], "invited");
    // The mail's link uses the configured public origin, never the request's Host (R61).
    let mail = s.app.deputy().store().outbox(0, 100).unwrap();
    let body = &mail.last().unwrap().body;
    let link = body.lines().find(|l| l.starts_with("https://portal.example/invitation/")).unwrap();
    let invitation = link.rsplit('/').next().unwrap().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let http = s.http.clone();
        let url = format!("{}/v1/auth/invitations/accept", s.base);
        let token = invitation.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .json(&json!({"token": token, "password": PASSWORD}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let status = t.await.unwrap();
        if status == StatusCode::OK {
            ok += 1;
        } else {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the link is used");
        }
    }
    assert_eq!(ok, 1, "exactly one redemption wins");
    // A check presenting the write's token sees Bob (R50).
    let (status, answer) = s
        .post(&jane, "/v1/check", json!({"principal": "bob-nh", "permission": "users.view", "target": "natural-health", "consistency_token": token_header}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r58_checks_answer_only_holders_of_checks_read_in_the_target_tenant() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let (status, answer) = s
        .post(
            &jane,
            "/v1/check",
            json!({"principal": "jim", "permission": "returns.file", "target": "natural-health"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["allowed"], false);
    assert_eq!(answer["failed_step"], "delegate");
    // The law firm is none of Jane's business: its name is "not found", like a typo.
    let (status, refused) = s
        .post(
            &jane,
            "/v1/check",
            json!({"principal": "ann", "permission": "matters.view", "target": "law-firm"}),
        )
        .await;
    let (_, typo) = s
        .post(
            &jane,
            "/v1/check",
            json!({"principal": "ann", "permission": "matters.view", "target": "law-frim"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(refused["type"], typo["type"]);
    // A service account with the `api` role (checks.read) and an API key.
    let d = s.app.deputy().clone();
    let nh = s.demo.natural_health;
    let jane_id = s.demo.jane;
    let robot = tokio::task::spawn_blocking(move || {
        let robot = d
            .execute(Actor::at_home(jane_id), None, |tx| {
                tx.create_service_account(nh, "nh-robot".into(), "Robot".into())
            })
            .unwrap()
            .output;
        let api = d.snapshot().catalog.role_id("api").unwrap();
        d.execute(Actor::at_home(jane_id), None, |tx| {
            tx.assign(deputy_core::commands::roles::NewAssignment {
                principal: robot,
                bundle: deputy_core::Bundle::Role(api),
                scope: deputy_core::Scope::Tenant { tenant: nh, subtree: false },
                expires_at: None,
            })
        })
        .unwrap();
        robot
    })
    .await
    .unwrap();
    let (status, created) =
        s.post(&jane, &format!("/v1/principals/{robot}/api-keys"), json!({"name": "ci"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap();
    let (status, answer) = s
        .post(
            key,
            "/v1/check",
            json!({"principal": "jane", "permission": "users.modify", "target": "natural-health"}),
        )
        .await;
    assert_eq!((status, answer["allowed"].as_bool()), (StatusCode::OK, Some(true)), "{answer}");
    let (status, batch) = s
        .post(
            key,
            "/v1/check/batch",
            json!({"checks": [
                {"principal": "jane", "permission": "users.modify", "target": "natural-health"},
                {"principal": "jane", "permission": "no.such.permission", "target": "natural-health"},
                {"principal": "ann", "permission": "matters.view", "target": "law-firm"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(batch["results"][0]["allowed"], true);
    assert_eq!(batch["results"][1]["error"]["field"], "permission", "R55: the typo is named");
    assert_eq!(batch["results"][2]["error"]["status"], 404, "outside the key's tenant");
    let (status, why) = s
        .post(
            key,
            "/v1/explain",
            json!({"principal": "jane", "permission": "users.modify", "target": "natural-health"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!why["paths"].as_array().unwrap().is_empty(), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r58_principals_of_other_tenants_are_not_found() {
    let s = start().await;
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    let jane = s.sign_in(s.demo.jane).await;
    let (status, body) = s.get(&firm_admin, &format!("/v1/principals/{}", s.demo.jane)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["type"], "urn:deputy:problem:not-found");
    let (status, body) = s.get(&jane, &format!("/v1/principals/{}", s.demo.jim)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["kind"], "delegate");
    assert_eq!(s.get(&firm_admin, "/v1/tenants/natural-health").await.0, StatusCode::NOT_FOUND);
    let (status, t) = s.get(&jane, "/v1/tenants/natural-health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["key"], "natural-health");
    // Adding a user to someone else's tenant changes nothing and says not found.
    let (status, _) = s
        .post(&firm_admin, "/v1/tenants/natural-health/users", json!({"logon": "mallory", "first_name": "M", "last_name": "X", "email": "m@example.com"}))
        .await;
    assert!(status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN, "{status}");
    assert!(s.app.deputy().snapshot().principal_by_logon("mallory").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_bad_input_is_a_problem_document_naming_what_was_wrong() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let r = s
        .http
        .post(format!("{}/v1/check", s.base))
        .bearer_auth(&jane)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (status, body) = s
        .post(&jane, "/v1/check", json!({"principal": "jane", "permission": "users.view", "target": "natural-health", "consistency_token": "zz"}))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("consistency_token"))
    );
    let (status, body) = s
        .post(&jane, "/v1/check", json!({"principal": "jane", "permission": "users.view", "target": "natural-health", "consistency_token": format!("{:x}.999999", s.app.deputy().epoch())}))
        .await;
    assert_eq!(
        (status, body["type"].as_str(), body["rule"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("urn:deputy:problem:future-revision"), Some("R63e")),
        "R63e: waited for, then refused; never answered from older data"
    );
    let (status, body) = s
        .post(&jane, "/v1/tenants/natural-health/users", json!({"logon": "Jane", "first_name": "J", "last_name": "D", "email": "j@example.com", "send_invitation": false}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a logon differing only in case is taken: {body}");
    let (status, body) = s
        .post(&jane, "/v1/tenants/natural-health/users", json!({"logon": "x1", "first_name": "J", "last_name": "D", "email": "j@example.com", "bogus": 1}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("bogus"));
    let (status, body) = s.get(&jane, "/v1/nowhere").await;
    assert_eq!((status, body["status"].as_u64()), (StatusCode::NOT_FOUND, Some(404)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r43_switching_into_a_client_rotates_the_session_and_acts_there() {
    let s = start().await;
    // S4: the provider's admin gives Ann `viewer` in the law firm.
    let (d, m) = (s.app.deputy().clone(), s.demo.clone());
    tokio::task::spawn_blocking(move || {
        let viewer = d.snapshot().catalog.role_id("viewer").unwrap();
        d.execute(Actor::at_home(m.provider_admin), None, |tx| {
            tx.give_partner_role(
                m.ann,
                deputy_core::Scope::Client { client: m.law_firm },
                viewer,
                None,
            )
        })
        .unwrap();
    })
    .await
    .unwrap();
    let ann = s.sign_in(s.demo.ann).await;
    let (status, body) =
        s.post(&ann, "/v1/session/switch", json!({"tenant": "natural-health"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no grant, no switch: {body}");
    let (status, body) = s.post(&ann, "/v1/session/switch", json!({"tenant": "law-firm"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let switched = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        s.get(&ann, "/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "the old session id is dead (R23)"
    );
    let (status, me) = s.get(&switched, "/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me["acting_tenant"],
        json!({"id": s.demo.law_firm.to_string(), "key": "law-firm"}),
        "{me}"
    );
    assert_ne!(me["home"], me["acting_tenant"]);
    let (status, body) =
        s.post(&switched, "/v1/session/switch", json!({"tenant": me["home"]["id"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let home = body["token"].as_str().unwrap();
    let (_, me) = s.get(home, "/v1/me").await;
    assert_eq!(me["acting_tenant"], me["home"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r48_r49_r68_impersonation_with_a_reason_audited_with_both_identities() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let (status, body) = s
        .post(&operator, "/v1/session/impersonate", json!({"target": "jane", "reason": " "}))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reason"))
    );
    let (status, body) = s
        .post(
            &operator,
            "/v1/session/impersonate",
            json!({"target": "jane", "reason": "ticket 4711", "minutes": 61}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "at most 60 minutes: {body}");
    let (status, body) = s
        .post(
            &operator,
            "/v1/session/impersonate",
            json!({"target": "jane", "reason": "ticket 4711", "notify_target": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let acting = body["token"].as_str().unwrap().to_owned();
    let (_, me) = s.get(&acting, "/v1/me").await;
    assert_eq!(me["logon"], "operator");
    assert_eq!(me["impersonating"]["logon"], "jane");
    let mail = s.app.deputy().store().outbox(0, 100).unwrap();
    assert!(
        mail.iter().any(|m| m.recipient == "jane@example.com" && m.body.contains("ticket 4711")),
        "R68 notice"
    );
    // As Jane: add a user in Natural Health; the log names the operator as actor.
    let (status, body) = s
        .post(&acting, "/v1/tenants/natural-health/users", json!({"logon": "via-support", "first_name": "V", "last_name": "S", "email": "v@example.com", "send_invitation": false}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let activity = s
        .app
        .deputy()
        .store()
        .activity(&deputy_store::ActivityQuery { limit: 1000, ..Default::default() })
        .unwrap();
    let created =
        &activity.iter().rev().find(|e| e.entry.action == "principal.created").unwrap().entry;
    assert_eq!(created.actor.as_deref(), Some(s.demo.operator.to_string().as_str()));
    assert!(created.acting_as.contains(&s.demo.jane.to_string()), "{}", created.acting_as);
    let (status, body) = s.post(&acting, "/v1/session/stop-impersonating", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let back = body["token"].as_str().unwrap();
    let (_, me) = s.get(back, "/v1/me").await;
    assert!(me.get("impersonating").is_none());
    // The impersonation ends by itself after its time limit (R68).
    let (_, body) = s
        .post(
            back,
            "/v1/session/impersonate",
            json!({"target": "jane", "reason": "again", "minutes": 1}),
        )
        .await;
    let again = body["token"].as_str().unwrap().to_owned();
    s.clock.fetch_add(61_000, Ordering::SeqCst);
    let (_, me) = s.get(&again, "/v1/me").await;
    assert!(me.get("impersonating").is_none(), "{me}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r20_r36_cancelling_ends_sessions_of_the_principal_and_its_delegates() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let jim = s.sign_in(s.demo.jim).await;
    let nora = s.sign_in(s.demo.nh_second_admin).await;
    let (status, body) =
        s.post(&nora, &format!("/v1/principals/{}/cancel", s.demo.jane), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "cancelled");
    assert_eq!(s.get(&jane, "/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.get(&jim, "/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "Jim was cancelled with Jane"
    );
    let stored = s
        .app
        .deputy()
        .store()
        .secrets_of(s.demo.jim.0, deputy_store::secrets::SecretKind::Session)
        .unwrap();
    assert!(stored.is_empty(), "the delegate's sessions are gone, not merely refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r6_r27_roles_given_and_removed_over_the_api() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let path = format!("/v1/principals/{}/assignments", s.demo.nh_second_admin);
    let (status, body) =
        s.post(&jane, &path, json!({"role": "read-only", "tenant": "natural-health"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let r =
        s.http.delete(format!("{}{path}/{id}", s.base)).bearer_auth(&jane).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.headers().contains_key("consistency-token"));
    // R27: nobody gives a role ranked above their own.
    let (status, body) = s
        .post(&jane, &path, json!({"role": "admin", "tenant": "natural-health", "subtree": true}))
        .await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::CREATED, "{body}");
    // R6: an admin cannot remove the admin role from themself.
    let own = s
        .app
        .deputy()
        .snapshot()
        .principal(s.demo.jane)
        .unwrap()
        .assignments
        .iter()
        .find(|a| matches!(a.bundle, deputy_core::Bundle::Role(r) if s.app.deputy().snapshot().catalog.role_name(r) == "admin"))
        .unwrap()
        .id;
    let r = s
        .http
        .delete(format!("{}/v1/principals/{}/assignments/{own}", s.base, s.demo.jane))
        .bearer_auth(&jane)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["rule"], "R6", "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r13_forgot_password_answers_alike_and_the_link_resets_once() {
    let s = start().await;
    let jane_session = s.sign_in(s.demo.jane).await;
    let ask = |who: &'static str| {
        let http = s.http.clone();
        let url = format!("{}/v1/auth/forgot-password", s.base);
        async move {
            let r = http.post(url).json(&json!({"logon_or_email": who})).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let known = ask("jane").await;
    let unknown = ask("nobody@example.com").await;
    assert_eq!(known, unknown, "the same answer whether or not the account exists");
    assert_eq!(known.0, StatusCode::ACCEPTED);
    // The mail is sent in the background.
    let mut link = None;
    for _ in 0..100 {
        let mail = s.app.deputy().store().outbox(0, 100).unwrap();
        link = mail.iter().rev().find_map(|m| {
            (m.recipient == "jane@example.com")
                .then(|| {
                    m.body
                        .lines()
                        .find(|l| l.starts_with("https://portal.example/reset/"))
                        .map(str::to_owned)
                })
                .flatten()
        });
        if link.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let token = link.expect("a reset mail").rsplit('/').next().unwrap().to_owned();
    let new_password = "a brand new passphrase";
    let reset = |password: &'static str| {
        let http = s.http.clone();
        let url = format!("{}/v1/auth/reset", s.base);
        let token = token.clone();
        async move {
            http.post(url)
                .json(&json!({"token": token, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(reset("short").await, StatusCode::UNPROCESSABLE_ENTITY, "R15 still applies");
    assert_eq!(reset(new_password).await, StatusCode::NO_CONTENT);
    assert_eq!(reset(new_password).await, StatusCode::UNPROCESSABLE_ENTITY, "single use");
    assert_eq!(
        s.get(&jane_session, "/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "a reset ends the other sessions"
    );
    let r = s
        .http
        .post(format!("{}/v1/auth/sign-in", s.base))
        .json(&json!({"logon": "jane", "password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r13_r16_admin_reset_mail_and_unlock_need_authority_over_the_user() {
    let s = start().await;
    let nora = s.sign_in(s.demo.nh_second_admin).await;
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    let path = format!("/v1/principals/{}/password-reset", s.demo.jane);
    assert_eq!(s.post(&firm_admin, &path, json!({})).await.0, StatusCode::NOT_FOUND);
    let (status, body) = s.post(&nora, &path, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let mail = s.app.deputy().store().outbox(0, 100).unwrap();
    let last = mail.last().unwrap();
    assert_eq!(last.recipient, "jane@example.com");
    assert!(last.body.contains("https://portal.example/reset/"));
    // Lock Jane, then Nora unlocks her.
    for _ in 0..20 {
        s.clock.fetch_add(20 * 60_000, Ordering::SeqCst);
        let _ = s
            .http
            .post(format!("{}/v1/auth/sign-in", s.base))
            .json(&json!({"logon": "jane", "password": "not the password"}))
            .send()
            .await;
    }
    s.clock.fetch_add(1_000, Ordering::SeqCst);
    let nora = s.sign_in(s.demo.nh_second_admin).await;
    let attempt = || {
        s.http
            .post(format!("{}/v1/auth/sign-in", s.base))
            .json(&json!({"logon": "jane", "password": PASSWORD}))
            .send()
    };
    assert_eq!(attempt().await.unwrap().status(), StatusCode::UNAUTHORIZED, "locked");
    let unlock = format!("/v1/principals/{}/unlock", s.demo.jane);
    assert_eq!(
        s.post(&firm_admin_session(&s).await, &unlock, json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, body) = s.post(&nora, &unlock, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(attempt().await.unwrap().status(), StatusCode::OK, "unlocked");
}

async fn firm_admin_session(s: &Server) -> String {
    s.sign_in(s.demo.firm_admin).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_r73_lists_page_with_cursors_to_the_end() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    // Natural Health has Jane, Nora and Jim; pages of two.
    let (status, first) = s.get(&jane, "/v1/tenants/natural-health/principals?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = s
        .get(&jane, &format!("/v1/tenants/natural-health/principals?limit=2&cursor={cursor}"))
        .await;
    let mut logons: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|p| p["logon"].as_str().unwrap().to_owned())
        .collect();
    assert!(second.get("next_cursor").is_none(), "the last page says so");
    logons.sort();
    assert_eq!(logons, ["jane", "jim", "nora"]);
    assert_eq!(
        s.get(&jane, "/v1/tenants/natural-health/principals?limit=0").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.get(&jane, "/v1/tenants/natural-health/principals?cursor=abc").await.0,
        StatusCode::BAD_REQUEST
    );
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    assert_eq!(
        s.get(&firm_admin, "/v1/tenants/natural-health/principals").await.0,
        StatusCode::NOT_FOUND
    );
    // Activity: the caller's own by default; another tenant's is not found.
    let (status, own) = s.get(&jane, "/v1/activity?limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    assert!(own["items"].as_array().unwrap().iter().any(|e| e["action"] == "auth.signed_in"));
    let (status, _) = s.get(&firm_admin, "/v1/activity?tenant=natural-health").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, nh) = s.get(&jane, "/v1/activity?tenant=natural-health&limit=3").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(nh["items"].as_array().unwrap().len(), 3);
    assert!(nh["next_cursor"].is_string());
}

/// The `admin` assignment of `p` in its home tenant, if any.
fn admin_assignment(s: &Server, p: PrincipalId) -> Option<deputy_core::AssignmentId> {
    let snap = s.app.deputy().snapshot();
    let admin = snap.catalog.role_id("admin")?;
    let home = snap.principal(p)?.home;
    snap.principal(p)?.assignments.iter().find_map(|a| {
        (a.bundle == deputy_core::Bundle::Role(admin)
            && matches!(a.scope, deputy_core::Scope::Tenant { tenant, .. } if tenant == home))
        .then_some(a.id)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r5_the_only_two_admins_demoting_each_other_at_once_leave_one() {
    let s = start().await;
    let (jane, nora) = (s.demo.jane, s.demo.nh_second_admin);
    let jane_token = s.sign_in(jane).await;
    let nora_token = s.sign_in(nora).await;
    for round in 0..20 {
        // Both are admins at the start of every round.
        for p in [jane, nora] {
            if admin_assignment(&s, p).is_none() {
                let (d, home) = (s.app.deputy().clone(), s.demo.natural_health);
                tokio::task::spawn_blocking(move || {
                    let admin = d.snapshot().catalog.role_id("admin").unwrap();
                    d.execute(Actor::System, None, |tx| {
                        tx.assign(deputy_core::commands::roles::NewAssignment {
                            principal: p,
                            bundle: deputy_core::Bundle::Role(admin),
                            scope: deputy_core::Scope::Tenant { tenant: home, subtree: false },
                            expires_at: None,
                        })
                    })
                    .unwrap();
                })
                .await
                .unwrap();
            }
        }
        let demote = |token: String, target: PrincipalId| {
            let http = s.http.clone();
            let url = format!(
                "{}/v1/principals/{target}/assignments/{}",
                s.base,
                admin_assignment(&s, target).unwrap()
            );
            tokio::spawn(async move {
                http.delete(url).bearer_auth(token).send().await.unwrap().status()
            })
        };
        let a = demote(jane_token.clone(), nora);
        let b = demote(nora_token.clone(), jane);
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let ok = [a, b].iter().filter(|s| **s == StatusCode::NO_CONTENT).count();
        assert_eq!(ok, 1, "round {round}: exactly one demotion wins ({a}, {b})");
        // The loser is decided after the winner's change: it is no longer an admin, so the
        // other admin is out of its sight (404); were it decided on the old state, R5
        // would refuse it (409). Never both.
        let loser = if a == StatusCode::NO_CONTENT { b } else { a };
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::FORBIDDEN, StatusCode::CONFLICT].contains(&loser),
            "round {round}: the other is refused ({a}, {b})"
        );
        let admins = [jane, nora].iter().filter(|p| admin_assignment(&s, **p).is_some()).count();
        assert_eq!(admins, 1, "round {round}: one admin is left");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r71_access_token_for_a_session_and_the_jwks() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let (status, body) = s.post(&jane, "/v1/auth/token", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() <= 300);
    let token = body["access_token"].as_str().unwrap();
    let jwks: Value = s
        .http
        .get(format!("{}/.well-known/jwks.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    // The token's payload names Jane and her tenant; it is signed by the published key.
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&base64_url(parts[0])).unwrap();
    assert_eq!(header["kid"], key["kid"]);
    let claims: Value = serde_json::from_slice(&base64_url(parts[1])).unwrap();
    assert_eq!(claims["sub"], s.demo.jane.to_string());
    assert_eq!(claims["tenant"], s.demo.natural_health.to_string());
    assert_eq!(claims["iss"], "https://portal.example");
}

/// Decodes unpadded base64url (the JWT alphabet).
fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_a_write_retried_with_its_idempotency_key_is_done_once() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let send = |key: &'static str, logon: &'static str| {
        let http = s.http.clone();
        let url = format!("{}/v1/tenants/natural-health/users", s.base);
        let jane = jane.clone();
        async move {
            let r = http
                .post(url)
                .bearer_auth(jane)
                .header("idempotency-key", key)
                .json(&json!({"logon": logon, "first_name": "I", "last_name": "D", "email": "i@example.com", "send_invitation": false}))
                .send()
                .await
                .unwrap();
            let replayed = r.headers().contains_key("idempotent-replayed");
            let token =
                r.headers().get("consistency-token").map(|v| v.to_str().unwrap().to_owned());
            (r.status(), replayed, token, r.text().await.unwrap())
        }
    };
    let first = send("create-idem-1", "idem-user").await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.3);
    let again = send("create-idem-1", "idem-user").await;
    assert_eq!((again.0, again.1), (StatusCode::CREATED, true));
    assert_eq!((&again.2, &again.3), (&first.2, &first.3), "the same answer, token included");
    let members = s
        .app
        .deputy()
        .snapshot()
        .members(s.demo.natural_health)
        .filter(|p| &*p.logon == "idem-user")
        .count();
    assert_eq!(members, 1, "done once");
    let other = send("create-idem-1", "someone-else").await;
    assert_eq!(other.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.3);
    assert!(other.3.contains("idempotency-key-reused"));
    // Without a key, a retry is a new request: the logon is taken.
    let plain = s
        .post(&jane, "/v1/tenants/natural-health/users", json!({"logon": "idem-user", "first_name": "I", "last_name": "D", "email": "i@example.com", "send_invitation": false}))
        .await;
    assert_eq!(plain.0, StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r53_r67_r72_lookups_what_if_and_reviews_over_http() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let jane = s.sign_in(s.demo.jane).await;
    let (status, found) = s
        .post(
            &operator,
            "/v1/lookup/resources",
            json!({"principal": "jim", "permission": "returns.file", "type": "tax-account"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found["items"],
        json!([{"type": "resource", "id": s.demo.bakery_withholding.to_string(), "key": "bakery-withholding"}]),
        "S1: only the payroll client's withholding, with its id and key (R57)"
    );
    // Jane sees only what is in tenants where she holds checks.read (her own).
    let (_, hers) = s
        .post(
            &jane,
            "/v1/lookup/resources",
            json!({"principal": "jim", "permission": "returns.file", "type": "tax-account"}),
        )
        .await;
    assert_eq!(hers["items"], json!([]));
    let (status, who) = s
        .post(
            &operator,
            "/v1/lookup/subjects",
            json!({"target": "resource:bakery-withholding", "permission": "returns.file"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{who}");
    let names: Vec<&str> = who["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["principal"]["logon"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"jane") && names.contains(&"jim"), "{who}");
    assert!(
        who["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["principal"] == json!({"id": s.demo.jim.to_string(), "logon": "jim"})),
        "R57: subjects carry id and logon: {who}"
    );
    assert_eq!(
        s.post(
            &jane,
            "/v1/lookup/subjects",
            json!({"target": "bakery", "permission": "returns.file"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // What-if: deactivating Jane; nothing is committed.
    let before = s.app.deputy().snapshot().revision;
    let (status, diff) = s
        .post(
            &operator,
            "/v1/what-if",
            json!({"change": {"action": "deactivate", "principal": "jane"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{diff}");
    let rows = diff["rows"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["principal"]
            == json!({"id": s.demo.jane.to_string(), "logon": "jane"})
            && r["permission"] == "returns.file"
            && r["tenant"] == json!({"id": s.demo.bakery.to_string(), "key": "bakery"})
            && r["change"] == "loses"),
        "{diff}"
    );
    assert!(
        rows.iter().any(|r| r["principal"]["logon"] == "jim"
            && r["permission"] == "returns.file"
            && r["resource"]["id"] == s.demo.bakery_withholding.to_string()
            && r["change"] == "loses"),
        "R67, R36: her kind-limited secondary logon loses the account it filed on: {diff}"
    );
    assert_eq!(s.app.deputy().snapshot().revision, before, "a preview commits nothing");
    let (status, _) = s
        .post(
            &s.sign_in(s.demo.ann).await,
            "/v1/what-if",
            json!({"change": {"action": "deactivate", "principal": "jane"}}),
        )
        .await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "the preview is refused like the change: {status}"
    );
    // Access review, JSON and CSV.
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    let (status, review) = s.get(&bakery_admin, "/v1/tenants/bakery/review").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        review["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["principal"]["logon"] == "jane" && r["permission"] == "returns.file")
    );
    let csv = s
        .http
        .get(format!("{}/v1/tenants/bakery/review?format=csv", s.base))
        .bearer_auth(&bakery_admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with(deputy_http::routes::reports::REVIEW_CSV_HEADER));
    // The CSV is the whole review: paging parameters are read alike and refused when
    // malformed (R57), a well-formed cursor changes nothing.
    for (query, status) in [("cursor=%1Bx", 400), ("limit=0", 400), ("cursor=1:1", 200)] {
        let r = s
            .http
            .get(format!("{}/v1/tenants/bakery/review?format=csv&{query}", s.base))
            .bearer_auth(&bakery_admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{query}");
        if status == 200 {
            assert_eq!(r.text().await.unwrap(), csv, "{query}: the whole review");
        }
    }
    // JSON pages to the end (R73), each page bound to the review's revision.
    let mut rows = 0;
    let mut path = "/v1/tenants/bakery/review?limit=5".to_owned();
    loop {
        let (status, page) = s.get(&bakery_admin, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        rows += page["rows"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/tenants/bakery/review?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(rows, csv.lines().count() - 1, "the pages hold every row of the whole review");
    assert_eq!(s.get(&jane, "/v1/tenants/bakery/review").await.0, StatusCode::NOT_FOUND);
    // The outbox is the operator's; the catalog anyone's.
    assert_eq!(s.get(&operator, "/v1/outbox").await.0, StatusCode::OK);
    assert_eq!(s.get(&jane, "/v1/outbox").await.0, StatusCode::NOT_FOUND);
    let (_, catalog) = s.get(&jane, "/v1/catalog").await;
    assert!(catalog["toml"].as_str().unwrap().contains("tax-preparer"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r24_api_keys_are_listed_with_last_use_and_revoked() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let (d, nh, jane_id) = (s.app.deputy().clone(), s.demo.natural_health, s.demo.jane);
    let robot = tokio::task::spawn_blocking(move || {
        d.execute(Actor::at_home(jane_id), None, |tx| {
            tx.create_service_account(nh, "nh-bot".into(), "Bot".into())
        })
        .unwrap()
        .output
    })
    .await
    .unwrap();
    let (_, created) =
        s.post(&jane, &format!("/v1/principals/{robot}/api-keys"), json!({"name": "ci"})).await;
    let key = created["key"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&key, "/v1/me").await.0, StatusCode::OK);
    let (status, keys) = s.get(&jane, &format!("/v1/principals/{robot}/api-keys")).await;
    assert_eq!(status, StatusCode::OK);
    let listed = &keys["items"][0];
    assert_eq!(listed["name"], "ci");
    assert!(listed["last_used_at"].is_i64(), "{keys}");
    assert!(!keys.to_string().contains(&key[4..]), "the key itself is never listed");
    // Paged: two more keys, pages of two.
    for name in ["second", "third"] {
        s.post(&jane, &format!("/v1/principals/{robot}/api-keys"), json!({"name": name})).await;
    }
    let (_, first) = s.get(&jane, &format!("/v1/principals/{robot}/api-keys?limit=2")).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) =
        s.get(&jane, &format!("/v1/principals/{robot}/api-keys?limit=2&cursor={cursor}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest.get("next_cursor").is_none());
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    assert_eq!(
        s.get(&firm_admin, &format!("/v1/principals/{robot}/api-keys")).await.0,
        StatusCode::NOT_FOUND
    );
    let r = s
        .http
        .delete(format!(
            "{}/v1/principals/{robot}/api-keys/{}",
            s.base,
            listed["id"].as_str().unwrap()
        ))
        .bearer_auth(&jane)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(s.get(&key, "/v1/me").await.0, StatusCode::UNAUTHORIZED, "revoked at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_a_deactivation_ends_sessions_for_good_even_after_reactivation() {
    let s = start().await;
    let jim = s.sign_in(s.demo.jim).await;
    let jane = s.sign_in(s.demo.jane).await;
    let path = format!("/v1/principals/{}/status", s.demo.jim);
    assert_eq!(s.post(&jane, &path, json!({"status": "deactivated"})).await.0, StatusCode::OK);
    assert_eq!(s.post(&jane, &path, json!({"status": "active"})).await.0, StatusCode::OK);
    assert_eq!(
        s.get(&jim, "/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "the old session stays dead"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r16_forwarded_addresses_count_only_from_trusted_proxies() {
    let s = start().await;
    // The test server trusts no proxy: a forged X-Forwarded-For changes nothing, so the
    // failures land on 127.0.0.1 whatever the header says.
    for i in 0..3 {
        let _ = s
            .http
            .post(format!("{}/v1/auth/sign-in", s.base))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"logon": "nobody", "password": "wrong password!!"}))
            .send()
            .await
            .unwrap();
    }
    let activity = s
        .app
        .deputy()
        .store()
        .activity(&deputy_store::ActivityQuery { limit: 10_000, ..Default::default() })
        .unwrap();
    assert!(
        activity.iter().all(|e| !e
            .entry
            .source
            .as_deref()
            .unwrap_or("")
            .starts_with("198.51.100."))
    );
    // Signing in records the real peer address.
    s.sign_in(s.demo.jane).await;
    let activity = s
        .app
        .deputy()
        .store()
        .activity(&deputy_store::ActivityQuery { limit: 10_000, ..Default::default() })
        .unwrap();
    let signed_in = activity.iter().rev().find(|e| e.entry.action == "auth.signed_in").unwrap();
    assert_eq!(signed_in.entry.source.as_deref(), Some("127.0.0.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r9_r34_r39_r42_tenant_settings_grants_and_delegates_over_http() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let patch = |token: String, path: String, body: Value| {
        let http = s.http.clone();
        let url = format!("{}{path}", s.base);
        async move { http.patch(url).bearer_auth(token).json(&body).send().await.unwrap().status() }
    };
    // R9, R34: a tenant's own admin describes it and switches delegation off; the internal
    // description is for those above it.
    assert_eq!(
        patch(
            jane.clone(),
            "/v1/tenants/natural-health".into(),
            json!({"description": "Our practice", "delegates_allowed": false})
        )
        .await,
        StatusCode::NO_CONTENT
    );
    let (_, t) = s.get(&jane, "/v1/tenants/natural-health").await;
    assert_eq!(t["description"], "Our practice");
    let (status, _) = s
        .post(&jane, "/v1/principals/jane/delegates", json!({"logon": "jim2", "first_name": "J", "last_name": "D", "email": "j2@example.com"}))
        .await;
    assert!(status.is_client_error(), "delegation is off");
    // R39: Jane lists her secondary logons.
    let (status, list) = s.get(&jane, "/v1/principals/jane/delegates").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"][0]["logon"], "jim");
    // R42: the firm sees the grant it gave; Ann's tenant sees it received.
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    let (status, grants) = s.get(&firm_admin, "/v1/tenants/law-firm/grants").await;
    assert_eq!(status, StatusCode::OK, "{grants}");
    let grant = &grants["items"][0];
    assert_eq!(
        (grant["partner"]["key"].as_str(), grant["status"].as_str()),
        (Some("legal-services"), Some("active"))
    );
    assert_eq!(s.get(&jane, "/v1/tenants/law-firm/grants").await.0, StatusCode::NOT_FOUND);
    // The firm narrows the grant to `viewer`.
    let r = s
        .http
        .put(format!("{}/v1/grants/{}", s.base, grant["id"].as_str().unwrap()))
        .bearer_auth(&firm_admin)
        .json(&json!({"partner": "legal-services", "ceiling": ["viewer"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, grants) = s.get(&firm_admin, "/v1/tenants/law-firm/grants").await;
    assert_eq!(grants["items"][0]["ceiling"], json!(["viewer"]));
    // A service account, then the group Jim depends on is deleted: Jim falls back to nothing.
    let (status, _) = s
        .post(&jane, "/v1/tenants/natural-health/service-accounts", json!({"name": "nh-sync"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let r = s
        .http
        .delete(format!("{}/v1/groups/{}", s.base, s.demo.payroll_group))
        .bearer_auth(&jane)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let operator = s.sign_in(s.demo.operator).await;
    let (_, answer) = s
        .post(&operator, "/v1/check", json!({"principal": "jim", "permission": "returns.file", "target": "resource:bakery-withholding"}))
        .await;
    assert_eq!(answer["allowed"], false, "Jim's only group is gone: {answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r17_a_linked_secondary_logon_signs_in_with_its_owners_password() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let before = s.app.deputy().store().outbox(0, 10_000).unwrap().len();
    let (status, body) = s
        .post(&jane, "/v1/principals/jane/delegates", json!({"logon": "jim-linked", "first_name": "J", "last_name": "L", "email": "jl@example.com", "linked_password": true}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        s.app.deputy().store().outbox(0, 10_000).unwrap().len(),
        before,
        "no invitation mail (R17)"
    );
    let r = s
        .http
        .post(format!("{}/v1/auth/sign-in", s.base))
        .json(&json!({"logon": "jim-linked", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "active from creation, with the owner's password");
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let (_, me) = s.get(&token, "/v1/me").await;
    assert_eq!(me["logon"], "jim-linked");
    let (status, body) = s
        .post(
            &token,
            "/v1/auth/password",
            json!({"current_password": PASSWORD, "new_password": "another long passphrase"}),
        )
        .await;
    assert_eq!((status, body["rule"].as_str()), (StatusCode::FORBIDDEN, Some("R17")), "{body}");
}

/// R51, R53: without a context a check counts direct and partner paths alike, `home`
/// direct ones only, `switched_into` partner ones only; check, batch, explain and both
/// lookups agree in each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r51_checks_and_lookups_take_the_same_session_context() {
    let s = start().await;
    // S4: the provider's admin gives Ann `viewer` for the firm, through the grant.
    let (d, m) = (s.app.deputy().clone(), s.demo.clone());
    tokio::task::spawn_blocking(move || {
        let viewer = d.snapshot().catalog.role_id("viewer").unwrap();
        d.execute(Actor::at_home(m.provider_admin), None, |tx| {
            tx.give_partner_role(
                m.ann,
                deputy_core::Scope::Client { client: m.law_firm },
                viewer,
                None,
            )
        })
        .unwrap();
    })
    .await
    .unwrap();
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    let ann = s.logon(s.demo.ann);
    let check = |context: Value| {
        let mut body =
            json!({"principal": ann, "permission": "matters.view", "target": "law-firm"});
        body.as_object_mut().unwrap().extend(context.as_object().unwrap().clone());
        body
    };
    let contexts = [
        (json!({}), true),
        (json!({"context": "none"}), true),
        (json!({"context": "home"}), false),
        (json!({"switched_into": "law-firm"}), true),
    ];
    for (context, expected) in &contexts {
        let (status, answer) = s.post(&firm_admin, "/v1/check", check(context.clone())).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["allowed"], *expected, "check {context}");
        let (_, answer) = s.post(&firm_admin, "/v1/explain", check(context.clone())).await;
        assert_eq!(answer["allowed"], *expected, "explain {context}");
        let (_, answer) = s
            .post(&firm_admin, "/v1/check/batch", json!({"checks": [check(context.clone())]}))
            .await;
        assert_eq!(answer["results"][0]["allowed"], *expected, "batch {context}");
        let mut lookup = json!({"principal": ann, "permission": "matters.view"});
        lookup.as_object_mut().unwrap().extend(context.as_object().unwrap().clone());
        let (status, page) = s.post(&firm_admin, "/v1/lookup/resources", lookup).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "tenant" && t["key"] == "law-firm");
        assert_eq!(found, *expected, "lookup-resources {context}: {page}");
        let mut lookup = json!({"target": "law-firm", "permission": "matters.view"});
        lookup.as_object_mut().unwrap().extend(context.as_object().unwrap().clone());
        let (status, page) = s.post(&firm_admin, "/v1/lookup/subjects", lookup).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let found =
            page["items"].as_array().unwrap().iter().any(|p| p["principal"]["logon"] == ann);
        assert_eq!(found, *expected, "lookup-subjects {context}: {page}");
    }
    // A session is at home or switched, not both; and nothing else.
    for bad in
        [json!({"context": "home", "switched_into": "law-firm"}), json!({"context": "elsewhere"})]
    {
        let (status, body) = s.post(&firm_admin, "/v1/check", check(bad.clone())).await;
        assert!(matches!(status.as_u16(), 400 | 422), "{bad}: {status} {body}");
    }
}

/// R52, R40: past its end a grant is shown `expired`, and explain says the grant expired,
/// and when, instead of "no role".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r52_an_expired_grant_is_shown_expired_and_explained_as_such() {
    let s = start().await;
    let (d, m) = (s.app.deputy().clone(), s.demo.clone());
    let end = s.clock.load(Ordering::SeqCst) + 60_000;
    tokio::task::spawn_blocking(move || {
        let snapshot = d.snapshot();
        let viewer = snapshot.catalog.role_id("viewer").unwrap();
        d.execute(Actor::at_home(m.provider_admin), None, |tx| {
            tx.give_partner_role(
                m.ann,
                deputy_core::Scope::Client { client: m.law_firm },
                viewer,
                None,
            )
        })
        .unwrap();
        let ceiling = snapshot.grant(m.firm_grant).unwrap().ceiling.clone();
        d.execute(Actor::at_home(m.firm_admin), None, |tx| {
            tx.change_grant(
                m.firm_grant,
                deputy_core::commands::partners::GrantTerms {
                    ceiling: ceiling.clone(),
                    expires_at: Some(end),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    })
    .await
    .unwrap();
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    let ask = json!({"principal": "ann", "permission": "matters.view", "target": "law-firm"});
    assert_eq!(s.post(&firm_admin, "/v1/check", ask.clone()).await.1["allowed"], true);
    s.clock.store(end, Ordering::SeqCst);
    let (_, grants) = s.get(&firm_admin, "/v1/tenants/law-firm/grants").await;
    assert_eq!(grants["items"][0]["status"], "expired", "{grants}");
    // The firm's admin may not see Ann herself (R52); the operator may.
    let operator = s.sign_in(s.demo.operator).await;
    let (_, why) = s.post(&operator, "/v1/explain", ask).await;
    assert_eq!(why["allowed"], false);
    let reason = why["reason"].as_str().unwrap();
    assert!(reason.contains("expired at"), "{reason}");
    assert!(!reason.contains("no role"), "{reason}");
}

/// R62: every answer carries a request id, the caller's when it is a sane one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r62_every_answer_carries_a_request_id() {
    let s = start().await;
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let url = format!("{}/healthz", s.base);
    let r = s.http.get(&url).header("x-request-id", "trace-42.a").send().await.unwrap();
    assert_eq!(id(&r), "trace-42.a", "the caller's id comes back");
    let r = s.http.get(&url).send().await.unwrap();
    let fresh = id(&r);
    assert_eq!(fresh.len(), 16);
    assert!(fresh.bytes().all(|b| b.is_ascii_hexdigit()));
    let r = s.http.get(&url).send().await.unwrap();
    assert_ne!(id(&r), fresh, "a new one each time");
    for bad in ["has spaces in it", &"x".repeat(65), "new\\nline"] {
        let r = s.http.get(&url).header("x-request-id", bad).send().await.unwrap();
        assert_ne!(id(&r), bad, "an id that could forge log lines is replaced");
    }
    // Errors, unknown routes included, carry one too.
    let r = s.http.get(format!("{}/v1/no-such-route", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(id(&r).len(), 16);
}

/// R55, R57: an unknown name in a check is the documented `unknown-name` naming the field,
/// and every id-ordered list refuses a malformed cursor alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r55_r57_unknown_names_and_malformed_cursors_answer_alike_everywhere() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    for (body, field) in [
        (json!({"principal": "nobody", "permission": "users.view", "target": "root"}), "principal"),
        (json!({"principal": "jane", "permission": "users.veiw", "target": "root"}), "permission"),
        (json!({"principal": "jane", "permission": "users.view", "target": "nowhere"}), "target"),
    ] {
        let (status, problem) = s.post(&op, "/v1/check", body).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(problem["type"], "urn:deputy:problem:unknown-name", "{problem}");
        assert_eq!(problem["field"], field);
    }
    for path in [
        "/v1/outbox?cursor=-1",
        "/v1/outbox?cursor=abc",
        "/v1/tenants/root/principals?cursor=-1",
        "/v1/activity?cursor=x",
    ] {
        let (status, problem) = s.get(&op, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(problem["field"], "cursor", "{path}");
    }
}

/// R57, R58: a grant can be read on its own by those who may list it; for anyone else it
/// is answered exactly as a missing one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_r58_a_grant_is_readable_on_its_own() {
    let s = start().await;
    let grant = s.demo.firm_grant.to_string();
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    let (status, view) = s.get(&firm_admin, &format!("/v1/grants/{grant}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        (view["id"].as_str(), &view["client"]),
        (Some(grant.as_str()), &json!({"id": s.demo.law_firm.to_string(), "key": "law-firm"}))
    );
    assert_eq!(
        view["partner"],
        json!({"id": s.demo.provider.to_string(), "key": "legal-services"})
    );
    assert_eq!(view["status"], "active");
    let (_, listed) = s.get(&firm_admin, "/v1/tenants/law-firm/grants").await;
    assert_eq!(listed["items"][0], view, "the same view as in the list");
    let outsider = s.sign_in(s.demo.bakery_admin).await;
    let real = s.get(&outsider, &format!("/v1/grants/{grant}")).await;
    let missing = s.get(&outsider, "/v1/grants/g9999").await;
    assert_eq!(real.0, StatusCode::NOT_FOUND);
    assert_eq!(
        (real.0, &real.1["type"], &real.1["field"]),
        (missing.0, &missing.1["type"], &missing.1["field"])
    );
}

/// R50: every write answers a consistency token, also those that set a password or queue
/// a mail without a commit of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r50_password_and_reset_writes_answer_a_consistency_token() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let post = |token: Option<&str>, path: &str, body: Value| {
        let mut request = s.http.post(format!("{}{path}", s.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let token_of = |r: &reqwest::Response| {
        r.headers().get("consistency-token").map(|v| v.to_str().unwrap().to_owned())
    };
    let r = post(Some(&op), &format!("/v1/principals/{}/password-reset", s.demo.jane), json!({}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(token_of(&r).is_some(), "password-reset");
    let link = {
        use deputy_store::secrets::SecretStore;
        let mails = s.app.deputy().store().outbox(0, 1000).unwrap();
        let body = &mails.last().unwrap().body;
        let at = body.find("/reset/").unwrap() + "/reset/".len();
        body[at..].split_whitespace().next().unwrap().to_owned()
    };
    let r = post(
        None,
        "/v1/auth/reset",
        json!({"token": link, "password": "velvet otters under the pier"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(token_of(&r).is_some(), "reset");
    let jim = s.sign_in(s.demo.jim).await;
    let r = post(
        Some(&jim),
        "/v1/auth/password",
        json!({"current_password": PASSWORD, "new_password": "copper lanterns along the canal"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(token_of(&r).is_some(), "auth/password");
}

/// The answer an outsider gets for something real, and the answer for a missing id, are
/// the same (R58).
fn same_answer(real: &(StatusCode, Value), missing: &(StatusCode, Value)) {
    assert_eq!(real.0, StatusCode::NOT_FOUND, "{}", real.1);
    assert_eq!(
        (real.0, &real.1["type"], &real.1["field"]),
        (missing.0, &missing.1["type"], &missing.1["field"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_get_group_lists_its_clients() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let group = s.demo.payroll_group.to_string();
    let (status, view) = s.get(&jane, &format!("/v1/groups/{group}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["id"], group.as_str());
    assert_eq!(view["name"], "Payroll clients");
    assert_eq!(view["default"], false);
    assert_eq!(view["owner"]["principal"], json!({"id": s.demo.jane.to_string(), "logon": "jane"}));
    assert_eq!(view["tenants"], json!([{"id": s.demo.bakery.to_string(), "key": "bakery"}]));
    // Jane's Default group holds her other businesses, never the payroll client.
    let default = s
        .app
        .deputy()
        .snapshot()
        .default_group(deputy_core::GroupOwner::User(s.demo.jane))
        .unwrap()
        .to_string();
    let (status, view) = s.get(&jane, &format!("/v1/groups/{default}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["default"], true);
    let keys: Vec<&str> =
        view["tenants"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"natural-health") && !keys.contains(&"bakery"), "{view}");
    // Someone who may not see Jane gets the missing id's answer.
    let outsider = s.sign_in(s.demo.firm_admin).await;
    same_answer(
        &s.get(&outsider, &format!("/v1/groups/{group}")).await,
        &s.get(&outsider, "/v1/groups/sg9999").await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_a_tenants_resources_are_listed_and_each_readable() {
    let s = start().await;
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    let (status, page) = s.get(&bakery_admin, "/v1/tenants/bakery/resources?limit=1").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().expect("a second page").to_owned();
    let (status, rest) =
        s.get(&bakery_admin, &format!("/v1/tenants/bakery/resources?cursor={cursor}")).await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    let mut keys: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    assert_eq!(keys, ["bakery-sales-use", "bakery-withholding"]);
    // The same cursor parser as every id-ordered list (R57).
    let (status, bad) = s.get(&bakery_admin, "/v1/tenants/bakery/resources?cursor=-1").await;
    assert_eq!((status, &bad["field"]), (StatusCode::BAD_REQUEST, &json!("cursor")));
    let id = s.demo.bakery_withholding.to_string();
    let expected = json!({
        "id": id,
        "key": "bakery-withholding",
        "name": "bakery-withholding",
        "tenant": {"id": s.demo.bakery.to_string(), "key": "bakery"},
        "type": "tax-account",
        "kind": "Withholding",
    });
    for path in [format!("/v1/resources/{id}"), "/v1/resources/bakery-withholding".to_owned()] {
        let (status, view) = s.get(&bakery_admin, &path).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["id"], expected["id"]);
        assert_eq!(view["tenant"], expected["tenant"]);
        assert_eq!((&view["type"], &view["kind"]), (&expected["type"], &expected["kind"]));
    }
    // The law firm's admin may not read the bakery: its resources do not exist for it.
    let outsider = s.sign_in(s.demo.firm_admin).await;
    same_answer(
        &s.get(&outsider, &format!("/v1/resources/{id}")).await,
        &s.get(&outsider, "/v1/resources/r9999").await,
    );
    same_answer(
        &s.get(&outsider, "/v1/tenants/bakery/resources").await,
        &s.get(&outsider, "/v1/tenants/t9999/resources").await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_the_tenant_list_searches_what_the_caller_may_read() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let (status, page) = s.get(&operator, "/v1/tenants?q=BAK").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        page["items"],
        json!([{"id": s.demo.bakery.to_string(), "key": "bakery", "name": s.app.deputy().snapshot().tenant(s.demo.bakery).unwrap().name}])
    );
    // Paged to the end with the id-ordered cursor.
    let mut seen = 0;
    let mut path = "/v1/tenants?limit=2".to_owned();
    loop {
        let (status, page) = s.get(&operator, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/tenants?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, s.app.deputy().snapshot().n_tenants(), "the operator reads every tenant");
    // The law firm's admin reads its own firm, not the bakery.
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    let (_, mine) = s.get(&firm_admin, "/v1/tenants").await;
    let keys: Vec<&str> =
        mine["items"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"law-firm") && !keys.contains(&"bakery"), "{mine}");
    assert_eq!(s.get(&firm_admin, "/v1/tenants?q=bakery").await.1["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r39_delegates_are_listed_with_their_access_type_groups_and_kinds() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    // A second delegate, with Full Access.
    let (status, made) = s
        .post(
            &jane,
            "/v1/principals/jane/delegates",
            json!({"logon": "jill", "first_name": "Jill", "last_name": "Doe", "email": "jill@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (status, page) = s.get(&jane, "/v1/principals/jane/delegates").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let by_logon = |logon: &str| {
        page["items"].as_array().unwrap().iter().find(|d| d["logon"] == logon).cloned().unwrap()
    };
    let jim = by_logon("jim");
    assert_eq!(jim["access"]["type"], "limited", "{jim}");
    assert_eq!(
        jim["access"]["groups"],
        json!([{"id": s.demo.payroll_group.to_string(), "name": "Payroll clients"}])
    );
    assert_eq!(jim["access"]["kinds"], json!(["Withholding"]));
    assert!(jim["email"].is_string() && jim["first_name"] == "Jim", "R39: name and e-mail");
    let jill = by_logon("jill");
    assert_eq!(jill["access"]["type"], "full", "{jill}");
    assert!(jill["access"].get("groups").is_none() && jill["access"].get("kinds").is_none());
    // A user who is no secondary logon has no access type.
    assert!(s.get(&jane, "/v1/principals/jane").await.1.get("access").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r44_the_principal_view_shows_the_status_reason() {
    let s = start().await;
    let (app, provider_admin) = (s.app.clone(), s.demo.provider_admin);
    tokio::task::spawn_blocking(move || app.auth().set_password(provider_admin, PASSWORD, false))
        .await
        .unwrap()
        .unwrap();
    let provider = s.sign_in(s.demo.provider_admin).await;
    let (status, given) = s
        .post(
            &provider,
            "/v1/principals/ann/partner-roles",
            json!({"role": "viewer", "client": "law-firm"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{given}");
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    let (status, old) = s.get(&firm_admin, "/v1/principals/ann.lee").await;
    assert_eq!(status, StatusCode::OK, "{old}");
    assert_eq!(
        (old["status"].as_str(), old["status_reason"].as_str()),
        (Some("deactivated"), Some("replaced by partner access"))
    );
    // An active principal without a reason shows none.
    assert!(s.get(&firm_admin, "/v1/principals/firm-admin").await.1.get("status_reason").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r48_the_impersonation_answer_names_the_impersonator_and_the_principal_acted_as() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let (status, body) = s
        .post(&operator, "/v1/session/impersonate", json!({"target": "jane", "reason": "ticket 1"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["principal"], json!({"id": s.demo.operator.to_string(), "logon": "operator"}));
    assert_eq!(body["impersonating"], json!({"id": s.demo.jane.to_string(), "logon": "jane"}));
    assert_eq!(body["acting_tenant"]["key"], "natural-health");
    let (status, back) =
        s.post(body["token"].as_str().unwrap(), "/v1/session/stop-impersonating", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert!(back.get("impersonating").is_none(), "{back}");
    assert_eq!(back["principal"]["logon"], "operator");
}

/// Whether `text` names something of the code: a type (`NewAssignmentRequest`,
/// `struct …`, `usize`) or a function (`give_partner_role`).
fn names_code(text: &str) -> bool {
    let camel = text.split(|c: char| !c.is_alphanumeric()).any(|w| {
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_uppercase)
            && w.chars().skip(1).any(char::is_lowercase)
            && w.chars().skip(1).any(char::is_uppercase)
    });
    let words = ["struct ", "enum ", "usize", "u32", "u64", "i64", "String", "::"];
    camel || words.iter().any(|w| text.contains(w)) || text.contains("give_partner_role")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_assignments_refuse_partner_scopes_pointing_at_partner_roles() {
    let s = start().await;
    let doc: Value = s.get("", "/v1/openapi.json").await.1;
    let schema = &doc["components"]["schemas"]["NewAssignmentRequest"]["properties"];
    assert!(schema.get("client").is_none() && schema.get("group").is_none(), "{schema}");
    let op = s.sign_in(s.demo.operator).await;
    for field in ["client", "group"] {
        let value = if field == "client" { "bakery" } else { "sg0" };
        let (status, body) = s
            .post(&op, "/v1/principals/ann/assignments", json!({"role": "viewer", field: value}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!((body["field"].as_str(), body["rule"].as_str()), (Some(field), Some("R41")));
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("/v1/principals/{id}/partner-roles"), "{detail}");
        assert!(!names_code(detail), "{detail}");
    }
}

/// No answer names the code's own types or functions: malformed bodies, queries and
/// paths on every operation of the document answer in the API's words (R57).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_no_answer_names_internal_types_or_functions() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let doc: Value = s.get(&op, "/v1/openapi.json").await.1;
    let mut asked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x%FF" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let plain = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "nothing-here" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in item.as_object().unwrap() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let mut tries = vec![
                s.http.request(method.clone(), format!("{}{plain}?limit=abc&cursor=-1", s.base)),
                s.http.request(method.clone(), format!("{}{concrete}", s.base)),
            ];
            if operation.get("requestBody").is_some() {
                for body in [json!([1]), json!({"limit": "x"}), json!("text"), json!({})] {
                    tries.push(
                        s.http.request(method.clone(), format!("{}{plain}", s.base)).json(&body),
                    );
                }
            }
            for request in tries {
                let r = request.bearer_auth(&op).send().await.unwrap();
                let status = r.status();
                let body: Value = r.json().await.unwrap_or(Value::Null);
                if let Some(detail) = body["detail"].as_str() {
                    asked += 1;
                    assert!(!names_code(detail), "{method} {path} ({status}): {detail}");
                }
            }
        }
    }
    assert!(asked > 100, "only {asked} problems seen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r25_r57_catalog_changes_are_guarded_by_its_etag() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let read = || async {
        let r = s.http.get(format!("{}/v1/catalog", s.base)).bearer_auth(&op).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        (etag, r.json::<Value>().await.unwrap()["toml"].as_str().unwrap().to_owned())
    };
    let (etag, toml) = read().await;
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong entity tag: {etag}");
    let changed = format!("{toml}\n[[permission]]\nname = \"invoices.view\"\n");
    let put = |if_match: Option<&str>, toml: &str| {
        let mut r = s
            .http
            .put(format!("{}/v1/catalog", s.base))
            .bearer_auth(&op)
            .json(&json!({"toml": toml}));
        if let Some(tag) = if_match {
            r = r.header("if-match", tag);
        }
        r.send()
    };
    // Without If-Match: 428, nothing changed.
    let before = s.app.deputy().snapshot().revision;
    let r = put(None, &changed).await.unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "If-Match");
    // A stale tag: 412, nothing changed.
    let r = put(Some("\"0123\""), &changed).await.unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        (problem["type"].as_str(), problem["field"].as_str()),
        (Some("urn:deputy:problem:precondition-failed"), Some("If-Match"))
    );
    assert_eq!(s.app.deputy().snapshot().revision, before, "refused changes change nothing");
    assert!(s.app.deputy().snapshot().catalog.permission_id("invoices.view").is_none());
    // The current tag: changed, and the new tag differs.
    let r = put(Some(&etag), &changed).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let new_tag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_tag, etag);
    assert_eq!(read().await.0, new_tag);
    // The old tag no longer holds: a second editor who read before cannot overwrite.
    let again = format!("{toml}\n[[permission]]\nname = \"other.view\"\n");
    assert_eq!(put(Some(&etag), &again).await.unwrap().status(), StatusCode::PRECONDITION_FAILED);
    assert!(s.app.deputy().snapshot().catalog.permission_id("other.view").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_views_name_others_with_id_and_key_and_paths_take_either() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let (status, jim) = s.get(&op, "/v1/principals/jim").await;
    assert_eq!(status, StatusCode::OK, "{jim}");
    assert_eq!(jim["owner"], json!({"id": s.demo.jane.to_string(), "logon": "jane"}));
    assert_eq!(
        jim["home"],
        json!({"id": s.demo.natural_health.to_string(), "key": "natural-health"})
    );
    assert_eq!(s.get(&op, &format!("/v1/principals/{}", s.demo.jim)).await.1, jim);
    let (status, bakery) = s.get(&op, "/v1/tenants/bakery").await;
    assert_eq!(status, StatusCode::OK, "{bakery}");
    assert_eq!(bakery["parent"], json!({"id": s.demo.root.to_string(), "key": "root"}));
    assert_eq!(bakery["contact"]["logon"], "bakery-admin", "{bakery}");
    assert_eq!(s.get(&op, &format!("/v1/tenants/{}", s.demo.bakery)).await.1, bakery);
    let by_key = s.get(&op, "/v1/tenants/bakery/resources").await.1;
    assert_eq!(s.get(&op, &format!("/v1/tenants/{}/resources", s.demo.bakery)).await.1, by_key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r48_r57_me_and_the_session_answers_agree_on_the_acting_tenant() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let (_, me) = s.get(&operator, "/v1/me").await;
    let root = json!({"id": s.demo.root.to_string(), "key": "root"});
    assert_eq!(me["acting_tenant"], root, "at home: its home");
    let (status, body) = s
        .post(&operator, "/v1/session/impersonate", json!({"target": "jane", "reason": "ticket 2"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let nh = json!({"id": s.demo.natural_health.to_string(), "key": "natural-health"});
    assert_eq!(body["acting_tenant"], nh, "R48: the target acts, at its home: {body}");
    let (_, me) = s.get(body["token"].as_str().unwrap(), "/v1/me").await;
    assert_eq!(me["acting_tenant"], body["acting_tenant"], "/v1/me says the same: {me}");
    assert_eq!(me["logon"], "operator", "the principal is still the impersonator");
    // The access token says the same (R48, R71): `sub` is Jane, homed and acting at
    // Natural Health, and `act` names the operator.
    let (status, issued) =
        s.post(body["token"].as_str().unwrap(), "/v1/auth/token", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let payload = issued["access_token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let claims: Value = serde_json::from_slice(&base64_url(&payload)).unwrap();
    assert_eq!(claims["sub"], s.demo.jane.to_string(), "{claims}");
    assert_eq!(claims["tenant"], s.demo.natural_health.to_string(), "{claims}");
    assert_eq!(claims["acting_tenant"], s.demo.natural_health.to_string(), "{claims}");
    assert_eq!(claims["act"]["sub"], s.demo.operator.to_string(), "{claims}");
    let (_, back) =
        s.post(body["token"].as_str().unwrap(), "/v1/session/stop-impersonating", json!({})).await;
    assert_eq!(back["acting_tenant"], root, "{back}");
    let (_, me) = s.get(back["token"].as_str().unwrap(), "/v1/me").await;
    assert_eq!(me["acting_tenant"], root, "{me}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_r72_review_rows_name_principals_and_tenants_by_id_and_key_in_json_and_csv() {
    let s = start().await;
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    let jane = json!({"id": s.demo.jane.to_string(), "logon": "jane"});
    let bakery = json!({"id": s.demo.bakery.to_string(), "key": "bakery"});
    let (status, review) = s.get(&bakery_admin, "/v1/tenants/bakery/review?limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{review}");
    let rows = review["rows"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["principal"] == jane
            && r["tenant"] == bakery
            && r["permission"] == "returns.file"),
        "{review}"
    );
    let (status, hers) = s.get(&bakery_admin, "/v1/principals/jane/review?limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{hers}");
    assert!(hers["rows"].as_array().unwrap().iter().all(|r| r["principal"] == jane), "{hers}");
    assert!(hers["rows"].as_array().unwrap().iter().any(|r| r["tenant"] == bakery), "{hers}");
    let csv = s
        .http
        .get(format!("{}/v1/tenants/bakery/review?format=csv", s.base))
        .bearer_auth(&bakery_admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "principal_id,principal_logon,switched_into_id,switched_into_key,tenant_id,tenant_key,permission,reasons"
        )
    );
    let row = format!("{},jane,,,{},bakery,returns.file,\"", s.demo.jane, s.demo.bakery);
    assert!(lines.any(|l| l.starts_with(&row)), "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r32_r41_r57_assignment_targets_say_what_the_scope_is_with_id_and_key() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let (status, jane) = s.get(&operator, "/v1/principals/jane").await;
    assert_eq!(status, StatusCode::OK, "{jane}");
    let targets: Vec<&Value> =
        jane["assignments"].as_array().unwrap().iter().map(|a| &a["target"]).collect();
    assert!(
        targets.contains(&&json!({"type": "tenant", "id": s.demo.bakery.to_string(), "key": "bakery", "subtree": false})),
        "{jane}"
    );
    assert!(jane["assignments"][0].get("scope").is_none(), "one naming: the target says it");
    let (status, sitm) = s.get(&operator, "/v1/principals/sitm").await;
    assert_eq!(status, StatusCode::OK, "{sitm}");
    let client = sitm["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["target"]["type"] == "client")
        .map(|a| &a["target"]);
    assert_eq!(
        client,
        Some(
            &json!({"type": "client", "id": s.demo.customer_parent.to_string(), "key": s.app.deputy().snapshot().tenant(s.demo.customer_parent).unwrap().key})
        ),
        "R41: a partner role for a client names the client: {sitm}"
    );
    // /v1/me shows the same assignments.
    let jane_token = s.sign_in(s.demo.jane).await;
    let (_, me) = s.get(&jane_token, "/v1/me").await;
    assert_eq!(me["assignments"], jane["assignments"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r37a_r57_access_code_answers_name_the_tenant_and_the_holder() {
    let s = start().await;
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    let bakery = json!({"id": s.demo.bakery.to_string(), "key": "bakery"});
    let (status, issued) = s
        .post(&bakery_admin, "/v1/tenants/bakery/access-codes", json!({"roles": ["tax-preparer"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(issued["tenant"], bakery, "{issued}");
    let ann = s.sign_in(s.demo.ann).await;
    let (status, redeemed) =
        s.post(&ann, "/v1/access-codes/redeem", json!({"code": issued["code"]})).await;
    assert_eq!(status, StatusCode::OK, "{redeemed}");
    assert_eq!(redeemed["tenant"], bakery, "{redeemed}");
    assert_eq!(redeemed["holder"], json!({"id": s.demo.ann.to_string(), "logon": "ann"}));
    assert!(redeemed["assignments"][0].as_str().is_some_and(|a| a.starts_with('a')));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_created_answers_carry_the_key_or_logon_beside_the_id() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let (status, tenant) = s
        .post(&operator, "/v1/tenants/root/children", json!({"key": "new-co", "name": "New Co"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{tenant}");
    let id = tenant["id"].as_str().unwrap().to_owned();
    assert_eq!(tenant, json!({"id": id, "key": "new-co"}));
    assert_eq!(s.get(&operator, &format!("/v1/tenants/{id}")).await.1["key"], "new-co");
    let (status, resource) = s
        .post(
            &operator,
            "/v1/tenants/new-co/resources",
            json!({"key": "new-co-acct", "name": "Account", "type": "tax-account"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{resource}");
    assert_eq!(resource["key"], "new-co-acct");
    assert!(resource["id"].as_str().is_some_and(|r| r.starts_with('r')), "{resource}");
    let (status, bot) = s
        .post(&operator, "/v1/tenants/new-co/service-accounts", json!({"name": "new-co-bot"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bot}");
    assert!(bot["id"].as_str().is_some_and(|p| p.starts_with('p')), "{bot}");
    assert!(bot["logon"].is_string(), "{bot}");
    let (status, group) = s
        .post(&operator, "/v1/groups", json!({"owner_principal": "jane", "name": "Seasonal"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    assert_eq!(group["name"], "Seasonal");
    assert!(group["id"].as_str().is_some_and(|g| g.starts_with("sg")), "{group}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r21_r57_r58_activity_names_actor_subject_and_tenant_only_where_the_caller_sees() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let (status, own) = s.get(&jane, "/v1/activity?limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let signed_in = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "auth.signed_in")
        .unwrap()
        .clone();
    let me = json!({"type": "principal", "id": s.demo.jane.to_string(), "logon": "jane"});
    assert_eq!(signed_in["actor"], me, "{signed_in}");
    assert_eq!(
        signed_in["tenant"],
        json!({"type": "tenant", "id": s.demo.natural_health.to_string(), "key": "natural-health"})
    );
    // The operator acts in Natural Health as Jane: Jane may read the tenant's activity but
    // may not see the operator, so the entry gives the operator's id and not its logon.
    let operator = s.sign_in(s.demo.operator).await;
    let (_, body) = s
        .post(&operator, "/v1/session/impersonate", json!({"target": "jane", "reason": "ticket 3"}))
        .await;
    let acting = body["token"].as_str().unwrap().to_owned();
    let (status, body) = s
        .post(&acting, "/v1/tenants/natural-health/users", json!({"logon": "via-support", "first_name": "V", "last_name": "S", "email": "v@example.com", "send_invitation": false}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let operator_id = s.demo.operator.to_string();
    assert_eq!(
        s.get(&jane, &format!("/v1/principals/{operator_id}")).await.0,
        StatusCode::NOT_FOUND,
        "Jane may not see the operator"
    );
    let (status, log) = s.get(&jane, "/v1/activity?tenant=natural-health&limit=1000").await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let items = log["items"].as_array().unwrap();
    let created = items.iter().rev().find(|e| e["action"] == "principal.created").unwrap();
    assert_eq!(created["actor"], json!({"type": "principal", "id": operator_id}), "{created}");
    assert_eq!(created["acting_as"], json!([{"impersonating": me}]), "{created}");
    assert_eq!(created["subject"]["logon"], "via-support", "{created}");
    // Nothing the caller may not see is named, anywhere in the page.
    for e in items {
        for who in [&e["actor"], &e["subject"]] {
            if who["type"] == "principal" && who.get("logon").is_some() {
                let id = who["id"].as_str().unwrap();
                assert_eq!(s.get(&jane, &format!("/v1/principals/{id}")).await.0, StatusCode::OK);
            }
        }
    }
}

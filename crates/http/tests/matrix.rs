//! The authorization matrix (R58): every endpoint that names a tenant or principal,
//! called by every kind of caller that has no business with Natural Health, answers
//! exactly as it does for a tenant or principal that does not exist — nothing leaks, and
//! nothing changes. Callers who do have business there get their answers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_core::{Actor, PrincipalId};
use deputy_http::{AppState, HttpConfig};
use deputy_service::auth::{Auth, AuthSettings};
use deputy_service::passwords::HashCost;
use deputy_service::{Deputy, demo};
use deputy_store_sqlite::SqliteStore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery staple";

struct Server {
    base: String,
    app: AppState,
    demo: demo::Demo,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deputy.db");
    let (app, demo) = tokio::task::spawn_blocking(move || {
        let d = Deputy::open(SqliteStore::open(path).unwrap()).unwrap();
        d.initialise(None, "root", "Tax Agency").unwrap();
        let demo = demo::build(&d).unwrap();
        let settings = AuthSettings {
            hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
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
            demo.florist_admin,
            demo.provider_admin,
        ] {
            auth.set_password(p, PASSWORD, false).unwrap();
        }
        (
            AppState::new(
                auth,
                HttpConfig { public_origin: "http://127.0.0.1".into(), trusted_proxies: vec![] },
            ),
            demo,
        )
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
    Server { base, app, demo, http: reqwest::Client::new(), _dir: dir, _stop: stop }
}

impl Server {
    async fn call(
        &self,
        token: Option<&str>,
        method: &Method,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if *method != Method::GET {
            request = request.json(body);
        }
        let r = request.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn session(&self, logon: &str) -> String {
        let (status, body) = self
            .call(
                None,
                &Method::POST,
                "/v1/auth/sign-in",
                &json!({"logon": logon, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{logon}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn rotate(&self, token: &str, path: &str, body: Value) -> String {
        let (status, answer) = self.call(Some(token), &Method::POST, path, &body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
        answer["token"].as_str().unwrap().to_owned()
    }
}

/// Every endpoint that names a principal `{p}` or a tenant `{t}`, with a body.
fn endpoints() -> Vec<(Method, &'static str, Value)> {
    vec![
        (Method::GET, "/v1/principals/{p}", json!(null)),
        (Method::GET, "/v1/principals/{p}/review", json!(null)),
        (Method::GET, "/v1/principals/{p}/api-keys", json!(null)),
        (Method::GET, "/v1/tenants/{t}", json!(null)),
        (Method::GET, "/v1/tenants/{t}/principals", json!(null)),
        (Method::GET, "/v1/tenants/{t}/children", json!(null)),
        (Method::GET, "/v1/tenants/{t}/review", json!(null)),
        (Method::GET, "/v1/activity?tenant={t}", json!(null)),
        (Method::GET, "/v1/activity?principal={p}", json!(null)),
        (Method::PATCH, "/v1/principals/{p}", json!({"first_name": "Mallory"})),
        (Method::POST, "/v1/principals/{p}/status", json!({"status": "deactivated"})),
        (Method::POST, "/v1/principals/{p}/cancel", json!({})),
        (Method::POST, "/v1/principals/{p}/invitation", json!({})),
        (Method::POST, "/v1/principals/{p}/password-reset", json!({})),
        (Method::POST, "/v1/principals/{p}/unlock", json!({})),
        (
            Method::POST,
            "/v1/principals/{p}/assignments",
            json!({"role": "viewer", "tenant": "{t}"}),
        ),
        (
            Method::POST,
            "/v1/principals/{p}/delegates",
            json!({"logon": "mallory-d", "first_name": "M", "last_name": "D", "email": "m@example.com"}),
        ),
        (Method::POST, "/v1/principals/{p}/api-keys", json!({"name": "x"})),
        (
            Method::POST,
            "/v1/tenants/{t}/users",
            json!({"logon": "mallory", "first_name": "M", "last_name": "X", "email": "m@example.com"}),
        ),
        (Method::POST, "/v1/tenants/{t}/children", json!({"key": "mallory-co", "name": "M"})),
        (
            Method::POST,
            "/v1/tenants/{t}/resources",
            json!({"key": "mallory-r", "name": "M", "type": "report"}),
        ),
        (
            Method::POST,
            "/v1/tenants/{t}/grants",
            json!({"partner": "dataco", "ceiling": ["viewer"]}),
        ),
        (Method::POST, "/v1/tenants/{t}/access-codes", json!({"roles": ["viewer"]})),
        (Method::PUT, "/v1/tenants/{t}/suspended", json!({"value": true})),
        (Method::PUT, "/v1/tenants/{t}/entitlements", json!({"permissions": []})),
        (
            Method::POST,
            "/v1/check",
            json!({"principal": "{p}", "permission": "users.view", "target": "{t}"}),
        ),
        (
            Method::POST,
            "/v1/explain",
            json!({"principal": "{p}", "permission": "users.view", "target": "{t}"}),
        ),
        (Method::POST, "/v1/lookup/subjects", json!({"target": "{t}", "permission": "users.view"})),
        (
            Method::POST,
            "/v1/what-if",
            json!({"change": {"action": "deactivate", "principal": "{p}"}}),
        ),
    ]
}

fn fill(text: &str, p: &str, t: &str) -> String {
    text.replace("{p}", p).replace("{t}", t)
}

fn fill_body(body: &Value, p: &str, t: &str) -> Value {
    serde_json::from_str(&fill(&body.to_string(), p, t)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r58_callers_without_business_in_a_tenant_learn_nothing_and_change_nothing() {
    let s = start().await;
    // Callers with no business with Natural Health or Nora, its second admin.
    let firm_admin = s.session("firm-admin").await;
    let ann = s.session("ann").await;
    let provider_admin = s.session("provider-admin").await;
    // Ann switched into the law firm (she gets `viewer` there first).
    let (d, m) = (s.app.deputy().clone(), s.demo.clone());
    let robot = tokio::task::spawn_blocking(move || {
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
        // A law firm service account with the `api` role (checks.read there).
        let robot = d
            .execute(Actor::at_home(m.firm_admin), None, |tx| {
                tx.create_service_account(m.law_firm, "firm-bot".into(), "Bot".into())
            })
            .unwrap()
            .output;
        let api = d.snapshot().catalog.role_id("api").unwrap();
        d.execute(Actor::at_home(m.firm_admin), None, |tx| {
            tx.assign(deputy_core::commands::roles::NewAssignment {
                principal: robot,
                bundle: deputy_core::Bundle::Role(api),
                scope: deputy_core::Scope::Tenant { tenant: m.law_firm, subtree: false },
                expires_at: None,
            })
        })
        .unwrap();
        robot
    })
    .await
    .unwrap();
    let ann_switched = s.rotate(&ann, "/v1/session/switch", json!({"tenant": "law-firm"})).await;
    let (_, key) = s
        .call(
            Some(&firm_admin),
            &Method::POST,
            &format!("/v1/principals/{robot}/api-keys"),
            &json!({"name": "m"}),
        )
        .await;
    let key = key["key"].as_str().unwrap().to_owned();
    // Jim: Jane's delegate, limited to her payroll group (the bakery).
    let jim = s.session("jim").await;
    // The operator impersonating the florist's admin: never beyond the florist's admin.
    let operator = s.session("operator").await;
    let impersonating = s
        .rotate(
            &operator,
            "/v1/session/impersonate",
            json!({"target": "florist-admin", "reason": "matrix"}),
        )
        .await;
    let callers: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        ("admin of another tenant", Some(firm_admin)),
        ("partner user at home", Some(ann.clone())),
        ("partner user switched", Some(ann_switched)),
        ("partner admin", Some(provider_admin)),
        ("service account of another tenant", Some(key)),
        ("impersonator as an outsider", Some(impersonating)),
    ];
    let revision = s.app.deputy().snapshot().revision;
    let nora = s.demo.nh_second_admin.to_string();
    let nh = s.demo.natural_health.to_string();
    for (who, token) in &callers {
        for (method, path, body) in endpoints() {
            let real = s
                .call(
                    token.as_deref(),
                    &method,
                    &fill(path, &nora, &nh),
                    &fill_body(&body, &nora, &nh),
                )
                .await;
            let bogus = s
                .call(
                    token.as_deref(),
                    &method,
                    &fill(path, "p99999", "t99999"),
                    &fill_body(&body, "p99999", "t99999"),
                )
                .await;
            assert!(
                real.0.is_client_error(),
                "{who}: {method} {path} answered {} {}",
                real.0,
                real.1
            );
            assert_eq!(
                (real.0, &real.1["type"]),
                (bogus.0, &bogus.1["type"]),
                "{who}: {method} {path} tells a real {{p}}/{{t}} from a missing one: {} vs {}",
                real.1,
                bogus.1
            );
        }
    }
    assert_eq!(s.app.deputy().snapshot().revision, revision, "nothing changed");
    // Jim, Jane's delegate limited to her payroll group, sees his home tenant (R9) but not
    // its other users: Natural Health is not in his groups.
    let (status, _) =
        s.call(Some(&jim), &Method::GET, &format!("/v1/principals/{nora}"), &json!(null)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s
        .call(Some(&jim), &Method::GET, &format!("/v1/tenants/{nh}/principals"), &json!(null))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.app
            .deputy()
            .snapshot()
            .principal(PrincipalId(s.demo.nh_second_admin.0))
            .unwrap()
            .first_name
            .as_ref(),
        "Nora"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r58_callers_with_business_in_the_tenant_get_their_answers() {
    let s = start().await;
    let jane = s.session("jane").await;
    let nora = s.demo.nh_second_admin.to_string();
    let nh = s.demo.natural_health.to_string();
    for (method, path, body) in endpoints().into_iter().filter(|(m, _, _)| *m == Method::GET) {
        let (status, answer) = s.call(Some(&jane), &method, &fill(path, &nora, &nh), &body).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}: {answer}");
    }
    for body in [
        json!({"principal": "{p}", "permission": "users.view", "target": "{t}"}),
        json!({"target": "{t}", "permission": "users.view"}),
    ] {
        let path =
            if body.get("principal").is_some() { "/v1/check" } else { "/v1/lookup/subjects" };
        let (status, answer) =
            s.call(Some(&jane), &Method::POST, path, &fill_body(&body, &nora, &nh)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    }
}

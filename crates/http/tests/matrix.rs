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
        let d = Deputy::open(deputy_backends::open_file(path).unwrap()).unwrap();
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
            demo.dataco_cm,
        ] {
            auth.set_password(p, PASSWORD, false).unwrap();
        }
        (
            AppState::new(
                auth,
                HttpConfig {
                    public_origin: "http://127.0.0.1".into(),
                    trusted_proxies: vec![],
                    metrics: Default::default(),
                },
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

/// The endpoints in an order where every write leaves the next call meaningful: the
/// deactivation and the cancellation of `{p}` come last.
fn insider_endpoints() -> Vec<(Method, &'static str, Value)> {
    let mut all = endpoints();
    let last: Vec<_> = all
        .extract_if(.., |(_, path, _)| path.ends_with("/status") || path.ends_with("/cancel"))
        .collect();
    all.extend(last);
    all
}

/// Who calls, and how the test gives that caller a credential in a fresh demo.
#[derive(Clone, Copy, Debug)]
enum Insider {
    /// Jane, admin of Natural Health, at home.
    Admin,
    /// The operator impersonating Jane (R48: never beyond either of them).
    ImpersonatorOfAdmin,
    /// Jane's secondary logon with Full Access and no narrowing roles (R35).
    FullAccessDelegate,
    /// Jane's secondary logon narrowed to `read-only` (R35).
    ReadOnlyDelegate,
    /// A Natural Health service account holding `api` there (R24, R58).
    ServiceAccount,
    /// DataCo's customer manager switched into Acme (R43, R45), acting on Acme's admin.
    SwitchedCustomerManager,
}

/// Runs every insider endpoint, in order, for one caller on a fresh server; the statuses.
async fn insider_answers(who: Insider) -> Vec<u16> {
    let s = start().await;
    let (d, m) = (s.app.deputy().clone(), s.demo.clone());
    let extra = tokio::task::spawn_blocking(move || -> Option<PrincipalId> {
        let role = |name: &str| d.snapshot().catalog.role_id(name).unwrap();
        let delegate = |logon: &str, roles: Vec<deputy_core::RoleId>| {
            let id = d
                .execute(Actor::at_home(m.jane), None, |tx| {
                    tx.create_delegate(deputy_core::commands::users::NewDelegate {
                        owner: m.jane,
                        logon: logon.into(),
                        first_name: "D".into(),
                        last_name: "Elegate".into(),
                        email: format!("{logon}@example.com"),
                        groups: None,
                        kinds: None,
                        roles: roles.clone(),
                        linked_password: false,
                    })
                })
                .unwrap()
                .output;
            // As if it had used its set-password e-mail (R12).
            d.execute(Actor::System, None, |tx| tx.password_set(id)).unwrap();
            id
        };
        match who {
            Insider::FullAccessDelegate => Some(delegate("jules", vec![])),
            Insider::ReadOnlyDelegate => {
                // An owner narrows only to roles it holds itself (R34).
                d.execute(Actor::at_home(m.jane), None, |tx| {
                    tx.assign(deputy_core::commands::roles::NewAssignment {
                        principal: m.jane,
                        bundle: deputy_core::Bundle::Role(role("read-only")),
                        scope: deputy_core::Scope::Tenant {
                            tenant: m.natural_health,
                            subtree: false,
                        },
                        expires_at: None,
                    })
                })
                .unwrap();
                Some(delegate("rita", vec![role("read-only")]))
            }
            Insider::ServiceAccount => {
                let robot = d
                    .execute(Actor::at_home(m.jane), None, |tx| {
                        tx.create_service_account(m.natural_health, "nh-bot".into(), "Bot".into())
                    })
                    .unwrap()
                    .output;
                d.execute(Actor::at_home(m.jane), None, |tx| {
                    tx.assign(deputy_core::commands::roles::NewAssignment {
                        principal: robot,
                        bundle: deputy_core::Bundle::Role(role("api")),
                        scope: deputy_core::Scope::Tenant {
                            tenant: m.natural_health,
                            subtree: false,
                        },
                        expires_at: None,
                    })
                })
                .unwrap();
                Some(robot)
            }
            _ => None,
        }
    })
    .await
    .unwrap();
    if let Some(p) = extra.filter(|_| !matches!(who, Insider::ServiceAccount)) {
        s.app.auth().set_password(p, PASSWORD, false).unwrap();
    }
    let (token, p, t) = match who {
        Insider::Admin => (s.session("jane").await, s.demo.nh_second_admin, s.demo.natural_health),
        Insider::ImpersonatorOfAdmin => {
            let operator = s.session("operator").await;
            let token = s
                .rotate(
                    &operator,
                    "/v1/session/impersonate",
                    json!({"target": "jane", "reason": "matrix"}),
                )
                .await;
            (token, s.demo.nh_second_admin, s.demo.natural_health)
        }
        Insider::FullAccessDelegate => {
            (s.session("jules").await, s.demo.nh_second_admin, s.demo.natural_health)
        }
        Insider::ReadOnlyDelegate => {
            (s.session("rita").await, s.demo.nh_second_admin, s.demo.natural_health)
        }
        Insider::ServiceAccount => {
            let jane = s.session("jane").await;
            let (status, key) = s
                .call(
                    Some(&jane),
                    &Method::POST,
                    &format!("/v1/principals/{}/api-keys", extra.unwrap()),
                    &json!({"name": "matrix"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{key}");
            (key["key"].as_str().unwrap().to_owned(), s.demo.nh_second_admin, s.demo.natural_health)
        }
        Insider::SwitchedCustomerManager => {
            let carla = s.session("carla").await;
            let token = s.rotate(&carla, "/v1/session/switch", json!({"tenant": "acme"})).await;
            (token, s.demo.acme_first, s.demo.acme)
        }
    };
    let (p, t) = (p.to_string(), t.to_string());
    let mut answers = Vec::new();
    for (method, path, body) in insider_endpoints() {
        let (status, _) =
            s.call(Some(&token), &method, &fill(path, &p, &t), &fill_body(&body, &p, &t)).await;
        answers.push(status.as_u16());
    }
    answers
}

/// Pairs each insider endpoint with the status expected of it, for a readable failure.
fn labelled(answers: &[u16]) -> Vec<(String, u16)> {
    insider_endpoints()
        .into_iter()
        .zip(answers)
        .map(|((method, path, _), status)| (format!("{method} {path}"), *status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r58_insiders_get_exactly_the_answers_their_access_implies() {
    // The admin of the tenant (R28: she outranks or equals Nora, a fellow admin).
    let admin = insider_answers(Insider::Admin).await;
    #[rustfmt::skip]
    let expected_admin = [
        200, 200, 200, 200, 200, 200, 200, 200, 200, // every read
        204, // PATCH the user
        409, // invitation: Nora is already active (R11)
        202, // password-reset mail (R13)
        204, // unlock (R16)
        201, // give viewer (R27)
        201, // a secondary logon for Nora: users.create over its owner (R34)
        409, // an API key for a user: only service accounts have them (R24)
        201, 201, 201, // add a user, a sub-tenant, a resource
        201, // propose a grant to DataCo (R40)
        201, // an access code (R37a)
        403, 403, // suspend, entitlements: only from above (R8, R3)
        200, 200, 200, 200, // check, explain, lookup, what-if (admin holds checks.read)
        200, 200, // deactivate, then cancel the other admin (R5 holds: Jane stays)
    ];
    assert_eq!(labelled(&admin), labelled(&expected_admin));

    // Impersonation and a Full Access secondary logon act exactly as the admin (R35, R48):
    // Nora is neither the impersonated target nor in the delegate's owner chain.
    assert_eq!(labelled(&insider_answers(Insider::ImpersonatorOfAdmin).await), labelled(&admin));
    assert_eq!(labelled(&insider_answers(Insider::FullAccessDelegate).await), labelled(&admin));

    // Narrowed to `read-only`: reads what read-only holds (not API keys: keys.manage),
    // changes nothing (R35); without checks.read the check endpoints answer 404 (R58).
    // Nora's status is no secret to one who may view her, so a second invitation is a
    // conflict before it is a refusal.
    #[rustfmt::skip]
    let expected_read_only = [
        200, 200, 404, 200, 200, 200, 200, 200, 200,
        403, 409, 403, 403, 403, 403, 404,
        403, 403, 403, 403, 403, 403, 403,
        404, 404, 404, 403,
        403, 403,
    ];
    assert_eq!(
        labelled(&insider_answers(Insider::ReadOnlyDelegate).await),
        labelled(&expected_read_only)
    );

    // A service account with `api`: checks, and the reads `api` holds (users.view,
    // tenants.view; not activity.view); never a write, nor a preview of one (R67 previews
    // what the caller itself could do).
    #[rustfmt::skip]
    let expected_robot = [
        200, 200, 404, 200, 200, 200, 200, 404, 404,
        403, 409, 403, 403, 403, 403, 404,
        403, 403, 403, 403, 403, 403, 403,
        200, 200, 200, 403,
        403, 403,
    ];
    assert_eq!(
        labelled(&insider_answers(Insider::ServiceAccount).await),
        labelled(&expected_robot)
    );

    // A customer manager switched into a client with an `admin` ceiling acts as an admin
    // there (R45), except that partner access never touches the client's grants (R43).
    // Acme's admin is its only one, so deactivating or cancelling her, and a preview of
    // that, are conflicts (R5).
    let mut expected_partner = expected_admin;
    expected_partner[19] = 403;
    expected_partner[26..].copy_from_slice(&[409, 409, 409]);
    assert_eq!(
        labelled(&insider_answers(Insider::SwitchedCustomerManager).await),
        labelled(&expected_partner)
    );
}

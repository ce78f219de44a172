//! Scenarios of SPEC §11 through the API only, on a fresh deployment: nothing is set up
//! behind the API's back except the first admin's password. The files of
//! `deputy-scenarios` run by its driver through [`api::Api`], a runner that signs in as
//! each actor; what only the API can say stays here in Rust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "scenarios/api.rs"]
mod api;

use deputy_http::{AppState, HttpConfig};
use deputy_service::Deputy;
use deputy_service::auth::{Auth, AuthSettings};
use deputy_service::passwords::HashCost;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery staple";

struct Server {
    base: String,
    app: AppState,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A new deployment: the root tenant and its first admin `operator`.
async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deputy.db");
    let app = tokio::task::spawn_blocking(move || {
        let d = Deputy::open(deputy_backends::open_file(path).unwrap()).unwrap();
        d.initialise(None, "root", "Operator").unwrap();
        let settings = AuthSettings {
            hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
            public_origin: "https://portal.example".into(),
            ..AuthSettings::default()
        };
        let auth = Auth::new(Arc::new(d), settings).unwrap();
        auth.maintain_signing_keys().unwrap();
        let (admin, _) = auth.bootstrap_admin("operator", "operator@example.com").unwrap();
        auth.set_password(admin, PASSWORD, false).unwrap();
        AppState::new(
            auth,
            HttpConfig {
                public_origin: "http://127.0.0.1".into(),
                trusted_proxies: vec![],
                metrics: Default::default(),
            },
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
    Server { base, app, http: reqwest::Client::new(), _dir: dir, _stop: stop }
}

impl Server {
    async fn call(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let r = request.send().await.unwrap();
        let status = r.status();
        let consistency =
            r.headers().get("consistency-token").map(|v| v.to_str().unwrap().to_owned());
        (status, r.json().await.unwrap_or(Value::Null), consistency)
    }
}

#[test]
fn s2_data_platform_contact_person_customer_manager_entitlements() {
    api::run_file(&deputy_scenarios::S2);
}

#[test]
fn s3_backup_portal_ranked_admins() {
    let api = api::run_file(&deputy_scenarios::S3);
    // R14: the sub-account's first user signs in with its generated password and must
    // change it before anything else.
    let (status, session, _) = api.call(
        Method::POST,
        None,
        "/v1/auth/sign-in",
        json!({"logon": "globex-eu-admin", "password": api.password("globex-eu-admin")}),
    );
    assert_eq!((status, session["must_change_password"].as_bool()), (StatusCode::OK, Some(true)));
    // R48, R59: the file's last step left the senior IT manager impersonating the agent;
    // the session names whom (the banner's subject), and stopping ends it.
    let acting = api.session("sitm");
    let (_, me, _) = api.call(Method::GET, Some(&acting), "/v1/me", json!({}));
    assert_eq!(me["impersonating"]["logon"], "globex-cs", "the banner's subject: {me}");
    let (status, stopped, _) =
        api.call(Method::POST, Some(&acting), "/v1/session/stop-impersonating", json!({}));
    assert!(status.is_success(), "{stopped}");
    let (_, me, _) = api.call(Method::GET, stopped["token"].as_str(), "/v1/me", json!({}));
    assert!(me.get("impersonating").is_none());
    // R49: both ends are in the activity log.
    let operator = api.session("operator");
    let (_, log, _) = api.call(
        Method::GET,
        Some(&operator),
        "/v1/activity?principal=sitm&action=impersonation.&limit=100",
        json!({}),
    );
    let actions: Vec<&str> =
        log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"impersonation.started") && actions.contains(&"impersonation.stopped"),
        "{log}"
    );
}

#[test]
fn s4_legal_tech_partner_access_and_revocation_token() {
    api::run_file(&deputy_scenarios::S4);
}

/// R67 on S4's world: narrowing the ceiling is previewed first, and nothing is committed.
#[test]
fn s4_r67_what_if_previews_a_narrowed_ceiling() {
    use deputy_scenarios::driver::{Outcome, Runner};
    use deputy_scenarios::model::{Action, PartnerRoleDef, Session};
    let scenario = deputy_scenarios::S4.parse().unwrap();
    let mut api = api::Api::new();
    deputy_scenarios::driver::load(&mut api, &scenario).unwrap();
    let viewer = Action::GivePartnerRole(PartnerRoleDef {
        principal: "ann".into(),
        role: "viewer".into(),
        client: "law-firm".into(),
        by: "provider-admin".into(),
        replaces: None,
    });
    let given = api.write(Some("provider-admin"), &Session::HOME, &viewer).unwrap();
    assert!(matches!(given, Outcome::Done { .. }), "{given:?}");
    let firm_admin = api.session("firm-admin");
    let (_, grants, _) =
        api.call(Method::GET, Some(&firm_admin), "/v1/tenants/law-firm/grants", json!({}));
    let grant = grants["items"][0]["id"].as_str().unwrap().to_owned();
    let view = json!({"principal": "ann", "permission": "matters.view", "target": "resource:matter-1042", "switched_into": "law-firm", "consistency_token": api.last_token()});
    let allowed = |api: &api::Api| {
        let (status, answer, _) =
            api.call(Method::POST, Some(&firm_admin), "/v1/check", view.clone());
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["allowed"] == true
    };
    assert!(allowed(&api));
    let (status, preview, _) = api.call(
        Method::POST,
        Some(&firm_admin),
        "/v1/what-if",
        json!({"change": {"action": "change_grant", "grant": grant, "ceiling": ["tax-preparer"]}}),
    );
    assert!(status.is_success(), "{preview}");
    let rows = preview["rows"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["principal"]["logon"] == "ann"
            && r["permission"] == "matters.view"
            && r["change"] == "loses"),
        "{preview}"
    );
    assert!(allowed(&api), "nothing committed");
}

#[test]
fn s1_tax_portal_secondary_logon() {
    api::run_file(&deputy_scenarios::S1);
}

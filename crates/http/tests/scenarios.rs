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
use deputy_store::secrets::SecretStore;
use reqwest::StatusCode;
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

    /// A write that must succeed; returns its body and consistency token.
    async fn ok(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Value,
    ) -> (Value, Option<String>) {
        let (status, value, consistency) = self.call(method, Some(token), path, body).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        (value, consistency)
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Value {
        self.ok(reqwest::Method::POST, token, path, body).await.0
    }

    async fn sign_in(&self, logon: &str, password: &str) -> String {
        let (status, body, _) = self
            .call(
                reqwest::Method::POST,
                None,
                "/v1/auth/sign-in",
                json!({"logon": logon, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{logon}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Adds a user by invitation and uses the mailed link, as the person would: the
    /// account is active with a verified e-mail. Returns a session of the new user.
    async fn invite_and_join(&self, admin: &str, tenant: &str, logon: &str, email: &str) -> String {
        let path = format!("/v1/tenants/{tenant}/users");
        self.post(
            admin,
            &path,
            json!({"logon": logon, "first_name": logon, "last_name": "Example", "email": email}),
        )
        .await;
        let mail = self.app.deputy().store().outbox(0, 10_000).unwrap();
        let link = mail
            .iter()
            .rev()
            .find(|m| m.recipient == email)
            .and_then(|m| m.body.lines().find(|l| l.contains("/invitation/")).map(str::to_owned))
            .unwrap();
        let token = link.rsplit('/').next().unwrap();
        let (status, body, _) = self
            .call(
                reqwest::Method::POST,
                None,
                "/v1/auth/invitations/accept",
                json!({"token": token, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn check(&self, token: &str, body: Value) -> Value {
        let (status, answer, _) =
            self.call(reqwest::Method::POST, Some(token), "/v1/check", body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_r67_legal_tech_partner_access_through_the_api_only() {
    use reqwest::Method;
    let s = start().await;
    let operator = s.sign_in("operator", PASSWORD).await;
    // The operator sets up a law firm and a legal-services provider (a partner).
    s.post(
        &operator,
        "/v1/tenants/root/children",
        json!({"key": "law-firm", "name": "Smith & Partners LLP"}),
    )
    .await;
    s.post(
        &operator,
        "/v1/tenants/root/children",
        json!({"key": "legal-services", "name": "Legal Services Inc"}),
    )
    .await;
    s.ok(Method::PUT, &operator, "/v1/tenants/legal-services/partner", json!({"value": true}))
        .await;
    let firm_admin =
        s.invite_and_join(&operator, "law-firm", "firm-admin", "fiona@firm.example").await;
    let provider_admin = s
        .invite_and_join(&operator, "legal-services", "provider-admin", "paul@legal.example")
        .await;
    let _ann = s.invite_and_join(&provider_admin, "legal-services", "ann", "ann@example.com").await;
    // Ann once had a direct account in the firm, with the same verified e-mail.
    let _ann_old = s.invite_and_join(&firm_admin, "law-firm", "ann.lee", "ann@example.com").await;
    s.post(
        &firm_admin,
        "/v1/tenants/law-firm/resources",
        json!({"key": "matter-1042", "name": "Matter 1042", "type": "matter"}),
    )
    .await;
    // The firm grants the provider the ceiling {paralegal, viewer}.
    let grant = s
        .post(
            &firm_admin,
            "/v1/tenants/law-firm/grants",
            json!({"partner": "legal-services", "ceiling": ["paralegal", "viewer"]}),
        )
        .await;
    let grant = grant["id"].as_str().unwrap().to_owned();
    // The provider's admin gives Ann only `viewer` in the firm: her old account is replaced.
    let given = s
        .post(
            &provider_admin,
            "/v1/principals/ann/partner-roles",
            json!({"role": "viewer", "client": "law-firm"}),
        )
        .await;
    assert_eq!(given["replaced"].as_array().unwrap().len(), 1, "{given}");
    let (_, old) = {
        let (status, v, _) =
            s.call(Method::GET, Some(&firm_admin), "/v1/principals/ann.lee", json!({})).await;
        (status, v)
    };
    assert_eq!(old["status"], "deactivated");
    // Ann switches tenant; she can view the matter but not edit it.
    let ann = s.sign_in("ann", PASSWORD).await;
    let switched = s.post(&ann, "/v1/session/switch", json!({"tenant": "law-firm"})).await;
    assert!(switched["token"].is_string());
    let view = json!({"principal": "ann", "permission": "matters.view", "target": "resource:matter-1042", "switched_into": "law-firm"});
    let edit = json!({"principal": "ann", "permission": "matters.edit", "target": "resource:matter-1042", "switched_into": "law-firm"});
    assert_eq!(s.check(&firm_admin, view.clone()).await["allowed"], true);
    assert_eq!(s.check(&firm_admin, edit).await["allowed"], false);
    // R67: narrowing the ceiling is previewed first: Ann's viewer role falls outside it.
    let preview = s
        .post(
            &firm_admin,
            "/v1/what-if",
            json!({"change": {"action": "change_grant", "grant": grant, "ceiling": ["tax-preparer"]}}),
        )
        .await;
    let rows = preview["rows"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["principal"]["logon"] == "ann"
            && r["permission"] == "matters.view"
            && r["change"] == "loses"),
        "{preview}"
    );
    assert_eq!(s.check(&firm_admin, view.clone()).await["allowed"], true, "nothing committed");
    // The firm revokes the grant: Ann's next check with the revocation's token is denied.
    let (_, token) =
        s.ok(Method::POST, &firm_admin, &format!("/v1/grants/{grant}/revoke"), json!({})).await;
    let mut after = view;
    after["consistency_token"] = json!(token.unwrap());
    let answer = s.check(&firm_admin, after).await;
    assert_eq!(answer["allowed"], false, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_data_platform_through_the_api_only() {
    use reqwest::Method;
    let s = start().await;
    let operator = s.sign_in("operator", PASSWORD).await;
    s.post(&operator, "/v1/tenants/root/children", json!({"key": "acme", "name": "Acme Corp"}))
        .await;
    s.post(&operator, "/v1/tenants/root/children", json!({"key": "dataco", "name": "DataCo"}))
        .await;
    s.ok(Method::PUT, &operator, "/v1/tenants/dataco/partner", json!({"value": true})).await;
    // The first user of Acme becomes its contact person and admin (R4).
    let acme_admin = s.invite_and_join(&operator, "acme", "acme-admin", "alice@acme.example").await;
    let (_, me, _) = s.call(Method::GET, Some(&acme_admin), "/v1/me", json!({})).await;
    assert_eq!((me["contact"].as_bool(), me["admin"].as_bool()), (Some(true), Some(true)), "{me}");
    // Bob is added without an invitation (pending), and invited later.
    let bob = s
        .post(&acme_admin, "/v1/tenants/acme/users", json!({"logon": "bob", "first_name": "Bob", "last_name": "B", "email": "bob@acme.example", "send_invitation": false}))
        .await;
    assert_eq!(bob["status"], "pending");
    s.post(&acme_admin, "/v1/principals/bob/invitation", json!({})).await;
    let (_, bob, _) = s.call(Method::GET, Some(&acme_admin), "/v1/principals/bob", json!({})).await;
    assert_eq!(bob["status"], "invited");
    // The admin cannot remove its own admin role (R6).
    let own = me["assignments"].as_array().unwrap().iter().find(|a| a["role"] == "admin").unwrap()
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, refused, _) = s
        .call(
            Method::DELETE,
            Some(&acme_admin),
            &format!("/v1/principals/acme-admin/assignments/{own}"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, refused["rule"].as_str()),
        (StatusCode::FORBIDDEN, Some("R6")),
        "{refused}"
    );
    // DataCo's customer manager, switched into Acme, adds a user there, not in DataCo.
    let dataco_admin =
        s.invite_and_join(&operator, "dataco", "dataco-admin", "dana@dataco.example").await;
    let _carla = s.invite_and_join(&dataco_admin, "dataco", "carla", "carla@dataco.example").await;
    s.post(
        &acme_admin,
        "/v1/tenants/acme/grants",
        json!({"partner": "dataco", "ceiling": ["admin"]}),
    )
    .await;
    s.post(
        &dataco_admin,
        "/v1/principals/carla/assignments",
        json!({"role": "customer-manager", "tenant": "dataco"}),
    )
    .await;
    let carla = s.sign_in("carla", PASSWORD).await;
    let switched = s.post(&carla, "/v1/session/switch", json!({"tenant": "acme"})).await;
    let carla_in_acme = switched["token"].as_str().unwrap().to_owned();
    s.post(&carla_in_acme, "/v1/tenants/acme/users", json!({"logon": "via-partner", "first_name": "V", "last_name": "P", "email": "v@acme.example", "send_invitation": false}))
        .await;
    let home = s.post(&carla_in_acme, "/v1/session/switch", json!({"tenant": "dataco"})).await;
    let (status, _, _) = s
        .call(Method::POST, home["token"].as_str(), "/v1/tenants/dataco/users", json!({"logon": "nope", "first_name": "N", "last_name": "O", "email": "n@dataco.example", "send_invitation": false}))
        .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "customer-manager gives nothing at home: {status}"
    );
    // A permission that requires another cannot be given alone (R26).
    let (status, body, _) = s
        .call(
            Method::POST,
            Some(&acme_admin),
            "/v1/principals/via-partner/assignments",
            json!({"permission": "returns.file", "tenant": "acme"}),
        )
        .await;
    assert!(
        status.is_client_error() && body["detail"].as_str().unwrap().contains("returns.view"),
        "{status} {body}"
    );
    // The operator switches a company-level permission off: the user-level one is inert;
    // switching it on revives it (R3).
    let reports =
        json!({"principal": "acme-admin", "permission": "reports.view", "target": "acme"});
    assert_eq!(s.check(&operator, reports.clone()).await["allowed"], true);
    let (_, acme, _) = s.call(Method::GET, Some(&operator), "/v1/tenants/acme", json!({})).await;
    let all: Vec<String> = acme["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    let without: Vec<&String> = all.iter().filter(|p| *p != "reports.view").collect();
    s.ok(Method::PUT, &operator, "/v1/tenants/acme/entitlements", json!({"permissions": without}))
        .await;
    assert_eq!(s.check(&operator, reports.clone()).await["failed_step"], "entitlement");
    s.ok(Method::PUT, &operator, "/v1/tenants/acme/entitlements", json!({"permissions": all}))
        .await;
    assert_eq!(s.check(&operator, reports).await["allowed"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_backup_portal_ranks_wizard_and_impersonation_through_the_api_only() {
    use reqwest::Method;
    let s = start().await;
    let operator = s.sign_in("operator", PASSWORD).await;
    s.post(&operator, "/v1/tenants/root/children", json!({"key": "backupco", "name": "BackupCo"}))
        .await;
    s.ok(Method::PUT, &operator, "/v1/tenants/backupco/partner", json!({"value": true})).await;
    s.post(
        &operator,
        "/v1/tenants/root/children",
        json!({"key": "customer-parent", "name": "Customer Holdings"}),
    )
    .await;
    let backup_admin =
        s.invite_and_join(&operator, "backupco", "backup-admin", "admin@backup.example").await;
    let _sitm = s.invite_and_join(&backup_admin, "backupco", "sitm", "sitm@backup.example").await;
    let _sm = s.invite_and_join(&backup_admin, "backupco", "senior", "senior@backup.example").await;
    s.post(
        &backup_admin,
        "/v1/principals/sitm/assignments",
        json!({"role": "senior-it-manager", "tenant": "backupco"}),
    )
    .await;
    s.post(
        &backup_admin,
        "/v1/principals/senior/assignments",
        json!({"role": "senior-manager", "tenant": "backupco"}),
    )
    .await;
    let customer_admin = s
        .invite_and_join(&operator, "customer-parent", "customer-admin", "admin@customer.example")
        .await;
    let _cs = s
        .invite_and_join(&customer_admin, "customer-parent", "agent", "agent@customer.example")
        .await;
    s.post(
        &customer_admin,
        "/v1/principals/agent/assignments",
        json!({"role": "customer-service", "tenant": "customer-parent"}),
    )
    .await;
    s.post(
        &customer_admin,
        "/v1/tenants/customer-parent/grants",
        json!({"partner": "backupco", "ceiling": ["senior-it-manager"], "subtree": true}),
    )
    .await;
    s.post(
        &backup_admin,
        "/v1/principals/sitm/partner-roles",
        json!({"role": "senior-it-manager", "client": "customer-parent"}),
    )
    .await;
    // The senior IT manager switches into the customer and creates a sub-account with the wizard …
    let sitm = s.sign_in("sitm", PASSWORD).await;
    let switched = s.post(&sitm, "/v1/session/switch", json!({"tenant": "customer-parent"})).await;
    let sitm_in_customer = switched["token"].as_str().unwrap().to_owned();
    s.post(
        &sitm_in_customer,
        "/v1/tenants/customer-parent/sub-accounts",
        json!({"key": "customer-east", "name": "Customer East"}),
    )
    .await;
    let switched =
        s.post(&sitm_in_customer, "/v1/session/switch", json!({"tenant": "customer-east"})).await;
    let sitm_in_east = switched["token"].as_str().unwrap().to_owned();
    // … and its first user, with a generated password that must be changed.
    let first = s
        .post(&sitm_in_east, "/v1/tenants/customer-east/users", json!({"logon": "east-admin", "first_name": "E", "last_name": "A", "email": "east@customer.example", "password": {"generate": true}}))
        .await;
    let generated = first["generated_password"].as_str().unwrap().to_owned();
    assert_eq!(first["status"], "active");
    let (status, session, _) = s
        .call(
            Method::POST,
            None,
            "/v1/auth/sign-in",
            json!({"logon": "east-admin", "password": generated}),
        )
        .await;
    assert_eq!((status, session["must_change_password"].as_bool()), (StatusCode::OK, Some(true)));
    // A role up to its own rank, yes; senior-manager (above it), no (R27).
    s.post(
        &sitm_in_east,
        "/v1/principals/east-admin/assignments",
        json!({"role": "customer-service", "tenant": "customer-east"}),
    )
    .await;
    let (status, body, _) = s
        .call(
            Method::POST,
            Some(&sitm_in_east),
            "/v1/principals/east-admin/assignments",
            json!({"role": "senior-manager", "tenant": "customer-east"}),
        )
        .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status} {body}"
    );
    // At home it cannot modify the senior manager, who outranks it (R28).
    let home = s.post(&sitm_in_east, "/v1/session/switch", json!({"tenant": "backupco"})).await;
    let sitm_home = home["token"].as_str().unwrap().to_owned();
    let (status, body, _) = s
        .call(
            Method::PATCH,
            Some(&sitm_home),
            "/v1/principals/senior",
            json!({"first_name": "Changed"}),
        )
        .await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND, "{status} {body}");
    // Switched into the customer it impersonates the customer-service agent, with a reason.
    let back = s.post(&sitm_home, "/v1/session/switch", json!({"tenant": "customer-parent"})).await;
    let in_customer = back["token"].as_str().unwrap().to_owned();
    let acting = s
        .post(
            &in_customer,
            "/v1/session/impersonate",
            json!({"target": "agent", "reason": "ticket 9000"}),
        )
        .await;
    let acting = acting["token"].as_str().unwrap().to_owned();
    let (_, me, _) = s.call(Method::GET, Some(&acting), "/v1/me", json!({})).await;
    assert_eq!(me["impersonating"]["logon"], "agent", "the banner's subject");
    let stopped = s.post(&acting, "/v1/session/stop-impersonating", json!({})).await;
    let (_, me, _) = s.call(Method::GET, stopped["token"].as_str(), "/v1/me", json!({})).await;
    assert!(me.get("impersonating").is_none());
    let (_, log, _) = s
        .call(
            Method::GET,
            Some(&operator),
            "/v1/activity?principal=sitm&action=impersonation.&limit=100",
            json!({}),
        )
        .await;
    let actions: Vec<&str> =
        log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(
        actions.contains(&"impersonation.started") && actions.contains(&"impersonation.stopped"),
        "{log}"
    );
}

#[test]
fn s1_tax_portal_secondary_logon() {
    api::run_file(&deputy_scenarios::S1);
}

//! A server on a free loopback port over a fresh SQLite file holding the demo deployment
//! (S1–S4's people), and a client with a few helpers.

use deputy_core::PrincipalId;
use deputy_http::{AppState, HttpConfig};
use deputy_service::auth::{Auth, AuthSettings};
use deputy_service::passwords::HashCost;
use deputy_service::{Deputy, demo};
pub use reqwest::StatusCode;
pub use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub const PASSWORD: &str = "correct horse battery staple";
/// Cheap enough that tests hash often, still Argon2id.
pub const CHEAP: HashCost = HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 };

#[allow(dead_code)]
pub struct Server {
    pub base: String,
    pub app: AppState,
    pub demo: demo::Demo,
    pub clock: Arc<AtomicI64>,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The settings every test starts from; `start_with` lets a test change them.
pub fn settings() -> (AuthSettings, HttpConfig) {
    (
        AuthSettings {
            hash_cost: CHEAP,
            public_origin: "http://127.0.0.1".into(),
            ..AuthSettings::default()
        },
        HttpConfig {
            public_origin: "http://127.0.0.1".into(),
            trusted_proxies: vec![],
            metrics: Default::default(),
        },
    )
}

pub async fn start() -> Server {
    start_with(|_, _| {}).await
}

pub async fn start_with(tune: impl FnOnce(&mut AuthSettings, &mut HttpConfig)) -> Server {
    let (mut auth_settings, mut config) = settings();
    tune(&mut auth_settings, &mut config);
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
        let auth = Auth::new(Arc::new(d), auth_settings).unwrap();
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
    Server { base, app, demo, clock, http: reqwest::Client::new(), dir, _stop: stop }
}

#[allow(dead_code)]
impl Server {
    pub fn logon(&self, p: PrincipalId) -> String {
        self.app.deputy().snapshot().principal(p).unwrap().logon.to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs in with the shared test password; the session token.
    pub async fn sign_in(&self, p: PrincipalId) -> String {
        let (status, body) = self.try_sign_in(&self.logon(p), PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn try_sign_in(&self, logon: &str, password: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url("/v1/auth/sign-in"))
            .json(&json!({"logon": logon, "password": password}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.http.post(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// The principal's status as the engine holds it now.
    pub fn status(&self, p: PrincipalId) -> deputy_core::Status {
        self.app.deputy().snapshot().principal(p).unwrap().status
    }
}

#[allow(dead_code)]
impl Server {
    /// Runs blocking work (the store, hashing) off the test's async workers.
    pub async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AppState) -> T + Send + 'static,
    ) -> T {
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || work(&app)).await.unwrap()
    }

    /// Every mail in the outbox, oldest first: (recipient, body).
    pub async fn mails(&self) -> Vec<(String, String)> {
        use deputy_store::secrets::SecretStore;
        self.blocking(|app| {
            app.deputy()
                .store()
                .outbox(0, 10_000)
                .unwrap()
                .into_iter()
                .map(|m| (m.recipient, m.body))
                .collect()
        })
        .await
    }

    /// The token of the newest mailed link whose path starts `/{kind}/` (`invitation`,
    /// `reset`).
    pub async fn last_link(&self, kind: &str) -> String {
        let marker = format!("/{kind}/");
        self.mails()
            .await
            .iter()
            .rev()
            .find_map(|(_, body)| {
                let start = body.find(&marker)? + marker.len();
                Some(body[start..].split_whitespace().next()?.to_owned())
            })
            .unwrap_or_else(|| panic!("no {kind} link was mailed"))
    }

    /// The actions of the activity log's entries with an action starting `prefix`.
    pub async fn actions(&self, prefix: &str) -> Vec<String> {
        use deputy_store::Store;
        let query = deputy_store::ActivityQuery {
            limit: 100_000,
            action_prefix: Some(prefix.to_owned()),
            ..Default::default()
        };
        self.blocking(move |app| {
            app.deputy()
                .store()
                .activity(&query)
                .unwrap()
                .into_iter()
                .map(|e| e.entry.action)
                .collect()
        })
        .await
    }

    pub fn revision(&self) -> u64 {
        self.app.deputy().snapshot().revision
    }
}

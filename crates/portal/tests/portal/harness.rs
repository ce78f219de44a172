//! A server with the demo's people, and a headless browser pointed at it.

use deputy_http::{AppState, HttpConfig};
use deputy_service::auth::{Auth, AuthSettings};
use deputy_service::passwords::HashCost;
use deputy_service::{Deputy, demo};
use fantoccini::{Client, ClientBuilder, Locator};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Server {
    pub base: String,
    pub app: AppState,
    pub demo: demo::Demo,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The demo deployment (S1–S4) behind the API and the portal, as `deputy serve` wires it.
pub async fn server() -> Server {
    server_at("http://127.0.0.1").await
}

/// [`server`] with another public origin (`https://…` switches the cookies to `__Host-`).
pub async fn server_at(public_origin: &str) -> Server {
    let public_origin = public_origin.to_owned();
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
            demo.bakery_admin,
            demo.firm_admin,
            demo.ann,
            demo.provider_admin,
            demo.dataco_cm,
            demo.acme_first,
            demo.sitm,
            demo.customer_service,
        ] {
            auth.set_password(p, PASSWORD, false).unwrap();
        }
        let config =
            HttpConfig { public_origin, trusted_proxies: vec![], metrics: Default::default() };
        (AppState::new(auth, config), demo)
    })
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = deputy_portal::with_api(app.clone());
    tokio::spawn(async move {
        deputy_http::serve_router(listener, router, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Server { base, app, demo, _dir: dir, _stop: stop }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A headless Chromium session; the driver process ends with it.
pub struct Browser {
    pub client: Client,
    pub base: String,
    driver: Child,
}

impl Drop for Browser {
    /// Ends chromedriver and the browser it started: they share a process group of their
    /// own, so one signal reaches every Chromium process (killing the driver alone left
    /// the browsers running).
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

/// Starts a browser, or `None` (with a note) where none is installed and none is required.
pub async fn browser(server: &Server) -> Option<Browser> {
    let required = std::env::var("DEPUTY_BROWSER_TESTS").is_ok_and(|v| v == "required");
    let (Some(driver), Some(chromium)) = (on_path("chromedriver"), on_path("chromium")) else {
        assert!(!required, "DEPUTY_BROWSER_TESTS=required, but chromium/chromedriver are missing");
        eprintln!("browser test skipped: install chromium and chromium-driver to run it");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(driver)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"],
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..100 {
        // chromedriver listens on loopback and speaks plain HTTP: no TLS connector.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            Ok(client) => {
                return Some(Browser { client, base: server.base.clone(), driver: child });
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer: {last:?}");
}

impl Browser {
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    pub async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap().text().await.unwrap()
    }

    pub async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks something that does not leave the page (a checkbox, a radio button).
    pub async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
    }

    /// Clicks a button or link matched by `css` and waits for the next page.
    pub async fn submit(&self, css: &str) {
        let target = self.client.find(Locator::Css(css)).await.unwrap();
        self.click_and_wait(target).await;
    }

    /// Clicks the link or button whose text is exactly `text` and waits for the next page.
    pub async fn click_text(&self, text: &str) {
        let xpath =
            format!("//a[normalize-space()='{text}'] | //button[normalize-space()='{text}']");
        let target = self.client.find(Locator::XPath(&xpath)).await.unwrap();
        self.click_and_wait(target).await;
    }

    /// A click returns before the browser leaves the page: wait until the old page's root
    /// element is gone (every button and link of the portal loads a new page).
    async fn click_and_wait(&self, target: fantoccini::elements::Element) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        target.click().await.unwrap();
        for _ in 0..500 {
            if old.tag_name().await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the click did not lead to a new page");
    }

    pub async fn sign_in(&self, logon: &str) {
        self.goto("/sign-in").await;
        self.fill("#logon", logon).await;
        self.fill("#password", PASSWORD).await;
        self.click_text("Sign in").await;
        assert_ne!(self.path().await, "/sign-in", "{logon} could not sign in");
    }

    pub async fn sign_out(&self) {
        self.click_text("Sign out").await;
        assert_eq!(self.path().await, "/sign-in");
    }

    /// Saves the page as it looks now, for a reviewer.
    pub async fn shot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/portal-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

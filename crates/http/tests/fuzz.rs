//! A bounded fuzz run of the API's request parsers (R55, R57, R58) and the logon-name rules
//! (R10): random requests through the router in process (no sockets) over its real routes,
//! and random names through `validate_logon` and `collision_key`.
//!
//! The case counts are fixed so that CI runs this with the rest of `cargo test`; set
//! `PROPTEST_CASES` to fuzz longer by hand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use deputy_core::PrincipalId;
use deputy_core::names::{MAX_LOGON_CHARS, collision_key, fold, validate_logon};
use deputy_http::{AppState, HttpConfig};
use deputy_service::auth::{Auth, AuthSettings};
use deputy_service::passwords::HashCost;
use deputy_service::{Deputy, demo};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tower::ServiceExt;
use unicode_normalization::UnicodeNormalization;
use unicode_security::GeneralSecurityProfile;

/// Fuzzed requests per run: about 20 s of a debug build on two cores.
const REQUEST_CASES: u32 = 10_000;
/// Fuzzed logon names per run (they cost microseconds).
const NAME_CASES: u32 = 20_000;

const PASSWORD: &str = "correct horse battery staple";
/// Cheap enough to hash on every sign-in, still Argon2id.
const CHEAP: HashCost = HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 };
/// Our own sign-ins come from here; fuzzed requests never do, so their failures never
/// slow down or lock the address we sign in from (R16).
const OWN_ADDRESS: [u8; 4] = [127, 0, 0, 1];

// ---------------------------------------------------------------------------------------
// The routes, as `routes()` in crates/http/src/routes.rs declares them, with their bodies.

/// What a body field holds when it is well formed.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Flag,
    Number,
    Texts,
    /// A free JSON object (custom attributes).
    Object,
    /// A `what-if` change: `{"action": …, …}`.
    Change,
    /// A password choice: `{"generate": bool, "value": text}`.
    PasswordChoice,
    /// A list of check items.
    Checks,
}

use Kind::{Change, Checks, Flag, Number, Object, PasswordChoice, Text, Texts};

#[derive(Debug)]
struct Route {
    method: &'static str,
    template: &'static str,
    fields: &'static [(&'static str, Kind)],
}

const fn route(
    method: &'static str,
    template: &'static str,
    fields: &'static [(&'static str, Kind)],
) -> Route {
    Route { method, template, fields }
}

const CHECK: &[(&str, Kind)] = &[
    ("principal", Text),
    ("permission", Text),
    ("target", Text),
    ("switched_into", Text),
    ("impersonator", Text),
    ("consistency_token", Text),
];
const NEW_TENANT: &[(&str, Kind)] =
    &[("key", Text), ("name", Text), ("description", Text), ("internal_description", Text)];
const GRANT: &[(&str, Kind)] = &[
    ("partner", Text),
    ("ceiling", Texts),
    ("kinds", Texts),
    ("subtree", Flag),
    ("expires_at", Number),
    ("auto_extend", Flag),
];
const FLAG: &[(&str, Kind)] = &[("value", Flag)];
const TOKEN_AND_PASSWORD: &[(&str, Kind)] = &[("token", Text), ("password", Text)];

const ROUTES: &[Route] = &[
    route("GET", "/healthz", &[]),
    route("GET", "/readyz", &[]),
    route("GET", "/metrics", &[]),
    route("GET", "/v1/openapi.json", &[]),
    route("POST", "/v1/auth/sign-in", &[("logon", Text), ("password", Text)]),
    route("POST", "/v1/auth/sign-out", &[]),
    route("POST", "/v1/auth/password", &[("current_password", Text), ("new_password", Text)]),
    route("POST", "/v1/auth/invitations/accept", TOKEN_AND_PASSWORD),
    route("POST", "/v1/auth/forgot-password", &[("logon_or_email", Text)]),
    route("POST", "/v1/auth/token", &[]),
    route("GET", "/.well-known/jwks.json", &[]),
    route("POST", "/v1/auth/reset", TOKEN_AND_PASSWORD),
    route("GET", "/v1/me", &[]),
    route("POST", "/v1/check", CHECK),
    route("POST", "/v1/check/batch", &[("checks", Checks), ("consistency_token", Text)]),
    route("POST", "/v1/explain", CHECK),
    route("POST", "/v1/session/switch", &[("tenant", Text)]),
    route(
        "POST",
        "/v1/session/impersonate",
        &[("target", Text), ("reason", Text), ("minutes", Number), ("notify_target", Flag)],
    ),
    route("POST", "/v1/session/stop-impersonating", &[]),
    route("GET", "/v1/principals/{id}", &[]),
    route(
        "PATCH",
        "/v1/principals/{id}",
        &[
            ("first_name", Text),
            ("last_name", Text),
            ("email", Text),
            ("phone", Text),
            ("description", Text),
            ("internal_description", Text),
            ("attributes", Object),
        ],
    ),
    route("POST", "/v1/tenants/{id}/access-codes", &[("roles", Texts), ("days", Number)]),
    route("POST", "/v1/access-codes/redeem", &[("code", Text)]),
    route(
        "POST",
        "/v1/lookup/resources",
        &[
            ("principal", Text),
            ("permission", Text),
            ("type", Text),
            ("switched_into", Text),
            ("cursor", Text),
            ("limit", Number),
            ("consistency_token", Text),
        ],
    ),
    route(
        "POST",
        "/v1/lookup/subjects",
        &[
            ("target", Text),
            ("permission", Text),
            ("cursor", Text),
            ("limit", Number),
            ("consistency_token", Text),
        ],
    ),
    route("POST", "/v1/what-if", &[("change", Change), ("cursor", Text), ("limit", Number)]),
    route("GET", "/v1/tenants/{id}/review", &[]),
    route("GET", "/v1/principals/{id}/review", &[]),
    route("GET", "/v1/catalog", &[]),
    route("PUT", "/v1/catalog", &[("toml", Text)]),
    route("DELETE", "/v1/principals/{id}/api-keys/{key}", &[]),
    route("GET", "/v1/outbox", &[]),
    route("POST", "/v1/principals/{id}/status", &[("status", Text), ("reason", Text)]),
    route("POST", "/v1/principals/{id}/cancel", &[]),
    route("POST", "/v1/principals/{id}/password-reset", &[]),
    route("POST", "/v1/principals/{id}/unlock", &[]),
    route(
        "POST",
        "/v1/principals/{id}/assignments",
        &[
            ("role", Text),
            ("permission", Text),
            ("tenant", Text),
            ("subtree", Flag),
            ("resource", Text),
            ("client", Text),
            ("group", Text),
            ("expires_at", Number),
        ],
    ),
    route("DELETE", "/v1/principals/{id}/assignments/{assignment}", &[]),
    route("POST", "/v1/principals/{id}/invitation", &[]),
    route("POST", "/v1/principals/{id}/api-keys", &[("name", Text), ("expires_at", Number)]),
    route("GET", "/v1/principals/{id}/api-keys", &[]),
    route("GET", "/v1/tenants/{id}", &[]),
    route(
        "PATCH",
        "/v1/tenants/{id}",
        &[
            ("name", Text),
            ("description", Text),
            ("internal_description", Text),
            ("parent", Text),
            ("default_role", Text),
            ("delegates_allowed", Flag),
            ("nested_delegates_allowed", Flag),
            ("contact", Text),
        ],
    ),
    route("PUT", "/v1/grants/{id}", GRANT),
    route("DELETE", "/v1/groups/{id}", &[]),
    route("POST", "/v1/tenants/{id}/service-accounts", &[("name", Text), ("description", Text)]),
    route("GET", "/v1/principals/{id}/delegates", &[]),
    route(
        "POST",
        "/v1/principals/{id}/delegates",
        &[
            ("logon", Text),
            ("first_name", Text),
            ("last_name", Text),
            ("email", Text),
            ("groups", Texts),
            ("kinds", Texts),
            ("roles", Texts),
            ("linked_password", Flag),
        ],
    ),
    route(
        "POST",
        "/v1/tenants/{id}/users",
        &[
            ("logon", Text),
            ("first_name", Text),
            ("last_name", Text),
            ("email", Text),
            ("phone", Text),
            ("roles", Texts),
            ("send_invitation", Flag),
            ("password", PasswordChoice),
            ("must_change_password", Flag),
        ],
    ),
    route("GET", "/v1/tenants/{id}/principals", &[]),
    route("GET", "/v1/tenants/{id}/children", &[]),
    route("GET", "/v1/activity", &[]),
    route("POST", "/v1/tenants/{id}/children", NEW_TENANT),
    route("POST", "/v1/tenants/{id}/customers", NEW_TENANT),
    route("POST", "/v1/tenants/{id}/sub-accounts", NEW_TENANT),
    route("POST", "/v1/tenants/{id}/parent-account", NEW_TENANT),
    route("PUT", "/v1/tenants/{id}/entitlements", &[("permissions", Texts)]),
    route("PUT", "/v1/tenants/{id}/suspended", FLAG),
    route("PUT", "/v1/tenants/{id}/partner", FLAG),
    route("POST", "/v1/tenants/{id}/grants", GRANT),
    route("GET", "/v1/tenants/{id}/grants", &[]),
    route(
        "POST",
        "/v1/tenants/{id}/resources",
        &[("key", Text), ("name", Text), ("type", Text), ("kind", Text), ("parent", Text)],
    ),
    route("POST", "/v1/grants/{id}/approve", &[]),
    route("POST", "/v1/grants/{id}/revoke", &[]),
    route(
        "POST",
        "/v1/principals/{id}/partner-roles",
        &[("role", Text), ("client", Text), ("group", Text), ("expires_at", Number)],
    ),
    route(
        "PUT",
        "/v1/principals/{id}/delegate-access",
        &[("groups", Texts), ("kinds", Texts), ("roles", Texts)],
    ),
    route(
        "POST",
        "/v1/groups",
        &[("owner_principal", Text), ("owner_tenant", Text), ("name", Text)],
    ),
    route("PUT", "/v1/groups/{id}/tenants/{tenant}", &[]),
];

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

// ---------------------------------------------------------------------------------------
// The deployment under test.

/// The demo deployment in a fresh SQLite file, its router, and a session of the operator.
struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
    app: AppState,
    operator: PrincipalId,
    /// Real path segments: ids, logon names, tenant and resource keys.
    segments: Vec<String>,
    /// Real values for body fields: the segments, role and permission names, targets…
    words: Vec<String>,
    token: Mutex<String>,
    stats: Mutex<Stats>,
    _dir: tempfile::TempDir,
}

#[derive(Debug, Default)]
struct Stats {
    statuses: BTreeMap<u16, usize>,
    sign_ins: usize,
}

/// An answer, read whole.
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    retry_after: bool,
    body: Vec<u8>,
}

impl Harness {
    fn new() -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let deputy =
            Deputy::open(deputy_backends::open_file(dir.path().join("deputy.db")).unwrap())
                .unwrap();
        deputy.initialise(None, "root", "Tax Agency").unwrap();
        let demo = demo::build(&deputy).unwrap();
        let settings = AuthSettings {
            hash_cost: CHEAP,
            public_origin: "http://127.0.0.1".into(),
            ..AuthSettings::default()
        };
        let auth = Auth::new(Arc::new(deputy), settings).unwrap();
        auth.maintain_signing_keys().unwrap();
        auth.set_password(demo.operator, PASSWORD, false).unwrap();
        auth.set_password(demo.jane, PASSWORD, false).unwrap();
        let config = HttpConfig {
            public_origin: "http://127.0.0.1".into(),
            trusted_proxies: vec![],
            metrics: Default::default(),
        };
        let app = AppState::new(auth, config);
        let router = deputy_http::routes::router(app.clone());

        let s = app.deputy().snapshot();
        let principals = [
            demo.operator,
            demo.jane,
            demo.nh_second_admin,
            demo.jim,
            demo.bakery_admin,
            demo.florist_admin,
            demo.acme_first,
            demo.dataco_cm,
            demo.sitm,
            demo.senior_manager,
            demo.customer_admin,
            demo.customer_service,
            demo.firm_admin,
            demo.provider_admin,
            demo.ann,
            demo.ann_old,
        ];
        let tenants = [
            demo.root,
            demo.natural_health,
            demo.bakery,
            demo.florist,
            demo.dataco,
            demo.acme,
            demo.backupco,
            demo.customer_parent,
            demo.law_firm,
            demo.provider,
        ];
        let mut segments: Vec<String> = Vec::new();
        for p in principals {
            segments.push(p.to_string());
            segments.push(s.principal(p).unwrap().logon.to_string());
        }
        segments.extend(tenants.iter().map(ToString::to_string));
        segments.extend(
            [
                "root",
                "natural-health",
                "bakery",
                "florist",
                "dataco",
                "acme",
                "backupco",
                "globex",
                "law-firm",
                "legal-services",
                "bakery-withholding",
                "bakery-sales-use",
                "florist-withholding",
                "matter-1042",
                "0123456789abcdef",
            ]
            .map(String::from),
        );
        for id in
            [demo.bakery_withholding, demo.bakery_sales, demo.florist_withholding, demo.matter]
        {
            segments.push(id.to_string());
        }
        segments.push(demo.payroll_group.to_string());
        segments.push(demo.firm_grant.to_string());
        segments.extend((0..=4).map(|n| format!("g{n}")));
        segments.extend((0..=40).map(|n| format!("a{n}")));
        let mut words = segments.clone();
        words.extend(
            [
                "admin",
                "default-user",
                "tax-preparer",
                "customer-manager",
                "senior-it-manager",
                "customer-service",
                "power-user",
                "paralegal",
                "viewer",
                "users.modify",
                "users.create",
                "roles.assign",
                "returns.file",
                "checks.read",
                "tenants.manage",
                "tenant:bakery",
                "tenant:t1",
                "resource:matter-1042",
                "resource:",
                "tenant:",
                "Withholding",
                "Sales & Use",
                "tax-account",
                "matter",
                "active",
                "deactivated",
                "cancelled",
                "pending",
                "jane@example.com",
                "new.user@example.com",
                PASSWORD,
                "deactivate",
                "cancel",
                "unassign",
                "revoke_grant",
                "change_grant",
                "place_in_group",
                "json",
                "csv",
            ]
            .map(String::from),
        );
        let harness = Harness {
            runtime,
            router,
            app,
            operator: demo.operator,
            segments,
            words,
            token: Mutex::new(String::new()),
            stats: Mutex::new(Stats::default()),
            _dir: dir,
        };
        harness.sign_in();
        let me = Request::get("/v1/me")
            .header(header::AUTHORIZATION, format!("Bearer {}", harness.token.lock().unwrap()))
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            harness.send(me).unwrap().status,
            StatusCode::OK,
            "the operator's session works"
        );
        harness
    }

    /// Signs the operator in through the router; its session token is used from now on.
    fn sign_in(&self) {
        let logon =
            self.app.deputy().snapshot().principal(self.operator).unwrap().logon.to_string();
        let body = serde_json::json!({"logon": logon, "password": PASSWORD}).to_string();
        let try_once = || {
            let request = Request::post("/v1/auth/sign-in")
                .header(header::CONTENT_TYPE, "application/json")
                .extension(ConnectInfo(SocketAddr::from((OWN_ADDRESS, 40_000))))
                .body(Body::from(body.clone()))
                .unwrap();
            let answer = self.send(request).unwrap();
            (answer.status == StatusCode::OK).then(|| {
                let value: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                value["token"].as_str().unwrap().to_owned()
            })
        };
        // A fuzzed write may have changed the operator's password: set it back once.
        let token = try_once().or_else(|| {
            self.app.auth().set_password(self.operator, PASSWORD, false).unwrap();
            try_once()
        });
        if let Some(token) = token {
            *self.token.lock().unwrap() = token;
        }
        self.stats.lock().unwrap().sign_ins += 1;
    }

    /// Runs one request through the router in its own task; a panic of that task, or no
    /// answer within 20 s, is an error.
    fn send(&self, request: Request<Body>) -> Result<Answer, String> {
        let router = self.router.clone();
        self.runtime.block_on(async move {
            let task = tokio::spawn(async move {
                let response = router.oneshot(request).await.unwrap_or_else(|never| match never {});
                let (parts, body) = response.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await.map(|b| b.to_vec());
                (parts, body)
            });
            match tokio::time::timeout(Duration::from_secs(20), task).await {
                Err(_) => Err("no answer within 20 s".to_owned()),
                Ok(Err(join)) if join.is_panic() => Err(format!("the handler panicked: {join}")),
                Ok(Err(join)) => Err(format!("the handler task failed: {join}")),
                Ok(Ok((_, Err(e)))) => Err(format!("the body could not be read: {e}")),
                Ok(Ok((parts, Ok(body)))) => Ok(Answer {
                    status: parts.status,
                    content_type: parts
                        .headers
                        .get(header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                    retry_after: parts.headers.contains_key(header::RETRY_AFTER),
                    body,
                }),
            }
        })
    }
}

// ---------------------------------------------------------------------------------------
// A fuzzed request.

#[derive(Debug, Clone)]
enum Credential {
    None,
    /// `Authorization: Bearer <the operator's session token>`.
    Session,
    /// `authorization: bEaReR <token>`, with padding.
    SessionOddCase,
    /// Any other `Authorization` value.
    Other(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Cookie {
    None,
    /// `deputy=<the operator's session token>`, among other cookies.
    Session,
    Other(Vec<u8>),
}

#[derive(Clone)]
struct Fuzzed {
    method: String,
    /// Percent-encoded, ready for the request line.
    path: String,
    query: Option<String>,
    credential: Credential,
    cookie: Cookie,
    content_type: Option<Vec<u8>>,
    origin: Option<Vec<u8>>,
    fetch_site: Option<&'static str>,
    idempotency_key: Option<Vec<u8>>,
    body: Vec<u8>,
    /// The last two bytes of the client's address, 10.9.x.y.
    peer: (u8, u8),
}

/// Shown as the request would be sent, long values cut, the session token as `<token>`.
impl fmt::Debug for Fuzzed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = |bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes);
            if text.chars().count() > 300 {
                let head: String = text.chars().take(300).collect();
                format!("{head}… ({} bytes)", bytes.len())
            } else {
                text.into_owned()
            }
        };
        let query = self.query.as_ref().map(|q| format!("?{q}")).unwrap_or_default();
        writeln!(f, "{} {}{}", self.method, cut(self.path.as_bytes()), cut(query.as_bytes()))?;
        match &self.credential {
            Credential::None => {}
            Credential::Session => writeln!(f, "Authorization: Bearer <token>")?,
            Credential::SessionOddCase => writeln!(f, "authorization: bEaReR   <token> ")?,
            Credential::Other(v) => writeln!(f, "Authorization: {}", cut(v))?,
        }
        match &self.cookie {
            Cookie::None => {}
            Cookie::Session => writeln!(f, "Cookie: theme=dark; deputy=<token>")?,
            Cookie::Other(v) => writeln!(f, "Cookie: {}", cut(v))?,
        }
        for (name, value) in [
            ("Content-Type", &self.content_type),
            ("Origin", &self.origin),
            ("Idempotency-Key", &self.idempotency_key),
        ] {
            if let Some(v) = value {
                writeln!(f, "{name}: {}", cut(v))?;
            }
        }
        if let Some(site) = self.fetch_site {
            writeln!(f, "Sec-Fetch-Site: {site}")?;
        }
        writeln!(f, "(from 10.9.{}.{})", self.peer.0, self.peer.1)?;
        write!(f, "\n{}", cut(&self.body))
    }
}

impl Fuzzed {
    /// The request, or `None` when the generated parts do not make one (an invalid URI).
    fn request(&self, token: &str) -> Option<Request<Body>> {
        let uri = match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        };
        let mut builder = Request::builder()
            .method(Method::from_bytes(self.method.as_bytes()).ok()?)
            .uri(uri)
            .extension(ConnectInfo(SocketAddr::from(([10, 9, self.peer.0, self.peer.1], 50_000))));
        let mut add = |name: header::HeaderName, value: &[u8]| {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                builder = std::mem::take(&mut builder).header(name, value);
            }
        };
        match &self.credential {
            Credential::None => {}
            Credential::Session => add(header::AUTHORIZATION, format!("Bearer {token}").as_bytes()),
            Credential::SessionOddCase => {
                add(header::AUTHORIZATION, format!("bEaReR   {token} ").as_bytes());
            }
            Credential::Other(v) => add(header::AUTHORIZATION, v),
        }
        match &self.cookie {
            Cookie::None => {}
            Cookie::Session => {
                add(header::COOKIE, format!("theme=dark; deputy={token}").as_bytes())
            }
            Cookie::Other(v) => add(header::COOKIE, v),
        }
        if let Some(v) = &self.content_type {
            add(header::CONTENT_TYPE, v);
        }
        if let Some(v) = &self.origin {
            add(header::ORIGIN, v);
        }
        if let Some(v) = &self.idempotency_key {
            add(header::HeaderName::from_static("idempotency-key"), v);
        }
        if let Some(site) = self.fetch_site {
            add(header::HeaderName::from_static("sec-fetch-site"), site.as_bytes());
        }
        add(header::HOST, b"127.0.0.1");
        add(header::CONTENT_LENGTH, self.body.len().to_string().as_bytes());
        builder.body(Body::from(self.body.clone())).ok()
    }

    fn presents_session(&self) -> bool {
        matches!(self.credential, Credential::Session | Credential::SessionOddCase)
            || matches!(self.cookie, Cookie::Session)
    }
}

/// Percent-encodes everything but the unreserved characters and a few sub-delimiters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'@'
            | b':'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'!'
            | b'$'
            | b'\''
            | b'('
            | b')'
            | b'*' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A JSON string literal.
fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A path segment or query value: real names, random text (percent-encoded), raw escapes
/// (invalid UTF-8 too), dot segments, very long ones and numbers.
fn segment(real: Vec<String>) -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(real).prop_map(|s| encode(&s)),
        3 => any::<String>().prop_map(|s| encode(&s)),
        1 => prop::collection::vec(any::<u8>(), 1..8)
            .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02X}")).collect()),
        1 => select(vec![
            "..", ".", "%2e%2e", "%2E", "%2F", "a%2Fb", "%00", "%", "%zz", "%C3%28", "%FF",
            "%ED%A0%80", "~", "p0", "p-1", "p99999999999999999999", "t18446744073709551616",
            "sg", "a0", "a-5", "r", "g00", "P1", " p1", "p1%20",
        ])
        .prop_map(String::from),
        1 => (1usize..20_000, select(vec!["a", "%C3%A9", "%F0%9F%92%A5", "%25", "-"]))
            .prop_map(|(n, unit)| unit.repeat(n.min(20_000 / unit.len()))),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => (select(vec!["p", "t", "r", "g", "sg", "a"]), any::<u64>())
            .prop_map(|(prefix, n)| format!("{prefix}{n}")),
    ]
    .boxed()
}

fn query(real: Vec<String>) -> BoxedStrategy<Option<String>> {
    let key = prop_oneof![
        8 => select(vec![
            "cursor", "limit", "token", "format", "principal", "tenant", "action",
            "consistency_token",
        ])
        .prop_map(String::from),
        1 => any::<String>().prop_map(|s| encode(&s)),
        1 => select(vec!["", "limit[]", "%FF", "li%6Dit", "cursor=", "&"]).prop_map(String::from),
    ];
    let value = prop_oneof![
        3 => segment(real),
        2 => select(vec![
            "-1", "0", "1", "1000", "1001", "-9223372036854775808", "18446744073709551616",
            "99999999999999999999999999", "1e3", "0x10", "+5", " 5", "", "json", "csv", "CSV",
            "principal.", "auth.", "%FF%FE", "%", "%%", "%C3", "true", "null",
        ])
        .prop_map(String::from),
        1 => any::<i64>().prop_map(|n| n.to_string()),
    ];
    let pair = (key, value, any::<bool>())
        .prop_map(|(k, v, with_equals)| if with_equals { format!("{k}={v}") } else { k });
    prop::option::weighted(0.6, prop::collection::vec(pair, 0..5).prop_map(|p| p.join("&"))).boxed()
}

/// Raw JSON text that is not what a field wants: nulls, wrong types, numbers no type
/// holds, deep nesting.
fn wrong_json() -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(vec![
            "null", "true", "false", "0", "-1", "1.5", "-0", "1e400", "-1e400",
            "18446744073709551616", "-9223372036854775809", "[]", "{}", "\"\"", "[null]",
            "{\"\":null}", "\"\\ud800\"", "\"\\u0000\"", "\"\\udfff\\ud800\"", "NaN", "[1,]",
        ])
        .prop_map(String::from),
        1 => (1usize..=200, any::<bool>()).prop_map(|(depth, arrays)| nested(depth, arrays)),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| serde_json::to_string(&x).unwrap_or_else(|_| "0".into())),
    ]
    .boxed()
}

/// `[[[…]]]` or `{"a":{"a":…}}`, `depth` deep.
fn nested(depth: usize, arrays: bool) -> String {
    if arrays {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    } else {
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
    }
}

/// A JSON string: real words mostly, random Unicode, a huge one, odd escapes.
fn json_text(words: Vec<String>) -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(words).prop_map(|w| quote(&w)),
        3 => any::<String>().prop_map(|s| quote(&s)),
        1 => (1usize..70_000, select(vec!["x", "é", "\u{2800}", "💥", " "]))
            .prop_map(|(n, unit)| quote(&unit.repeat(n))),
        1 => select(vec![
            "\"\"", "\" padded \"", "\"\\u202e\"", "\"a\\u0000b\"", "\"\\ud83d\\udca5\"",
            "\"p1\\n\"", "\"tenant:\"",
        ])
        .prop_map(String::from),
    ]
    .boxed()
}

/// Well-formed raw JSON for a field of `kind`.
fn json_of(kind: Kind, words: Vec<String>) -> BoxedStrategy<String> {
    let text = || json_text(words.clone());
    let list = |max: usize| {
        prop::collection::vec(text(), 0..max).prop_map(|items| format!("[{}]", items.join(",")))
    };
    let value = || prop_oneof![3 => text(), 1 => wrong_json()];
    match kind {
        Text => text(),
        Flag => any::<bool>().prop_map(|b| b.to_string()).boxed(),
        Number => prop_oneof![
            3 => (-5i64..2_000).prop_map(|n| n.to_string()),
            1 => any::<i64>().prop_map(|n| n.to_string()),
            1 => Just("1800000000000".to_owned()),
        ]
        .boxed(),
        Texts => list(6).boxed(),
        Object => prop::collection::vec((text(), value()), 0..4)
            .prop_map(|pairs| {
                let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", pairs.join(","))
            })
            .boxed(),
        PasswordChoice => (any::<bool>(), prop::option::of(text()))
            .prop_map(|(generate, value)| match value {
                Some(v) => format!("{{\"generate\":{generate},\"value\":{v}}}"),
                None => format!("{{\"generate\":{generate}}}"),
            })
            .boxed(),
        Checks => prop::collection::vec(object_of(CHECK, words.clone()), 0..5)
            .prop_map(|items| format!("[{}]", items.join(",")))
            .boxed(),
        Change => {
            let action = select(vec![
                "deactivate",
                "cancel",
                "unassign",
                "revoke_grant",
                "change_grant",
                "place_in_group",
                "explode",
            ]);
            let rest = object_of(
                &[
                    ("principal", Text),
                    ("assignment", Text),
                    ("grant", Text),
                    ("ceiling", Texts),
                    ("kinds", Texts),
                    ("subtree", Flag),
                    ("expires_at", Number),
                    ("auto_extend", Flag),
                    ("group", Text),
                    ("tenant", Text),
                ],
                words.clone(),
            );
            (action, rest)
                .prop_map(|(action, rest)| {
                    let rest = rest.trim_start_matches('{');
                    let comma = if rest == "}" { "" } else { "," };
                    format!("{{\"action\":\"{action}\"{comma}{rest}")
                })
                .boxed()
        }
    }
}

/// A JSON object with `fields`: each present most of the time, mostly well formed, now and
/// then an unknown field beside them.
fn object_of(fields: &'static [(&'static str, Kind)], words: Vec<String>) -> BoxedStrategy<String> {
    let members: Vec<BoxedStrategy<Option<String>>> = fields
        .iter()
        .map(|&(name, kind)| {
            let value = prop_oneof![5 => json_of(kind, words.clone()), 1 => wrong_json()];
            prop::option::weighted(0.85, value.prop_map(move |v| format!("\"{name}\":{v}"))).boxed()
        })
        .collect();
    let unknown =
        prop::option::weighted(0.1, wrong_json().prop_map(|v| format!("\"surplus\":{v}")));
    (members, unknown)
        .prop_map(|(members, unknown)| {
            let present: Vec<String> = members.into_iter().flatten().chain(unknown).collect();
            format!("{{{}}}", present.join(","))
        })
        .boxed()
}

fn body(fields: &'static [(&'static str, Kind)], words: Vec<String>) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        24 => object_of(fields, words.clone()).prop_map(String::into_bytes),
        4 => (object_of(fields, words), 0.0f64..1.0).prop_map(|(text, cut)| {
            // Cut short, at any byte: unterminated strings, half a UTF-8 sequence.
            let bytes = text.into_bytes();
            let end = (bytes.len() as f64 * cut) as usize;
            bytes[..end].to_vec()
        }),
        4 => prop::collection::vec(any::<u8>(), 0..256),
        4 => Just(Vec::new()),
        4 => wrong_json().prop_map(String::into_bytes),
        1 => (1usize..=2).prop_map(|megabytes| {
            // Past the 1 MiB limit.
            let mut big = b"{\"name\":\"".to_vec();
            big.resize(megabytes * 1024 * 1024 + 16, b'x');
            big.extend_from_slice(b"\"}");
            big
        }),
    ]
    .boxed()
}

fn header_bytes() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => any::<String>().prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => (1usize..10_000).prop_map(|n| vec![b'k'; n]),
    ]
    .boxed()
}

fn fuzzed_request(harness: &Harness) -> BoxedStrategy<Fuzzed> {
    let segments = harness.segments.clone();
    let words = harness.words.clone();
    let route = prop_oneof![
        30 => select((0..ROUTES.len()).collect::<Vec<_>>()).prop_map(Some),
        // A path no route has, for the fallback.
        1 => Just(None),
    ];
    route
        .prop_flat_map(move |index| {
            let route = index.map(|i| &ROUTES[i]);
            let method = match route {
                Some(r) => prop_oneof![3 => Just(r.method), 1 => select(METHODS.to_vec())].boxed(),
                None => select(METHODS.to_vec()).boxed(),
            };
            let path = match route {
                Some(r) => (segment(segments.clone()), segment(segments.clone()))
                    .prop_map(move |(first, second)| {
                        r.template.replace("{id}", &first).replace(
                            if r.template.contains("{key}") {
                                "{key}"
                            } else if r.template.contains("{assignment}") {
                                "{assignment}"
                            } else {
                                "{tenant}"
                            },
                            &second,
                        )
                    })
                    .boxed(),
                None => prop::collection::vec(segment(segments.clone()), 0..4)
                    .prop_map(|parts| format!("/v1/{}", parts.join("/")))
                    .boxed(),
            };
            let credential = prop_oneof![
                6 => Just(Credential::Session),
                1 => Just(Credential::SessionOddCase),
                2 => Just(Credential::None),
                1 => prop_oneof![
                    select(vec!["Bearer ", "Bearer", "Basic b3BlcmF0b3I6eA==", "Bearer dpt_x"])
                        .prop_map(|v| v.as_bytes().to_vec()),
                    header_bytes().prop_map(|v| [b"Bearer ".to_vec(), v].concat()),
                    header_bytes(),
                ]
                .prop_map(Credential::Other),
            ];
            let cookie = prop_oneof![
                6 => Just(Cookie::None),
                2 => Just(Cookie::Session),
                1 => prop_oneof![
                    select(vec!["deputy=", "deputy=x", "deputy", ";;", "deputy=a; deputy=b"])
                        .prop_map(|v| v.as_bytes().to_vec()),
                    header_bytes(),
                ]
                .prop_map(Cookie::Other),
            ];
            let content_type = prop_oneof![
                8 => Just(Some(b"application/json".to_vec())),
                1 => select(vec![
                    "application/json; charset=utf-8",
                    "APPLICATION/JSON",
                    "application/problem+json",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x",
                    "text/plain",
                    "application/jsonx",
                    "json",
                    ";",
                    "",
                ])
                .prop_map(|v| Some(v.as_bytes().to_vec())),
                1 => Just(None),
                1 => header_bytes().prop_map(Some),
            ];
            let origin = prop_oneof![
                4 => Just(None),
                2 => Just(Some(b"http://127.0.0.1".to_vec())),
                1 => select(vec!["null", "https://evil.example", "http://127.0.0.1:1", "http://"])
                    .prop_map(|v| Some(v.as_bytes().to_vec())),
                1 => header_bytes().prop_map(Some),
            ];
            let fetch_site = prop::option::weighted(
                0.2,
                select(vec!["same-origin", "cross-site", "same-site", "none", ""]),
            );
            let idempotency_key = prop::option::weighted(
                0.2,
                prop_oneof![
                    2 => "[a-z0-9-]{1,40}".prop_map(String::into_bytes),
                    1 => header_bytes(),
                    1 => Just(vec![b'k'; 256]),
                ],
            );
            let fields: &'static [(&'static str, Kind)] = route.map_or(&[], |r| r.fields);
            (
                method,
                path,
                query(segments.clone()),
                credential,
                cookie,
                content_type,
                origin,
                fetch_site,
                idempotency_key,
                body(fields, words.clone()),
                any::<(u8, u8)>(),
            )
        })
        .prop_map(
            |(
                method,
                path,
                query,
                credential,
                cookie,
                content_type,
                origin,
                fetch_site,
                idempotency_key,
                body,
                peer,
            )| Fuzzed {
                method: method.to_owned(),
                path,
                query,
                credential,
                cookie,
                content_type,
                origin,
                fetch_site,
                idempotency_key,
                body,
                peer,
            },
        )
        .boxed()
}

/// R57: never a server error but a 503 with `Retry-After`; every error a handler can
/// answer under `/v1/` is a problem document whose `status` is the answer's.
fn check_answer(harness: &Harness, fuzzed: &Fuzzed) -> Result<(), TestCaseError> {
    let token = harness.token.lock().unwrap().clone();
    let Some(request) = fuzzed.request(&token) else {
        return Err(TestCaseError::reject("not a valid request"));
    };
    let answer = harness.send(request).map_err(TestCaseError::fail)?;
    let status = answer.status.as_u16();
    *harness.stats.lock().unwrap().statuses.entry(status).or_default() += 1;
    if answer.status.is_server_error() {
        prop_assert!(
            answer.status == StatusCode::SERVICE_UNAVAILABLE && answer.retry_after,
            "a server error, {status}: {}",
            String::from_utf8_lossy(&answer.body)
        );
    }
    let is_problem = answer.content_type.as_deref() == Some("application/problem+json");
    if fuzzed.path.starts_with("/v1/")
        && (answer.status.is_client_error() || answer.status.is_server_error())
    {
        prop_assert!(
            is_problem,
            "{status} is not a problem document: content-type {:?}, body {}",
            answer.content_type,
            String::from_utf8_lossy(&answer.body)
        );
        if fuzzed.method != "HEAD" {
            let problem: serde_json::Value = serde_json::from_slice(&answer.body)
                .map_err(|e| TestCaseError::fail(format!("the problem is not JSON: {e}")))?;
            for member in ["type", "title", "detail"] {
                prop_assert!(problem[member].is_string(), "no `{member}` in {problem}");
            }
            prop_assert_eq!(problem["status"].as_u64(), Some(u64::from(status)), "{}", problem);
        }
    }
    // A fuzzed sign-out, password change, switch or impersonation may end our session.
    if fuzzed.presents_session() && answer.status == StatusCode::UNAUTHORIZED {
        harness.sign_in();
    }
    Ok(())
}

/// Found by the fuzz run below: a path segment whose percent-escapes are not UTF-8
/// (`%FF`) was answered by axum's `Path` extractor, `400 text/plain` "Invalid URL: Invalid
/// UTF-8 in `id`", not by a problem document (R57); the router now rewrites every such
/// framework answer (`routes::problem_documents`).
#[test]
fn r57_a_path_segment_that_is_not_utf8_is_a_problem_document() {
    let harness = Harness::new();
    let token = harness.token.lock().unwrap().clone();
    let request = Request::get("/v1/principals/%FF")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let answer = harness.send(request).unwrap();
    let body = String::from_utf8_lossy(&answer.body);
    assert!(answer.status.is_client_error(), "{} {body}", answer.status);
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/problem+json"),
        "{} {body}",
        answer.status
    );
    let problem: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(problem["status"].as_u64(), Some(u64::from(answer.status.as_u16())), "{problem}");
    for member in ["type", "title", "detail"] {
        assert!(problem[member].is_string(), "no `{member}` in {problem}");
    }
}

/// `PROPTEST_CASES` when set (to fuzz longer by hand), else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

#[test]
fn r57_fuzzed_requests_never_fail_the_server_and_errors_are_problem_documents() {
    let harness = Harness::new();
    let started = Instant::now();
    let config = Config {
        cases: cases(REQUEST_CASES),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        max_shrink_time: 60_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&fuzzed_request(&harness), |fuzzed| check_answer(&harness, &fuzzed));
    let stats = harness.stats.lock().unwrap();
    eprintln!(
        "{} fuzzed requests (and any shrinking) in {:.1} s; statuses {:?}; \
         operator signed in {} times",
        cases(REQUEST_CASES),
        started.elapsed().as_secs_f64(),
        stats.statuses,
        stats.sign_ins,
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

// ---------------------------------------------------------------------------------------
// Logon names (R10).

/// Names built from the characters that matter: ASCII, the allowed punctuation, spaces
/// and blanks, invisible and bidi controls, combining marks, confusables, compatibility
/// forms, other scripts; and any Unicode at all.
fn logon_name() -> BoxedStrategy<String> {
    let interesting = select(vec![
        'a',
        'Z',
        '0',
        '9',
        '.',
        '-',
        '_',
        '@',
        ' ',
        '\t',
        '\n',
        '+',
        '/',
        '\u{00A0}',
        '\u{00AD}',
        '\u{0301}',
        '\u{0308}',
        '\u{0430}',
        '\u{0456}',
        '\u{0131}',
        '\u{0130}',
        'ß',
        'ẞ',
        'é',
        'ﬁ',
        'ｊ',
        '\u{2126}',
        '\u{212A}',
        '\u{2800}',
        '\u{200B}',
        '\u{200D}',
        '\u{202E}',
        '\u{2028}',
        '\u{3000}',
        '\u{3164}',
        '\u{FEFF}',
        '\u{FE0F}',
        '\u{1160}',
        '李',
        '雷',
        'ｶ',
        'ǅ',
        'Σ',
        'ς',
        'ﬀ',
        '\u{0345}',
        '\u{1E9E}',
        '🦀',
        '\u{E0041}',
        '\u{10FFFF}',
    ]);
    prop_oneof![
        3 => prop::collection::vec(interesting, 0..12).prop_map(|c| c.into_iter().collect()),
        2 => any::<String>(),
        1 => "[a-zA-Z0-9._@-]{0,140}",
        1 => (any::<char>(), 120usize..140).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
    .boxed()
}

fn allowed_in_logon(c: char) -> bool {
    matches!(c, '.' | '-' | '_' | '@') || c.identifier_allowed()
}

#[test]
fn r10_fuzzed_logon_names_pass_only_the_general_security_profile() {
    let config =
        Config { cases: cases(NAME_CASES), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&logon_name(), |name| {
        let Ok(()) = validate_logon(&name) else {
            // Refused names must still have a key, without panicking.
            let _ = collision_key(&name);
            return Ok(());
        };
        prop_assert!(!name.is_empty());
        prop_assert_eq!(name.trim(), name.as_str(), "surrounding spaces passed");
        prop_assert!(name.chars().count() <= MAX_LOGON_CHARS);
        for c in name.chars().chain(name.nfkc()) {
            prop_assert!(allowed_in_logon(c), "U+{:04X} passed in {:?}", c as u32, name);
        }
        let key = collision_key(&name);
        prop_assert!(!key.is_empty(), "{:?} has an empty key", name);
        // Compared after NFKC: a name and its NFKC form are one name.
        let nfkc: String = name.nfkc().collect();
        prop_assert_eq!(collision_key(&nfkc), key.clone(), "NFKC form of {:?}", name);
        // Case-insensitively: at least in ASCII, where upper and lower case map one to one.
        if name.is_ascii() {
            prop_assert_eq!(collision_key(&name.to_ascii_uppercase()), key.clone());
            prop_assert_eq!(collision_key(&name.to_ascii_lowercase()), key.clone());
        }
        // Case-folding again changes nothing: the folded form is its own fold and has the
        // same key. (The key itself is not a fixed point of `collision_key`, by design:
        // the skeleton of Ethiopic U+1240 is Greek Φ, lowercased to φ, whose own skeleton
        // is ɸ. Names are always keyed from the name, never from a key.)
        let folded = fold(&name);
        prop_assert_eq!(fold(&folded), folded.clone(), "folding {:?} twice", name);
        prop_assert_eq!(collision_key(&folded), key.clone(), "the folded form of {:?}", name);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

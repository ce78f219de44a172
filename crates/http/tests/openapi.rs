//! R57: the OpenAPI document the router serves is valid and complete — parameters where
//! they travel, a description on every response, every status the handlers and the
//! shared layers answer declared, every error a problem document. (`.ci/openapi.sh`
//! checks the same document with a standard validator and a client generator.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use deputy_http::{AppState, HttpConfig};
use deputy_service::Deputy;
use deputy_service::auth::{Auth, AuthSettings};
use deputy_service::passwords::HashCost;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;

/// Query names that are never part of a path.
const NEVER_IN_PATH: [&str; 5] = ["cursor", "limit", "format", "after", "before"];
/// Operations that take a body but cannot answer 422: `ApiJson` answers every malformed
/// body 400, neither runs a command, and `Idempotency-Key` does not apply under
/// `/v1/auth/`.
const NO_UNPROCESSABLE: [(&str, &str); 2] =
    [("post", "/v1/auth/sign-in"), ("post", "/v1/auth/forgot-password")];
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const WRITES: [&str; 4] = ["post", "put", "patch", "delete"];

/// The document, as `GET /v1/openapi.json` answers it.
async fn document() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deputy.db");
    let app = tokio::task::spawn_blocking(move || {
        let deputy = Deputy::open(deputy_backends::open_file(path).unwrap()).unwrap();
        deputy.initialise(None, "root", "Tax Agency").unwrap();
        let settings = AuthSettings {
            // Cheap: nothing here signs in.
            hash_cost: HashCost { memory_kib: 1024, iterations: 1, parallelism: 1 },
            public_origin: "http://127.0.0.1".into(),
            ..AuthSettings::default()
        };
        let auth = Auth::new(Arc::new(deputy), settings).unwrap();
        let config = HttpConfig {
            public_origin: "http://127.0.0.1".into(),
            trusted_proxies: vec![],
            metrics: Default::default(),
        };
        AppState::new(auth, config)
    })
    .await
    .unwrap();
    let request = Request::get("/v1/openapi.json").body(Body::empty()).unwrap();
    let answer = deputy_http::routes::router(app).oneshot(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let content_type = answer.headers().get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let bytes = axum::body::to_bytes(answer.into_body(), usize::MAX).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The `{name}`s of a path template.
fn template_names(path: &str) -> BTreeSet<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

/// Whether the operation needs a credential: it keeps the document's security, or names
/// schemes of its own without allowing none (`{}`).
fn needs_credential(op: &Value) -> bool {
    match op.get("security").and_then(Value::as_array) {
        None => true,
        Some(options) => {
            !options.is_empty()
                && options.iter().all(|o| o.as_object().is_some_and(|o| !o.is_empty()))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_the_openapi_document_is_valid_and_complete() {
    let doc = document().await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "{}", doc["openapi"]);
    assert!(doc["components"]["schemas"]["Problem"].is_object(), "the Problem schema");
    let mut wrong: Vec<String> = Vec::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let templated = template_names(path);
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            operations += 1;
            let at = format!("{} {path}", method.to_uppercase());
            let mut wrong_here = |what: String| wrong.push(format!("{at}: {what}"));

            // Parameters travel where they are declared.
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let declared = |place: &str| -> BTreeSet<String> {
                params
                    .iter()
                    .filter(|p| p["in"] == place)
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            };
            let (in_path, in_query) = (declared("path"), declared("query"));
            for name in &in_path {
                if !templated.contains(name) {
                    wrong_here(format!(
                        "parameter `{name}` is `in: path` but not `{{{name}}}` in the path"
                    ));
                }
                if NEVER_IN_PATH.contains(&name.as_str()) {
                    wrong_here(format!("`{name}` is a query parameter, declared `in: path`"));
                }
                if in_query.contains(name) {
                    wrong_here(format!("`{name}` is declared both in the path and in the query"));
                }
            }
            for name in &templated {
                let required = params.iter().any(|p| {
                    p["in"] == "path" && p["name"] == name.as_str() && p["required"] == true
                });
                if !required {
                    wrong_here(format!("`{{{name}}}` has no required path parameter"));
                }
            }

            // Every response is described; every error is a problem document.
            let Some(responses) = op["responses"].as_object() else {
                wrong_here("no responses".into());
                continue;
            };
            for (status, response) in responses {
                if response["description"].as_str().is_none_or(|d| d.trim().is_empty()) {
                    wrong_here(format!("{status} has no description"));
                }
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object();
                    let problem = content.is_some_and(|c| {
                        c.len() == 1
                            && c.get("application/problem+json").is_some_and(|m| {
                                m["schema"]["$ref"] == "#/components/schemas/Problem"
                            })
                    });
                    if !problem {
                        wrong_here(format!("{status} is not an application/problem+json Problem"));
                    }
                }
            }

            // Every status the handlers and the shared layers can answer is declared.
            let has = |status: &str| responses.contains_key(status);
            let mut missing = |status: &str, why: &str| {
                if !has(status) {
                    wrong_here(format!("{status} is not declared ({why})"));
                }
            };
            missing("413", "the body limit applies to every route");
            missing("500", "any handler can fail");
            if needs_credential(op) {
                missing("401", "it needs a credential");
            }
            if !params.is_empty() && params.iter().any(|p| p["in"] == "path" || p["in"] == "query")
            {
                missing("400", "a path segment or query can be malformed");
            }
            if op.get("requestBody").is_some() {
                missing("400", "it takes a body (malformed JSON)");
                if !NO_UNPROCESSABLE.contains(&(method, path.as_str())) {
                    missing("422", "it takes a body");
                }
            }
            if WRITES.contains(&method) {
                let cross_site = responses
                    .get("403")
                    .and_then(|r| r["description"].as_str())
                    .is_some_and(|d| d.contains("cross-site"));
                if !cross_site {
                    wrong.push(format!("{at}: 403 for a cross-site request (R23) is not declared"));
                }
            }
        }
    }
    assert!(operations > 60, "only {operations} operations in the document");
    assert!(wrong.is_empty(), "{} problems in the document:\n{}", wrong.len(), wrong.join("\n"));
}

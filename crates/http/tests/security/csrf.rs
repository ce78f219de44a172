//! Cross-site requests riding the session cookie (R23), and transport headers.

use crate::support::*;

/// A request as another site's page makes it: the victim's cookie attached by the
/// browser, a foreign `Origin`, a form content type and no body.
async fn forged(s: &Server, cookie: &str, path: &str) -> reqwest::Response {
    s.http
        .post(s.url(path))
        .header("cookie", format!("deputy={cookie}"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_cross_origin_bodyless_posts_with_the_session_cookie_are_refused() {
    let s = start().await;
    // The operator's session is the cookie a forged page rides on.
    let op = s.sign_in(s.demo.operator).await;
    let (status, body) = s
        .post(
            &op,
            &format!("/v1/tenants/{}/users", s.demo.root),
            json!({"logon": "target", "first_name": "T", "last_name": "T",
                   "email": "target@example.com", "send_invitation": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let target = body["id"].as_str().unwrap().to_owned();
    let grant = s.demo.firm_grant.to_string();
    let jane = s.demo.jane.to_string();
    let before = s.revision();
    let outbox = s.mails().await.len();
    for path in [
        format!("/v1/principals/{target}/cancel"),
        format!("/v1/principals/{target}/invitation"),
        format!("/v1/principals/{jane}/password-reset"),
        format!("/v1/principals/{jane}/unlock"),
        format!("/v1/grants/{grant}/approve"),
        format!("/v1/grants/{grant}/revoke"),
        "/v1/session/stop-impersonating".to_owned(),
        "/v1/auth/token".to_owned(),
        "/v1/auth/sign-out".to_owned(),
    ] {
        let r = forged(&s, &op, &path).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/problem+json",
            "{path}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["type"], "urn:deputy:problem:cross-site-request", "{path}");
        assert_eq!(body["rule"], "R23");
    }
    assert_eq!(s.revision(), before, "nothing changed");
    assert_eq!(s.mails().await.len(), outbox, "no mail went out");
    assert_eq!(s.get(&op, "/v1/me").await.0, StatusCode::OK, "the session was not signed out");
    assert_eq!(s.status(target.parse().unwrap()), deputy_core::Status::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_a_cookie_request_needs_this_origin_and_a_token_or_json() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let cookie = format!("deputy={op}");
    let token_url = s.url("/v1/auth/token");
    let send =
        |origin: Option<&str>, fetch_site: Option<&str>, json: bool, csrf: Option<String>| {
            let mut request = s.http.post(&token_url).header("cookie", &cookie);
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            if let Some(site) = fetch_site {
                request = request.header("sec-fetch-site", site);
            }
            if json {
                request = request.header("content-type", "application/json").body("{}");
            }
            if let Some(token) = csrf {
                request = request.header("x-csrf-token", token);
            }
            async move { request.send().await.unwrap().status() }
        };
    let own = s.base.clone();
    let right = deputy_http::csrf::session_token(&op);
    // Refused: no origin at all, a foreign one, a same-site sibling, and this origin
    // without a token or JSON, or with a wrong token.
    assert_eq!(send(None, None, true, None).await, StatusCode::FORBIDDEN);
    assert_eq!(send(Some("https://evil.example"), None, true, None).await, StatusCode::FORBIDDEN);
    assert_eq!(send(None, Some("same-site"), true, None).await, StatusCode::FORBIDDEN);
    assert_eq!(send(Some("null"), None, true, None).await, StatusCode::FORBIDDEN);
    assert_eq!(send(Some(&own), None, false, None).await, StatusCode::FORBIDDEN);
    assert_eq!(send(Some(&own), None, false, Some("0".repeat(64))).await, StatusCode::FORBIDDEN);
    // Accepted: this origin with JSON, with the session's token, or the browser's word.
    assert_eq!(send(Some(&own), None, true, None).await, StatusCode::OK);
    assert_eq!(send(Some(&own), None, false, Some(right.clone())).await, StatusCode::OK);
    assert_eq!(send(None, Some("same-origin"), false, Some(right)).await, StatusCode::OK);
    // The configured public origin counts as this origin too (behind a proxy).
    assert_eq!(send(Some("http://127.0.0.1"), None, true, None).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_a_cookie_left_in_a_clients_jar_does_not_block_signing_in_but_forms_still_cannot() {
    let s = start().await;
    // A client that keeps cookies (the generated Python client does) signed in once; its
    // next sign-in carries that cookie, no Origin, and credentials in a JSON body.
    let old = s.sign_in(s.demo.operator).await;
    let sign_in = |content_type: &'static str, body: String| {
        s.http
            .post(s.url("/v1/auth/sign-in"))
            .header("cookie", format!("deputy={old}"))
            .header("content-type", content_type)
            .body(body)
    };
    let credentials = json!({"logon": s.logon(s.demo.jane), "password": PASSWORD}).to_string();
    let r = sign_in("application/json", credentials).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the cookie does not authenticate a sign-in");
    // A cross-site form cannot send JSON: its sign-in is refused before anything is done.
    let form = format!("logon={}&password=x", s.logon(s.demo.jane));
    let r = sign_in("application/x-www-form-urlencoded", form)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_ne!(r.status(), StatusCode::UNAUTHORIZED, "not even counted as an attempt");
    // The old session is untouched and routes that use the cookie are still guarded.
    assert_eq!(s.get(&old, "/v1/me").await.0, StatusCode::OK);
    assert_eq!(forged(&s, &old, "/v1/auth/sign-out").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_bearer_tokens_carry_no_ambient_authority_and_pass_unchanged() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    // No Origin, no JSON: a back end with a bearer token is not a browser.
    let r = s
        .http
        .post(s.url("/v1/auth/token"))
        .bearer_auth(&op)
        .header("cookie", "deputy=something-else")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.http.post(s.url("/v1/auth/sign-out")).bearer_auth(&op).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(s.get(&op, "/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_answers_over_https_carry_strict_transport_security() {
    let plain = start().await;
    let r = plain.http.get(plain.url("/healthz")).send().await.unwrap();
    assert!(!r.headers().contains_key("strict-transport-security"), "not over plain http");
    let s = start_with(|auth, http| {
        auth.public_origin = "https://access.example".into();
        http.public_origin = "https://access.example".into();
    })
    .await;
    for path in ["/healthz", "/v1/openapi.json", "/v1/no-such-route", "/v1/me"] {
        let r = s.http.get(s.url(path)).send().await.unwrap();
        let hsts = r.headers().get("strict-transport-security").map(|v| v.to_str().unwrap());
        assert_eq!(hsts, Some("max-age=63072000"), "{path}");
    }
}

//! The portal's defences seen from outside, over plain HTTP: cookies (R23), security
//! headers, and the CSRF guard on every state-changing form (R59).

use super::harness::{PASSWORD, Server, server, server_at};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

/// Every `Set-Cookie` of an answer, whole.
fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn cookie_named<'a>(cookies: &'a [String], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no cookie {name} in {cookies:?}"))
}

fn value(cookie: &str) -> &str {
    cookie.split(';').next().unwrap().split_once('=').unwrap().1
}

fn hidden_token(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Signs in through the portal's form as a browser would; the cookie header to send.
async fn sign_in(s: &Server, session_cookie: &str, csrf_cookie: &str) -> String {
    sign_in_as(s, "jane", session_cookie, csrf_cookie).await
}

async fn sign_in_as(s: &Server, logon: &str, session_cookie: &str, csrf_cookie: &str) -> String {
    let http = client();
    let page = http.get(format!("{}/sign-in", s.base)).send().await.unwrap();
    let cookies = set_cookies(page.headers());
    let anon = value(cookie_named(&cookies, csrf_cookie)).to_owned();
    let token = hidden_token(&page.text().await.unwrap());
    assert_eq!(token, anon, "before sign-in the form carries the cookie's value");
    let answer = http
        .post(format!("{}/sign-in", s.base))
        .header("origin", &s.base)
        .header("cookie", format!("{csrf_cookie}={anon}"))
        .form(&[("csrf", token.as_str()), ("logon", logon), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let cookies = set_cookies(answer.headers());
    format!("{session_cookie}={}", value(cookie_named(&cookies, session_cookie)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_r59_cookies_and_security_headers_on_loopback_http() {
    let s = server().await;
    let page = client().get(format!("{}/sign-in", s.base)).send().await.unwrap();
    let headers = page.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("script-src"), "no script is ever allowed");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let cookies = set_cookies(headers);
    let csrf = cookie_named(&cookies, "deputy-csrf");
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite=Lax") && !csrf.contains("Secure"));
    let session = sign_in(&s, "deputy", "deputy-csrf").await;
    assert!(session.len() > "deputy=".len() + 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r23_cookies_are_host_prefixed_and_secure_behind_https() {
    let s = server_at("https://portal.example").await;
    let page = client().get(format!("{}/sign-in", s.base)).send().await.unwrap();
    let cookies = set_cookies(page.headers());
    let csrf = cookie_named(&cookies, "__Host-deputy-csrf");
    assert!(csrf.contains("Secure") && csrf.contains("Path=/") && !csrf.contains("Domain"));
    let http = client();
    let anon = value(csrf).to_owned();
    let answer = http
        .post(format!("{}/sign-in", s.base))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", format!("__Host-deputy-csrf={anon}"))
        .form(&[("csrf", anon.as_str()), ("logon", "jane"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let cookies = set_cookies(answer.headers());
    let session = cookie_named(&cookies, "__Host-deputy");
    assert!(session.contains("Secure") && session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax") && session.contains("Path=/"), "{session}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r59_a_state_change_without_the_right_token_or_from_another_site_changes_nothing() {
    let s = server().await;
    let session = sign_in(&s, "deputy", "deputy-csrf").await;
    let http = client();
    let page = http
        .get(format!("{}/profile", s.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden_token(&page);
    let post = |csrf: Option<&str>, origin: &str, fetch_site: &str| {
        let mut form =
            vec![("first_name", "Mallory"), ("last_name", "Doe"), ("email", "jane@example.com")];
        form.extend(csrf.map(|t| ("csrf", t)));
        http.post(format!("{}/profile", s.base))
            .header("cookie", &session)
            .header("origin", origin)
            .header("sec-fetch-site", fetch_site)
            .form(&form)
            .send()
    };
    let own = s.base.clone();
    for (csrf, origin, site, why) in [
        (None, own.as_str(), "same-origin", "no token"),
        (Some("0".repeat(64)), own.as_str(), "same-origin", "a wrong token"),
        (Some(token.clone()), "https://evil.example", "cross-site", "another site"),
        (Some(token.clone()), "null", "cross-site", "an opaque origin"),
    ] {
        let answer = post(csrf.as_deref(), origin, site).await.unwrap();
        assert_eq!(answer.status(), 403, "{why}");
        let name = &s.app.deputy().snapshot().principal(s.demo.jane).unwrap().first_name.clone();
        assert_eq!(&**name, "Jane", "{why} changed nothing");
    }
    let answer = post(Some(&token), &own, "same-origin").await.unwrap();
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()[LOCATION], "/profile");
    let name = s.app.deputy().snapshot().principal(s.demo.jane).unwrap().first_name.clone();
    assert_eq!(&*name, "Mallory", "the form with its token works");
}

/// The last kind of caller of the matrix: a service account has no password and no portal
/// session, but its API key, presented to the portal's pages, reads only what the API lets
/// it read, never another tenant's people, and changes nothing (no session, no form token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r24_r58_a_service_account_key_on_portal_pages_leaks_nothing_and_changes_nothing() {
    let s = server().await;
    let (d, m) = (s.app.deputy().clone(), s.demo.clone());
    let robot = tokio::task::spawn_blocking(move || {
        d.execute(deputy_core::Actor::at_home(m.firm_admin), None, |tx| {
            tx.create_service_account(m.law_firm, "firm-bot".into(), "Bot".into())
        })
        .unwrap()
        .output
    })
    .await
    .unwrap();
    let key = s
        .app
        .auth()
        .create_api_key(deputy_core::Actor::at_home(s.demo.firm_admin), robot, "portal", None)
        .unwrap();
    let (nh, nora) = (s.demo.natural_health, s.demo.nh_second_admin);
    let http = client();
    for page in [
        "/profile".to_owned(),
        "/users".to_owned(),
        format!("/users?tenant={nh}"),
        format!("/users/{nora}"),
        format!("/tenants?tenant={nh}"),
        format!("/activity?principal={nora}"),
        "/partners".to_owned(),
        "/logons".to_owned(),
        "/outbox".to_owned(),
    ] {
        let answer = http.get(format!("{}{page}", s.base)).bearer_auth(&key).send().await.unwrap();
        let status = answer.status();
        let html = answer.text().await.unwrap();
        assert!(!status.is_server_error(), "{page}: {status}");
        assert!(!html.contains("nora@example.com") && !html.contains("Nora"), "{page} leaks");
    }
    let revision = s.app.deputy().snapshot().revision;
    let answer = http
        .post(format!("{}/users/{nora}/status", s.base))
        .bearer_auth(&key)
        .form(&[("status", "deactivated"), ("confirm", "yes"), ("csrf", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    assert_eq!(s.app.deputy().snapshot().revision, revision, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r57_r59_unknown_paths_answer_a_page_or_a_problem_by_prefix() {
    let s = server().await;
    let page = client().get(format!("{}/no-such-page", s.base)).send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.headers().contains_key("content-security-policy"));
    assert!(page.text().await.unwrap().contains("Page not found"));
    let api = client().get(format!("{}/v1/no-such-route", s.base)).send().await.unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
}

/// R70: before a grant ends, both sides see it on Partner Access (as they get it by mail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r70_a_grant_about_to_expire_is_announced_on_both_sides() {
    let s = server().await;
    let (d, m) = (s.app.deputy().clone(), s.demo.clone());
    let ends = d.now() + 2 * 24 * 3_600_000;
    tokio::task::spawn_blocking(move || {
        let g = d.snapshot().grant(m.firm_grant).unwrap().clone();
        let terms = deputy_core::commands::partners::GrantTerms {
            ceiling: g.ceiling.clone(),
            kinds: g.kinds.clone(),
            subtree: g.subtree,
            expires_at: Some(ends),
            auto_extend: false,
        };
        d.execute(deputy_core::Actor::at_home(m.firm_admin), None, |tx| {
            tx.change_grant(m.firm_grant, terms.clone())
        })
        .unwrap();
    })
    .await
    .unwrap();
    for (logon, path) in [("firm-admin", "/partners"), ("provider-admin", "/partners?tab=received")]
    {
        let session = sign_in_as(&s, logon, "deputy", "deputy-csrf").await;
        let page = client()
            .get(format!("{}{path}", s.base))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("ends ") && page.contains("Smith &amp; Partners"), "{logon}: {page}");
    }
}

//! Scenarios done by clicking and typing, refused actions, the impersonation banner, CSRF.

use super::harness::{PASSWORD, browser, server};
use deputy_core::Status;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r34_r39_s1_jane_creates_a_secondary_logon_by_clicking() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    b.sign_in("jane").await;
    b.shot("profile-jane").await;
    b.click_text("Manage Secondary Logons").await;
    b.shot("logons-jane").await;
    assert!(b.source().await.contains("Full Access"), "Jim is listed with his access");
    // The e-mail is confirmed (R10, R34): a mismatch is refused and creates nothing.
    b.fill("#logon", "jules").await;
    b.fill("#first_name", "Jules").await;
    b.fill("#last_name", "Payroll").await;
    b.fill("#email", "jules@example.com").await;
    b.fill("#confirm_email", "jules@example.org").await;
    b.click_text("Create secondary logon").await;
    assert!(b.text(".error").await.contains("confirm_email"));
    assert!(s.app.deputy().snapshot().principal_by_logon("jules").is_none());
    b.fill("#confirm_email", "jules@example.com").await;
    b.click_text("Create secondary logon").await;
    assert!(b.text(".notice").await.contains("Secondary logon jules created"));
    let jules = s.app.deputy().snapshot().principal_by_logon("jules").unwrap();
    // R39: the list shows the new logon with Full Access; its page offers the actions.
    b.click_text("jules").await;
    b.shot("logon-detail").await;
    assert!(b.source().await.contains("Resend Logon Access Email"));
    b.click_text("Resend Logon Access Email").await;
    assert!(b.text(".notice").await.contains("sent again"));
    // Deactivating is previewed first (R67), then done.
    s.app.auth().set_password(jules, PASSWORD, false).unwrap();
    let d = s.app.deputy().clone();
    tokio::task::spawn_blocking(move || {
        d.execute(deputy_core::Actor::System, None, |tx| tx.password_set(jules))
    })
    .await
    .unwrap()
    .unwrap();
    b.goto(&format!("/logons/{jules}")).await;
    b.click_text("Deactivate").await;
    assert!(b.source().await.contains("who would lose or gain"), "a preview comes first");
    b.shot("logon-deactivate-preview").await;
    assert_eq!(s.app.deputy().snapshot().principal(jules).unwrap().status, Status::Active);
    b.click_text("Deactivate").await;
    assert!(b.text(".notice").await.contains("Deactivated"));
    assert_eq!(s.app.deputy().snapshot().principal(jules).unwrap().status, Status::Deactivated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r48_r49_impersonation_banner_on_every_page_until_stopped() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    b.sign_in("operator").await;
    b.goto(&format!("/users?tenant={}", s.demo.natural_health)).await;
    b.shot("users-natural-health").await;
    // R7: admins wear a crown wherever users are listed.
    assert!(b.has("img.crown[alt=admin]").await);
    b.click_text("Jane Doe").await;
    b.click_text("Impersonate").await;
    b.shot("impersonate-form").await;
    b.fill("#reason", "ticket 4711").await;
    b.click_text("Start impersonating").await;
    for page in ["/profile", "/logons", "/activity", "/switch"] {
        b.goto(page).await;
        let banner = b.text(".banner").await;
        let banner = banner.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(banner.starts_with("You are impersonating Jane Doe"), "{page}: {banner}");
    }
    b.shot("impersonating-jane").await;
    // R48: the impersonator may not change the target's e-mail.
    b.goto("/profile").await;
    b.fill("#email", "mallory@example.com").await;
    b.click_text("Save").await;
    assert!(b.text(".error").await.contains("impersonat"));
    assert_eq!(
        &*s.app.deputy().snapshot().principal(s.demo.jane).unwrap().email,
        "jane@example.com"
    );
    b.click_text("Stop impersonating").await;
    assert!(!b.has(".banner").await, "the banner goes with the impersonation");
    // R49: the target sees that it was impersonated, and by whom.
    b.sign_out().await;
    b.sign_in("jane").await;
    b.goto("/activity").await;
    let log = b.source().await;
    assert!(log.contains("impersonation.started"), "{log}");
    b.shot("activity-jane").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r59_a_cross_site_form_post_is_refused() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    b.sign_in("jane").await;
    // A page on another origin posts a form to the portal with Jane's cookie attached.
    let evil = format!(
        "data:text/html,<form method=post action='{}/profile'>\
         <input name=first_name value=Mallory><input name=csrf value=guess>\
         <button id=go>go</button></form>",
        s.base
    );
    b.client.goto(&evil).await.unwrap();
    b.submit("#go").await;
    assert!(b.source().await.contains("Request refused"));
    b.shot("csrf-refused").await;
    assert_eq!(&*s.app.deputy().snapshot().principal(s.demo.jane).unwrap().first_name, "Jane");
}

/// Every page, for every kind of caller: no server error ever, and nothing of Natural
/// Health's second admin Nora leaks to those who have no business there (R58, R59).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r58_r59_every_page_for_every_kind_of_principal_without_error_or_leak() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    let (d, m) = (s.app.deputy().clone(), s.demo.clone());
    tokio::task::spawn_blocking(move || {
        // S4: the provider's admin gives Ann `viewer` in the law firm.
        let viewer = d.snapshot().catalog.role_id("viewer").unwrap();
        d.execute(deputy_core::Actor::at_home(m.provider_admin), None, |tx| {
            tx.give_partner_role(
                m.ann,
                deputy_core::Scope::Client { client: m.law_firm },
                viewer,
                None,
            )
        })
        .unwrap();
    })
    .await
    .unwrap();
    let (nh, nora, jim) = (s.demo.natural_health, s.demo.nh_second_admin, s.demo.jim);
    let pages = [
        "/".to_owned(),
        "/profile".to_owned(),
        "/password".to_owned(),
        "/logons".to_owned(),
        format!("/logons/{jim}"),
        "/users".to_owned(),
        format!("/users?tenant={nh}"),
        format!("/users/{nora}"),
        format!("/impersonate/{nora}"),
        "/activity".to_owned(),
        format!("/activity?tenant={nh}"),
        format!("/activity?principal={nora}"),
        "/switch".to_owned(),
        "/tenants".to_owned(),
        format!("/tenants?tenant={nh}"),
        "/partners".to_owned(),
        "/partners?tab=received".to_owned(),
        "/customers".to_owned(),
        "/logons/customers".to_owned(),
        "/logons/groups".to_owned(),
        "/outbox".to_owned(),
        "/forgot-password".to_owned(),
        "/invitation/not-a-token".to_owned(),
        "/reset/not-a-token".to_owned(),
        "/sign-in".to_owned(),
    ];
    // Public pages answer everyone; the others send the anonymous to sign in.
    let public = ["/forgot-password", "/invitation/", "/reset/", "/sign-in"];
    // (who, how to become it, whether Nora is their business)
    let callers: [(&str, &str, bool); 7] = [
        ("anonymous", "", false),
        ("admin of the tenant", "jane", true),
        ("admin of another tenant", "firm-admin", false),
        ("secondary logon limited to another tenant", "jim", false),
        ("partner user at home", "ann", false),
        ("partner user switched", "ann>law-firm", false),
        ("impersonator of an outsider", "operator>florist-admin", false),
    ];
    for (n, (who, how, insider)) in callers.iter().enumerate() {
        if !how.is_empty() {
            let (logon, then) = how.split_once('>').unwrap_or((how, ""));
            b.sign_in(logon).await;
            if then == "law-firm" {
                b.goto("/switch").await;
                b.click(&format!("input[value='{}']", s.demo.law_firm)).await;
                b.click_text("Switch").await;
                assert!(b.source().await.contains("You now act in"), "{who}: {}", b.source().await);
            } else if !then.is_empty() {
                let target = s.app.deputy().snapshot().principal_by_logon(then).unwrap();
                b.goto(&format!("/impersonate/{target}")).await;
                b.fill("#reason", "crawl").await;
                b.click_text("Start impersonating").await;
                assert!(b.has(".banner").await, "{who} impersonates");
            }
        }
        for page in &pages {
            b.goto(page).await;
            let html = b.source().await;
            assert!(
                !html.contains("Internal error") && !html.contains("the server failed"),
                "{who}: {page} failed"
            );
            assert!(!html.contains("<script"), "{who}: {page} needs no JavaScript");
            // Every control has a label (or an aria-label) a screen reader can announce.
            let unlabelled = b
                .client
                .execute(
                    "return Array.from(document.querySelectorAll(\
                     'input:not([type=hidden]), select, textarea'))\
                     .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))\
                     .map(e => e.name);",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(unlabelled, serde_json::json!([]), "{who}: {page} has unlabelled controls");
            if public.iter().any(|p| page.starts_with(p)) {
                assert!(html.contains("<form"), "{who}: {page} is public");
            } else if how.is_empty() {
                assert_eq!(b.path().await, "/sign-in", "{who}: {page} needs a sign-in");
            } else if !insider {
                assert!(
                    !html.contains("nora@example.com") && !html.contains("Nora"),
                    "{who}: {page} shows Nora"
                );
            }
            // Jane's view of every page, and the public pages as anyone sees them.
            if n == 1 || (n == 0 && public.iter().any(|p| page.starts_with(p))) {
                let name = page.trim_start_matches('/').replace(['/', '?', '='], "-");
                let name = if name.is_empty() { "home" } else { &name };
                b.shot(&format!("crawl-{}-{name}", if n == 0 { "anonymous" } else { "jane" }))
                    .await;
            }
        }
        if *insider {
            b.goto(&format!("/users?tenant={nh}")).await;
            assert!(b.source().await.contains("nora@example.com"), "{who} sees Nora");
        }
        if !how.is_empty() {
            b.goto("/profile").await;
            b.click_text("Sign out").await;
            assert_eq!(b.path().await, "/sign-in", "{who} signs out: {}", b.source().await);
        }
    }
}

/// The portal refuses what the API refuses, with the API's words (S2, R6).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r6_r59_removing_ones_own_admin_role_is_refused_as_the_api_refuses_it() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    let jane = s.demo.jane;
    let admin = s.app.deputy().snapshot().catalog.role_id("admin").unwrap();
    let assignment = s
        .app
        .deputy()
        .snapshot()
        .principal(jane)
        .unwrap()
        .assignments
        .iter()
        .find(|a| a.bundle == deputy_core::Bundle::Role(admin))
        .unwrap()
        .id;
    // The API's answer to the same action by the same principal.
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/v1/auth/sign-in", s.base))
        .json(&serde_json::json!({"logon": "jane", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api: serde_json::Value = http
        .delete(format!("{}/v1/principals/{jane}/assignments/{assignment}", s.base))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["rule"], "R6", "{api}");
    b.sign_in("jane").await;
    b.goto(&format!("/users/{jane}")).await;
    b.submit(&format!("form[action$='/roles/{assignment}/remove'] button")).await;
    // The preview (R67) already shows the refusal; were it not to, confirming would.
    if !b.has(".error").await {
        b.click_text("Remove role").await;
    }
    let shown = b.text(".error").await;
    let detail = api["detail"].as_str().unwrap();
    assert!(shown.to_lowercase().contains(&detail.to_lowercase()), "{shown} vs {detail}");
    b.shot("own-admin-role-refused").await;
    assert!(
        s.app
            .deputy()
            .snapshot()
            .principal(jane)
            .unwrap()
            .assignments
            .iter()
            .any(|a| a.id == assignment)
    );
}

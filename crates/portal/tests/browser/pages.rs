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
        d.execute(deputy_core::Actor::System, None, |tx| tx.set_status(jules, Status::Active, None))
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
    b.click("#go").await;
    assert!(b.source().await.contains("Request refused"));
    b.shot("csrf-refused").await;
    assert_eq!(&*s.app.deputy().snapshot().principal(s.demo.jane).unwrap().first_name, "Jane");
}

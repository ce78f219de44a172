//! Single-use links, sessions and keys that outlived what made them valid (R11–R13, R17,
//! R20, R24, R37a).

use crate::support::*;

/// Creates a user in `tenant` as `token`'s caller, with an invitation; its id.
async fn invited_user(s: &Server, token: &str, tenant: &str, logon: &str) -> String {
    let (status, body) = s
        .post(
            token,
            &format!("/v1/tenants/{tenant}/users"),
            json!({"logon": logon, "first_name": "In", "last_name": "Vited",
                   "email": format!("{logon}@example.com")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r11_r12_an_invited_user_cannot_be_activated_without_a_password_and_its_link_dies() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let root = s.demo.root.to_string();
    let id = invited_user(&s, &op, &root, "vic").await;
    let link = s.last_link("invitation").await;
    // The review's attack: an administrator activates the password-less user…
    let before = s.revision();
    let (status, body) =
        s.post(&op, &format!("/v1/principals/{id}/status"), json!({"status": "active"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["rule"], "R11");
    assert_eq!(s.revision(), before, "nothing changed");
    // …nor can it be deactivated while invited, so the old link cannot come back to life.
    let (status, _) =
        s.post(&op, &format!("/v1/principals/{id}/status"), json!({"status": "deactivated"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Cancelled, the invitation is dead, though unused and unexpired.
    let (status, _) = s.post(&op, &format!("/v1/principals/{id}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s
        .post("", "/v1/auth/invitations/accept", json!({"token": link, "password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["type"], "urn:deputy:problem:link-invalid");
    let (status, _) = s.try_sign_in("vic", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r12_an_invitation_is_accepted_only_while_invited_and_a_weak_password_keeps_it() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let id = invited_user(&s, &op, &s.demo.root.to_string(), "wendy").await;
    let link = s.last_link("invitation").await;
    let accept = |password: &'static str| {
        let link = link.clone();
        let s = &s;
        async move {
            s.post("", "/v1/auth/invitations/accept", json!({"token": link, "password": password}))
                .await
        }
    };
    // A refused password does not use the link up.
    let (status, _) = accept("short").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = accept(PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.status(id.parse().unwrap()), deputy_core::Status::Active);
    // Used: never again, also after a deactivation (the review's reactivation path).
    let (status, _) =
        s.post(&op, &format!("/v1/principals/{id}/status"), json!({"status": "deactivated"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = accept(PASSWORD).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.status(id.parse().unwrap()), deputy_core::Status::Deactivated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r13_r23_reset_links_and_sessions_die_at_any_status_change() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let jane = s.demo.jane.to_string();
    let session = s.sign_in(s.demo.jane).await;
    let (status, _) =
        s.post(&op, &format!("/v1/principals/{jane}/password-reset"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let link = s.last_link("reset").await;
    for to in ["deactivated", "active"] {
        let (status, body) =
            s.post(&op, &format!("/v1/principals/{jane}/status"), json!({"status": to})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Active again, as when the link was sent; it died with the changes all the same.
    let (status, body) = s
        .post(
            "",
            "/v1/auth/reset",
            json!({"token": link, "password": "an entirely new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = s.get(&session, "/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old session died too");
    s.sign_in(s.demo.jane).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r13_a_reset_link_works_once_and_only_for_an_active_principal() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let jane = s.demo.jane.to_string();
    let (status, _) =
        s.post(&op, &format!("/v1/principals/{jane}/password-reset"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let link = s.last_link("reset").await;
    let new = "an entirely new passphrase";
    let (status, body) =
        s.post("", "/v1/auth/reset", json!({"token": link, "password": new})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = s.post("", "/v1/auth/reset", json!({"token": link, "password": new})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.try_sign_in("jane", new).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r17_a_linked_logons_sessions_end_with_its_owners_password_change_and_reset() {
    let s = start().await;
    let jane = s.sign_in(s.demo.jane).await;
    let (status, body) = s
        .post(
            &jane,
            &format!("/v1/principals/{}/delegates", s.demo.jane),
            json!({"logon": "jane.linked", "first_name": "Jane", "last_name": "Linked",
                   "email": "jane.linked@example.com", "linked_password": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let linked =
        s.try_sign_in("jane.linked", PASSWORD).await.1["token"].as_str().unwrap().to_owned();
    assert_eq!(s.get(&linked, "/v1/me").await.0, StatusCode::OK);
    // The owner changes her password: the linked logon's session ends with hers.
    let changed = "a brand new owner passphrase";
    let (status, body) = s
        .post(
            &jane,
            "/v1/auth/password",
            json!({"current_password": PASSWORD, "new_password": changed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.get(&linked, "/v1/me").await.0, StatusCode::UNAUTHORIZED);
    // And by a reset.
    let linked =
        s.try_sign_in("jane.linked", changed).await.1["token"].as_str().unwrap().to_owned();
    let op = s.sign_in(s.demo.operator).await;
    let (status, _) =
        s.post(&op, &format!("/v1/principals/{}/password-reset", s.demo.jane), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let link = s.last_link("reset").await;
    let (status, _) = s
        .post("", "/v1/auth/reset", json!({"token": link, "password": "yet another passphrase"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&linked, "/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r24_an_api_key_cannot_expire_in_the_past() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let (status, body) = s
        .post(
            &op,
            &format!("/v1/tenants/{}/service-accounts", s.demo.root),
            json!({"name": "robot"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let account = body["id"].as_str().unwrap().to_owned();
    let now = s.app.deputy().now();
    for expires_at in [now - 1, now] {
        let (status, body) = s
            .post(
                &op,
                &format!("/v1/principals/{account}/api-keys"),
                json!({"name": "old", "expires_at": expires_at}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], "expires_at");
    }
    let (status, body) = s.get(&op, &format!("/v1/principals/{account}/api-keys")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().map(Vec::len), Some(0), "nothing was created: {body}");
    let (status, _) = s
        .post(
            &op,
            &format!("/v1/principals/{account}/api-keys"),
            json!({"name": "new", "expires_at": now + 60_000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r37a_an_access_code_dies_with_its_issuers_authority() {
    let s = start().await;
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    let (status, body) = s
        .post(
            &bakery_admin,
            &format!("/v1/tenants/{}/access-codes", s.demo.bakery),
            json!({"roles": ["tax-preparer"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let code = body["code"].as_str().unwrap().to_owned();
    let op = s.sign_in(s.demo.operator).await;
    let (status, _) = s
        .post(
            &op,
            &format!("/v1/principals/{}/status", s.demo.bakery_admin),
            json!({"status": "deactivated"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let redeemer = s.sign_in(s.demo.nh_second_admin).await;
    let before = s.revision();
    let (status, body) = s.post(&redeemer, "/v1/access-codes/redeem", json!({"code": code})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(s.revision(), before, "nothing was given");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r13_forgot_password_cannot_flood_a_mailbox() {
    let s = start_with(|auth, _| auth.mails_per_source = 5).await;
    for _ in 0..50 {
        let r = s
            .http
            .post(s.url("/v1/auth/forgot-password"))
            .json(&json!({"logon_or_email": "jane"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED, "the answer never changes");
    }
    let jane_email = s.app.deputy().snapshot().principal(s.demo.jane).unwrap().email.to_string();
    // The work runs after the answer: wait until it settles.
    let mut to_jane = 0;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        to_jane = s.mails().await.iter().filter(|(to, _)| *to == jane_email).count();
        if to_jane >= 3 {
            break;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(s.mails().await.iter().filter(|(to, _)| *to == jane_email).count(), 3);
    assert_eq!(to_jane, 3, "three per recipient per hour (R13)");
    // Per source: five mails from this address in the hour, whoever they go to.
    for logon in ["jim", "operator", "ann", "bakery-admin", "firm-admin", "nora"] {
        s.http
            .post(s.url("/v1/auth/forgot-password"))
            .json(&json!({"logon_or_email": logon}))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let resets = s.mails().await.iter().filter(|(_, body)| body.contains("/reset/")).count();
    assert!(resets <= 5, "{resets} reset mails from one address");
    // The hour passes: mail flows again.
    s.clock.fetch_add(3_600_000, std::sync::atomic::Ordering::SeqCst);
    let op = s.sign_in(s.demo.operator).await;
    let (status, body) =
        s.post(&op, &format!("/v1/principals/{}/password-reset", s.demo.jane), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r13_an_administrators_resets_are_limited_per_recipient_too() {
    let s = start().await;
    let op = s.sign_in(s.demo.operator).await;
    let path = format!("/v1/principals/{}/password-reset", s.demo.jane);
    for _ in 0..3 {
        assert_eq!(s.post(&op, &path, json!({})).await.0, StatusCode::ACCEPTED);
    }
    let r = s.http.post(s.url(&path)).bearer_auth(&op).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "urn:deputy:problem:too-many-mails");
}

//! Disclosure: what a caller may not see reads as if it did not exist (R58), and explain
//! names only what the caller may see (R52). Each test compares a real but unseen entity
//! with a missing one, or an unseen principal's denial with a plain lack of access.

use crate::support::*;
use deputy_core::{Actor, PrincipalId, Scope, Status, Target, TenantId};

/// The parts of a problem document that must not tell a real entity from a missing one.
fn shape(answer: &(StatusCode, Value)) -> (StatusCode, Value, Value, Value) {
    let (status, body) = answer;
    (*status, body["type"].clone(), body["field"].clone(), body["rule"].clone())
}

/// A problem's detail with the name the request gave replaced, to compare the rest.
fn detail(body: &Value, name: &str) -> String {
    body["detail"].as_str().unwrap_or_default().replace(name, "NAME")
}

/// Whether the engine lets `viewer` see `p` (the rule of every principal endpoint, R58).
fn visible(s: &Server, viewer: PrincipalId, p: PrincipalId) -> bool {
    let snapshot = s.app.deputy().snapshot();
    let principal = snapshot.principal(p).unwrap().clone();
    snapshot
        .decide(Actor::at_home(viewer), s.app.deputy().now(), |tx| {
            Ok(tx.visible_principal(&principal))
        })
        .unwrap()
        .output
}

/// Whether the engine lets `viewer` see tenant `t`: its home, `tenants.view` or `users.view`,
/// or `checks.read` there.
fn tenant_visible(s: &Server, viewer: PrincipalId, t: TenantId) -> bool {
    let snapshot = s.app.deputy().snapshot();
    let now = s.app.deputy().now();
    let checks_read = snapshot.catalog.permission_id("checks.read").unwrap();
    snapshot.decide(Actor::at_home(viewer), now, |tx| Ok(tx.can_see(t))).unwrap().output
        || snapshot
            .check(viewer, checks_read, Target::Tenant(t), deputy_core::Context::HOME, now)
            .unwrap()
            .is_allowed()
}

/// The status a batch's problem document reports for one of its checks.
fn batch_status(problem: &Value) -> StatusCode {
    problem["status"]
        .as_u64()
        .and_then(|n| StatusCode::from_u16(n as u16).ok())
        .unwrap_or(StatusCode::OK)
}

/// Runs a command as `actor` on the server's deployment.
async fn execute(
    s: &Server,
    actor: Actor,
    command: impl Fn(&mut deputy_core::Tx) -> Result<(), deputy_core::CommandError> + Send + 'static,
) {
    let d = s.app.deputy().clone();
    tokio::task::spawn_blocking(move || d.execute(actor, None, command).unwrap()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r52_explain_names_only_what_the_caller_may_see() {
    let s = start().await;
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    let hidden_ref = "a principal you cannot see";
    // Jim acts in the bakery through Jane, his owner, who the bakery's admin sees (she holds
    // a role there); Jim himself is none of the bakery's business.
    assert!(visible(&s, s.demo.bakery_admin, s.demo.jane));
    assert!(!visible(&s, s.demo.bakery_admin, s.demo.jim));
    let (status, allowed) = s
        .post(
            &bakery_admin,
            "/v1/explain",
            json!({"principal": "jim", "permission": "returns.file", "target": "resource:bakery-withholding"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{allowed}");
    assert_eq!(allowed["allowed"], true, "{allowed}");
    let path = &allowed["paths"][0];
    assert_eq!(path["holder"], json!(s.demo.jane.0), "the visible owner keeps its provenance");
    assert_eq!(path["through_delegates"], json!([hidden_ref]), "{allowed}");
    assert_eq!(path["assigned_by"], "system", "R69: provenance stays: {allowed}");
    let (_, denied) = s
        .post(
            &bakery_admin,
            "/v1/explain",
            json!({"principal": "jim", "permission": "returns.file", "target": "bakery"}),
        )
        .await;
    assert_eq!(denied["allowed"], false);
    assert!(!denied.to_string().contains("`jim`"), "{denied}");
    assert_eq!(denied["reason"], "a principal you cannot see has no path to `returns.file` here");

    // Every principal of the deployment, asked about by the bakery's admin: answered only
    // for those acting in the bakery, and never naming one it cannot see, nor a tenant.
    let snapshot = s.app.deputy().snapshot();
    let hidden_logons: Vec<String> = snapshot
        .principals()
        .filter(|p| !visible(&s, s.demo.bakery_admin, p.id))
        .map(|p| format!("`{}`", p.logon))
        .collect();
    let hidden_keys: Vec<String> = snapshot
        .tenants()
        .filter(|t| !tenant_visible(&s, s.demo.bakery_admin, t.id))
        .map(|t| format!("`{}`", t.key))
        .collect();
    assert!(hidden_logons.contains(&"`ann.lee`".to_owned()) && hidden_keys.len() > 3);
    let (_, missing) = s
        .post(
            &bakery_admin,
            "/v1/explain",
            json!({"principal": "p99999", "permission": "users.view", "target": "bakery"}),
        )
        .await;
    for p in snapshot.principals() {
        for permission in ["users.view", "returns.file"] {
            let id = p.id.to_string();
            let answer = s
                .post(
                    &bakery_admin,
                    "/v1/explain",
                    json!({"principal": id, "permission": permission, "target": "bakery"}),
                )
                .await;
            if answer.0 == StatusCode::NOT_FOUND {
                assert_eq!(shape(&answer), shape(&(StatusCode::NOT_FOUND, missing.clone())));
                assert_eq!(detail(&answer.1, &id), detail(&missing, "p99999"));
                continue;
            }
            assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
            let text = answer.1.to_string();
            for name in hidden_logons.iter().chain(&hidden_keys) {
                assert!(!text.contains(name.as_str()), "{id} {permission}: names {name}: {text}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r52_a_denial_for_an_unseen_principal_reads_as_a_plain_lack_of_access() {
    let s = start().await;
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    let ask =
        |target: &str| json!({"principal": "jim", "permission": "returns.file", "target": target});
    let answers = |target: &'static str| {
        let (s, token, body) = (&s, bakery_admin.clone(), ask(target));
        async move {
            let (_, checked) = s.post(&token, "/v1/check", body.clone()).await;
            let (_, explained) = s.post(&token, "/v1/explain", body).await;
            (
                checked["allowed"].clone(),
                checked["failed_step"].clone(),
                explained["failed_step"].clone(),
                explained["reason"].clone(),
            )
        }
    };
    // A plain lack of access: Jim is given Withholding only, not Sales & Use (S1).
    let plain = answers("resource:bakery-sales-use").await;
    assert_eq!(plain.0, false);
    assert_eq!(answers("resource:bakery-withholding").await.0, true);
    // Jim deactivated: the bakery's admin, who cannot see Jim, learns he is denied, not why.
    let jim = s.demo.jim;
    execute(&s, Actor::at_home(s.demo.jane), move |tx| {
        tx.set_status(jim, Status::Deactivated, None)
    })
    .await;
    assert_eq!(answers("resource:bakery-withholding").await, plain, "status stays hidden");
    assert_eq!(answers("resource:bakery-sales-use").await, plain);
    execute(&s, Actor::at_home(s.demo.jane), move |tx| tx.set_status(jim, Status::Active, None))
        .await;
    assert_eq!(answers("resource:bakery-withholding").await.0, true);
    // Natural Health, Jim's home, suspended: the same (R8's step 3 for his home).
    let nh = s.demo.natural_health;
    execute(&s, Actor::System, move |tx| tx.set_suspended(nh, true)).await;
    assert_eq!(answers("resource:bakery-withholding").await, plain, "suspension stays hidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r55_r58_check_endpoints_answer_an_unseen_principal_as_a_missing_one() {
    let s = start().await;
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    // The florist's admin is real, but has nothing to do with the bakery.
    assert!(!visible(&s, s.demo.bakery_admin, s.demo.florist_admin));
    let florist_admin = s.demo.florist_admin.to_string();
    let asks = |principal: &str| {
        let check = json!({"principal": principal, "permission": "users.view", "target": "bakery"});
        vec![
            ("/v1/check", check.clone()),
            ("/v1/explain", check.clone()),
            ("/v1/lookup/resources", json!({"principal": principal, "permission": "users.view"})),
            (
                "/v1/check",
                json!({"principal": "jane", "permission": "returns.view", "target": "bakery", "impersonator": principal}),
            ),
            ("/v1/check/batch", json!({"checks": [check]})),
        ]
    };
    for (real, missing) in [("florist-admin", "no-such-logon"), (florist_admin.as_str(), "p99999")]
    {
        for ((path, real_body), (_, missing_body)) in asks(real).into_iter().zip(asks(missing)) {
            let mut a = s.post(&bakery_admin, path, real_body).await;
            let mut b = s.post(&bakery_admin, path, missing_body).await;
            if path == "/v1/check/batch" {
                // Each check of a batch answers on its own, with the problem it would get.
                for answer in [&mut a, &mut b] {
                    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
                    let error = answer.1["results"][0]["error"].clone();
                    *answer = (batch_status(&error), error);
                }
            }
            assert_eq!(a.0, StatusCode::NOT_FOUND, "{path} {real}: {}", a.1);
            assert_eq!(shape(&a), shape(&b), "{path} {real}: {} vs {}", a.1, b.1);
            assert_eq!(detail(&a.1, real), detail(&b.1, missing), "{path}");
        }
    }
    // A tenant to be switched into that the caller cannot see is as missing as a typo.
    let switched = |tenant: &str| json!({"principal": "jane", "permission": "returns.view", "target": "bakery", "switched_into": tenant});
    let a = s.post(&bakery_admin, "/v1/check", switched("florist")).await;
    let b = s.post(&bakery_admin, "/v1/check", switched("no-such-tenant")).await;
    assert_eq!(shape(&a), shape(&b), "{} vs {}", a.1, b.1);
    assert_eq!(detail(&a.1, "florist"), detail(&b.1, "no-such-tenant"));
    // Principals acting in the bakery are answered: a member, Jane (a role there), and Jim,
    // her secondary logon, whom the bakery's admin cannot see.
    for principal in ["bakery-admin", "jane", "jim"] {
        for (path, body) in asks(principal).into_iter().take(3) {
            let (status, answer) = s.post(&bakery_admin, path, body).await;
            assert_eq!(status, StatusCode::OK, "{path} {principal}: {answer}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r58_check_endpoints_answer_about_partner_users_acting_in_the_tenant() {
    let s = start().await;
    let firm_admin = s.sign_in(s.demo.firm_admin).await;
    // The provider gives Ann `viewer` for the law firm through its grant (S4).
    let viewer = s.app.deputy().snapshot().catalog.role_id("viewer").unwrap();
    let (ann, firm) = (s.demo.ann, s.demo.law_firm);
    let client = Scope::Client { client: firm };
    execute(&s, Actor::at_home(s.demo.provider_admin), move |tx| {
        tx.give_partner_role(ann, client, viewer, None).map(|_| ())
    })
    .await;
    // The firm's admin cannot see Ann (she is the provider's), yet checks her in the firm.
    assert!(!visible(&s, s.demo.firm_admin, ann));
    let view = json!({"principal": "ann", "permission": "matters.view", "target": "resource:matter-1042", "switched_into": "law-firm"});
    let (status, answer) = s.post(&firm_admin, "/v1/check", view.clone()).await;
    assert_eq!((status, answer["allowed"].clone()), (StatusCode::OK, json!(true)), "{answer}");
    let (status, found) = s
        .post(
            &firm_admin,
            "/v1/lookup/resources",
            json!({"principal": "ann", "permission": "matters.view", "switched_into": "law-firm"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let keys: Vec<(&str, &str)> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["type"].as_str().unwrap(), t["key"].as_str().unwrap()))
        .collect();
    assert_eq!(keys, [("tenant", "law-firm"), ("resource", "matter-1042")]);
    let (status, why) = s.post(&firm_admin, "/v1/explain", view.clone()).await;
    assert_eq!(status, StatusCode::OK, "{why}");
    assert!(!why.to_string().contains("`ann`"), "{why}");
    // Revoked, the grant still ties Ann to the firm: her check is denied, not "not found".
    let grant = s.demo.firm_grant;
    execute(&s, Actor::at_home(s.demo.firm_admin), move |tx| tx.revoke_grant(grant)).await;
    let (status, answer) = s.post(&firm_admin, "/v1/check", view).await;
    assert_eq!((status, answer["allowed"].clone()), (StatusCode::OK, json!(false)), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r48_r58_an_impersonator_gets_404_for_an_unseen_id_as_for_a_missing_one() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let (status, session) = s
        .post(
            &operator,
            "/v1/session/impersonate",
            json!({"target": "jane", "reason": "disclosure test"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let acting = session["token"].as_str().unwrap().to_owned();
    // Acting as Jane: the florist's admin and the florist are none of her business.
    let asks = |principal: &str, target: &str| {
        let check = json!({"principal": principal, "permission": "users.view", "target": target});
        vec![
            ("/v1/check", check.clone()),
            ("/v1/explain", check.clone()),
            ("/v1/lookup/resources", json!({"principal": principal, "permission": "users.view"})),
            ("/v1/lookup/subjects", json!({"target": target, "permission": "users.view"})),
        ]
    };
    for ((real_p, real_t), (missing_p, missing_t)) in [
        (("florist-admin", "natural-health"), ("no-such-logon", "natural-health")),
        (("jane", "florist"), ("jane", "no-such-tenant")),
    ] {
        let pairs = asks(real_p, real_t).into_iter().zip(asks(missing_p, missing_t));
        for ((path, real), (_, missing)) in pairs {
            if path == "/v1/lookup/resources" && real_p == missing_p {
                continue;
            }
            if path == "/v1/lookup/subjects" && real_t == missing_t {
                continue;
            }
            let a = s.post(&acting, path, real).await;
            let b = s.post(&acting, path, missing).await;
            assert_eq!(a.0, StatusCode::NOT_FOUND, "{path} {real_p} {real_t}: {}", a.1);
            assert_eq!(shape(&a), shape(&b), "{path}: {} vs {}", a.1, b.1);
        }
    }
    // What Jane may see is answered while impersonating her (never beyond either, R48).
    let (status, answer) = s
        .post(
            &acting,
            "/v1/check",
            json!({"principal": "nora", "permission": "users.view", "target": "natural-health"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r46_r58_new_account_wizards_answer_404_for_a_tenant_the_caller_cannot_see() {
    let s = start().await;
    let bakery_admin = s.sign_in(s.demo.bakery_admin).await;
    let body = json!({"key": "mallory-co", "name": "Mallory"});
    // DataCo (a partner), Acme (its client) and Natural Health are none of the bakery's
    // business: each wizard answers as for a tenant that does not exist.
    for wizard in ["customers", "sub-accounts", "parent-account"] {
        for real in ["dataco", "acme", "natural-health"] {
            let a =
                s.post(&bakery_admin, &format!("/v1/tenants/{real}/{wizard}"), body.clone()).await;
            let b = s
                .post(&bakery_admin, &format!("/v1/tenants/no-such-tenant/{wizard}"), body.clone())
                .await;
            assert_eq!(a.0, StatusCode::NOT_FOUND, "{wizard} {real}: {}", a.1);
            assert_eq!(shape(&a), shape(&b), "{wizard} {real}: {} vs {}", a.1, b.1);
            assert_eq!(detail(&a.1, real), detail(&b.1, "no-such-tenant"));
        }
    }
    // Only once the tenant is visible may the answer be a refusal: the bakery is not a
    // partner (R46), and it is no client of the bakery's admin.
    let (status, refused) =
        s.post(&bakery_admin, "/v1/tenants/bakery/customers", body.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let (status, refused) = s.post(&bakery_admin, "/v1/tenants/bakery/sub-accounts", body).await;
    assert!(status == StatusCode::FORBIDDEN || status == StatusCode::CONFLICT, "{refused}");
    assert_eq!(s.app.deputy().snapshot().tenant_by_key("mallory-co"), None, "nothing created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r48_r58_an_impersonating_session_is_told_404_before_it_is_told_403() {
    let s = start().await;
    let operator = s.sign_in(s.demo.operator).await;
    let (status, session) = s
        .post(
            &operator,
            "/v1/session/impersonate",
            json!({"target": "jane", "reason": "disclosure test"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let acting = session["token"].as_str().unwrap().to_owned();
    // Impersonation does not chain and does not switch (R48) — but a principal or tenant
    // Jane cannot see is first of all not there, exactly like one that does not exist.
    for (path, real, missing) in [
        (
            "/v1/session/impersonate",
            json!({"target": "florist-admin", "reason": "x"}),
            json!({"target": "no-such-logon", "reason": "x"}),
        ),
        ("/v1/session/switch", json!({"tenant": "law-firm"}), json!({"tenant": "no-such-tenant"})),
    ] {
        let a = s.post(&acting, path, real).await;
        let b = s.post(&acting, path, missing).await;
        assert_eq!(a.0, StatusCode::NOT_FOUND, "{path}: {}", a.1);
        assert_eq!(shape(&a), shape(&b), "{path}: {} vs {}", a.1, b.1);
    }
    // Someone she may see: now the refusal is the rule's.
    let (status, body) =
        s.post(&acting, "/v1/session/impersonate", json!({"target": "nora", "reason": "x"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["rule"], "R48");
}

//! Scenarios S2–S4 (SPEC §11) done entirely by clicking and typing in the portal.

use super::harness::{Browser, browser, server};
use deputy_core::{Context, Target};

/// Switches the session into the tenant named `name` from the user menu (R43).
async fn switch_into(b: &Browser, tenant: deputy_core::TenantId) {
    b.goto("/switch").await;
    b.click(&format!("input[name=tenant][value='{tenant}']")).await;
    b.click_text("Switch").await;
    assert!(b.text(".notice").await.contains("You now act in"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_backup_portal_wizard_ranks_and_impersonation_by_clicking() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    b.sign_in("sitm").await;
    // The senior IT manager acts in the customer's parent account through the grant.
    switch_into(&b, s.demo.customer_parent).await;
    b.click_text("Tenants").await;
    b.shot("s3-tenants-globex").await;
    b.click("input[name=kind][value=sub-account]").await;
    b.fill("#key", "globex-eu").await;
    b.fill("#name", "Globex EU").await;
    b.click_text("Next: its first user").await;
    assert!(b.text(".notice").await.contains("Now add its first user"));
    let eu = s.app.deputy().snapshot().tenant_by_key("globex-eu").unwrap();
    assert_eq!(s.app.deputy().snapshot().tenant(eu).unwrap().parent, Some(s.demo.customer_parent));
    assert!(b.text(".usermenu .acting").await.contains("Globex EU"), "R46: it acts there now");
    // Step two: the first user, with a generated password it must change (R14).
    b.fill("#logon", "eu-admin").await;
    b.fill("#first_name", "Eve").await;
    b.fill("#last_name", "Europe").await;
    b.fill("#email", "eve@example.com").await;
    b.fill("#confirm_email", "eve@example.com").await;
    b.click("input[name=password_mode][value=generate]").await;
    // Roles up to its own rank (R27, R29): senior-manager (90) is not offered.
    let offered = b.source().await;
    assert!(offered.contains("value=\"senior-it-manager\""));
    assert!(!offered.contains("value=\"senior-manager\""));
    b.click("input[name=roles][value=customer-service]").await;
    b.shot("s3-first-user-form").await;
    b.click_text("Add user").await;
    let generated = b.text("#generated").await;
    assert!(generated.len() >= 12, "a generated password is shown once");
    b.shot("s3-generated-password").await;
    // A forged form giving senior-manager is refused by the same rule the API applies.
    b.goto(&format!("/users?tenant={eu}")).await;
    b.fill("#logon", "eu-second").await;
    b.fill("#first_name", "Sid").await;
    b.fill("#last_name", "Second").await;
    b.fill("#email", "sid@example.com").await;
    b.fill("#confirm_email", "sid@example.com").await;
    b.client
        .execute(
            "const c = document.querySelector('input[name=roles]'); \
             c.value = 'senior-manager'; c.checked = true;",
            vec![],
        )
        .await
        .unwrap();
    b.click_text("Add user").await;
    let refused = b.text(".error").await;
    assert!(refused.contains("senior-manager"), "{refused}");
    assert!(s.app.deputy().snapshot().principal_by_logon("eu-second").is_none());
    // It cannot modify a senior manager, who outranks it (R28).
    switch_into(&b, s.app.deputy().snapshot().principal(s.demo.sitm).unwrap().home).await;
    b.goto(&format!("/users/{}", s.demo.senior_manager)).await;
    b.click_text("Deactivate").await;
    assert!(b.has(".error").await, "refused before any preview rows");
    b.shot("s3-senior-manager-refused").await;
    // It impersonates a customer-service account of the customer, then stops (R48, R49).
    switch_into(&b, s.demo.customer_parent).await;
    b.goto(&format!("/impersonate/{}", s.demo.customer_service)).await;
    b.fill("#reason", "ticket 77").await;
    b.click_text("Start impersonating").await;
    assert!(b.text(".banner").await.contains("Cora"));
    b.shot("s3-impersonating").await;
    b.click_text("Stop impersonating").await;
    assert!(!b.has(".banner").await);
    b.sign_out().await;
    // The new user must choose a password before anything else (R14).
    b.goto("/sign-in").await;
    b.fill("#logon", "eu-admin").await;
    b.fill("#password", &generated).await;
    b.click_text("Sign in").await;
    assert_eq!(b.path().await, "/password");
    b.goto("/users").await;
    assert_eq!(b.path().await, "/password", "nothing else until it is changed");
    b.fill("#current_password", &generated).await;
    b.fill("#new_password", "a brand new passphrase").await;
    b.fill("#confirm_password", "a brand new passphrase").await;
    b.click_text("Change password").await;
    assert!(b.text(".notice").await.contains("password was changed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s4_legal_tech_grant_partner_roles_switch_and_revoke_by_clicking() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    let (ann, matter, firm) = (s.demo.ann, s.demo.matter, s.demo.law_firm);
    let check = |perm: &str| {
        let snap = s.app.deputy().snapshot();
        let x = snap.catalog.permission_id(perm).unwrap();
        snap.check(ann, x, Target::Resource(matter), Context::switched(firm), s.app.deputy().now())
            .unwrap()
            .is_allowed()
    };
    // The firm sees the provider's access and its ceiling (R42).
    b.sign_in("firm-admin").await;
    b.click_text("Partner Access").await;
    let granted = b.source().await;
    assert!(granted.contains("paralegal, viewer"), "the ceiling is shown: {granted}");
    b.shot("s4-grant-access").await;
    b.sign_out().await;
    // The provider's admin gives Ann only viewer in that firm (R41).
    b.sign_in("provider-admin").await;
    b.click_text("Partner Access").await;
    b.click_text("Access Received").await;
    b.shot("s4-access-received").await;
    b.click_text("Manage Access").await;
    let ann_option = format!("select#user option[value='{ann}']");
    b.click(&ann_option).await;
    b.click("select#role option[value=viewer]").await;
    b.click_text("Give access").await;
    assert!(b.text(".notice").await.contains("viewer"));
    b.shot("s4-manage-access").await;
    b.sign_out().await;
    // Ann switches into the firm: she may view matters, not edit them (R43).
    b.sign_in("ann").await;
    switch_into(&b, firm).await;
    assert!(b.text(".usermenu .acting").await.contains("Switched into"));
    assert!(check("matters.view") && !check("matters.edit"));
    b.sign_out().await;
    // Narrowing the ceiling is previewed (R67): Ann's viewer role would fall outside it.
    b.sign_in("firm-admin").await;
    b.click_text("Partner Access").await;
    b.click_text("Change").await;
    for role in ["paralegal", "viewer", "tax-preparer"] {
        b.click(&format!("input[name=ceiling][value='{role}']")).await;
    }
    b.click_text("Review the change").await;
    let narrowing = b.source().await;
    assert!(narrowing.contains("matters.view") && narrowing.contains("Ann"), "{narrowing}");
    b.shot("s4-narrow-preview").await;
    b.click_text("Cancel").await;
    assert!(check("matters.view"), "a preview commits nothing");
    // The firm revokes the grant, seeing first who loses what (R67); Ann's access ends (R40).
    b.goto("/partners").await;
    b.click_text("Revoke").await;
    let preview = b.source().await;
    assert!(preview.contains("matters.view") && preview.contains("Ann"), "{preview}");
    b.shot("s4-revoke-preview").await;
    assert!(check("matters.view"), "nothing changed before the confirmation");
    b.click_text("Revoke access").await;
    assert!(b.text(".notice").await.contains("revoked"));
    assert!(!check("matters.view"));
}

/// The newest link to `path_prefix` mailed to `recipient`, as a path on the server.
fn mailed_link(s: &super::harness::Server, recipient: &str, path_prefix: &str) -> String {
    use deputy_store::secrets::SecretStore;
    let mails = s.app.deputy().store().outbox(0, 1000).unwrap();
    let mail = mails.iter().rev().find(|m| m.recipient == recipient).unwrap();
    let at = mail.body.find(path_prefix).unwrap();
    mail.body[at..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s1_tax_portal_secondary_logon_groups_kinds_and_cascades_by_clicking() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    let m = s.demo.clone();
    let can = |p: deputy_core::PrincipalId, perm: &str, target: Target| {
        let snap = s.app.deputy().snapshot();
        let x = snap.catalog.permission_id(perm).unwrap();
        snap.check(p, x, target, Context::HOME, s.app.deputy().now()).unwrap().is_allowed()
    };
    // Jane creates a secondary logon; it gets a set-password e-mail (R34, R12).
    b.sign_in("jane").await;
    b.click_text("Manage Secondary Logons").await;
    b.fill("#logon", "jimmy").await;
    b.fill("#first_name", "Jimmy").await;
    b.fill("#last_name", "Doe").await;
    b.fill("#email", "jimmy@example.com").await;
    b.fill("#confirm_email", "jimmy@example.com").await;
    b.click_text("Create secondary logon").await;
    let jimmy = s.app.deputy().snapshot().principal_by_logon("jimmy").unwrap();
    assert_eq!(
        s.app.deputy().snapshot().principal(jimmy).unwrap().status,
        deputy_core::Status::Invited
    );
    // A group of her own for the other client, then the payroll client's kinds.
    b.click_text("Security Groups").await;
    b.fill("#name", "Retail clients").await;
    b.click_text("Create group").await;
    b.shot("s1-security-groups").await;
    b.click_text("Customer Security").await;
    let retail = s
        .app
        .deputy()
        .snapshot()
        .groups_of(deputy_core::GroupOwner::User(m.jane))
        .find(|g| g.name == "Retail clients")
        .unwrap()
        .id;
    b.click(&format!("select#to-{} option[value='{retail}']", m.florist)).await;
    b.submit(&format!("form:has(select#to-{}) button", m.florist)).await;
    assert!(b.source().await.contains("Move to another group?"), "a preview comes first");
    b.shot("s1-move-preview").await;
    b.click_text("Move").await;
    assert!(b.text(".notice").await.contains("Moved"));
    b.shot("s1-customer-security").await;
    // Jimmy sets his password from the mailed link (R12: the first sign-in page).
    b.sign_out().await;
    let link = mailed_link(&s, "jimmy@example.com", "/invitation/");
    b.goto(&link).await;
    b.shot("s1-first-sign-in").await;
    b.fill("#password", "a kestrel over the moor at dawn").await;
    b.fill("#confirm_password", "a kestrel over the moor at dawn").await;
    b.click_text("Set password").await;
    assert!(b.text(".notice").await.contains("Welcome"));
    assert!(s.app.deputy().snapshot().principal(jimmy).unwrap().email_verified);
    b.sign_out().await;
    // Jane limits Jimmy to "Payroll clients" and the kind Withholding (R38).
    b.sign_in("jane").await;
    b.goto(&format!("/logons/{jimmy}")).await;
    b.click("input[name=scope][value=groups]").await;
    b.click(&format!("input[name=groups][value='{}']", m.payroll_group)).await;
    b.click("input[name=kind_scope][value=kinds]").await;
    b.click("input[name=kinds][value=Withholding]").await;
    b.click_text("Save access").await;
    assert!(b.text(".notice").await.contains("Access saved"));
    // Its settings are its owner's to change too (R34).
    b.fill("#last_name", "Payroll").await;
    b.click_text("Save settings").await;
    assert!(b.text(".notice").await.contains("Settings saved"));
    assert_eq!(&*s.app.deputy().snapshot().principal(jimmy).unwrap().last_name, "Payroll");
    assert!(b.source().await.contains("Limited"));
    b.shot("s1-change-access").await;
    for perm in ["returns.view", "returns.file", "payments.make"] {
        assert!(can(jimmy, perm, Target::Resource(m.bakery_withholding)), "{perm}");
        assert!(!can(jimmy, perm, Target::Resource(m.bakery_sales)), "{perm} on Sales & Use");
        assert!(!can(jimmy, perm, Target::Tenant(m.bakery)), "{perm} on the business");
        assert!(!can(jimmy, perm, Target::Resource(m.florist_withholding)), "{perm} elsewhere");
    }
    b.sign_out().await;
    // The payroll client's admin removes Jane's role: Jimmy loses it at once (R35).
    b.sign_in("bakery-admin").await;
    b.goto(&format!("/users/{}", m.jane)).await;
    b.shot("s1-jane-seen-by-bakery").await;
    let role = s
        .app
        .deputy()
        .snapshot()
        .principal(m.jane)
        .unwrap()
        .assignments
        .iter()
        .find(
            |a| matches!(a.scope, deputy_core::Scope::Tenant { tenant, .. } if tenant == m.bakery),
        )
        .unwrap()
        .id;
    b.submit(&format!("form[action$='/roles/{role}/remove'] button")).await;
    assert!(b.source().await.contains("returns.file"), "the preview names the loss");
    b.click_text("Remove role").await;
    assert!(b.text(".notice").await.contains("Role removed"));
    assert!(!can(jimmy, "returns.file", Target::Resource(m.bakery_withholding)));
    b.sign_out().await;
    // The operator cancels Jane (Natural Health keeps Nora): her secondary logons go too.
    b.sign_in("operator").await;
    b.goto(&format!("/users/{}", m.jane)).await;
    b.click_text("Cancel account").await;
    b.shot("s1-cancel-preview").await;
    b.click_text("Cancel account").await;
    assert!(b.text(".notice").await.contains("cancelled"));
    let snap = s.app.deputy().snapshot();
    assert_eq!(snap.principal(jimmy).unwrap().status, deputy_core::Status::Cancelled);
    assert_eq!(snap.principal(m.jim).unwrap().status, deputy_core::Status::Cancelled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s2_data_platform_contact_invitations_requirements_entitlements_by_clicking() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    let (acme, alice) = (s.demo.acme, s.demo.acme_first);
    // The first user of Acme is its contact person and admin (R4, R7).
    b.sign_in("acme-admin").await;
    b.click_text("Admin → Users").await;
    let row = b.text(&format!("a[href='/users/{alice}']")).await;
    assert!(row.contains("Alice"));
    assert!(b.has("img.crown").await && b.source().await.contains("contact person"));
    // Bob is added without an invitation (pending), and invited later (R10–R12).
    b.fill("#logon", "bob").await;
    b.fill("#first_name", "Bob").await;
    b.fill("#last_name", "Builder").await;
    b.fill("#email", "bob@example.com").await;
    b.fill("#confirm_email", "bob@example.com").await;
    b.click("input[name=send_invitation]").await;
    b.click_text("Add user").await;
    let bob = s.app.deputy().snapshot().principal_by_logon("bob").unwrap();
    assert_eq!(
        s.app.deputy().snapshot().principal(bob).unwrap().status,
        deputy_core::Status::Pending
    );
    b.click_text("Send Invitation").await;
    assert!(b.text(".notice").await.contains("sent"));
    assert_eq!(
        s.app.deputy().snapshot().principal(bob).unwrap().status,
        deputy_core::Status::Invited
    );
    // A permission requiring another cannot be given alone (R26).
    b.click("select#permission option[value='users.create']").await;
    b.click_text("Give permission").await;
    assert!(b.text(".error").await.contains("users.view"));
    b.shot("s2-requirement-refused").await;
    // Alice cannot remove her own admin role (R6).
    let admin_role = s.app.deputy().snapshot().catalog.role_id("admin").unwrap();
    let own = s
        .app
        .deputy()
        .snapshot()
        .principal(alice)
        .unwrap()
        .assignments
        .iter()
        .find(|a| a.bundle == deputy_core::Bundle::Role(admin_role))
        .unwrap()
        .id;
    b.goto(&format!("/users/{alice}")).await;
    b.submit(&format!("form[action$='/roles/{own}/remove'] button")).await;
    assert!(b.text(".error").await.to_lowercase().contains("own admin role"));
    // Bob gets read-only; the operator switches the company-level reports.view off (R3).
    b.goto(&format!("/users/{bob}")).await;
    b.click("select#role option[value='read-only']").await;
    b.click_text("Give role").await;
    assert!(b.text(".notice").await.contains("read-only"));
    b.sign_out().await;
    let d = s.app.deputy().clone();
    tokio::task::spawn_blocking(move || {
        d.execute(deputy_core::Actor::System, None, |tx| tx.password_set(bob))
    })
    .await
    .unwrap()
    .unwrap();
    let reports = |s: &super::harness::Server| {
        let snap = s.app.deputy().snapshot();
        let x = snap.catalog.permission_id("reports.view").unwrap();
        snap.check(bob, x, Target::Tenant(acme), Context::HOME, s.app.deputy().now())
            .unwrap()
            .is_allowed()
    };
    assert!(reports(&s));
    b.sign_in("operator").await;
    b.goto(&format!("/tenants?tenant={acme}")).await;
    b.click("input[name=permissions][value='reports.view']").await;
    b.click_text("Save company-level permissions").await;
    assert!(b.text(".notice").await.contains("saved"));
    b.shot("s2-entitlements").await;
    assert!(!reports(&s), "inert while the company lacks it");
    b.click("input[name=permissions][value='reports.view']").await;
    b.click_text("Save company-level permissions").await;
    assert!(reports(&s), "revived with it");
    // Suspension (R8) from the same page: nothing is deleted, and it lifts again.
    b.click_text("Suspend").await;
    assert!(b.text(".notice").await.contains("suspended"), "{}", b.source().await);
    assert!(!reports(&s), "nobody has any permission in a suspended tenant");
    b.click_text("Lift the suspension").await;
    assert!(reports(&s), "lifted: the same access again");
    b.sign_out().await;
    // The partner's customer manager, switched into Acme, adds a user there (R45) …
    b.sign_in("carla").await;
    switch_into(&b, acme).await;
    b.click_text("Admin → Users").await;
    b.fill("#logon", "acme-new").await;
    b.fill("#first_name", "Nia").await;
    b.fill("#last_name", "New").await;
    b.fill("#email", "nia@example.com").await;
    b.fill("#confirm_email", "nia@example.com").await;
    b.click_text("Add user").await;
    assert!(b.text(".notice").await.contains("acme-new"));
    // … but not in its own company, where customer-manager gives nothing (R30).
    switch_into(&b, s.demo.dataco).await;
    b.goto(&format!("/users?tenant={}", s.demo.dataco)).await;
    assert!(!b.source().await.contains("Add User"));
    b.shot("s2-carla-at-home").await;
}

/// R41: a partner gives a role through one of its security groups; it holds in every
/// client of the group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r41_partner_roles_through_a_security_group_by_clicking() {
    let s = server().await;
    let Some(b) = browser(&s).await else { return };
    let (ann, firm) = (s.demo.ann, s.demo.law_firm);
    b.sign_in("provider-admin").await;
    b.goto("/partners?tab=received").await;
    b.click("summary").await;
    b.fill("#group_name", "Litigation").await;
    b.click_text("Create group").await;
    assert!(b.text(".notice").await.contains("Litigation"));
    let group = s
        .app
        .deputy()
        .snapshot()
        .groups_of(deputy_core::GroupOwner::Tenant(s.demo.provider))
        .find(|g| g.name == "Litigation")
        .unwrap()
        .id;
    b.click("summary").await;
    b.click(&format!("select#pg-{firm} option[value='{group}']")).await;
    b.submit(&format!("form:has(select#pg-{firm}) button")).await;
    assert!(b.source().await.contains("Move to another group?"), "previewed first");
    b.click_text("Move").await;
    assert!(b.text(".notice").await.contains("Moved"));
    b.click_text("Manage Access").await;
    b.click(&format!("input[name=through][value='{group}']")).await;
    b.click(&format!("select#user option[value='{ann}']")).await;
    b.click("select#role option[value=viewer]").await;
    b.click_text("Give access").await;
    assert!(b.text(".notice").await.contains("viewer"));
    b.shot("r41-group-access").await;
    let snap = s.app.deputy().snapshot();
    let given = snap
        .principal(ann)
        .unwrap()
        .assignments
        .iter()
        .any(|a| matches!(a.scope, deputy_core::Scope::Group { group: g } if g == group));
    assert!(given, "the role is scoped to the group");
    let x = snap.catalog.permission_id("matters.view").unwrap();
    let allowed = snap
        .check(
            ann,
            x,
            Target::Resource(s.demo.matter),
            Context::switched(firm),
            s.app.deputy().now(),
        )
        .unwrap()
        .is_allowed();
    assert!(allowed, "it holds in the group's client");
}

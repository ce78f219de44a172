//! One test (or more) per rule of SPEC.md that the engine enforces, named after the rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use deputy_core::commands::partners::GrantTerms;
use deputy_core::commands::resources::NewResource;
use deputy_core::commands::roles::NewAssignment;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::*;
use support::*;

fn home(p: PrincipalId) -> Actor {
    Actor::at_home(p)
}

// ----- tenants ------------------------------------------------------------------------------

#[test]
fn r1_tenant_created_only_with_tenants_manage_in_parent() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "acme-admin");
    let bob = w.user(acme, "bob");
    let ok = w.run(home(admin), |tx| {
        tx.create_tenant(
            acme,
            NewTenant { key: "acme-eu".into(), name: "Acme EU".into(), ..Default::default() },
        )
    });
    assert!(ok.is_ok());
    let refused_ = w.run(home(bob), |tx| {
        tx.create_tenant(
            acme,
            NewTenant { key: "acme-us".into(), name: "Acme US".into(), ..Default::default() },
        )
    });
    refused(refused_, "R1");
}

#[test]
fn r1_move_under_own_subtree_is_refused() {
    let mut w = World::new();
    let a = w.tenant(w.root, "a");
    let b = w.tenant(a, "b");
    let e = w.run(Actor::System, |tx| tx.move_tenant(a, b)).unwrap_err();
    assert_eq!(e.rule, Some("R1"));
    assert!(e.message.contains("own subtree"), "{e}");
}

#[test]
fn r1_roles_through_old_ancestors_stop_counting_after_move() {
    let mut w = World::new();
    let east = w.tenant(w.root, "east");
    let west = w.tenant(w.root, "west");
    let shop = w.tenant(east, "shop");
    let regional = w.user(east, "east-admin");
    assert!(w.can(regional, "users.view", shop));
    w.sys(|tx| tx.move_tenant(shop, west));
    assert!(!w.can(regional, "users.view", shop));
}

#[test]
fn r2_subtree_scope_reaches_descendants_tenant_scope_does_not() {
    let mut w = World::new();
    let brand = w.tenant(w.root, "brand");
    let sub = w.tenant(brand, "sub-brand");
    let first = w.user(brand, "brand-admin");
    let viewer = w.user(brand, "brand-viewer");
    w.give(viewer, "read-only", brand, false);
    assert!(w.can(first, "users.view", sub), "subtree admin sees sub-brand");
    assert!(w.can(viewer, "reports.view", brand));
    assert!(!w.can(viewer, "reports.view", sub), "tenant scope stays in the tenant");
}

#[test]
fn r3_effective_entitlements_are_own_intersect_parent() {
    let mut w = World::new();
    let parent = w.tenant(w.root, "parent");
    let child = w.tenant(parent, "child");
    let admin = w.user(child, "child-admin");
    assert!(w.can(admin, "returns.file", child));
    w.sys(|tx| tx.set_entitlements(parent, &["reports.view".into()]));
    assert!(!w.can(admin, "returns.file", child), "child loses what its parent lacks");
    assert!(w.can(admin, "users.view", child), "core permissions need no entitlement");
    w.sys(|tx| {
        tx.set_entitlements(
            parent,
            &["reports.view".into(), "returns.view".into(), "returns.file".into()],
        )
    });
    assert!(w.can(admin, "returns.file", child), "re-adding revives the assignment");
}

#[test]
fn r3_tenant_admins_cannot_entitle_themselves() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "acme-admin");
    let r = w.run(home(admin), |tx| tx.set_entitlements(acme, &["api.access".into()]));
    refused(r, "R3");
    // The operator, with subtree admin at the root, can.
    let op = w.operator;
    assert!(w.run(home(op), |tx| tx.set_entitlements(acme, &["api.access".into()])).is_ok());
}

#[test]
fn r3_new_tenant_starts_with_catalog_defaults() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let t = w.s.tenant(acme).unwrap();
    assert!(!t.entitlements.contains(w.perm("api.access")), "api.access is off by default");
    assert!(t.entitlements.contains(w.perm("returns.view")));
    assert!(
        w.s.tenant(w.root).unwrap().entitlements.contains(w.perm("api.access")),
        "the root has everything"
    );
}

#[test]
fn r4_first_user_becomes_contact_and_admin() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let first = w.user(acme, "first");
    let second = w.user(acme, "second");
    assert_eq!(w.s.tenant(acme).unwrap().contact, Some(first));
    assert!(w.can(first, "roles.assign", acme));
    assert!(!w.can(second, "roles.assign", acme));
    // The operator gave it, with subtree admin: subtree scope.
    let a =
        w.s.principal(first)
            .unwrap()
            .assignments
            .iter()
            .find(|a| a.bundle == Bundle::Role(w.role("admin")))
            .cloned()
            .unwrap();
    assert_eq!(a.scope, Scope::Tenant { tenant: acme, subtree: true });
}

#[test]
fn r4_contact_person_passes_to_longest_serving_admin() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let first = w.user(acme, "first");
    let plain = w.user(acme, "plain");
    let admin2 = w.user(acme, "admin2");
    w.give(admin2, "admin", acme, false);
    w.sys(|tx| tx.set_status(first, Status::Deactivated, None));
    assert_eq!(w.s.tenant(acme).unwrap().contact, Some(admin2), "an admin before a plain user");
    let _ = plain;
}

#[test]
fn r5_last_admin_cannot_be_deactivated_or_lose_role() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let only = w.user(acme, "only-admin");
    let op = w.operator;
    let a = w.assignment_of(only, "admin", acme);
    // Even the operator's tenant-level action is refused unless it acts from above;
    // here the tenant admin of another tenant cannot, and R5 keeps the admin.
    let other = w.tenant(w.root, "other");
    let other_admin = w.user(other, "other-admin");
    assert!(w.run(home(other_admin), |tx| tx.set_status(only, Status::Deactivated, None)).is_err());
    let second = w.user(acme, "second");
    refused(w.run(home(only), |tx| tx.set_status(second, Status::Active, None)), "R11");
    // A second admin in the tenant tries to remove the only *other* admin: fine once two exist.
    w.give(second, "admin", acme, false);
    assert!(w.run(home(second), |tx| tx.unassign(only, a)).is_ok());
    // Now `second` is the last admin: deactivating it is refused by R5 for anyone below.
    let third = w.user(acme, "third");
    w.give(third, "senior-manager", acme, false);
    assert!(w.run(home(third), |tx| tx.set_status(second, Status::Deactivated, None)).is_err());
    let _ = op;
}

#[test]
fn r5_two_admins_cannot_both_go() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let a = w.user(acme, "a");
    let b = w.user(acme, "b");
    w.give(b, "admin", acme, false);
    let b_admin = w.assignment_of(b, "admin", acme);
    w.run(home(a), |tx| tx.unassign(b, b_admin)).unwrap();
    let a_admin = w.assignment_of(a, "admin", acme);
    // `a` is now the last admin; `b` lost the rank to touch it anyway, and the console
    // cannot remove it without acting from above either.
    let e = w.run(Actor::System, |tx| tx.unassign(a, a_admin)).unwrap_err();
    assert!(e.rule == Some("R5") || e.rule == Some("R26"), "{e}");
}

#[test]
fn r6_admin_cannot_remove_own_admin_role() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let a = w.user(acme, "a");
    let b = w.user(acme, "b");
    w.give(b, "admin", acme, false);
    let own = w.assignment_of(a, "admin", acme);
    let e = refused(w.run(home(a), |tx| tx.unassign(a, own)), "R6");
    assert!(e.message.contains("your own admin role"));
}

#[test]
fn r8_suspension_removes_every_permission_in_subtree() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let sub = w.tenant(acme, "acme-sub");
    let admin = w.user(acme, "admin");
    let op = w.operator;
    w.sys(|tx| tx.set_suspended(acme, true));
    assert!(!w.can(admin, "users.view", acme));
    assert!(!w.can(admin, "users.view", w.root), "home suspended: nothing anywhere");
    assert!(!w.can(op, "users.view", sub), "operator has nothing inside either");
    let ex = w.why(op, "users.view", Target::Tenant(sub), Context::HOME);
    assert_eq!(ex.decision, Decision::Denied(Step::Suspension));
    // checks.read held from outside still answers.
    assert!(w.can(op, "checks.read", sub));
    w.sys(|tx| tx.set_suspended(acme, false));
    assert!(w.can(admin, "users.view", acme), "nothing was deleted");
}

#[test]
fn r8_only_holder_over_tenant_suspends() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    refused(w.run(home(admin), |tx| tx.set_suspended(acme, true)), "R8");
    // The operator, over it from the root, suspends it and lifts the suspension again:
    // its authority comes from above, where nothing is suspended.
    let operator = w.operator;
    w.run(home(operator), |tx| tx.set_suspended(acme, true)).unwrap();
    assert!(!w.can(operator, "users.view", acme), "nothing in it");
    let sub = w.sys(|tx| {
        tx.create_tenant(
            acme,
            NewTenant { key: "acme-eu".into(), name: "EU".into(), ..Default::default() },
        )
    });
    // Beneath a suspended tenant, even authority from above is gone (and so is the sight).
    assert!(w.run(home(operator), |tx| tx.set_suspended(sub, true)).is_err());
    w.run(home(operator), |tx| tx.set_suspended(acme, false)).unwrap();
    assert!(w.can(operator, "users.view", acme));
}

// ----- users --------------------------------------------------------------------------------

#[test]
fn r10_logon_names_unique_case_and_confusable_insensitive() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "jim");
    let before = w.s.revision;
    for name in ["JIM", "j\u{0456}m", "Jim"] {
        let new = World::new_user(acme, name, Status::Active);
        let e = refused(w.run(Actor::System, |tx| tx.create_user(new)), "R10");
        assert_eq!(e.field, Some("logon"));
    }
    let new = World::new_user(acme, "ji\u{200B}m", Status::Active);
    let e = w.run(Actor::System, |tx| tx.create_user(new)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Invalid);
    assert_eq!(w.s.revision, before, "refusals change nothing");
}

#[test]
fn r10_users_created_only_with_users_create() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let plain = w.user(acme, "plain");
    let new = World::new_user(acme, "newbie", Status::Pending);
    refused(w.run(home(plain), |tx| tx.create_user(new)), "R10");
}

#[test]
fn r11_status_machine() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let new = World::new_user(acme, "bob", Status::Pending);
    let bob = w.run(home(admin), |tx| tx.create_user(new)).unwrap();
    assert_eq!(w.status(bob), Status::Pending);
    assert!(!w.can(bob, "users.view", acme), "only active principals hold permissions");
    refused(w.run(home(admin), |tx| tx.set_status(bob, Status::Deactivated, None)), "R11");
    w.run(home(admin), |tx| tx.set_status(bob, Status::Invited, None)).unwrap();
    // Only a password makes an invited principal active: not its admin, not the system.
    refused(w.run(home(admin), |tx| tx.set_status(bob, Status::Active, None)), "R11");
    refused(w.run(home(admin), |tx| tx.password_set(bob)), "R11");
    w.sys(|tx| tx.password_set(bob));
    assert_eq!(w.status(bob), Status::Active);
    w.run(home(admin), |tx| tx.set_status(bob, Status::Deactivated, None)).unwrap();
    w.run(home(admin), |tx| tx.set_status(bob, Status::Active, None)).unwrap();
    w.run(home(admin), |tx| tx.cancel(bob)).unwrap();
    refused(w.run(home(admin), |tx| tx.set_status(bob, Status::Active, None)), "R11");
}

#[test]
fn r19_new_principals_get_default_role() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let power = w.role("power-user");
    w.run(home(admin), |tx| tx.set_default_role(acme, power)).unwrap();
    let bob = w.user(acme, "bob");
    assert!(w.can(bob, "backups.view", acme));
    // A creator who could not give power-user gives default-user instead.
    let cs = w.user(acme, "cs");
    w.give(cs, "senior-customer-service", acme, false);
    let new = World::new_user(acme, "carl", Status::Active);
    let carl = w.run(home(cs), |tx| tx.create_user(new)).unwrap();
    assert!(!w.can(carl, "backups.view", acme));
    assert!(
        w.s.principal(carl)
            .unwrap()
            .assignments
            .iter()
            .any(|a| a.bundle == Bundle::Role(w.role("default-user")))
    );
}

#[test]
fn r20_cancel_is_terminal() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let bob = w.user(acme, "bob");
    w.run(home(admin), |tx| tx.cancel(bob)).unwrap();
    assert_eq!(w.status(bob), Status::Cancelled);
    refused(w.run(home(admin), |tx| tx.cancel(bob)), "R11");
}

// ----- roles and ranks ----------------------------------------------------------------------

#[test]
fn r26_permission_requiring_another_cannot_be_given_alone() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let bob = w.user(acme, "bob");
    let file = w.perm("returns.file");
    let e = refused(
        w.run(home(admin), |tx| {
            tx.assign(NewAssignment {
                principal: bob,
                bundle: Bundle::Permission(file),
                scope: Scope::Tenant { tenant: acme, subtree: false },
                expires_at: None,
            })
        }),
        "R26",
    );
    assert!(e.message.contains("returns.view"), "names the missing one: {e}");
    let view = w.perm("returns.view");
    let view_id = w
        .run(home(admin), |tx| {
            tx.assign(NewAssignment {
                principal: bob,
                bundle: Bundle::Permission(view),
                scope: Scope::Tenant { tenant: acme, subtree: false },
                expires_at: None,
            })
        })
        .unwrap();
    w.run(home(admin), |tx| {
        tx.assign(NewAssignment {
            principal: bob,
            bundle: Bundle::Permission(file),
            scope: Scope::Tenant { tenant: acme, subtree: false },
            expires_at: None,
        })
    })
    .unwrap();
    assert!(w.can(bob, "returns.file", acme));
    // Removing the required one while the other is held is refused.
    refused(w.run(home(admin), |tx| tx.unassign(bob, view_id)), "R26");
}

#[test]
fn r26_requirement_checked_at_check_time() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    // Entitle returns.file but not returns.view: returns.file is then not effective.
    w.sys(|tx| tx.set_entitlements(acme, &["returns.file".into()]));
    let ex = w.why(admin, "returns.file", Target::Tenant(acme), Context::HOME);
    assert_eq!(ex.decision, Decision::Denied(Step::Requirements));
    assert!(ex.reason.unwrap().contains("returns.view"));
}

#[test]
fn r27_cannot_grant_role_above_own_rank() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let sitm = w.user(acme, "sitm");
    w.give(sitm, "senior-it-manager", acme, false);
    let bob = w.user(acme, "bob");
    refused(w.give_as(sitm, bob, "senior-manager", acme), "R27");
    assert!(w.give_as(sitm, bob, "customer-service", acme).is_ok());
}

#[test]
fn r27_cannot_grant_permissions_actor_lacks() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let sm = w.user(acme, "sm");
    w.give(sm, "senior-manager", acme, false);
    let bob = w.user(acme, "bob");
    // tax-preparer ranks 10 but confers returns.file, which a senior manager lacks.
    let e = refused(w.give_as(sm, bob, "tax-preparer", acme), "R27");
    assert!(e.message.contains("returns"), "{e}");
}

#[test]
fn r28_cannot_modify_higher_ranked() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let sitm = w.user(acme, "sitm");
    w.give(sitm, "senior-it-manager", acme, false);
    let sm = w.user(acme, "sm");
    w.give(sm, "senior-manager", acme, false);
    let cs = w.user(acme, "cs");
    w.give(cs, "customer-service", acme, false);
    refused(w.run(home(sitm), |tx| tx.set_status(sm, Status::Deactivated, None)), "R28");
    assert!(w.run(home(sitm), |tx| tx.set_status(cs, Status::Deactivated, None)).is_ok());
}

#[test]
fn r29a_origin_breaks_ties_ancestor_outranks_local() {
    let mut w = World::new();
    let parent = w.tenant(w.root, "parent");
    let child = w.tenant(parent, "child");
    let parent_admin = w.user(parent, "parent-admin");
    let child_admin = w.user(child, "child-admin");
    let r_parent = w.s.rank(parent_admin, child, None, w.now);
    let r_child = w.s.rank(child_admin, child, None, w.now);
    assert_eq!(r_parent.value, r_child.value);
    assert!(r_parent > r_child, "admin from above outranks the local admin");
    // So the child's admin cannot deactivate the parent's admin… (not homed there anyway)
    // …and the parent admin may manage the child admin.
    assert!(
        w.run(home(parent_admin), |tx| tx.set_status(child_admin, Status::Active, None)).is_err(),
        "already active: R11"
    );
}

#[test]
fn r29a_equal_principals_may_manage_each_other() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let a = w.user(acme, "a");
    let b = w.user(acme, "b");
    w.give(a, "customer-service", acme, false);
    w.give(b, "customer-service", acme, false);
    assert!(w.run(home(a), |tx| tx.set_status(b, Status::Deactivated, None)).is_ok());
}

#[test]
fn r30_customer_manager_only_in_partner_tenants() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let u = w.user(acme, "u");
    let cm = Bundle::Role(w.role("customer-manager"));
    let r = w.run(Actor::System, |tx| {
        tx.assign(NewAssignment {
            principal: u,
            bundle: cm,
            scope: Scope::Tenant { tenant: acme, subtree: false },
            expires_at: None,
        })
    });
    refused(r, "R30");
}

#[test]
fn r31_root_only_permissions_only_in_root() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let op = w.operator;
    assert!(w.can(op, "catalog.manage", w.root));
    assert!(!w.can(op, "catalog.manage", acme));
}

#[test]
fn r32_assignment_expiry_stops_counting() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let bob = w.user(acme, "bob");
    let ro = Bundle::Role(w.role("read-only"));
    let until = w.now + 1_000;
    w.run(home(admin), |tx| {
        tx.assign(NewAssignment {
            principal: bob,
            bundle: ro,
            scope: Scope::Tenant { tenant: acme, subtree: false },
            expires_at: Some(until),
        })
    })
    .unwrap();
    assert!(w.can(bob, "reports.view", acme));
    w.now = until;
    assert!(!w.can(bob, "reports.view", acme));
}

#[test]
fn r32_resource_scope_covers_descendant_resources_only() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let bob = w.user(acme, "bob");
    let inst = w.s.catalog.type_id("instance").unwrap();
    let src = w.s.catalog.type_id("data-source").unwrap();
    let i1 = w.sys(|tx| {
        tx.create_resource(NewResource {
            tenant: acme,
            key: "i1".into(),
            name: "I1".into(),
            resource_type: inst,
            kind: None,
            parent: None,
        })
    });
    let d1 = w.sys(|tx| {
        tx.create_resource(NewResource {
            tenant: acme,
            key: "d1".into(),
            name: "D1".into(),
            resource_type: src,
            kind: None,
            parent: Some(i1),
        })
    });
    let i2 = w.sys(|tx| {
        tx.create_resource(NewResource {
            tenant: acme,
            key: "i2".into(),
            name: "I2".into(),
            resource_type: inst,
            kind: None,
            parent: None,
        })
    });
    let dea = Bundle::Role(w.role("data-estate-admin"));
    w.run(home(admin), |tx| {
        tx.assign(NewAssignment {
            principal: bob,
            bundle: dea,
            scope: Scope::Resource { resource: i1 },
            expires_at: None,
        })
    })
    .unwrap();
    assert!(w.check_in(bob, "instances.manage", Target::Resource(i1), Context::HOME));
    assert!(w.check_in(bob, "instances.manage", Target::Resource(d1), Context::HOME));
    assert!(!w.check_in(bob, "instances.manage", Target::Resource(i2), Context::HOME));
    assert!(!w.can(bob, "instances.manage", acme));
}

// ----- delegates ----------------------------------------------------------------------------

#[test]
fn r34_delegate_created_by_owner_with_full_access() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let jane = w.user(acme, "jane");
    let jim = w.delegate(jane, "jim");
    let d = w.s.principal(jim).unwrap();
    assert_eq!(d.owner(), Some(jane));
    assert_eq!(d.delegate.as_ref().unwrap().groups, GroupAccess::Full);
    assert!(w.can(jim, "returns.file", acme));
}

#[test]
fn r34_nested_delegates_need_the_tenant_to_allow_them() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let jane = w.user(acme, "jane");
    let jim = w.delegate(jane, "jim");
    let new = deputy_core::commands::users::NewDelegate {
        owner: jim,
        logon: "kim".into(),
        first_name: "Kim".into(),
        last_name: "K".into(),
        email: "kim@example.com".into(),
        groups: None,
        kinds: None,
        roles: vec![],
        linked_password: true,
    };
    refused(w.run(home(jim), |tx| tx.create_delegate(new.clone())), "R34");
    w.sys(|tx| tx.set_delegation(acme, true, true));
    assert!(w.run(home(jim), |tx| tx.create_delegate(new)).is_ok());
}

#[test]
fn r35_delegate_loses_access_with_owner() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let owner = w.user(acme, "owner");
    let a = w.give(owner, "read-only", acme, false);
    let d = w.delegate(owner, "d");
    assert!(w.can(d, "reports.view", acme));
    w.sys(|tx| tx.unassign(owner, a));
    assert!(!w.can(d, "reports.view", acme), "same revision, nothing to clean up");
    let ex = w.why(d, "reports.view", Target::Tenant(acme), Context::HOME);
    assert_eq!(ex.decision, Decision::Denied(Step::Delegate));
    assert!(ex.reason.unwrap().contains("is limited by owner `owner`"));
}

#[test]
fn r35_narrowing_roles_limit_delegate() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let jane = w.user(acme, "jane");
    w.give(jane, "tax-preparer", acme, false);
    let jim = w.delegate(jane, "jim");
    let tp = w.role("tax-preparer");
    w.run(home(jane), |tx| tx.set_delegate_access(jim, None, None, vec![tp])).unwrap();
    assert!(w.can(jim, "returns.file", acme));
    assert!(!w.can(jim, "users.view", acme), "jane may, but jim's role does not hold it");
}

#[test]
fn r29a_delegate_never_changes_own_access_or_manages_owner() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let jane = w.user(acme, "jane");
    let jim = w.delegate(jane, "jim");
    refused(w.run(home(jim), |tx| tx.set_delegate_access(jim, None, None, vec![])), "R29a");
    refused(w.run(home(jim), |tx| tx.set_status(jane, Status::Deactivated, None)), "R29a");
}

#[test]
fn r36_owner_deactivated_then_cancelled_cascades() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let owner = w.user(acme, "owner");
    let d = w.delegate(owner, "d");
    w.run(home(admin), |tx| tx.set_status(owner, Status::Deactivated, None)).unwrap();
    let ex = w.why(d, "users.view", Target::Tenant(acme), Context::HOME);
    assert_eq!(ex.decision, Decision::Denied(Step::Status));
    assert_eq!(w.status(d), Status::Active, "deactivation keeps the delegate as it is");
    w.run(home(admin), |tx| tx.set_status(owner, Status::Active, None)).unwrap();
    w.run(home(admin), |tx| tx.cancel(owner)).unwrap();
    assert_eq!(w.status(d), Status::Cancelled, "cancellation cascades in the same revision");
}

#[test]
fn r38_groups_and_kinds_limit_delegate() {
    let mut w = World::new();
    let nh = w.tenant(w.root, "natural-health");
    let biz1 = w.tenant(w.root, "biz1");
    let biz2 = w.tenant(w.root, "biz2");
    let jane = w.user(nh, "jane");
    w.user(biz1, "biz1-admin");
    w.user(biz2, "biz2-admin");
    w.give(jane, "tax-preparer", biz1, false);
    w.give(jane, "tax-preparer", biz2, false);
    let tax = w.s.catalog.type_id("tax-account").unwrap();
    let wh = w.s.catalog.kind_id(tax, "Withholding").unwrap();
    let su = w.s.catalog.kind_id(tax, "Sales & Use").unwrap();
    let acc_wh = w.sys(|tx| {
        tx.create_resource(NewResource {
            tenant: biz1,
            key: "b1-wh".into(),
            name: "WH".into(),
            resource_type: tax,
            kind: Some(wh),
            parent: None,
        })
    });
    let acc_su = w.sys(|tx| {
        tx.create_resource(NewResource {
            tenant: biz1,
            key: "b1-su".into(),
            name: "SU".into(),
            resource_type: tax,
            kind: Some(su),
            parent: None,
        })
    });
    let jim = w.delegate(jane, "jim");
    let payroll = w
        .run(home(jane), |tx| tx.create_group(GroupOwner::User(jane), "Payroll clients".into()))
        .unwrap();
    w.run(home(jane), |tx| tx.place_in_group(payroll, biz1)).unwrap();
    w.run(home(jane), |tx| {
        tx.set_delegate_access(jim, Some(vec![payroll]), Some(vec![wh]), vec![])
    })
    .unwrap();
    assert!(w.check_in(jim, "returns.file", Target::Resource(acc_wh), Context::HOME));
    assert!(!w.check_in(jim, "returns.file", Target::Resource(acc_su), Context::HOME));
    assert!(!w.can(jim, "returns.file", biz1), "kind-limited: denied on the tenant target");
    assert!(!w.can(jim, "returns.file", biz2), "biz2 is not in Jim's group");
    // Exactly one group per owner: moving back to Default takes it out of Payroll.
    let default = w.s.default_group(GroupOwner::User(jane)).unwrap();
    w.run(home(jane), |tx| tx.place_in_group(default, biz1)).unwrap();
    assert_eq!(w.s.group_of(GroupOwner::User(jane), biz1), Some(default));
    assert!(!w.check_in(jim, "returns.file", Target::Resource(acc_wh), Context::HOME));
    refused(w.run(home(jane), |tx| tx.delete_group(default)), "R38");
}

#[test]
fn r38_r57_a_users_groups_partition_its_businesses_and_default_holds_the_rest() {
    let mut w = World::new();
    let nh = w.tenant(w.root, "natural-health");
    let biz1 = w.tenant(w.root, "biz1");
    let biz2 = w.tenant(w.root, "biz2");
    let elsewhere = w.tenant(w.root, "elsewhere");
    let jane = w.user(nh, "jane");
    w.user(biz1, "biz1-admin");
    w.user(biz2, "biz2-admin");
    w.user(elsewhere, "elsewhere-admin");
    w.give(jane, "tax-preparer", biz1, false);
    w.give(jane, "tax-preparer", biz2, false);
    // Her home and every tenant where she holds a direct role, in id order, once each.
    assert_eq!(w.s.tenants_of_group_owner(GroupOwner::User(jane)), vec![nh, biz1, biz2]);
    let payroll =
        w.run(home(jane), |tx| tx.create_group(GroupOwner::User(jane), "Payroll".into())).unwrap();
    w.run(home(jane), |tx| tx.place_in_group(payroll, biz1)).unwrap();
    let default = w.s.default_group(GroupOwner::User(jane)).unwrap();
    let held = |w: &World, g| w.s.tenants_in_group(w.s.group(g).unwrap());
    assert_eq!(held(&w, payroll), vec![biz1]);
    assert_eq!(held(&w, default), vec![nh, biz2], "placed nowhere else");
}

#[test]
fn r38_r41_a_partner_tenants_groups_partition_its_active_clients() {
    let PartnerWorld { mut w, firm, provider, provider_admin, .. } = partner_world();
    assert_eq!(w.s.tenants_of_group_owner(GroupOwner::Tenant(provider)), vec![firm]);
    let group = w
        .run(home(provider_admin), |tx| {
            tx.create_group(GroupOwner::Tenant(provider), "Law clients".into())
        })
        .unwrap();
    let default = w.s.default_group(GroupOwner::Tenant(provider)).unwrap();
    assert_eq!(w.s.tenants_in_group(w.s.group(default).unwrap()), vec![firm]);
    w.run(home(provider_admin), |tx| tx.place_in_group(group, firm)).unwrap();
    assert_eq!(w.s.tenants_in_group(w.s.group(group).unwrap()), vec![firm]);
    assert!(w.s.tenants_in_group(w.s.group(default).unwrap()).is_empty());
}

// ----- partners -----------------------------------------------------------------------------

struct PartnerWorld {
    w: World,
    firm: TenantId,
    firm_admin: PrincipalId,
    provider: TenantId,
    provider_admin: PrincipalId,
    ann: PrincipalId,
    grant: GrantId,
}

fn partner_world() -> PartnerWorld {
    let mut w = World::new();
    let firm = w.tenant(w.root, "law-firm");
    let provider = w.tenant(w.root, "provider");
    w.sys(|tx| tx.set_partner(provider, true));
    let firm_admin = w.user(firm, "firm-admin");
    let provider_admin = w.user(provider, "provider-admin");
    let ann = w.user(provider, "ann");
    let ceiling = vec![w.role("paralegal"), w.role("viewer")];
    let grant = w
        .run(home(firm_admin), |tx| {
            tx.propose_grant(firm, provider, GrantTerms { ceiling, ..Default::default() })
        })
        .unwrap();
    PartnerWorld { w, firm, firm_admin, provider, provider_admin, ann, grant }
}

#[test]
fn r40_grant_proposed_by_partner_waits_for_client_approval() {
    let mut w = World::new();
    let client = w.tenant(w.root, "client");
    let partner = w.tenant(w.root, "partner");
    w.sys(|tx| tx.set_partner(partner, true));
    let ca = w.user(client, "ca");
    let pa = w.user(partner, "pa");
    let ceiling = vec![w.role("viewer")];
    let g = w
        .run(home(pa), |tx| {
            tx.propose_grant(client, partner, GrantTerms { ceiling, ..Default::default() })
        })
        .unwrap();
    assert_eq!(w.s.grant(g).unwrap().status, GrantStatus::Proposed);
    refused(w.run(home(pa), |tx| tx.approve_grant(g)), "R40");
    w.run(home(ca), |tx| tx.approve_grant(g)).unwrap();
    assert_eq!(w.s.grant(g).unwrap().status, GrantStatus::Active);
}

#[test]
fn r41_partner_user_acts_in_client_only_switched_and_within_ceiling() {
    let PartnerWorld { mut w, firm, provider_admin, ann, .. } = partner_world();
    let viewer = w.role("viewer");
    w.run(home(provider_admin), |tx| {
        tx.give_partner_role(ann, Scope::Client { client: firm }, viewer, None)
    })
    .unwrap();
    assert!(!w.can(ann, "matters.view", firm), "not at home");
    assert!(w.check_in(ann, "matters.view", Target::Tenant(firm), Context::switched(firm)));
    assert!(!w.check_in(ann, "matters.edit", Target::Tenant(firm), Context::switched(firm)));
    let admin = w.role("admin");
    refused(
        w.run(home(provider_admin), |tx| {
            tx.give_partner_role(ann, Scope::Client { client: firm }, admin, None)
        }),
        "R41",
    );
}

#[test]
fn r41_narrowed_ceiling_makes_roles_inert_and_widening_revives() {
    let PartnerWorld { mut w, firm, firm_admin, provider_admin, ann, grant, .. } = partner_world();
    let paralegal = w.role("paralegal");
    w.run(home(provider_admin), |tx| {
        tx.give_partner_role(ann, Scope::Client { client: firm }, paralegal, None)
    })
    .unwrap();
    let ctx = Context::switched(firm);
    assert!(w.check_in(ann, "matters.edit", Target::Tenant(firm), ctx));
    let viewer = w.role("viewer");
    w.run(home(firm_admin), |tx| {
        tx.change_grant(grant, GrantTerms { ceiling: vec![viewer], ..Default::default() })
    })
    .unwrap();
    assert!(!w.check_in(ann, "matters.edit", Target::Tenant(firm), ctx));
    w.run(home(firm_admin), |tx| {
        tx.change_grant(
            grant,
            GrantTerms { ceiling: vec![viewer, paralegal], ..Default::default() },
        )
    })
    .unwrap();
    assert!(w.check_in(ann, "matters.edit", Target::Tenant(firm), ctx));
}

#[test]
fn r40_revocation_takes_effect_in_the_same_revision() {
    let PartnerWorld { mut w, firm, firm_admin, provider_admin, ann, grant, .. } = partner_world();
    let viewer = w.role("viewer");
    w.run(home(provider_admin), |tx| {
        tx.give_partner_role(ann, Scope::Client { client: firm }, viewer, None)
    })
    .unwrap();
    w.run(home(firm_admin), |tx| tx.revoke_grant(grant)).unwrap();
    assert!(!w.check_in(ann, "matters.view", Target::Tenant(firm), Context::switched(firm)));
}

#[test]
fn r40_grant_expiry_ends_it() {
    let PartnerWorld { mut w, firm, firm_admin, provider_admin, ann, grant, .. } = partner_world();
    let viewer = w.role("viewer");
    w.run(home(provider_admin), |tx| {
        tx.give_partner_role(ann, Scope::Client { client: firm }, viewer, None)
    })
    .unwrap();
    let until = w.now + 10;
    let ceiling = vec![w.role("paralegal"), viewer];
    w.run(home(firm_admin), |tx| {
        tx.change_grant(
            grant,
            GrantTerms { ceiling, expires_at: Some(until), ..Default::default() },
        )
    })
    .unwrap();
    assert!(w.check_in(ann, "matters.view", Target::Tenant(firm), Context::switched(firm)));
    w.now = until;
    assert!(!w.check_in(ann, "matters.view", Target::Tenant(firm), Context::switched(firm)));
}

#[test]
fn r41_roles_through_partner_security_group() {
    let PartnerWorld { mut w, firm, provider, provider_admin, ann, .. } = partner_world();
    let group = w
        .run(home(provider_admin), |tx| {
            tx.create_group(GroupOwner::Tenant(provider), "Law clients".into())
        })
        .unwrap();
    w.run(home(provider_admin), |tx| tx.place_in_group(group, firm)).unwrap();
    let viewer = w.role("viewer");
    w.run(home(provider_admin), |tx| {
        tx.give_partner_role(ann, Scope::Group { group }, viewer, None)
    })
    .unwrap();
    assert!(w.check_in(ann, "matters.view", Target::Tenant(firm), Context::switched(firm)));
    let default = w.s.default_group(GroupOwner::Tenant(provider)).unwrap();
    w.run(home(provider_admin), |tx| tx.place_in_group(default, firm)).unwrap();
    assert!(!w.check_in(ann, "matters.view", Target::Tenant(firm), Context::switched(firm)));
}

#[test]
fn r43_grant_only_permissions_never_approve_grants_or_give_direct_roles() {
    let mut w = World::new();
    let client = w.tenant(w.root, "client");
    let partner = w.tenant(w.root, "partner");
    w.sys(|tx| tx.set_partner(partner, true));
    w.user(client, "ca");
    let pa = w.user(partner, "pa");
    let ceiling = vec![w.role("admin")];
    let g =
        w.sys(|tx| tx.propose_grant(client, partner, GrantTerms { ceiling, ..Default::default() }));
    let admin = w.role("admin");
    w.sys(|tx| tx.give_partner_role(pa, Scope::Client { client }, admin, None));
    let switched = Actor::Principal { id: pa, ctx: Context::switched(client) };
    assert!(w.check_in(pa, "roles.assign", Target::Tenant(client), Context::switched(client)));
    let terms = GrantTerms { ceiling: vec![admin], ..Default::default() };
    refused(w.run(switched, |tx| tx.change_grant(g, terms)), "R40");
    // A direct assignment in the client to a principal homed outside it is refused, even
    // when that principal already holds a role there that the actor can see.
    let outsider = w.user(partner, "outsider");
    w.give(outsider, "viewer", client, false);
    let paralegal = Bundle::Role(w.role("paralegal"));
    refused(
        w.run(switched, |tx| {
            tx.assign(NewAssignment {
                principal: outsider,
                bundle: paralegal,
                scope: Scope::Tenant { tenant: client, subtree: false },
                expires_at: None,
            })
        }),
        "R43",
    );
    // One the switched actor cannot see at all is "not found" (R58).
    let stranger = w.user(partner, "stranger");
    let e = w
        .run(switched, |tx| {
            tx.assign(NewAssignment {
                principal: stranger,
                bundle: paralegal,
                scope: Scope::Tenant { tenant: client, subtree: false },
                expires_at: None,
            })
        })
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[test]
fn r44_direct_account_replaced_by_partner_access() {
    let PartnerWorld { mut w, firm, provider_admin, ann, .. } = partner_world();
    // Ann also has an old direct account in the firm, same verified e-mail.
    let mut new = World::new_user(firm, "ann-old", Status::Active);
    new.email = "ann@example.com".into();
    let old = w.sys(|tx| tx.create_user(new));
    w.sys(|tx| tx.verify_email(old));
    w.sys(|tx| tx.verify_email(ann));
    let viewer = w.role("viewer");
    let outcome = w
        .run(home(provider_admin), |tx| {
            tx.give_partner_role(ann, Scope::Client { client: firm }, viewer, None)
        })
        .unwrap();
    assert_eq!(outcome.replaced, vec![old]);
    assert_eq!(w.status(old), Status::Deactivated);
    assert_eq!(
        w.s.principal(old).unwrap().status_reason.as_deref(),
        Some("replaced by partner access")
    );
}

#[test]
fn r44_nothing_replaced_while_email_unverified() {
    let PartnerWorld { mut w, firm, provider_admin, ann, .. } = partner_world();
    let mut new = World::new_user(firm, "ann-old", Status::Active);
    new.email = "ann@example.com".into();
    let old = w.sys(|tx| tx.create_user(new));
    w.sys(|tx| tx.verify_email(old));
    let viewer = w.role("viewer");
    let outcome = w
        .run(home(provider_admin), |tx| {
            tx.give_partner_role(ann, Scope::Client { client: firm }, viewer, None)
        })
        .unwrap();
    assert!(outcome.replaced.is_empty());
    assert_eq!(w.status(old), Status::Active);
}

#[test]
fn r45_customer_manager_acts_with_every_ceiling_role_and_outranks_client_admin() {
    let mut w = World::new();
    let client = w.tenant(w.root, "client");
    let partner = w.tenant(w.root, "partner");
    w.sys(|tx| tx.set_partner(partner, true));
    let client_admin = w.user(client, "client-admin");
    w.user(partner, "partner-admin");
    let cm = w.user(partner, "cm");
    w.give(cm, "customer-manager", partner, false);
    let ceiling = vec![w.role("admin")];
    w.sys(|tx| tx.propose_grant(client, partner, GrantTerms { ceiling, ..Default::default() }));
    let ctx = Context::switched(client);
    assert!(w.check_in(cm, "users.create", Target::Tenant(client), ctx));
    assert!(!w.can(cm, "users.create", client), "not at home");
    let mine = w.s.rank(cm, client, Some(client), w.now);
    let theirs = w.s.rank(client_admin, client, None, w.now);
    assert!(mine > theirs);
    // Gives nothing in its own tenant.
    assert!(!w.can(cm, "users.create", partner));
}

#[test]
fn r47_grants_do_not_chain_and_reach_descendants_only_with_subtree() {
    let mut w = World::new();
    let client = w.tenant(w.root, "client");
    let client_child = w.tenant(client, "client-child");
    let partner = w.tenant(w.root, "partner");
    let partner2 = w.tenant(w.root, "partner2");
    w.sys(|tx| tx.set_partner(partner, true));
    w.sys(|tx| tx.set_partner(partner2, true));
    // `partner` is a client of `partner2`.
    w.user(client, "ca");
    let pu = w.user(partner, "pu");
    let p2u = w.user(partner2, "p2u");
    let viewer = w.role("viewer");
    w.sys(|tx| {
        tx.propose_grant(
            client,
            partner,
            GrantTerms { ceiling: vec![viewer], ..Default::default() },
        )
    });
    w.sys(|tx| {
        tx.propose_grant(
            partner,
            partner2,
            GrantTerms { ceiling: vec![viewer], ..Default::default() },
        )
    });
    w.sys(|tx| tx.give_partner_role(pu, Scope::Client { client }, viewer, None));
    w.sys(|tx| tx.give_partner_role(p2u, Scope::Client { client: partner }, viewer, None));
    assert!(w.check_in(pu, "matters.view", Target::Tenant(client), Context::switched(client)));
    assert!(
        !w.check_in(pu, "matters.view", Target::Tenant(client_child), Context::switched(client)),
        "no subtree"
    );
    assert!(
        !w.check_in(p2u, "matters.view", Target::Tenant(client), Context::switched(client)),
        "no chaining"
    );
}

// ----- impersonation and checks -------------------------------------------------------------

#[test]
fn r48_impersonation_needs_permission_rank_and_never_exceeds_impersonator() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let support = w.user(acme, "support");
    w.give(support, "senior-it-manager", acme, false);
    let cs = w.user(acme, "cs");
    w.give(cs, "customer-service", acme, false);
    w.give(cs, "tax-preparer", acme, false);
    let imp = Context {
        switched: None,
        impersonation: Some(Impersonation { actor: support, expires_at: w.now + 60_000 }),
        sessionless: false,
    };
    assert!(w.check_in(cs, "users.modify", Target::Tenant(acme), imp));
    // The target may file returns, the impersonator may not: impersonation never exceeds.
    let ex = w.why(cs, "returns.file", Target::Tenant(acme), imp);
    assert_eq!(ex.decision, Decision::Denied(Step::Impersonation));
    // Expired.
    w.now += 60_000;
    assert!(!w.check_in(cs, "users.modify", Target::Tenant(acme), imp));
    w.now -= 60_000;
    // A lower-ranked impersonator cannot impersonate a higher-ranked target.
    let sm = w.user(acme, "sm");
    w.give(sm, "senior-manager", acme, false);
    let up = Context {
        switched: None,
        impersonation: Some(Impersonation { actor: support, expires_at: w.now + 60_000 }),
        sessionless: false,
    };
    assert_eq!(
        w.why(sm, "users.view", Target::Tenant(acme), up).decision,
        Decision::Denied(Step::Impersonation)
    );
}

#[test]
fn r52_explain_names_paths_with_provenance() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let bob = w.user(acme, "bob");
    w.give_as(admin, bob, "read-only", acme).unwrap();
    let ex = w.why(bob, "reports.view", Target::Tenant(acme), Context::HOME);
    assert_eq!(ex.decision, Decision::Allowed);
    let path = ex.paths.iter().find(|p| p.role == Some(w.role("read-only"))).unwrap();
    assert_eq!(path.assigned_by, Some(Author::Principal(admin)));
    assert_eq!(path.assigned_at, Some(w.now));
    let denied = w.why(bob, "users.create", Target::Tenant(acme), Context::HOME);
    assert_eq!(denied.decision, Decision::Denied(Step::Paths));
    assert!(denied.reason.unwrap().contains("no role holding `users.create`"));
}

#[test]
fn r55_unknown_names_are_errors_not_denials() {
    let w = World::new();
    let e = w
        .s
        .check(PrincipalId(999), w.perm("users.view"), Target::Tenant(w.root), Context::HOME, w.now)
        .unwrap_err();
    assert_eq!(e, CheckError::UnknownPrincipal("p999".into()));
    let e =
        w.s.check(w.operator, PermId(999), Target::Tenant(w.root), Context::HOME, w.now)
            .unwrap_err();
    assert!(matches!(e, CheckError::UnknownPermission(_)));
    let e =
        w.s.check(
            w.operator,
            w.perm("users.view"),
            Target::Tenant(TenantId(999)),
            Context::HOME,
            w.now,
        )
        .unwrap_err();
    assert!(matches!(e, CheckError::UnknownTenant(_)));
}

#[test]
fn r53_lookups_agree_with_check_and_page_to_the_end() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let tax = w.s.catalog.type_id("tax-account").unwrap();
    for i in 0..25 {
        w.sys(|tx| {
            tx.create_resource(NewResource {
                tenant: acme,
                key: format!("acc-{i}"),
                name: format!("Account {i}"),
                resource_type: tax,
                kind: None,
                parent: None,
            })
        });
    }
    let perm = w.perm("returns.view");
    let all = w.s.lookup_resources_all(admin, perm, Some(tax), Context::HOME, w.now).unwrap();
    assert_eq!(all.len(), 25);
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = w
            .s
            .lookup_resources(admin, perm, Some(tax), Context::HOME, w.now, cursor.as_deref(), 10)
            .unwrap();
        paged.extend(page.items);
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, all);
    let subjects = w.s.lookup_subjects_all(Target::Tenant(acme), perm, w.now).unwrap();
    assert!(subjects.iter().any(|s| s.principal == admin));
    assert!(
        subjects.iter().any(|s| s.principal == w.operator),
        "the operator's subtree admin reaches acme"
    );
}

// ----- access codes, impersonation, partner-created tenants, catalog ------------------------

const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn r37a_access_code_gives_roles_once() {
    let mut w = World::new();
    let biz = w.tenant(w.root, "biz");
    let biz_admin = w.user(biz, "biz-admin");
    let nh = w.tenant(w.root, "nh");
    let jane = w.user(nh, "jane");
    let tp = w.role("tax-preparer");
    let until = w.now + 1_000_000;
    w.run(home(biz_admin), |tx| tx.issue_access_code(biz, vec![tp], HASH.into(), until)).unwrap();
    let r = w.run(home(jane), |tx| tx.redeem_access_code(HASH)).unwrap();
    assert_eq!(r.holder, jane);
    assert!(w.can(jane, "returns.file", biz));
    let again = w.run(home(jane), |tx| tx.redeem_access_code(HASH)).unwrap_err();
    assert_eq!(again.kind, ErrorKind::NotFound, "single use");
}

#[test]
fn r37a_code_carries_only_roles_issuer_could_give() {
    let mut w = World::new();
    let biz = w.tenant(w.root, "biz");
    w.user(biz, "biz-admin");
    let cs = w.user(biz, "cs");
    w.give(cs, "senior-customer-service", biz, false);
    let admin = w.role("admin");
    refused(
        w.run(home(cs), |tx| tx.issue_access_code(biz, vec![admin], HASH.into(), NOW + 1_000)),
        "R27",
    );
    let tp = w.role("tax-preparer");
    refused(
        w.run(home(cs), |tx| tx.issue_access_code(biz, vec![tp], HASH.into(), NOW + 1_000)),
        "R27",
    );
}

#[test]
fn r37a_expired_code_is_refused() {
    let mut w = World::new();
    let biz = w.tenant(w.root, "biz");
    let admin = w.user(biz, "biz-admin");
    let other = w.tenant(w.root, "other");
    let u = w.user(other, "u");
    let viewer = w.role("viewer");
    w.run(home(admin), |tx| tx.issue_access_code(biz, vec![viewer], HASH.into(), NOW + 10))
        .unwrap();
    w.now = NOW + 10;
    assert_eq!(
        w.run(home(u), |tx| tx.redeem_access_code(HASH)).unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[test]
fn r37_delegate_redeeming_records_access_on_owner_with_new_group() {
    let mut w = World::new();
    let biz = w.tenant(w.root, "biz");
    let biz_admin = w.user(biz, "biz-admin");
    let nh = w.tenant(w.root, "nh");
    let jane = w.user(nh, "jane");
    let jim = w.delegate(jane, "jim");
    let g = w.run(home(jane), |tx| tx.create_group(GroupOwner::User(jane), "Some".into())).unwrap();
    w.run(home(jane), |tx| tx.set_delegate_access(jim, Some(vec![g]), None, vec![])).unwrap();
    let tp = w.role("tax-preparer");
    w.run(home(biz_admin), |tx| tx.issue_access_code(biz, vec![tp], HASH.into(), NOW + 1_000))
        .unwrap();
    let r = w.run(home(jim), |tx| tx.redeem_access_code(HASH)).unwrap();
    assert_eq!(r.holder, jane, "recorded as the owner's access");
    assert!(w.can(jane, "returns.file", biz), "the owner gains what its delegate gains");
    assert!(w.can(jim, "returns.file", biz), "the delegate reaches it through the new group");
    let group = r.group.unwrap();
    assert_eq!(w.s.group_of(GroupOwner::User(jane), biz), Some(group));
}

#[test]
fn r48_start_impersonation_needs_reason_rank_and_does_not_chain() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let support = w.user(acme, "support");
    w.give(support, "senior-it-manager", acme, false);
    let cs = w.user(acme, "cs");
    w.give(cs, "customer-service", acme, false);
    let sm = w.user(acme, "sm");
    w.give(sm, "senior-manager", acme, false);
    let max = deputy_core::commands::access::MAX_IMPERSONATION_MS;
    let e = w.run(home(support), |tx| tx.start_impersonation(cs, " ", 60_000, max)).unwrap_err();
    assert_eq!(e.field, Some("reason"));
    refused(w.run(home(support), |tx| tx.start_impersonation(sm, "ticket 42", 60_000, max)), "R28");
    let e = w
        .run(home(support), |tx| tx.start_impersonation(cs, "ticket 42", max + 1, max))
        .unwrap_err();
    assert_eq!(e.field, Some("duration"), "R68: at most 60 minutes by default");
    let imp =
        w.run(home(support), |tx| tx.start_impersonation(cs, "ticket 42", 60_000, max)).unwrap();
    assert_eq!(imp.expires_at, w.now + 60_000);
    let as_cs = Actor::Principal {
        id: cs,
        ctx: Context { switched: None, impersonation: Some(imp), sessionless: false },
    };
    refused(w.run(as_cs, |tx| tx.start_impersonation(support, "again", 60_000, max)), "R48");
    // Excluded operations: the target's delegates and e-mail.
    let update = deputy_core::commands::users::ProfileUpdate {
        email: Some("new@example.com".into()),
        ..Default::default()
    };
    refused(w.run(as_cs, |tx| tx.update_profile(cs, update.clone())), "R48");
    let new = deputy_core::commands::users::NewDelegate {
        owner: cs,
        logon: "cs-helper".into(),
        first_name: "Cs".into(),
        last_name: "Helper".into(),
        email: "helper@example.com".into(),
        groups: None,
        kinds: None,
        roles: vec![],
        linked_password: true,
    };
    refused(w.run(as_cs, |tx| tx.create_delegate(new.clone())), "R48");
    let helper = w.delegate(cs, "cs-helper");
    refused(w.run(as_cs, |tx| tx.set_delegate_access(helper, None, None, vec![])), "R48");
    // Only the target is fenced off: anyone else it may manage, it manages as usual.
    let plain = w.user(acme, "plain");
    w.run(as_cs, |tx| tx.update_profile(plain, update.clone())).unwrap();
    assert_eq!(&*w.s.principal(plain).unwrap().email, "new@example.com");
}

#[test]
fn r46_partner_creates_new_customer_with_admin_grant() {
    let mut w = World::new();
    let partner = w.tenant(w.root, "partner");
    w.sys(|tx| tx.set_partner(partner, true));
    let pa = w.user(partner, "pa");
    let new = NewTenant { key: "new-customer".into(), name: "New".into(), ..Default::default() };
    let c = w.run(home(pa), |tx| tx.create_customer(partner, new)).unwrap();
    assert_eq!(w.s.tenant(c).unwrap().parent, Some(w.root), "outside the partner's subtree");
    let g = w.s.grants_from(c).next().unwrap();
    assert_eq!((g.partner, g.status), (partner, GrantStatus::Active));
    assert!(
        w.check_in(pa, "users.create", Target::Tenant(c), Context::switched(c)),
        "creator acts there with its roles"
    );
}

#[test]
fn r46_sub_account_through_grant_gets_bound_grant() {
    let mut w = World::new();
    let client = w.tenant(w.root, "client");
    let partner = w.tenant(w.root, "partner");
    w.sys(|tx| tx.set_partner(partner, true));
    let ca = w.user(client, "ca");
    let pu = w.user(partner, "pu");
    let sitm = w.role("senior-it-manager");
    let g = w
        .run(home(ca), |tx| {
            tx.propose_grant(
                client,
                partner,
                GrantTerms { ceiling: vec![sitm], ..Default::default() },
            )
        })
        .unwrap();
    w.sys(|tx| tx.give_partner_role(pu, Scope::Client { client }, sitm, None));
    let switched = Actor::Principal { id: pu, ctx: Context::switched(client) };
    let sub = w
        .run(switched, |tx| {
            tx.create_tenant(
                client,
                NewTenant { key: "client-sub".into(), name: "Sub".into(), ..Default::default() },
            )
        })
        .unwrap();
    let bound = w.s.grants_from(sub).next().unwrap().clone();
    assert_eq!(bound.bound_to, Some(g));
    assert!(w.check_in(pu, "tenants.manage", Target::Tenant(sub), Context::switched(sub)));
    // Revoking the client's grant ends the bound one in the same revision.
    w.run(home(ca), |tx| tx.revoke_grant(g)).unwrap();
    assert!(!w.check_in(pu, "tenants.manage", Target::Tenant(sub), Context::switched(sub)));
}

#[test]
fn r46_parent_account_moves_client_beneath_it() {
    let mut w = World::new();
    let region = w.tenant(w.root, "region");
    let client = w.tenant(region, "client");
    let partner = w.tenant(w.root, "partner");
    w.sys(|tx| tx.set_partner(partner, true));
    w.user(client, "ca");
    let pu = w.user(partner, "pu");
    let sitm = w.role("senior-it-manager");
    w.sys(|tx| {
        tx.propose_grant(client, partner, GrantTerms { ceiling: vec![sitm], ..Default::default() })
    });
    w.sys(|tx| tx.give_partner_role(pu, Scope::Client { client }, sitm, None));
    let switched = Actor::Principal { id: pu, ctx: Context::switched(client) };
    let parent = w
        .run(switched, |tx| {
            tx.create_parent_account(
                client,
                NewTenant {
                    key: "client-parent".into(),
                    name: "Parent".into(),
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert_eq!(w.s.tenant(parent).unwrap().parent, Some(region));
    assert_eq!(w.s.tenant(client).unwrap().parent, Some(parent));
}

#[test]
fn r25_a_deployment_catalog_defines_every_permission_the_rules_rely_on() {
    // A catalog without `impersonate` (and the rest) would leave R48 unusable for good.
    let thin = "default_role = \"admin\"\n[[permission]]\nname = \"users.view\"\n[[role]]\nname = \"admin\"\nrank = 100\npermissions = [\"*\"]\nadmin = true\n";
    let fresh = State::new(Catalog::shipped());
    let refused = fresh
        .decide(Actor::System, NOW, |tx| tx.init_deployment(thin, "root", "Root"))
        .unwrap_err();
    assert_eq!(refused.field, Some("catalog"), "{refused}");
    assert!(refused.to_string().contains("`impersonate`"), "{refused}");
    assert!(
        !refused.to_string().contains("`users.view`"),
        "it names only what is missing: {refused}"
    );
    // Every name the rules use is one the shipped catalog defines.
    assert!(Catalog::shipped().missing_relied_on().is_empty());
    for name in perms::RELIED_ON {
        assert!(
            deputy_core::catalog::SHIPPED_CATALOG.contains(&format!("name = \"{name}\"")),
            "{name}"
        );
    }
}

#[test]
fn r25_catalog_change_keeps_ids_and_needs_catalog_manage() {
    let mut w = World::new();
    let staff = w.user(w.root, "staff");
    w.give(staff, "read-only", w.root, false);
    let mut toml = deputy_core::catalog::SHIPPED_CATALOG.to_owned();
    toml.push_str("\n[[permission]]\nname = \"invoices.view\"\n");
    refused(w.run(home(staff), |tx| tx.change_catalog(&toml)), "R25");
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let e = w.run(home(admin), |tx| tx.change_catalog(&toml)).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "a tenant admin does not even see the root");
    let op = w.operator;
    w.run(home(op), |tx| tx.change_catalog(&toml)).unwrap();
    assert!(w.s.catalog.permission_id("invoices.view").is_some());
    let reordered = deputy_core::catalog::SHIPPED_CATALOG.replacen(
        "\n[[permission]]\n",
        "\n[[permission]]\nname = \"aaa.first\"\n\n[[permission]]\n",
        1,
    );
    refused(w.run(home(op), |tx| tx.change_catalog(&reordered)), "R25");
}

// ----- more rules ---------------------------------------------------------------------------

#[test]
fn r7_admin_role_is_the_crown_role() {
    let w = World::new();
    let admin = w.s.catalog.role(w.s.catalog.admin_role);
    assert_eq!(admin.name, "admin");
    assert!(admin.admin, "the catalog marks exactly one role as the crown");
    assert_eq!(w.s.catalog.roles.iter().filter(|r| r.admin).count(), 1);
}

#[test]
fn r9_internal_description_only_from_above_or_through_grant() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    refused(
        w.run(home(admin), |tx| {
            tx.describe_tenant(acme, None, Some("We sell anvils".into()), Some("late payer".into()))
        }),
        "R9",
    );
    w.run(home(admin), |tx| tx.describe_tenant(acme, None, Some("We sell anvils".into()), None))
        .unwrap();
    let op = w.operator;
    w.run(home(op), |tx| tx.describe_tenant(acme, None, None, Some("late payer".into()))).unwrap();
    let t = w.s.tenant(acme).unwrap();
    assert_eq!(
        (t.description.as_str(), t.internal_description.as_str()),
        ("We sell anvils", "late payer")
    );
}

#[test]
fn r17_linked_delegate_is_active_from_creation_and_gets_no_invitation() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let jane = w.user(acme, "jane");
    let linked = w.delegate(jane, "linked");
    assert_eq!(w.status(linked), Status::Active);
    let admin = w.operator;
    refused(w.run(home(admin), |tx| tx.set_status(linked, Status::Invited, None)), "R11");
    let new = deputy_core::commands::users::NewDelegate {
        owner: jane,
        logon: "unlinked".into(),
        first_name: "U".into(),
        last_name: "L".into(),
        email: "u@example.com".into(),
        groups: None,
        kinds: None,
        roles: vec![],
        linked_password: false,
    };
    let unlinked = w.run(home(jane), |tx| tx.create_delegate(new)).unwrap();
    assert_eq!(w.status(unlinked), Status::Invited, "waits for its set-password e-mail");
}

#[test]
fn r18_profile_attributes_and_internal_description() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let bob = w.user(acme, "bob");
    let update = deputy_core::commands::users::ProfileUpdate {
        attributes: vec![("quota_bytes".into(), Some(AttributeValue::Integer(5_000_000)))],
        internal_description: Some("VIP".into()),
        ..Default::default()
    };
    w.run(home(admin), |tx| tx.update_profile(bob, update)).unwrap();
    let p = w.s.principal(bob).unwrap();
    assert_eq!(p.attributes.get("quota_bytes"), Some(&AttributeValue::Integer(5_000_000)));
    assert_eq!(p.internal_description, "VIP".into());
    let own = deputy_core::commands::users::ProfileUpdate {
        internal_description: Some("me".into()),
        ..Default::default()
    };
    refused(w.run(home(bob), |tx| tx.update_profile(bob, own)), "R18");
}

#[test]
fn r24_service_accounts_are_active_without_password_and_own_no_delegates() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let sa = w
        .run(home(admin), |tx| {
            tx.create_service_account(acme, "billing-bot".into(), "reads invoices".into())
        })
        .unwrap();
    let p = w.s.principal(sa).unwrap();
    assert_eq!((p.kind, p.status), (PrincipalKind::ServiceAccount, Status::Active));
    let api = Bundle::Role(w.role("api"));
    w.sys(|tx| tx.set_entitlements(acme, &["api.access".into(), "reports.view".into()]));
    w.run(home(admin), |tx| {
        tx.assign(NewAssignment {
            principal: sa,
            bundle: api,
            scope: Scope::Tenant { tenant: acme, subtree: false },
            expires_at: None,
        })
    })
    .unwrap();
    assert!(w.can(sa, "checks.read", acme));
    let new = deputy_core::commands::users::NewDelegate {
        owner: sa,
        logon: "bot-2".into(),
        first_name: "B".into(),
        last_name: "B".into(),
        email: "b@example.com".into(),
        groups: None,
        kinds: None,
        roles: vec![],
        linked_password: true,
    };
    refused(w.run(Actor::System, |tx| tx.create_delegate(new)), "R34");
}

#[test]
fn r33_permission_changes_take_effect_at_their_revision() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    let bob = w.user(acme, "bob");
    let a = w.give_as(admin, bob, "read-only", acme).unwrap();
    let before = w.s.clone();
    w.run(home(admin), |tx| tx.unassign(bob, a)).unwrap();
    assert_eq!(w.s.revision, before.revision + 1);
    let x = w.perm("reports.view");
    assert!(
        before.check(bob, x, Target::Tenant(acme), Context::HOME, w.now).unwrap().is_allowed(),
        "older revision: still allowed"
    );
    assert!(
        !w.s.check(bob, x, Target::Tenant(acme), Context::HOME, w.now).unwrap().is_allowed(),
        "at the change's revision: denied"
    );
}

#[test]
fn r36_owner_cancelled_cascades_through_nested_delegates() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let admin = w.user(acme, "admin");
    w.sys(|tx| tx.set_delegation(acme, true, true));
    let owner = w.user(acme, "owner");
    let d1 = w.delegate(owner, "d1");
    let d2 = w.delegate(d1, "d2");
    w.run(home(admin), |tx| tx.cancel(owner)).unwrap();
    assert_eq!((w.status(d1), w.status(d2)), (Status::Cancelled, Status::Cancelled));
}

#[test]
fn r70_grants_auto_extend_or_notify_once_before_expiry() {
    use deputy_core::commands::partners::GrantUpkeep;
    let PartnerWorld { mut w, firm, firm_admin, grant, .. } = partner_world();
    const DAY: i64 = 24 * 60 * 60 * 1000;
    let ceiling = vec![w.role("paralegal"), w.role("viewer")];
    let until = w.now + 30 * DAY;
    w.run(home(firm_admin), |tx| {
        tx.change_grant(
            grant,
            GrantTerms { ceiling: ceiling.clone(), expires_at: Some(until), ..Default::default() },
        )
    })
    .unwrap();
    assert!(w.sys(|tx| tx.grant_upkeep(7 * DAY)).is_empty(), "not due yet");
    w.now = until - 3 * DAY;
    let done = w.sys(|tx| tx.grant_upkeep(7 * DAY));
    assert!(
        matches!(done.as_slice(), [GrantUpkeep::ExpiryNotice { client, .. }] if *client == firm)
    );
    assert!(w.sys(|tx| tx.grant_upkeep(7 * DAY)).is_empty(), "told once");
    // An auto-extending grant gets a new term instead.
    w.run(home(firm_admin), |tx| {
        tx.change_grant(
            grant,
            GrantTerms {
                ceiling: ceiling.clone(),
                expires_at: Some(until),
                auto_extend: true,
                ..Default::default()
            },
        )
    })
    .unwrap();
    let done = w.sys(|tx| tx.grant_upkeep(7 * DAY));
    assert!(
        matches!(done.as_slice(), [GrantUpkeep::Extended { expires_at, .. }] if *expires_at > until)
    );
    assert!(w.s.grant(grant).unwrap().expires_at.unwrap() > until);
}

#[test]
fn r5_holder_of_tenants_manage_over_tenant_may_leave_it_without_admin() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let only = w.user(acme, "only");
    let op = w.operator;
    // The console may not…
    let e = w.run(Actor::System, |tx| tx.set_status(only, Status::Deactivated, None)).unwrap_err();
    assert_eq!(e.rule, Some("R5"));
    // …the operator, holding tenants.manage over acme, may, and it is audited.
    let decided =
        w.s.decide(home(op), w.now, |tx| tx.set_status(only, Status::Deactivated, None)).unwrap();
    assert!(decided.events.iter().any(|e| e.action == "tenant.left_without_admin"));
    w.s = decided.next;
    // Later changes by others in the tenant are not blocked by the missing admin.
    let new = World::new_user(acme, "newbie", Status::Pending);
    assert!(w.run(home(op), |tx| tx.create_user(new)).is_ok());
}

#[test]
fn r20_cancel_revokes_unused_access_codes() {
    let mut w = World::new();
    let biz = w.tenant(w.root, "biz");
    w.user(biz, "biz-admin");
    let issuer = w.user(biz, "issuer");
    w.give(issuer, "admin", biz, false);
    let viewer = w.role("viewer");
    let code = w
        .run(home(issuer), |tx| {
            tx.issue_access_code(biz, vec![viewer], HASH.into(), NOW + 1_000_000)
        })
        .unwrap();
    w.sys(|tx| tx.cancel(issuer));
    assert!(w.s.access_code(code).unwrap().revoked);
}

#[test]
fn r43_switching_needs_a_grant_and_is_audited() {
    let PartnerWorld { mut w, firm, provider, provider_admin, ann, .. } = partner_world();
    // No role for the firm yet: the firm is not even visible.
    assert_eq!(
        w.run(home(ann), |tx| tx.switch_tenant(firm)).unwrap_err().kind,
        ErrorKind::NotFound
    );
    let viewer = w.role("viewer");
    w.run(home(provider_admin), |tx| {
        tx.give_partner_role(ann, Scope::Client { client: firm }, viewer, None)
    })
    .unwrap();
    let decided = w.s.decide(home(ann), w.now, |tx| tx.switch_tenant(firm)).unwrap();
    assert_eq!(decided.output, Context::switched(firm));
    assert!(decided.events.iter().any(|e| e.action == "session.switched"));
    assert_eq!(
        w.run(home(ann), |tx| tx.switch_tenant(provider)).unwrap(),
        Context::HOME,
        "switching back home"
    );
}

// ----- checkpoints --------------------------------------------------------------------------

#[test]
fn r1_checkpoint_after_moving_under_a_newer_tenant_reloads() {
    let mut w = World::new();
    let a = w.tenant(w.root, "a");
    let a_child = w.tenant(a, "a-child");
    let b = w.tenant(w.root, "b");
    let c = w.tenant(b, "c");
    w.sys(|tx| tx.move_tenant(a, c));
    w.sys(|tx| tx.move_tenant(b, a_child).map(|_| ()).or(Ok::<(), CommandError>(())));
    let restored = State::from_changes(&w.s.to_changes(), w.s.revision).unwrap();
    for id in [a, a_child, b, c] {
        assert_eq!(restored.tenant(id).unwrap().parent, w.s.tenant(id).unwrap().parent);
        assert_eq!(restored.tenant(id).unwrap().ancestors, w.s.tenant(id).unwrap().ancestors);
    }
}

#[test]
fn r69_assignment_ids_are_never_reused_after_a_checkpoint() {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    let u = w.user(acme, "u");
    let x = w.give(u, "read-only", acme, false);
    w.sys(|tx| tx.unassign(u, x));
    let restored = State::from_changes(&w.s.to_changes(), w.s.revision).unwrap();
    assert_eq!(restored.next_assignment_id(), w.s.next_assignment_id());
    assert!(restored.next_assignment_id() > x);
}

// ----- what a caller may be told (R52, R58) --------------------------------------------------

/// A tenant with an owner holding `read-only` and its secondary logon, and a caller's view
/// that cannot see the secondary logon (nor the root).
fn owner_and_delegate() -> (World, TenantId, PrincipalId, PrincipalId) {
    let mut w = World::new();
    let acme = w.tenant(w.root, "acme");
    w.user(acme, "admin");
    let owner = w.user(acme, "owner");
    w.give(owner, "read-only", acme, false);
    let d = w.delegate(owner, "d");
    (w, acme, owner, d)
}

#[test]
fn r52_explain_as_names_only_what_the_caller_may_see() {
    let (w, acme, owner, d) = owner_and_delegate();
    let root = w.root;
    let hides_d =
        |e: check::Entity| e != check::Entity::Principal(d) && e != check::Entity::Tenant(root);
    let x = w.perm("reports.view");
    let ex = w.s.explain_as(d, x, Target::Tenant(acme), Context::HOME, w.now, &hides_d).unwrap();
    assert_eq!(ex.decision, Decision::Allowed);
    let path = &ex.paths[0];
    assert_eq!(path.holder, check::Seen::Named(owner), "R69: the visible owner's provenance");
    assert_eq!(path.through_delegates, vec![check::Seen::Unseen(check::UNSEEN_PRINCIPAL)]);
    assert_eq!(path.assigned_by, Some(check::Seen::Named(Author::System)));
    // The owner visible, its secondary logon not: the reason names only the owner.
    let create = w.perm("users.create");
    let hides_owner = |e: check::Entity| e != check::Entity::Principal(owner);
    let denied =
        w.s.explain_as(d, create, Target::Tenant(acme), Context::HOME, w.now, &hides_owner)
            .unwrap();
    let reason = denied.reason.unwrap();
    assert!(reason.contains("limited by owner a principal you cannot see"), "{reason}");
    assert!(!reason.contains("`owner`"), "{reason}");
    // The console sees everything.
    let console = w.why(d, "users.create", Target::Tenant(acme), Context::HOME);
    assert!(console.reason.unwrap().contains("is limited by owner `owner`"));
}

#[test]
fn r52_a_denial_for_an_unseen_principal_tells_only_that_it_is_denied() {
    let (mut w, acme, owner, d) = owner_and_delegate();
    let hides_d = |e: check::Entity| e != check::Entity::Principal(d);
    let answer = |w: &World, perm: &str| {
        let x = w.perm(perm);
        let target = Target::Tenant(acme);
        let decision = w.s.check_as(d, x, target, Context::HOME, w.now, &hides_d).unwrap();
        let ex = w.s.explain_as(d, x, target, Context::HOME, w.now, &hides_d).unwrap();
        assert_eq!(ex.decision, decision, "R51: check and explain agree");
        (decision, ex.reason)
    };
    // A plain lack of access: the owner has no role holding `users.create`.
    let plain = answer(&w, "users.create");
    assert_eq!(plain.0, Decision::Denied(Step::Paths));
    assert_eq!(
        plain.1.as_deref(),
        Some("a principal you cannot see has no path to `users.create` here")
    );
    assert_eq!(answer(&w, "reports.view").0, Decision::Allowed);
    // Deactivated, or with its owner deactivated: denied for the same words (R11, R36).
    let same = |w: &World| {
        let (decision, reason) = answer(w, "reports.view");
        (decision, reason.map(|r| r.replace("reports.view", "users.create")))
    };
    w.sys(|tx| tx.set_status(d, Status::Deactivated, None));
    assert_eq!(
        w.s.check(d, w.perm("reports.view"), Target::Tenant(acme), Context::HOME, w.now).unwrap(),
        Decision::Denied(Step::Status),
        "the console is told why"
    );
    assert_eq!(same(&w), plain);
    w.sys(|tx| tx.set_status(d, Status::Active, None));
    w.sys(|tx| tx.set_status(owner, Status::Deactivated, None));
    assert_eq!(same(&w), plain);
}

#[test]
fn r58_standing_ties_a_principal_to_a_tenant_in_any_state() {
    let PartnerWorld { mut w, firm, firm_admin, provider, provider_admin, ann, grant } =
        partner_world();
    let other = w.tenant(w.root, "other");
    let outsider = w.user(other, "outsider");
    let jim = w.delegate(firm_admin, "jim");
    assert!(w.s.has_standing_in(firm_admin, firm), "a member");
    assert!(w.s.has_standing_in(jim, firm), "a member's secondary logon");
    assert!(w.s.has_standing_in(ann, firm), "a partner user: its home holds a grant from it");
    assert!(!w.s.has_standing_in(outsider, firm));
    assert!(!w.s.has_standing_in(firm_admin, provider));
    // Subtree: a grant with subtree reaches the firm's sub-tenants.
    let sub = w.tenant(firm, "firm-sub");
    assert!(!w.s.has_standing_in(ann, sub), "the grant does not reach below the firm");
    w.sys(|tx| tx.set_status(ann, Status::Deactivated, None));
    w.run(home(firm_admin), |tx| tx.revoke_grant(grant)).unwrap();
    assert!(w.s.has_standing_in(ann, firm), "revoked and deactivated: still tied, so denied");
    // meets: the tenants where the caller holds `checks.read` are found from its standing.
    let meets = |w: &World, p: PrincipalId, caller: PrincipalId| {
        let checks_read = w.perm("checks.read");
        w.s.meets(p, caller, &mut |t| {
            w.s.check(caller, checks_read, Target::Tenant(t), Context::HOME, w.now)
                .is_ok_and(|d| d.is_allowed())
        })
    };
    assert!(meets(&w, ann, firm_admin));
    assert!(!meets(&w, outsider, firm_admin));
    assert!(!meets(&w, firm_admin, provider_admin));
    // A subtree holder above the caller's tenant meets a caller homed below it.
    let regional = w.user(w.root, "regional");
    w.give(regional, "read-only", w.root, true);
    assert!(w.s.has_standing_in(regional, sub), "subtree standing reaches down");
    assert!(meets(&w, regional, firm_admin));
}

#[test]
fn r51_a_check_without_a_session_counts_direct_and_partner_paths() {
    let PartnerWorld { mut w, firm, provider_admin, ann, .. } = partner_world();
    let viewer = w.role("viewer");
    w.run(home(provider_admin), |tx| {
        tx.give_partner_role(ann, Scope::Client { client: firm }, viewer, None)
    })
    .unwrap();
    let firm_t = Target::Tenant(firm);
    // At home only direct paths; switched only partner paths; without a session both.
    assert!(!w.check_in(ann, "matters.view", firm_t, Context::HOME));
    assert!(w.check_in(ann, "matters.view", firm_t, Context::switched(firm)));
    assert!(w.check_in(ann, "matters.view", firm_t, Context::NONE));
    assert!(!w.check_in(ann, "matters.edit", firm_t, Context::NONE), "still within the ceiling");
    // The lookups agree with the check in each context.
    let x = w.perm("matters.view");
    let found = |ctx| w.s.lookup_resources_all(ann, x, None, ctx, w.now).unwrap();
    assert!(found(Context::NONE).contains(&firm_t));
    assert!(!found(Context::HOME).contains(&firm_t));
    let subjects = |ctx| w.s.lookup_subjects_in(firm_t, x, ctx, w.now).unwrap();
    let lists = |ctx| subjects(ctx).iter().any(|s| s.principal == ann);
    assert!(lists(Context::NONE) && lists(Context::switched(firm)) && !lists(Context::HOME));
    // Without a session, a partner-only subject names the client it would switch into.
    let sub = subjects(Context::NONE).into_iter().find(|s| s.principal == ann).unwrap();
    assert_eq!(sub.switched, Some(firm));
    // Explain says both kinds of path were looked for.
    let ex = w.why(ann, "matters.edit", firm_t, Context::NONE);
    assert!(ex.reason.unwrap().contains("directly or through a grant"));
}

/// R52, R69: explain texts, recorded (re-record with `UPDATE_EXPECT=1` and review the
/// diff): a path that exists but no longer counts says why and since when.
#[test]
fn r52_explain_says_why_a_path_no_longer_counts() {
    use expect_test::expect;
    let PartnerWorld { mut w, firm, firm_admin, provider_admin, ann, grant, .. } = partner_world();
    let viewer = w.role("viewer");
    w.run(home(provider_admin), |tx| {
        tx.give_partner_role(ann, Scope::Client { client: firm }, viewer, None)
    })
    .unwrap();
    let firm_t = Target::Tenant(firm);
    let why = |w: &World, p, perm| w.why(p, perm, firm_t, Context::NONE).reason.unwrap_or_default();
    // Allowed now; the grant ends in an hour.
    let end = w.now + 3_600_000;
    let paralegal = w.role("paralegal");
    w.run(home(firm_admin), |tx| {
        tx.change_grant(
            grant,
            GrantTerms {
                ceiling: vec![viewer, paralegal],
                expires_at: Some(end),
                ..Default::default()
            },
        )
    })
    .unwrap();
    assert!(w.check_in(ann, "matters.view", firm_t, Context::NONE));
    w.now = end;
    expect!["`ann` has no path to `matters.view` here now: the grant from `law-firm` to `provider` expired at 2023-11-14T23:13Z"]
        .assert_eq(&why(&w, ann, "matters.view"));
    // Extended again, then revoked: it says so, with when.
    w.run(home(firm_admin), |tx| {
        tx.change_grant(grant, GrantTerms { ceiling: vec![viewer], ..Default::default() })
    })
    .unwrap();
    assert!(w.check_in(ann, "matters.view", firm_t, Context::NONE));
    w.run(home(firm_admin), |tx| tx.revoke_grant(grant)).unwrap();
    expect!["`ann` has no path to `matters.view` here now: the grant from `law-firm` to `provider` was revoked at 2023-11-14T23:13Z"]
        .assert_eq(&why(&w, ann, "matters.view"));
    // An assignment that expired.
    let bob = w.user(firm, "bob");
    let until = w.now + 60_000;
    let role = Bundle::Role(viewer);
    w.sys(|tx| {
        tx.assign(NewAssignment {
            principal: bob,
            bundle: role,
            scope: Scope::Tenant { tenant: firm, subtree: false },
            expires_at: Some(until),
        })
    });
    w.now = until;
    expect!["`bob` has no path to `matters.view` here now: the assignment of `viewer` to `bob` in tenant `law-firm` expired at 2023-11-14T23:14Z"]
        .assert_eq(&why(&w, bob, "matters.view"));
    // A plain lack of access says so, and which paths were looked for.
    expect![
        "`bob` has no role holding `matters.edit` in tenant `law-firm`, directly or through a grant"
    ]
    .assert_eq(&why(&w, bob, "matters.edit"));
    let home_why = w.why(bob, "matters.edit", firm_t, Context::HOME).reason.unwrap_or_default();
    expect!["`bob` has no role holding `matters.edit` in tenant `law-firm`"].assert_eq(&home_why);
}

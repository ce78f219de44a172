//! The S dataset applies cleanly, keeps the invariants a real deployment keeps, and the
//! check mix and the lookup fixture exercise what the benchmark claims. No timings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_bench::generate::{DEFAULT_SEED, FIXTURE_RESOURCES, FIXTURE_TENANTS, build_state};
use deputy_bench::{Category, Mixer, Size, generate};
use deputy_core::*;
use deputy_service::Deputy;

#[test]
fn s_dataset_applies_cleanly_with_its_sizes_and_unique_names() {
    let d = generate(Size::S, DEFAULT_SEED).unwrap();
    let p = Size::S.params();
    let s = build_state(&d.changes).unwrap();
    assert_eq!(s.n_tenants(), p.tenants + FIXTURE_TENANTS);
    assert_eq!(d.meta.first_delegate as usize, p.users);
    assert_eq!(s.n_principals(), p.users + p.delegates);
    assert_eq!(s.n_resources(), p.resources + FIXTURE_RESOURCES);
    assert!(s.n_grants() <= p.grants && s.n_grants() >= p.grants * 9 / 10, "{}", s.n_grants());
    for t in s.tenants() {
        assert_eq!(s.tenant_by_key(&t.key), Some(t.id), "tenant key {} collides", t.key);
    }
    for pr in s.principals() {
        assert_eq!(s.principal_by_logon(&pr.logon), Some(pr.id), "logon {} collides", pr.logon);
    }
    for r in s.resources() {
        assert_eq!(s.resource_by_key(&r.key), Some(r.id));
        if let Some(parent) = r.parent {
            assert_eq!(s.resource(parent).unwrap().tenant, r.tenant);
        }
    }
    // Every delegate chain is two or three long and stays in its owner's tenant.
    for pr in s.principals() {
        let mut depth = 0;
        let mut current = pr;
        while let Some(o) = current.owner() {
            current = s.principal(o).unwrap();
            assert_eq!(current.home, pr.home);
            depth += 1;
        }
        assert!(depth <= 3, "{} is {depth} deep", pr.logon);
    }
    assert!(!d.meta.chain_delegates.is_empty() && !d.meta.group_delegates.is_empty());
}

#[test]
fn r4_r5_every_tenant_with_active_users_has_a_contact_and_an_active_admin() {
    let d = generate(Size::S, DEFAULT_SEED).unwrap();
    let s = build_state(&d.changes).unwrap();
    for t in s.tenants() {
        let has_active_user =
            s.members(t.id).any(|p| p.is_active() && matches!(p.kind, PrincipalKind::User));
        if has_active_user {
            assert!(t.contact.is_some(), "{} has no contact", t.key);
            assert!(
                deputy_core::tx::active_admins(&s, t.id).next().is_some(),
                "{} has no admin",
                t.key
            );
        }
    }
}

#[test]
fn generation_is_deterministic_per_seed() {
    let a = serde_json::to_string(&generate(Size::S, 1).unwrap().changes).unwrap();
    let b = serde_json::to_string(&generate(Size::S, 1).unwrap().changes).unwrap();
    let c = serde_json::to_string(&generate(Size::S, 2).unwrap().changes).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn the_mix_has_allowed_and_denied_checks_in_its_categories() {
    let d = generate(Size::S, DEFAULT_SEED).unwrap();
    let s = build_state(&d.changes).unwrap();
    let mut mixer = Mixer::new(&s, &d.meta, 3);
    for category in Category::ALL {
        let probes = mixer.only(category, 2_000);
        assert!(probes.iter().all(|p| p.category == category));
        let allowed = probes.iter().filter(|p| p.allowed(&s, d.now)).count();
        if category == Category::Denial {
            assert!(allowed < probes.len() / 20, "{category:?}: {allowed} allowed");
        } else {
            assert!(allowed > probes.len() / 5, "{category:?}: only {allowed} allowed");
            assert!(allowed < probes.len(), "{category:?}: nothing denied");
        }
    }
    let mix = mixer.mix(10_000);
    let allowed = mix.iter().filter(|p| p.allowed(&s, d.now)).count();
    assert!(allowed > 5_000 && allowed < 9_000, "{allowed} of 10,000 allowed");
    // Partner probes run switched into a client, the others at home.
    assert!(
        mix.iter().filter(|p| p.category == Category::Partner).all(|p| p.ctx.switched.is_some())
    );
}

#[test]
fn r53_the_lookup_fixture_sees_ten_thousand_resources_all_allowed_by_check() {
    let d = generate(Size::S, DEFAULT_SEED).unwrap();
    let s = build_state(&d.changes).unwrap();
    let perm = s.catalog.permission_id(d.meta.lookup_permission).unwrap();
    let who = d.meta.lookup_principal;
    let found = s.lookup_resources_all(who, perm, None, Context::HOME, d.now).unwrap();
    let resources: Vec<ResourceId> = found
        .iter()
        .filter_map(|t| match t {
            Target::Resource(r) => Some(*r),
            Target::Tenant(_) => None,
        })
        .collect();
    assert_eq!(resources.len(), FIXTURE_RESOURCES);
    assert_eq!(found.len() - resources.len(), FIXTURE_TENANTS);
    for t in found.iter().step_by(7) {
        assert!(s.check(who, perm, *t, Context::HOME, d.now).unwrap().is_allowed());
    }
    // And nothing outside the fixture: a resource of another company is denied.
    let outside =
        s.resources().find(|r| !s.is_ancestor_or_self(d.meta.lookup_root, r.tenant)).unwrap();
    assert!(!found.contains(&Target::Resource(outside.id)));
    assert!(
        !s.check(who, perm, Target::Resource(outside.id), Context::HOME, d.now)
            .unwrap()
            .is_allowed()
    );
}

#[test]
fn the_dataset_imports_reopens_and_takes_commands() {
    let d = generate(Size::S, DEFAULT_SEED).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let deputy = Deputy::open(deputy_backends::open_file(&path).unwrap()).unwrap();
    let revision = deputy.import(&d.changes, 10_000, &mut |_, _| {}).unwrap();
    assert_eq!(revision, 2);
    drop(deputy);
    let (deputy, figures) = deputy_bench::durable::cold_start(&path).unwrap();
    assert_eq!(figures.revision, 2);
    assert_eq!(figures.principals, d.meta.first_delegate as usize + Size::S.params().delegates);
    let run = deputy_bench::durable::durable_writes(&deputy, 20, 2, "test").unwrap();
    assert_eq!(run.commands, 20);
    assert_eq!(run.failed, 0, "{:?}", run.first_error);
}

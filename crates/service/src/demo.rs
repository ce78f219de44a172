//! The example deployment of `deputy demo`: the people and tenants of scenarios S1–S4
//! (SPEC §11), built through the same use cases as everything else.

pub mod layer;

use crate::{Deputy, ServiceError};
use deputy_core::commands::partners::GrantTerms;
use deputy_core::commands::resources::NewResource;
use deputy_core::commands::roles::NewAssignment;
use deputy_core::commands::tenants::NewTenant;
use deputy_core::commands::users::{NewDelegate, NewUser};
use deputy_core::*;
use deputy_store::Store;

/// Handles to the demo's tenants, people and resources.
#[derive(Debug, Clone)]
pub struct Demo {
    pub root: TenantId,
    pub operator: PrincipalId,
    // S1: tax portal
    pub natural_health: TenantId,
    pub jane: PrincipalId,
    pub nh_second_admin: PrincipalId,
    pub jim: PrincipalId,
    pub bakery: TenantId,
    pub bakery_admin: PrincipalId,
    pub florist: TenantId,
    pub florist_admin: PrincipalId,
    pub payroll_group: GroupId,
    pub bakery_withholding: ResourceId,
    pub bakery_sales: ResourceId,
    pub florist_withholding: ResourceId,
    // S2: data platform
    pub dataco: TenantId,
    pub acme: TenantId,
    pub acme_first: PrincipalId,
    pub dataco_cm: PrincipalId,
    // S3: backup portal
    pub backupco: TenantId,
    pub sitm: PrincipalId,
    pub senior_manager: PrincipalId,
    pub customer_parent: TenantId,
    pub customer_admin: PrincipalId,
    pub customer_service: PrincipalId,
    // S4: legal tech
    pub law_firm: TenantId,
    pub firm_admin: PrincipalId,
    pub provider: TenantId,
    pub provider_admin: PrincipalId,
    pub ann: PrincipalId,
    pub ann_old: PrincipalId,
    pub firm_grant: GrantId,
    pub matter: ResourceId,
}

fn tenant<S: Store>(
    d: &Deputy<S>,
    parent: TenantId,
    key: &str,
    name: &str,
) -> Result<TenantId, ServiceError> {
    let new = NewTenant { key: key.into(), name: name.into(), ..Default::default() };
    Ok(d.execute(Actor::System, None, |tx| tx.create_tenant(parent, new.clone()))?.output)
}

fn user<S: Store>(
    d: &Deputy<S>,
    home: TenantId,
    logon: &str,
    first: &str,
    last: &str,
) -> Result<PrincipalId, ServiceError> {
    let new = NewUser {
        home,
        logon: logon.into(),
        first_name: first.into(),
        last_name: last.into(),
        email: format!("{logon}@example.com"),
        phone: None,
        roles: vec![],
        status: Status::Active,
    };
    Ok(d.execute(Actor::System, None, |tx| tx.create_user(new.clone()))?.output)
}

fn give<S: Store>(
    d: &Deputy<S>,
    p: PrincipalId,
    role: &str,
    tenant: TenantId,
) -> Result<(), ServiceError> {
    let r =
        d.snapshot().catalog.role_id(role).ok_or_else(|| CommandError::not_found("role", role))?;
    let a = NewAssignment {
        principal: p,
        bundle: Bundle::Role(r),
        scope: Scope::Tenant { tenant, subtree: false },
        expires_at: None,
    };
    d.execute(Actor::System, None, |tx| tx.assign(a))?;
    Ok(())
}

fn resource<S: Store>(
    d: &Deputy<S>,
    tenant: TenantId,
    key: &str,
    rtype: &str,
    kind: Option<&str>,
) -> Result<ResourceId, ServiceError> {
    let s = d.snapshot();
    let ty =
        s.catalog.type_id(rtype).ok_or_else(|| CommandError::not_found("resource type", rtype))?;
    let kind = kind.and_then(|k| s.catalog.kind_id(ty, k));
    let new = NewResource {
        tenant,
        key: key.into(),
        name: key.into(),
        resource_type: ty,
        kind,
        parent: None,
    };
    Ok(d.execute(Actor::System, None, |tx| tx.create_resource(new.clone()))?.output)
}

fn role<S: Store>(d: &Deputy<S>, name: &str) -> Result<RoleId, ServiceError> {
    Ok(d.snapshot().catalog.role_id(name).ok_or_else(|| CommandError::not_found("role", name))?)
}

/// Builds the demo on an initialised, empty deployment.
pub fn build<S: Store>(d: &Deputy<S>) -> Result<Demo, ServiceError> {
    let root = d.snapshot().root().ok_or(ServiceError::NotInitialised)?;
    let operator = user(d, root, "operator", "Olga", "Operator")?;

    // S1: Jane, primary logon of Natural Health, tax preparer for two businesses.
    let natural_health = tenant(d, root, "natural-health", "Natural Health LLC")?;
    let jane = user(d, natural_health, "jane", "Jane", "Doe")?;
    let nh_second_admin = user(d, natural_health, "nora", "Nora", "Second")?;
    give(d, nh_second_admin, "admin", natural_health)?;
    let bakery = tenant(d, root, "bakery", "Main Street Bakery")?;
    let bakery_admin = user(d, bakery, "bakery-admin", "Bea", "Baker")?;
    let florist = tenant(d, root, "florist", "Rose Florist")?;
    let florist_admin = user(d, florist, "florist-admin", "Fred", "Florist")?;
    let tp = role(d, "tax-preparer")?;
    // In the portal Jane redeems each business's access code (R37a); the console stands in.
    for client in [bakery, florist] {
        let a = NewAssignment {
            principal: jane,
            bundle: Bundle::Role(tp),
            scope: Scope::Tenant { tenant: client, subtree: false },
            expires_at: None,
        };
        d.execute(Actor::System, None, |tx| tx.assign(a))?;
    }
    let bakery_withholding =
        resource(d, bakery, "bakery-withholding", "tax-account", Some("Withholding"))?;
    let bakery_sales = resource(d, bakery, "bakery-sales-use", "tax-account", Some("Sales & Use"))?;
    let florist_withholding =
        resource(d, florist, "florist-withholding", "tax-account", Some("Withholding"))?;
    let new_jim = NewDelegate {
        owner: jane,
        logon: "jim".into(),
        first_name: "Jim".into(),
        last_name: "Doe".into(),
        email: "jim@example.com".into(),
        groups: None,
        kinds: None,
        roles: vec![],
        linked_password: false,
    };
    let jim =
        d.execute(Actor::at_home(jane), None, |tx| tx.create_delegate(new_jim.clone()))?.output;
    d.execute(Actor::System, None, |tx| tx.password_set(jim))?;
    let payroll_group = d
        .execute(Actor::at_home(jane), None, |tx| {
            tx.create_group(GroupOwner::User(jane), "Payroll clients".into())
        })?
        .output;
    d.execute(Actor::at_home(jane), None, |tx| tx.place_in_group(payroll_group, bakery))?;
    let withholding = d
        .snapshot()
        .catalog
        .kind_by_name("Withholding")
        .ok_or_else(|| CommandError::not_found("kind", "Withholding"))?;
    d.execute(Actor::at_home(jane), None, |tx| {
        tx.set_delegate_access(jim, Some(vec![payroll_group]), Some(vec![withholding]), vec![])
    })?;

    // S2: Acme, a customer of the data platform partner DataCo.
    let dataco = tenant(d, root, "dataco", "DataCo Partners")?;
    d.execute(Actor::System, None, |tx| tx.set_partner(dataco, true))?;
    user(d, dataco, "dataco-admin", "Dana", "Admin")?;
    let dataco_cm = user(d, dataco, "carla", "Carla", "Manager")?;
    give(d, dataco_cm, "customer-manager", dataco)?;
    let acme = tenant(d, root, "acme", "Acme Corp")?;
    let acme_first = user(d, acme, "acme-admin", "Alice", "Acme")?;
    let admin_role = role(d, "admin")?;
    d.execute(Actor::at_home(acme_first), None, |tx| {
        tx.propose_grant(
            acme,
            dataco,
            GrantTerms { ceiling: vec![admin_role], ..Default::default() },
        )
    })?;

    // S3: BackupCo's ladder of ranked admins and a customer's parent account.
    let backupco = tenant(d, root, "backupco", "BackupCo")?;
    d.execute(Actor::System, None, |tx| tx.set_partner(backupco, true))?;
    let backupco_admin = user(d, backupco, "backupco-admin", "Bob", "Backup")?;
    let senior_manager = user(d, backupco, "sm", "Sam", "Senior")?;
    give(d, senior_manager, "senior-manager", backupco)?;
    let sitm = user(d, backupco, "sitm", "Ivy", "ItManager")?;
    give(d, sitm, "senior-it-manager", backupco)?;
    let customer_parent = tenant(d, root, "globex", "Globex Holdings")?;
    let customer_admin = user(d, customer_parent, "globex-admin", "Gus", "Globex")?;
    let customer_service = user(d, customer_parent, "globex-cs", "Cora", "Service")?;
    give(d, customer_service, "customer-service", customer_parent)?;
    let sitm_role = role(d, "senior-it-manager")?;
    let cs_role = role(d, "customer-service")?;
    let ceiling = vec![sitm_role, cs_role, role(d, "power-user")?];
    d.execute(Actor::at_home(customer_admin), None, |tx| {
        tx.propose_grant(
            customer_parent,
            backupco,
            GrantTerms { ceiling: ceiling.clone(), subtree: true, ..Default::default() },
        )
    })?;
    d.execute(Actor::at_home(backupco_admin), None, |tx| {
        tx.give_partner_role(sitm, Scope::Client { client: customer_parent }, sitm_role, None)
    })?;

    // S4: a law firm and its legal-services provider.
    let law_firm = tenant(d, root, "law-firm", "Smith & Partners LLP")?;
    let firm_admin = user(d, law_firm, "firm-admin", "Fiona", "Smith")?;
    let provider = tenant(d, root, "legal-services", "Legal Services Inc")?;
    d.execute(Actor::System, None, |tx| tx.set_partner(provider, true))?;
    let provider_admin = user(d, provider, "provider-admin", "Paul", "Provider")?;
    let ann = user(d, provider, "ann", "Ann", "Lee")?;
    let ann_old = {
        let new = NewUser {
            home: law_firm,
            logon: "ann.lee".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: "ann@example.com".into(),
            phone: None,
            roles: vec![],
            status: Status::Active,
        };
        d.execute(Actor::at_home(firm_admin), None, |tx| tx.create_user(new.clone()))?.output
    };
    let ann_profile = deputy_core::commands::users::ProfileUpdate {
        email: Some("ann@example.com".into()),
        ..Default::default()
    };
    d.execute(Actor::System, None, |tx| tx.update_profile(ann, ann_profile.clone()))?;
    d.execute(Actor::System, None, |tx| tx.verify_email(ann))?;
    d.execute(Actor::System, None, |tx| tx.verify_email(ann_old))?;
    let matter = resource(d, law_firm, "matter-1042", "matter", None)?;
    let ceiling = vec![role(d, "paralegal")?, role(d, "viewer")?];
    let firm_grant = d
        .execute(Actor::at_home(firm_admin), None, |tx| {
            tx.propose_grant(
                law_firm,
                provider,
                GrantTerms { ceiling: ceiling.clone(), ..Default::default() },
            )
        })?
        .output;

    Ok(Demo {
        root,
        operator,
        natural_health,
        jane,
        nh_second_admin,
        jim,
        bakery,
        bakery_admin,
        florist,
        florist_admin,
        payroll_group,
        bakery_withholding,
        bakery_sales,
        florist_withholding,
        dataco,
        acme,
        acme_first,
        dataco_cm,
        backupco,
        sitm,
        senior_manager,
        customer_parent,
        customer_admin,
        customer_service,
        law_firm,
        firm_admin,
        provider,
        provider_admin,
        ann,
        ann_old,
        firm_grant,
        matter,
    })
}

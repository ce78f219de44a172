//! The example deployment of `deputy demo`: the people and tenants of scenarios S1–S4
//! (SPEC §11), loaded from the scenario files of `deputy-scenarios` (their world and setup)
//! through the same commands as everything else, and the handles tests use to name them.

pub mod layer;

use crate::{Deputy, ServiceError};
use deputy_core::*;
use deputy_scenarios::commands::{self, Commands};
use deputy_scenarios::driver;
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

/// Builds the demo on an initialised, empty deployment: the operator, then the world and
/// setup of every scenario file of `deputy-scenarios`, in order, through [`Deputy::execute`].
pub fn build<S: Store>(d: &Deputy<S>) -> Result<Demo, ServiceError> {
    let root = d.snapshot().root().ok_or(ServiceError::NotInitialised)?;
    d.execute(Actor::System, None, |tx| tx.create_user(commands::operator(root)))?;
    let broken = |e: String| {
        ServiceError::Command(CommandError::conflict(
            None,
            None,
            format!("the demo's scenario files do not load: {e}"),
        ))
    };
    let mut runner = Commands::new(layer::Service::new(d));
    for file in deputy_scenarios::ALL {
        let scenario = file.parse().map_err(broken)?;
        driver::load(&mut runner, &scenario).map_err(broken)?;
    }
    handles(d)
}

/// The demo's handles in a deployment `build` made (a second `deputy demo` on the same
/// database reuses it); an error when the deployment is not the demo's.
pub fn handles<S: Store>(d: &Deputy<S>) -> Result<Demo, ServiceError> {
    let s = d.snapshot();
    let root = s.root().ok_or(ServiceError::NotInitialised)?;
    let tenant =
        |key: &str| s.tenant_by_key(key).ok_or_else(|| CommandError::not_found("tenant", key));
    let principal = |logon: &str| {
        s.principal_by_logon(logon).ok_or_else(|| CommandError::not_found("principal", logon))
    };
    let resource =
        |key: &str| s.resource_by_key(key).ok_or_else(|| CommandError::not_found("resource", key));
    let jane = principal("jane")?;
    let payroll_group = s
        .groups_of(GroupOwner::User(jane))
        .find(|g| g.name == "Payroll clients")
        .map(|g| g.id)
        .ok_or_else(|| CommandError::not_found("group", "Payroll clients"))?;
    let (law_firm, provider) = (tenant("law-firm")?, tenant("legal-services")?);
    let firm_grant = s
        .grants_between(law_firm, provider)
        .map(|g| g.id)
        .next()
        .ok_or_else(|| CommandError::not_found("grant from", "law-firm"))?;
    Ok(Demo {
        root,
        operator: principal("operator")?,
        natural_health: tenant("natural-health")?,
        jane,
        nh_second_admin: principal("nora")?,
        jim: principal("jim")?,
        bakery: tenant("bakery")?,
        bakery_admin: principal("bakery-admin")?,
        florist: tenant("florist")?,
        florist_admin: principal("florist-admin")?,
        payroll_group,
        bakery_withholding: resource("bakery-withholding")?,
        bakery_sales: resource("bakery-sales-use")?,
        florist_withholding: resource("florist-withholding")?,
        dataco: tenant("dataco")?,
        acme: tenant("acme")?,
        acme_first: principal("acme-admin")?,
        dataco_cm: principal("carla")?,
        backupco: tenant("backupco")?,
        sitm: principal("sitm")?,
        senior_manager: principal("sm")?,
        customer_parent: tenant("globex")?,
        customer_admin: principal("globex-admin")?,
        customer_service: principal("globex-cs")?,
        law_firm,
        firm_admin: principal("firm-admin")?,
        provider,
        provider_admin: principal("provider-admin")?,
        ann: principal("ann")?,
        ann_old: principal("ann.lee")?,
        firm_grant,
        matter: resource("matter-1042")?,
    })
}

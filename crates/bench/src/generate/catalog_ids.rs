//! The catalog ids the generator uses, looked up once by name in the shipped catalog, and
//! the five kinds of partner it makes.

use super::*;

/// The catalog ids the generator uses.
pub(super) struct Cat {
    pub(super) admin: RoleId,
    pub(super) customer_manager: RoleId,
    pub(super) senior_manager: RoleId,
    pub(super) senior_it_manager: RoleId,
    pub(super) customer_service: RoleId,
    pub(super) read_only: RoleId,
    pub(super) power_user: RoleId,
    pub(super) tax_preparer: RoleId,
    pub(super) paralegal: RoleId,
    pub(super) viewer: RoleId,
    pub(super) data_estate_admin: RoleId,
    pub(super) environment_admin: RoleId,
    pub(super) default_user: RoleId,
    pub(super) tax_account: TypeId,
    pub(super) instance: TypeId,
    pub(super) data_source: TypeId,
    pub(super) environment: TypeId,
    pub(super) backup_account: TypeId,
    pub(super) matter: TypeId,
    pub(super) report: TypeId,
    pub(super) tax_kinds: Vec<KindId>,
    pub(super) default_entitlements: PermSet,
    pub(super) entitleable: PermSet,
    /// Left out of some companies' entitlements.
    pub(super) narrowed: PermSet,
    pub(super) api_access: PermId,
}

impl Cat {
    pub(super) fn new(catalog: &Catalog) -> Result<Cat, Error> {
        let role = |name: &str| {
            catalog.role_id(name).ok_or_else(|| Error::Catalog(format!("no role `{name}`")))
        };
        let ty = |name: &str| {
            catalog.type_id(name).ok_or_else(|| Error::Catalog(format!("no type `{name}`")))
        };
        let perm = |name: &str| {
            catalog
                .permission_id(name)
                .ok_or_else(|| Error::Catalog(format!("no permission `{name}`")))
        };
        let tax_account = ty("tax-account")?;
        let tax_kinds = catalog.types[tax_account.index()].kinds.clone();
        if tax_kinds.is_empty() {
            return Err(Error::Catalog("`tax-account` has no kinds".into()));
        }
        let narrowed: PermSet =
            [perm("backups.view")?, perm("backups.manage")?].into_iter().collect();
        Ok(Cat {
            admin: role("admin")?,
            customer_manager: role("customer-manager")?,
            senior_manager: role("senior-manager")?,
            senior_it_manager: role("senior-it-manager")?,
            customer_service: role("customer-service")?,
            read_only: role("read-only")?,
            power_user: role("power-user")?,
            tax_preparer: role("tax-preparer")?,
            paralegal: role("paralegal")?,
            viewer: role("viewer")?,
            data_estate_admin: role("data-estate-admin")?,
            environment_admin: role("environment-admin")?,
            default_user: catalog.default_role,
            tax_account,
            instance: ty("instance")?,
            data_source: ty("data-source")?,
            environment: ty("environment")?,
            backup_account: ty("backup-account")?,
            matter: ty("matter")?,
            report: ty("report")?,
            tax_kinds,
            default_entitlements: catalog.default_entitlements,
            entitleable: catalog.entitleable,
            narrowed,
            api_access: perm("api.access")?,
        })
    }

    /// The five kinds of partner (S1–S4 and a managed-service provider): the grant ceiling
    /// their clients give, and the partner roles their staff receive within it.
    pub(super) fn profile(&self, i: usize) -> (Vec<RoleId>, Vec<RoleId>) {
        match i % 5 {
            0 => (
                vec![self.admin],
                vec![self.senior_it_manager, self.customer_service, self.read_only],
            ),
            1 => (
                vec![self.senior_it_manager, self.customer_service, self.power_user],
                vec![self.senior_it_manager, self.customer_service, self.power_user],
            ),
            2 => (vec![self.paralegal, self.viewer], vec![self.paralegal, self.viewer]),
            3 => (vec![self.tax_preparer], vec![self.tax_preparer]),
            _ => (
                vec![self.data_estate_admin, self.environment_admin],
                vec![self.data_estate_admin, self.environment_admin],
            ),
        }
    }
}

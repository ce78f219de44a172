//! R70: grants that extend themselves, and both tenants' admins told by mail before a
//! grant ends.

use super::{Auth, AuthError};
use crate::deputy::ServiceError;
use deputy_core::{Actor, PrincipalId, Status};
use deputy_store::Store;
use deputy_store::secrets::{NewMail, SecretStore};

impl<S: Store + SecretStore> Auth<S> {
    /// R70: extends auto-extending grants and tells both tenants' admins, by mail, about
    /// grants that expire within `window_ms` (once per expiry). Commits only when there is
    /// something to do. Returns the number of mails queued.
    pub fn grant_upkeep(&self, window_ms: i64) -> Result<usize, AuthError> {
        use deputy_core::commands::partners::GrantUpkeep;
        let now = self.deputy.now();
        let pending = self
            .deputy
            .snapshot()
            .decide(Actor::System, now, |tx| tx.grant_upkeep(window_ms))
            .map_err(|e| AuthError::Service(ServiceError::Command(e)))?;
        if pending.changes.is_empty() {
            return Ok(0);
        }
        let done = self.deputy.execute(Actor::System, None, |tx| tx.grant_upkeep(window_ms))?;
        let s = self.deputy.snapshot();
        let admins_of = |tenant| tenant_admins(&s, tenant);
        let key = |t: deputy_core::TenantId| s.tenant(t).map_or(t.to_string(), |t| t.name.clone());
        let mut n = 0;
        for event in done.output {
            let (client, partner, expires_at, extended) = match event {
                GrantUpkeep::ExpiryNotice { client, partner, expires_at, .. } => {
                    (client, partner, expires_at, false)
                }
                GrantUpkeep::Extended { client, partner, expires_at, .. } => {
                    (client, partner, expires_at, true)
                }
            };
            let hours = ((expires_at - now) / 3_600_000).max(0);
            let (subject, body) = if extended {
                (
                    "Partner access extended".to_owned(),
                    format!(
                        "The partner access {} gave {} was extended; it now runs until {} (epoch milliseconds).\n",
                        key(client),
                        key(partner),
                        expires_at
                    ),
                )
            } else {
                (
                    "Partner access ends soon".to_owned(),
                    format!(
                        "The partner access {} gave {} ends in about {hours} hours (at {} epoch milliseconds). Extend it under Partner Access → Grant Access, or let it end.\n",
                        key(client),
                        key(partner),
                        expires_at
                    ),
                )
            };
            for p in admins_of(client).into_iter().chain(admins_of(partner)) {
                self.notify(p, &subject, &body)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Queues a mail to a principal's address (R61).
    pub fn notify(
        &self,
        principal: PrincipalId,
        subject: &str,
        body: &str,
    ) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        let Some(p) = s.principal(principal) else { return Ok(()) };
        self.store().queue_mail(
            &NewMail {
                recipient: p.email.to_string(),
                subject: subject.to_owned(),
                body: body.to_owned(),
            },
            self.deputy.now(),
        )?;
        Ok(())
    }
}

/// The active, non-delegate admins of `tenant` (its own users holding `admin` there): who
/// is told of what happens to the tenant's access (R44, R70).
pub(crate) fn tenant_admins(
    s: &deputy_core::State,
    tenant: deputy_core::TenantId,
) -> Vec<PrincipalId> {
    let admin = s.catalog.admin_role;
    s.members(tenant)
        .filter(|p| p.status == Status::Active && p.owner().is_none())
        .filter(|p| {
            p.assignments.iter().any(|a| {
                a.bundle == deputy_core::Bundle::Role(admin)
                    && matches!(a.scope, deputy_core::Scope::Tenant { tenant: t, .. } if t == tenant)
            })
        })
        .map(|p| p.id)
        .collect()
}

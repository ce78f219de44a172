//! Paths that exist but no longer count (R52): when step 6 finds no path, explain says
//! which would have held and why it does not, with when: an assignment that expired, a
//! grant that expired, was revoked or is only proposed. Asked only while explaining a
//! denial, so the check path never pays for it.

use super::{Eval, Reach, Resolved, bundle_holds};
use crate::ids::*;
use crate::model::*;

/// An instant for people: `2026-11-22T10:00Z` (UTC, to the minute).
pub(crate) fn instant(ms: Millis) -> String {
    let minutes = ms.div_euclid(60_000);
    let (days, minute_of_day) = (minutes.div_euclid(1_440), minutes.rem_euclid(1_440));
    // Days since 1970-01-01 to a civil date (H. Hinnant's `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}Z", minute_of_day / 60, minute_of_day % 60)
}

impl<'s, const EXPLAIN: bool> Eval<'s, EXPLAIN> {
    /// Why a path that would hold `x` on the target no longer counts, if one exists.
    pub(super) fn lapsed(
        &self,
        p: &Principal,
        x: PermId,
        tgt: &Resolved,
        reach: Reach,
    ) -> Option<String> {
        let direct = matches!(reach, Reach::Home | Reach::Anywhere);
        let partner = match reach {
            Reach::Switched(c) => Some(c),
            Reach::Anywhere => Some(tgt.tenant),
            Reach::Home => None,
        };
        if direct && let Some(why) = self.lapsed_direct(p, x, tgt) {
            return Some(why);
        }
        partner.and_then(|client| self.lapsed_partner(p, x, tgt, client))
    }

    fn lapsed_direct(&self, p: &Principal, x: PermId, tgt: &Resolved) -> Option<String> {
        let s = self.s;
        let ancestors: &[TenantId] = s.tenant(tgt.tenant).map_or(&[], |t| &t.ancestors);
        p.assignments.iter().find_map(|a| {
            let ended = a.expires_at.filter(|t| self.now >= *t)?;
            if !bundle_holds(s, a.bundle, x) {
                return None;
            }
            let place = match a.scope {
                Scope::Tenant { tenant, subtree }
                    if tenant == tgt.tenant || (subtree && ancestors.contains(&tenant)) =>
                {
                    format!("in tenant {}", self.tname(tenant))
                }
                Scope::Resource { resource }
                    if tgt
                        .resource
                        .is_some_and(|r| s.resource_is_ancestor_or_self(resource, r)) =>
                {
                    "on the target".to_owned()
                }
                _ => return None,
            };
            Some(format!(
                "the assignment of {} to {} {place} expired at {}",
                self.bundle_name(a.bundle),
                self.pname(p.id),
                instant(ended)
            ))
        })
    }

    fn lapsed_partner(
        &self,
        p: &Principal,
        x: PermId,
        tgt: &Resolved,
        client: TenantId,
    ) -> Option<String> {
        // First a grant under which the principal was given something holding `x`; else
        // any that reaches here (a revocation ends the roles given under it, R40).
        self.lapsed_grant(p, x, tgt, client, true)
            .or_else(|| self.lapsed_grant(p, x, tgt, client, false))
    }

    fn lapsed_grant(
        &self,
        p: &Principal,
        x: PermId,
        tgt: &Resolved,
        client: TenantId,
        given_only: bool,
    ) -> Option<String> {
        let s = self.s;
        let t = s.tenant(tgt.tenant)?;
        let client_pos = t.ancestors.iter().position(|a| *a == client)?;
        for (pos, &granter) in t.ancestors.iter().enumerate().rev() {
            for g in s.grants_between(granter, p.home) {
                let reaches = (granter == tgt.tenant || g.subtree)
                    && (client == granter || (g.subtree && pos <= client_pos));
                if !reaches || (given_only && !self.given_for(p, granter, x)) {
                    continue;
                }
                let from =
                    format!("the grant from {} to {}", self.tname(g.client), self.tname(g.partner));
                let why = match (g.status, g.expires_at) {
                    (GrantStatus::Revoked, _) => Some(match g.revoked_at {
                        Some(at) => format!("{from} was revoked at {}", instant(at)),
                        None => format!("{from} was revoked"),
                    }),
                    (GrantStatus::Proposed, _) => Some(format!("{from} is proposed, not approved")),
                    (GrantStatus::Active, Some(end)) if self.now >= end => {
                        Some(format!("{from} expired at {}", instant(end)))
                    }
                    (GrantStatus::Active, _) if s.effective_grant(g, self.now).is_none() => {
                        Some(format!("{from} follows a grant that no longer holds"))
                    }
                    _ => None,
                };
                if why.is_some() {
                    return why;
                }
                // The grant holds: a role given for the client may have expired.
                if given_only && let Some(why) = self.lapsed_partner_role(p, granter, x) {
                    return Some(why);
                }
            }
        }
        None
    }

    /// Whether `p` was given, for client `granter`, a role or permission holding `x`
    /// (live or not), or is a customer manager.
    fn given_for(&self, p: &Principal, granter: TenantId, x: PermId) -> bool {
        let s = self.s;
        self.customer_manager(p)
            || p.assignments.iter().any(|a| {
                bundle_holds(s, a.bundle, x)
                    && match a.scope {
                        Scope::Client { client } => client == granter,
                        Scope::Group { group } => {
                            s.group_of(GroupOwner::Tenant(p.home), granter) == Some(group)
                        }
                        _ => false,
                    }
            })
    }

    fn lapsed_partner_role(&self, p: &Principal, granter: TenantId, x: PermId) -> Option<String> {
        let s = self.s;
        p.assignments.iter().find_map(|a| {
            let ended = a.expires_at.filter(|t| self.now >= *t)?;
            let for_client = match a.scope {
                Scope::Client { client } => client == granter,
                Scope::Group { group } => {
                    s.group_of(GroupOwner::Tenant(p.home), granter) == Some(group)
                }
                _ => false,
            };
            (for_client && bundle_holds(s, a.bundle, x)).then(|| {
                format!(
                    "the role {} given to {} for {} expired at {}",
                    self.bundle_name(a.bundle),
                    self.pname(p.id),
                    self.tname(granter),
                    instant(ended)
                )
            })
        })
    }

    fn bundle_name(&self, bundle: Bundle) -> String {
        match bundle {
            Bundle::Role(r) => format!("`{}`", self.s.catalog.role_name(r)),
            Bundle::Permission(x) => format!("`{}`", self.s.catalog.perm_name(x)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::instant;

    #[test]
    fn r52_instants_read_as_utc_dates_to_the_minute() {
        assert_eq!(instant(0), "1970-01-01T00:00Z");
        assert_eq!(instant(1_800_000_000_000), "2027-01-15T08:00Z");
        assert_eq!(instant(951_782_400_000), "2000-02-29T00:00Z");
        assert_eq!(instant(-60_000), "1969-12-31T23:59Z");
    }
}

//! The portal's pages, one module per area of R59.

pub mod access;
pub mod activity;
pub mod groups;
pub mod outbox;
pub mod partners;
pub mod preview;
pub mod roles;
pub mod sessions;
pub mod tenants;
pub mod users;

use deputy_core::State as Snapshot;

/// A tenant's display name from its id text (`t3`), or the text itself.
pub(crate) fn tenant_name(s: &Snapshot, id: &str) -> String {
    deputy_service::resolve::tenant(s, id)
        .ok()
        .and_then(|t| s.tenant(t))
        .map_or_else(|| id.to_owned(), |t| t.name.to_string())
}

/// A principal's display name from its id text (`p7`), or the text itself.
pub(crate) fn principal_name(s: &Snapshot, id: &str) -> String {
    deputy_service::resolve::principal(s, id).ok().and_then(|p| s.principal(p)).map_or_else(
        || id.to_owned(),
        |p| format!("{} {} ({})", p.first_name, p.last_name, p.logon),
    )
}

/// The home tenant (id text) of a principal given by id or logon name.
pub(crate) fn home_of(s: &Snapshot, principal: &str) -> Option<String> {
    deputy_service::resolve::principal(s, principal)
        .ok()
        .and_then(|p| s.principal(p))
        .map(|p| p.home.to_string())
}

/// Formats milliseconds since the epoch as UTC `YYYY-MM-DD HH:MM`.
pub fn when(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", rest / 3600, rest % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::when;

    #[test]
    fn dates_render_in_utc() {
        assert_eq!(when(0), "1970-01-01 00:00");
        assert_eq!(when(1_795_651_200_000), "2026-11-26 00:00");
        assert_eq!(when(951_782_400_000 + 61_000), "2000-02-29 00:01");
    }
}

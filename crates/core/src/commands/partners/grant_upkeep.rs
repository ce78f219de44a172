//! Grant upkeep (R70): auto-extending grants are extended before they expire, and the
//! others' admins are told once that they soon will.

use super::*;

/// What grant upkeep did to one grant (R70).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum GrantUpkeep {
    /// An auto-extending grant got a new expiry.
    Extended { grant: GrantId, client: TenantId, partner: TenantId, expires_at: Millis },
    /// Both tenants' admins are to be told that the grant expires soon.
    ExpiryNotice { grant: GrantId, client: TenantId, partner: TenantId, expires_at: Millis },
}

impl Tx {
    /// R70: extends auto-extending grants that expire within `window_ms` by their term, and
    /// records a notice (once per expiry) for the others. Run periodically by the server.
    pub fn grant_upkeep(&mut self, window_ms: Millis) -> Result<Vec<GrantUpkeep>, CommandError> {
        if self.actor != Actor::System {
            return Err(CommandError::forbidden(
                "R70",
                "grant upkeep is run by the deployment itself",
            ));
        }
        let due: Vec<Grant> = self
            .state
            .grants()
            .filter(|g| g.status == GrantStatus::Active && g.bound_to.is_none())
            .filter(|g| g.expires_at.is_some_and(|t| t > self.now && t - self.now <= window_ms))
            .cloned()
            .collect();
        let mut done = Vec::new();
        for g in due {
            let Some(expires_at) = g.expires_at else { continue };
            if g.auto_extend {
                const DAY: Millis = 24 * 60 * 60 * 1000;
                let term = (expires_at - g.approved_at.unwrap_or(g.created_at)).max(DAY);
                let next = expires_at + term;
                self.log(
                    "grant.extended",
                    Some(g.id.to_string()),
                    Some(g.client),
                    json!({"partner": g.partner.to_string(), "from": expires_at, "to": next}),
                );
                done.push(GrantUpkeep::Extended {
                    grant: g.id,
                    client: g.client,
                    partner: g.partner,
                    expires_at: next,
                });
                self.put(Change::Grant(Grant {
                    expires_at: Some(next),
                    expiry_noticed: None,
                    revoked_at: None,
                    ..g
                }))?;
            } else if g.expiry_noticed != Some(expires_at) {
                self.log(
                    "grant.expiry_notice",
                    Some(g.id.to_string()),
                    Some(g.client),
                    json!({"partner": g.partner.to_string(), "expires_at": expires_at}),
                );
                done.push(GrantUpkeep::ExpiryNotice {
                    grant: g.id,
                    client: g.client,
                    partner: g.partner,
                    expires_at,
                });
                self.put(Change::Grant(Grant { expiry_noticed: Some(expires_at), ..g }))?;
            }
        }
        Ok(done)
    }
}

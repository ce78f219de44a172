//! Partner grants and partner roles (R40–R47): proposals, approval, narrowing,
//! revocation, roles given within the ceiling, and replacement of direct accounts; the
//! accounts a partner creates for its clients, grant upkeep, and switching into a client.
//!
//! One child module per part: `grants` (R40, R41, R27's exception for ceilings),
//! `partner_roles` (R41, R44), `accounts` (R46), `grant_upkeep` (R70) and `switching`
//! (R43). This file holds what more than one of them asks: which side of a grant the
//! actor acts for.

use crate::check::Target;
use crate::commands::roles::effective_in;
use crate::ids::*;
use crate::model::*;
use crate::state::Change;
use crate::tx::{Actor, CommandError, Tx, active_admins};
use serde::Serialize;
use serde_json::json;

mod accounts;
mod grant_upkeep;
mod grants;
mod partner_roles;
mod switching;

pub use grant_upkeep::GrantUpkeep;
pub use grants::GrantTerms;
pub use partner_roles::PartnerRoleOutcome;

impl Tx {
    /// `partners.manage` held directly in the client: permissions held only through a grant
    /// never propose, approve or change that client's grants (R43).
    fn client_side(&self, client: TenantId) -> bool {
        self.may_directly(crate::perms::PARTNERS_MANAGE, client)
    }

    fn partner_side(&self, partner: TenantId) -> bool {
        self.may_directly(crate::perms::PARTNERS_MANAGE, partner)
    }
}

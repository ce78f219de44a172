//! Access codes (R37, R37a), impersonation decisions (R48, R68) and catalog changes (R25).

use crate::catalog::Catalog;
use crate::check::{Context, Impersonation, Target};
use crate::commands::roles::effective_in;
use crate::ids::*;
use crate::model::*;
use crate::state::Change;
use crate::tx::{Actor, CommandError, Tx};
use serde_json::json;

/// The longest an impersonation may last, by default (R68).
pub const MAX_IMPERSONATION_MS: Millis = 60 * 60 * 1000;

/// What a redeemed code gave (R37).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Redemption {
    pub tenant: TenantId,
    /// Who got the roles: the redeemer, or a delegate's owner.
    pub holder: PrincipalId,
    pub assignments: Vec<AssignmentId>,
    /// For a delegate with limited groups: the new group of its owner holding the tenant.
    pub group: Option<GroupId>,
}

impl Tx {
    /// Whether the actor may put `roles` in a code for `tenant` (R37a): `users.create`
    /// there, and roles it could give itself (R27: effective permissions held, rank not
    /// above its own). Checked at issue and again, as the issuer, at redemption.
    fn may_give_in_code(&self, tenant: TenantId, roles: &[RoleId]) -> Result<(), CommandError> {
        self.require(crate::perms::USERS_CREATE, tenant, "R37a")?;
        let mine = self.actor_rank(tenant);
        for r in roles {
            self.validate_bundle(Bundle::Role(*r))?;
            let role = self.state.catalog.role(*r).clone();
            if role.rank > mine.value {
                return Err(CommandError::forbidden(
                    "R27",
                    format!("`{}` ranks above you in `{}`", role.name, self.tenant(tenant)?.key),
                ));
            }
            for p in effective_in(&self.state, role.permissions, tenant).iter() {
                if !self.may(self.state.catalog.perm_name(p), Target::Tenant(tenant)) {
                    return Err(CommandError::forbidden(
                        "R27",
                        format!(
                            "`{}` confers `{}`, which you lack",
                            role.name,
                            self.state.catalog.perm_name(p)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Issues an access code for `tenant` carrying `roles` (R37a): `users.create` there,
    /// and only roles the issuer could give itself (R27: their effective permissions held,
    /// rank not above its own). `token_hash` is the hash of a random token the caller keeps.
    pub fn issue_access_code(
        &mut self,
        tenant: TenantId,
        roles: Vec<RoleId>,
        token_hash: String,
        expires_at: Millis,
    ) -> Result<AccessCodeId, CommandError> {
        self.tenant(tenant)?;
        self.require(crate::perms::USERS_CREATE, tenant, "R37a")?;
        if roles.is_empty() {
            return Err(CommandError::invalid("roles", "an access code carries at least one role"));
        }
        if token_hash.len() < 32 {
            return Err(CommandError::invalid("token_hash", "expected the hash of a random token"));
        }
        if expires_at <= self.now {
            return Err(CommandError::invalid("expires_at", "must be in the future"));
        }
        if self.state.access_code_by_hash(&token_hash).is_some() {
            return Err(CommandError::conflict(None, Some("token_hash"), "that token is in use"));
        }
        self.may_give_in_code(tenant, &roles)?;
        let via_grant = self.actor_ctx().is_some_and(|c| c.switched.is_some());
        let id = AccessCodeId(self.state.n_access_codes() as u32);
        self.log("access_code.issued", Some(id.to_string()), Some(tenant), json!({"roles": roles.iter().map(|r| self.state.catalog.role_name(*r)).collect::<Vec<_>>(), "expires_at": expires_at}));
        self.put(Change::AccessCode(AccessCode {
            id,
            tenant,
            roles,
            token_hash,
            expires_at,
            created_by: self.actor.author(),
            created_at: self.now,
            issued_via_grant: via_grant,
            redeemed_by: None,
            revoked: false,
        }))?;
        Ok(id)
    }

    /// Redeems a code (R37a, R37): the actor gets its roles in the code's tenant as direct
    /// assignments; a delegate's owner gets them instead, and the delegate the tenant.
    pub fn redeem_access_code(&mut self, token_hash: &str) -> Result<Redemption, CommandError> {
        let Actor::Principal { id: redeemer, ctx } = self.actor else {
            return Err(CommandError::invalid("actor", "a principal redeems an access code"));
        };
        if ctx.impersonation.is_some() {
            return Err(CommandError::forbidden(
                "R48",
                "an impersonator cannot redeem access codes as the target",
            ));
        }
        // Unknown, used, revoked and expired codes answer alike: nothing to learn by trying.
        let unusable = || CommandError {
            kind: crate::tx::ErrorKind::NotFound,
            rule: Some("R37a"),
            field: Some("code"),
            message: "this access code is unknown, used, revoked or expired".into(),
        };
        let code = self.state.access_code_by_hash(token_hash).cloned().ok_or_else(unusable)?;
        if code.redeemed_by.is_some() || code.revoked || self.now >= code.expires_at {
            return Err(unusable());
        }
        // R37a: a code gives only what its issuer could still give now; one whose issuer
        // was deactivated, cancelled or lost the right answers like a used one.
        if let Author::Principal(issuer) = code.created_by {
            let ctx = Context {
                switched: code.issued_via_grant.then_some(code.tenant),
                impersonation: None,
                sessionless: false,
            };
            let active = self.state.principal(issuer).is_some_and(Principal::is_active);
            let redeemer_actor =
                std::mem::replace(&mut self.actor, Actor::Principal { id: issuer, ctx });
            let still = self.may_give_in_code(code.tenant, &code.roles);
            self.actor = redeemer_actor;
            if !active || still.is_err() {
                return Err(unusable());
            }
        }
        let p = self.principal(redeemer)?.clone();
        if !p.is_active() {
            return Err(CommandError::conflict(
                Some("R11"),
                Some("actor"),
                "only an active principal redeems a code",
            ));
        }
        if code.issued_via_grant && !self.state.is_ancestor_or_self(code.tenant, p.home) {
            return Err(CommandError::forbidden(
                "R43",
                "this code was issued through a grant and serves the client's own principals only",
            ));
        }
        let (holder, delegate) = match p.owner() {
            None => (p.clone(), None),
            Some(owner) => {
                let o = self.principal(owner)?.clone();
                if o.delegate.is_some() {
                    return Err(CommandError::conflict(
                        Some("R37"),
                        Some("actor"),
                        "a secondary logon of a secondary logon cannot redeem codes",
                    ));
                }
                (o, Some(p.clone()))
            }
        };
        let mut assignments = Vec::new();
        for r in &code.roles {
            let current = self.principal(holder.id)?.clone();
            let scope = Scope::Tenant { tenant: code.tenant, subtree: false };
            if current.assignments.iter().any(|a| a.bundle == Bundle::Role(*r) && a.scope == scope)
            {
                continue;
            }
            assignments.push(self.push_assignment(
                &current,
                Bundle::Role(*r),
                scope,
                None,
                code.created_by.clone(),
            )?);
        }
        let mut group = None;
        if let Some(d) = delegate
            && let Some(DelegateAccess { groups: GroupAccess::Groups(list), .. }) =
                d.delegate.as_deref()
        {
            // R37: a new group of the owner holding only that tenant, given to the delegate.
            let owner = GroupOwner::User(holder.id);
            let key = self.tenant(code.tenant)?.key.clone();
            let mut name = format!("Access to {key}");
            let mut n = 2;
            while self
                .state
                .groups_of(owner)
                .any(|g| crate::names::fold(&g.name) == crate::names::fold(&name))
            {
                name = format!("Access to {key} ({n})");
                n += 1;
            }
            let actor = std::mem::replace(&mut self.actor, Actor::System);
            let created = self
                .create_group(owner, name)
                .and_then(|g| self.place_in_group(g, code.tenant).map(|_| g));
            self.actor = actor;
            let g = created?;
            let mut list = list.clone();
            list.push(g);
            let d_now = self.principal(d.id)?.clone();
            let access = d_now
                .delegate
                .clone()
                .map(|a| Box::new(DelegateAccess { groups: GroupAccess::Groups(list), ..*a }));
            self.put(Change::Principal(Principal { delegate: access, ..d_now }))?;
            group = Some(g);
        }
        self.log(
            "access_code.redeemed",
            Some(redeemer.to_string()),
            Some(code.tenant),
            json!({"code": code.id.to_string(), "holder": holder.id.to_string()}),
        );
        self.put(Change::AccessCode(AccessCode { redeemed_by: Some(redeemer), ..code.clone() }))?;
        Ok(Redemption { tenant: code.tenant, holder: holder.id, assignments, group })
    }

    /// Starts impersonating `target` (R48, R68): `impersonate` in its home tenant, rank at
    /// least its rank there, an active target, a reason, at most `max_ms`. No chaining.
    /// Returns the session context to use; the start is audited.
    pub fn start_impersonation(
        &mut self,
        target: PrincipalId,
        reason: &str,
        duration_ms: Millis,
        max_ms: Millis,
    ) -> Result<Impersonation, CommandError> {
        let Actor::Principal { id: actor, ctx } = self.actor else {
            return Err(CommandError::invalid("actor", "a principal impersonates"));
        };
        // R58: a target the actor may not see is not found, before any other refusal.
        let t = self.principal(target)?.clone();
        if !self.visible_principal(&t) {
            return Err(CommandError::not_found("principal", target));
        }
        if ctx.impersonation.is_some() {
            return Err(CommandError::forbidden("R48", "impersonation does not chain"));
        }
        if reason.trim().is_empty() {
            return Err(CommandError::invalid("reason", "say why (free text or a ticket id)"));
        }
        if duration_ms <= 0 || duration_ms > max_ms {
            return Err(CommandError::invalid(
                "duration",
                format!("must be between 1 and {} minutes", max_ms / 60_000),
            ));
        }
        if actor == target {
            return Err(CommandError::invalid("target", "you cannot impersonate yourself"));
        }
        self.require_manage(crate::perms::IMPERSONATE, &t, "R48")?;
        if !t.is_active() {
            return Err(CommandError::conflict(
                Some("R48"),
                Some("target"),
                format!("`{}` is not active", t.logon),
            ));
        }
        if let Some(c) = ctx.switched
            && c != t.home
        {
            return Err(CommandError::forbidden(
                "R48",
                "switched, you may impersonate principals of the tenant you switched into only",
            ));
        }
        let imp = Impersonation { actor, expires_at: self.now + duration_ms };
        self.log(
            "impersonation.started",
            Some(target.to_string()),
            Some(t.home),
            json!({"reason": reason, "expires_at": imp.expires_at}),
        );
        Ok(imp)
    }

    /// Ends an impersonation (audited).
    pub fn stop_impersonation(&mut self) -> Result<(), CommandError> {
        let Actor::Principal { id, ctx } = self.actor else {
            return Err(CommandError::invalid("actor", "no impersonation in progress"));
        };
        let Some(imp) = ctx.impersonation else {
            return Err(CommandError::invalid("actor", "no impersonation in progress"));
        };
        let home = self.principal(id)?.home;
        self.log(
            "impersonation.stopped",
            Some(id.to_string()),
            Some(home),
            json!({"impersonator": imp.actor.to_string()}),
        );
        Ok(())
    }

    /// Replaces the catalog (R25): `catalog.manage` in the root. Existing permissions,
    /// roles, types and kinds keep their places (the new catalog may add, rename nothing).
    pub fn change_catalog(&mut self, toml: &str) -> Result<(), CommandError> {
        let root = self.state.root().ok_or_else(|| CommandError::not_found("tenant", "root"))?;
        self.require(crate::perms::CATALOG_MANAGE, root, "R25")?;
        let new = Catalog::from_toml(toml)
            .map_err(|e| CommandError::invalid("catalog", e.to_string()))?;
        crate::commands::tenants::relied_on_are_defined(&new)?;
        let old = &self.state.catalog;
        let keep = |what: &str, old: Vec<&str>, new: Vec<&str>| -> Result<(), CommandError> {
            for (i, name) in old.iter().enumerate() {
                if new.get(i) != Some(name) {
                    return Err(CommandError::conflict(
                        Some("R25"),
                        Some("catalog"),
                        format!(
                            "{what} `{name}` must stay in place (at position {}); add new ones at the end",
                            i + 1
                        ),
                    ));
                }
            }
            Ok(())
        };
        keep(
            "permission",
            old.permissions.iter().map(|p| p.name.as_str()).collect(),
            new.permissions.iter().map(|p| p.name.as_str()).collect(),
        )?;
        keep(
            "role",
            old.roles.iter().map(|r| r.name.as_str()).collect(),
            new.roles.iter().map(|r| r.name.as_str()).collect(),
        )?;
        keep(
            "resource type",
            old.types.iter().map(|t| t.name.as_str()).collect(),
            new.types.iter().map(|t| t.name.as_str()).collect(),
        )?;
        keep(
            "kind",
            old.kinds.iter().map(|k| k.name.as_str()).collect(),
            new.kinds.iter().map(|k| k.name.as_str()).collect(),
        )?;
        self.log("catalog.changed", None, Some(root), json!({}));
        self.put(Change::Catalog { toml: toml.to_owned() })
    }
}

//! Credentials a principal holds: choosing and changing passwords (R15, R17: a linked
//! secondary logon's sessions end with its owner's), and API keys of service accounts
//! (R24). Every secret is stored only as a hash.

use super::*;

impl<S: Store + SecretStore> Auth<S> {
    /// Whether `password` may become `principal`'s (R15): the rules, and not the
    /// principal's own logon, e-mail or names.
    pub(super) fn acceptable(
        &self,
        principal: PrincipalId,
        password: &str,
    ) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        let Some(p) = s.principal(principal) else {
            passwords::validate(password)?;
            return Ok(());
        };
        let names = [&*p.first_name, &*p.last_name];
        passwords::validate_for(
            password,
            &passwords::PasswordContext { logon: &p.logon, email: &p.email, other_inputs: &names },
        )?;
        Ok(())
    }

    /// The principal's delegates whose password is linked to it, and theirs (R17): their
    /// sessions end with a change of the password they sign in with.
    pub(super) fn linked_delegates(&self, owner: PrincipalId) -> Vec<PrincipalId> {
        let s = self.deputy.snapshot();
        let mut found = Vec::new();
        let mut pending = vec![owner];
        while let Some(p) = pending.pop() {
            for d in s.delegates_of(p) {
                if s.principal(d)
                    .and_then(|d| d.delegate.as_deref())
                    .is_some_and(|a| a.linked_password)
                    && !found.contains(&d)
                {
                    found.push(d);
                    pending.push(d);
                }
            }
        }
        found
    }

    /// A password changed: every session of the principal and of its linked delegates
    /// ends (R17, R23), and its pending resets die (R13).
    pub(super) fn password_changed(&self, principal: PrincipalId) -> Result<(), AuthError> {
        self.forget_principal(principal);
        self.store()
            .delete_secrets_of(principal.0, &[SecretKind::Session, SecretKind::PasswordReset])?;
        for d in self.linked_delegates(principal) {
            self.forget_principal(d);
            self.store().delete_secrets_of(d.0, &[SecretKind::Session])?;
        }
        Ok(())
    }

    pub(super) fn put_new_password(
        &self,
        principal: PrincipalId,
        password: &str,
        must_change: bool,
    ) -> Result<(), AuthError> {
        let phc = self.hasher.permit()?.hash(password)?;
        self.store().put_password(&PasswordRow {
            principal: principal.0,
            phc,
            must_change,
            changed_ms: self.deputy.now(),
        })?;
        Ok(())
    }

    /// Sets a password chosen by its owner (R15): after a forced change, or from the
    /// profile with the current one. Ends the principal's other sessions and those of its
    /// linked delegates (R17, R23) and returns a fresh one.
    pub fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
        source: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        if caller.data.impersonating.is_some() {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::forbidden(
                    "R48",
                    "an impersonator cannot change the target's password",
                ),
            )));
        }
        let s = self.deputy.snapshot();
        if s.principal(caller.principal)
            .and_then(|p| p.delegate.as_deref())
            .is_some_and(|d| d.linked_password)
        {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::forbidden(
                    "R17",
                    "a secondary logon with a linked password signs in with its owner's and cannot change it",
                ),
            )));
        }
        let stored = self.store().password(caller.principal.0)?.ok_or(AuthError::SignInFailed)?;
        if !self.hasher.permit()?.verify(current, &stored.phc) {
            return Err(AuthError::SignInFailed);
        }
        if current == new {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::invalid(
                    "new_password",
                    "the new password must differ from the current one",
                ),
            )));
        }
        self.acceptable(caller.principal, new)?;
        self.put_new_password(caller.principal, new, false)?;
        self.password_changed(caller.principal)?;
        self.audit("auth.password_changed", Some(caller.principal), source)?;
        let data = SessionData { must_change_password: false, ..caller.data.clone() };
        self.new_session(caller.principal, data)
    }

    /// Sets a password for a principal by the system (bootstrap, R14's "entered or
    /// generated by the creator"): validated, hashed, `must_change` as given.
    pub fn set_password(
        &self,
        principal: PrincipalId,
        password: &str,
        must_change: bool,
    ) -> Result<(), AuthError> {
        self.acceptable(principal, password)?;
        self.put_new_password(principal, password, must_change)
    }

    /// Creates an API key for a service account (R24); returns the key, shown once.
    /// `keys.manage` in the account's home tenant is required (checked here on the
    /// newest state), and the account must be a service account.
    pub fn create_api_key(
        &self,
        actor: Actor,
        account: PrincipalId,
        name: &str,
        expires_ms: Option<i64>,
    ) -> Result<String, AuthError> {
        let s = self.deputy.snapshot();
        let now = self.deputy.now();
        let not_found = || {
            AuthError::Service(ServiceError::Command(deputy_core::CommandError::not_found(
                "principal",
                account,
            )))
        };
        let p = s.principal(account).ok_or_else(not_found)?;
        if let Actor::Principal { id, ctx } = actor {
            let keys =
                s.catalog.permission_id(deputy_core::perms::KEYS_MANAGE).ok_or_else(not_found)?;
            let allowed = s
                .check(id, keys, deputy_core::Target::Tenant(p.home), ctx, now)
                .map(|d| d.is_allowed())
                .unwrap_or(false);
            if !allowed {
                return Err(not_found());
            }
        }
        if p.kind != deputy_core::PrincipalKind::ServiceAccount {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::conflict(
                    Some("R24"),
                    Some("principal"),
                    "API keys are for service accounts",
                ),
            )));
        }
        if expires_ms.is_some_and(|t| t <= now) {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::invalid(
                    "expires_at",
                    format!(
                        "`{}` is not in the future (milliseconds since the Unix epoch)",
                        expires_ms.unwrap_or_default()
                    ),
                ),
            )));
        }
        let (token, _) = tokens::new_token().map_err(|e| StoreError::Backend(e.to_string()))?;
        // The prefix tells keys from session tokens (and secret scanners find them).
        let key = format!("dpk_{token}");
        let hash = tokens::hash_token(&key);
        let data = SessionData {
            epoch: self.deputy.epoch(),
            name: Some(name.to_owned()),
            status_serial: p.status_serial,
            ..SessionData::default()
        };
        self.store().insert_secret(&SecretRow {
            hash,
            kind: SecretKind::ApiKey,
            principal: account.0,
            created_ms: now,
            expires_ms,
            last_used_ms: None,
            used_ms: None,
            data: encode(&data)?,
        })?;
        self.audit("auth.api_key_created", Some(account), None)?;
        Ok(key)
    }
}

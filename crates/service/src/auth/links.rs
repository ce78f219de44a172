//! Single-use links by mail (R12, R13): invitations and resets, their limits per
//! recipient and source, and their use, which holds only while the principal is still in
//! the status (and status serial) the link was made for.

use super::{Auth, AuthError, LinkData, NewSession, SessionData, encode};
use crate::deputy::ServiceError;
use crate::tokens;
use deputy_core::{Actor, PrincipalId, Status, names};
use deputy_store::secrets::{NewMail, SecretKind, SecretRow, SecretStore};
use deputy_store::{Store, StoreError};

impl<S: Store + SecretStore> Auth<S> {
    /// R13: counts a mail to `recipient` (and from `source`) in the current window;
    /// refuses once either had its share.
    fn mail_allowed(&self, recipient: &str, source: Option<&str>) -> Result<(), AuthError> {
        let s = &self.settings;
        let now = self.deputy.now();
        let refused = AuthError::TooManyMails {
            retry_after_s: u64::try_from(s.mail_window_ms / 1_000).unwrap_or(3_600),
        };
        if let Some(source) = source
            && self.store().count_in_window(
                &format!("mail-from:{source}"),
                now,
                s.mail_window_ms,
            )? > s.mails_per_source
        {
            return Err(refused);
        }
        let to = format!("mail-to:{}", recipient.trim().to_lowercase());
        if self.store().count_in_window(&to, now, s.mail_window_ms)? > s.mails_per_recipient {
            return Err(refused);
        }
        Ok(())
    }

    /// Inserts a single-use link for `principal`, replacing its older ones of `kind`;
    /// returns the token for the mail.
    fn new_link(
        &self,
        principal: PrincipalId,
        kind: SecretKind,
        ttl_ms: i64,
    ) -> Result<String, AuthError> {
        let now = self.deputy.now();
        let status_serial =
            self.deputy.snapshot().principal(principal).map_or(0, |p| p.status_serial);
        let (token, hash) = tokens::new_token().map_err(|e| StoreError::Backend(e.to_string()))?;
        self.store().delete_secrets_of(principal.0, &[kind])?;
        self.store().insert_secret(&SecretRow {
            hash,
            kind,
            principal: principal.0,
            created_ms: now,
            expires_ms: Some(now + ttl_ms),
            last_used_ms: None,
            used_ms: None,
            data: encode(&LinkData { status_serial })?,
        })?;
        Ok(token)
    }

    /// The principal behind an unused, unexpired link of `kind`, if it still is `status`
    /// with the status serial the link was made at (R12, R13): a link dies at any status
    /// change, whoever made it and in whichever process. Reads without using the link.
    fn link_holder(
        &self,
        token: &str,
        kind: SecretKind,
        status: Status,
    ) -> Result<PrincipalId, AuthError> {
        let now = self.deputy.now();
        let row = self
            .store()
            .secret(&tokens::hash_token(token))?
            .filter(|r| r.kind == kind && r.used_ms.is_none())
            .filter(|r| r.expires_ms.is_none_or(|t| now < t))
            .ok_or(AuthError::LinkInvalid)?;
        let data: LinkData = serde_json::from_str(&row.data).unwrap_or_default();
        let principal = PrincipalId(row.principal);
        let s = self.deputy.snapshot();
        s.principal(principal)
            .filter(|p| p.status == status && p.status_serial == data.status_serial)
            .map(|p| p.id)
            .ok_or(AuthError::LinkInvalid)
    }

    /// Uses a link found by [`Auth::link_holder`]: of concurrent uses exactly one wins.
    fn use_link(
        &self,
        token: &str,
        kind: SecretKind,
        holder: PrincipalId,
    ) -> Result<(), AuthError> {
        let row = self
            .store()
            .redeem_secret(&tokens::hash_token(token), kind, self.deputy.now())?
            .ok_or(AuthError::LinkInvalid)?;
        if row.principal != holder.0 {
            return Err(AuthError::LinkInvalid);
        }
        Ok(())
    }

    /// Issues an invitation (R12) for a principal that is pending or invited: a new token
    /// (older ones die), the status `invited`, and a mail in the outbox with a link on the
    /// public origin. The engine decides whether the actor may (users.create or
    /// users.modify, R10) and whether the principal can be invited (R11, R17), before any
    /// mail is counted (R13).
    pub fn invite(
        &self,
        actor: Actor,
        principal: PrincipalId,
        source: Option<&str>,
    ) -> Result<String, AuthError> {
        let s = self.deputy.snapshot();
        let p = s.principal(principal).ok_or_else(|| {
            AuthError::Service(ServiceError::Command(deputy_core::CommandError::not_found(
                "principal",
                principal,
            )))
        })?;
        s.decide(actor, self.deputy.now(), |tx| tx.set_status(principal, Status::Invited, None))
            .map_err(|e| AuthError::Service(ServiceError::Command(e)))?;
        self.mail_allowed(&p.email, source)?;
        // A resend is audited too.
        self.deputy.execute(actor, source, |tx| tx.set_status(principal, Status::Invited, None))?;
        let email = p.email.to_string();
        let logon = p.logon.to_string();
        let token =
            self.new_link(principal, SecretKind::Invitation, self.settings.invitation_ttl_ms)?;
        let link =
            format!("{}/invitation/{token}", self.settings.public_origin.trim_end_matches('/'));
        self.store().queue_mail(
            &NewMail {
                recipient: email,
                subject: "Your Deputy account: choose a password".into(),
                body: format!(
                    "An account with the logon name {logon} was created for you.\n\nChoose your password here (the link works once, for {} hours):\n{link}\n",
                    self.settings.invitation_ttl_ms / 3_600_000
                ),
            },
            self.deputy.now(),
        )?;
        Ok(token)
    }

    /// Uses an invitation link (R12): only while its principal is `invited` and has not
    /// changed status since the link was sent. Sets the password, activates the principal
    /// and verifies its e-mail; of concurrent uses exactly one succeeds. A refused password
    /// leaves the link usable.
    pub fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        source: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        let principal = self.link_holder(token, SecretKind::Invitation, Status::Invited)?;
        self.acceptable(principal, password)?;
        self.use_link(token, SecretKind::Invitation, principal)?;
        self.put_new_password(principal, password, false)?;
        self.deputy.execute(Actor::System, source, |tx| {
            tx.password_set(principal)?;
            tx.verify_email(principal)
        })?;
        self.audit("auth.invitation_accepted", Some(principal), source)?;
        let data = SessionData { epoch: self.deputy.epoch(), ..SessionData::default() };
        self.new_session(principal, data)
    }

    /// "Forgot your password?" (R13): by logon name or e-mail. Mails a reset link to every
    /// matching active account that has a password of its own, within the mail limits per
    /// recipient and per source; the caller learns nothing (the answer is the same either
    /// way, and comes before this runs).
    pub fn forgot_password(
        &self,
        logon_or_email: &str,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        let wanted = logon_or_email.trim();
        let by_logon = s
            .principal_by_logon(wanted)
            .and_then(|id| s.principal(id))
            .filter(|p| names::fold(&p.logon) == names::fold(wanted))
            .map(|p| p.id);
        let targets: Vec<PrincipalId> = match by_logon {
            Some(p) => vec![p],
            // An e-mail can belong to several accounts (a person's old and new one).
            None if wanted.contains('@') => s
                .principals()
                .filter(|p| p.email_verified && p.email.eq_ignore_ascii_case(wanted))
                .map(|p| p.id)
                .collect(),
            None => Vec::new(),
        };
        for id in targets {
            let Some(p) = s.principal(id) else { continue };
            let linked = p.delegate.as_deref().is_some_and(|d| d.linked_password);
            if p.status == Status::Active
                && !linked
                && p.kind != deputy_core::PrincipalKind::ServiceAccount
            {
                match self.send_reset(id, source) {
                    // Past the limits nothing is sent, and nothing is said (R13).
                    Err(AuthError::TooManyMails { .. }) => {}
                    other => other?,
                }
            }
        }
        Ok(())
    }

    /// A reset mail triggered by a holder of `users.modify` over the principal (R13); the
    /// engine decides whether the actor may.
    pub fn reset_by_admin(
        &self,
        actor: Actor,
        principal: PrincipalId,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        self.require_manage(actor, principal, "R13")?;
        let s = self.deputy.snapshot();
        let p = s.principal(principal).ok_or(AuthError::LinkInvalid)?;
        if p.delegate.as_deref().is_some_and(|d| d.linked_password) {
            return Err(AuthError::Service(ServiceError::Command(
                deputy_core::CommandError::conflict(
                    Some("R17"),
                    Some("principal"),
                    "a secondary logon with a linked password signs in with its owner's; reset the owner's",
                ),
            )));
        }
        self.send_reset(principal, source)
    }

    pub(super) fn require_manage(
        &self,
        actor: Actor,
        principal: PrincipalId,
        rule: &'static str,
    ) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        s.decide(actor, self.deputy.now(), |tx| {
            let p = tx
                .state()
                .principal(principal)
                .cloned()
                .ok_or_else(|| deputy_core::CommandError::not_found("principal", principal))?;
            tx.require_manage(deputy_core::perms::USERS_MODIFY, &p, rule)
        })
        .map_err(|e| AuthError::Service(ServiceError::Command(e)))?;
        Ok(())
    }

    fn send_reset(&self, principal: PrincipalId, source: Option<&str>) -> Result<(), AuthError> {
        let s = self.deputy.snapshot();
        let Some(p) = s.principal(principal) else { return Ok(()) };
        self.mail_allowed(&p.email, source)?;
        let token =
            self.new_link(principal, SecretKind::PasswordReset, self.settings.reset_ttl_ms)?;
        let link = format!("{}/reset/{token}", self.settings.public_origin.trim_end_matches('/'));
        self.store().queue_mail(
            &NewMail {
                recipient: p.email.to_string(),
                subject: "Reset your Deputy password".into(),
                body: format!(
                    "Someone asked to reset the password of {}.\n\nIf it was you, choose a new one here (the link works once, for {} minutes):\n{link}\n\nIf not, ignore this mail; your password stays as it is.\n",
                    p.logon,
                    self.settings.reset_ttl_ms / 60_000
                ),
            },
            self.deputy.now(),
        )?;
        self.audit("auth.reset_requested", Some(principal), source)?;
        Ok(())
    }

    /// Uses a reset link (R13): only while its principal is active and has not changed
    /// status since the link was sent. Sets the new password and ends every session of
    /// the principal and of its linked delegates (R17).
    pub fn reset_password(
        &self,
        token: &str,
        password: &str,
        source: Option<&str>,
    ) -> Result<(), AuthError> {
        let principal = self.link_holder(token, SecretKind::PasswordReset, Status::Active)?;
        self.acceptable(principal, password)?;
        self.use_link(token, SecretKind::PasswordReset, principal)?;
        self.put_new_password(principal, password, false)?;
        self.password_changed(principal)?;
        if let Some(p) = self.deputy.snapshot().principal(principal) {
            self.clear(&Self::failure_key(&p.logon))?;
        }
        self.audit("auth.password_reset", Some(principal), source)?;
        Ok(())
    }
}

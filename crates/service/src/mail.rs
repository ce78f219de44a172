//! Delivering the outbox (R61): every mail is first queued durably, then handed to a
//! [`MailTransport`] (SMTP in the binary) and retried with a growing delay until it is
//! sent or has failed [`MAX_ATTEMPTS`] times. Without a transport, mail stays in the outbox,
//! which the CLI and the API list.

use deputy_store::StoreError;
use deputy_store::secrets::SecretStore;

/// Attempts before a mail is given up (it stays in the outbox with its last error).
pub const MAX_ATTEMPTS: i64 = 8;

/// How mail leaves Deputy.
pub trait MailTransport: Send + Sync {
    /// Sends one mail; the error says why not (logged and stored with the mail).
    fn send(&self, recipient: &str, subject: &str, body: &str) -> Result<(), String>;
}

/// What one delivery round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub failed: usize,
}

/// The delay before attempt `n + 1` after `n` failures: 30 s, 1 min, 2 min, … capped at
/// an hour.
pub fn retry_delay_ms(failures: i64) -> i64 {
    (30_000i64 << failures.clamp(0, 7)).min(3_600_000)
}

/// What a delivered mail keeps of a single-use link (an invitation or a reset).
pub const REDACTED_LINK: &str = "[link removed after delivery]";

/// `body` with every invitation and reset link replaced by [`REDACTED_LINK`]: the token
/// after `/invitation/` or `/reset/` is what opens an account, so it must not outlive the
/// delivery in the outbox or its backups.
pub fn redact_links(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some((at, marker)) = ["/invitation/", "/reset/"]
        .iter()
        .filter_map(|m| rest.find(m).map(|at| (at, *m)))
        .min_by_key(|(at, _)| *at)
    {
        // From the start of the URL (the last whitespace before the marker) to the token's end.
        let url_start = rest[..at].rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let token_start = at + marker.len();
        let token_len = rest[token_start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(rest.len() - token_start);
        out.push_str(&rest[..url_start]);
        out.push_str(REDACTED_LINK);
        rest = &rest[token_start + token_len..];
    }
    out.push_str(rest);
    out
}

/// Tries every mail that is due, once.
pub fn deliver_due(
    store: &impl SecretStore,
    transport: &dyn MailTransport,
    now_ms: i64,
) -> Result<Delivery, StoreError> {
    let mut delivery = Delivery::default();
    for mail in store.due_mail(now_ms, MAX_ATTEMPTS, 100)? {
        match transport.send(&mail.recipient, &mail.subject, &mail.body) {
            Ok(()) => {
                store.mark_mail(mail.id, Some(now_ms), None)?;
                // Delivered: the copy kept here no longer needs its live links.
                let redacted = redact_links(&mail.body);
                if redacted != mail.body {
                    store.redact_mail(mail.id, &redacted)?;
                }
                delivery.sent += 1;
            }
            Err(error) => {
                store.retry_mail(mail.id, &error, now_ms + retry_delay_ms(mail.attempts + 1))?;
                delivery.failed += 1;
            }
        }
    }
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn r61_delivered_links_are_redacted() {
        let body = "Choose it here (once):\nhttps://a.example/invitation/AbC-12_x\nThen https://a.example/reset/zz9 and /reset/.\n";
        let redacted = redact_links(body);
        assert_eq!(
            redacted,
            format!(
                "Choose it here (once):\n{REDACTED_LINK}\nThen {REDACTED_LINK} and {REDACTED_LINK}.\n"
            )
        );
        assert_eq!(redact_links("no links here"), "no links here");
    }
    use deputy_store::secrets::NewMail;
    use std::sync::Mutex;

    /// Fails the first `failures` sends, then succeeds; remembers what it sent.
    struct Flaky {
        failures: Mutex<usize>,
        sent: Mutex<Vec<String>>,
    }

    impl MailTransport for Flaky {
        fn send(&self, recipient: &str, _: &str, _: &str) -> Result<(), String> {
            let mut left = self.failures.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err("connection refused".into());
            }
            self.sent.lock().unwrap().push(recipient.to_owned());
            Ok(())
        }
    }

    #[test]
    fn r61_mail_is_retried_with_growing_delays_until_sent() {
        let store = deputy_backends::in_memory().unwrap();
        let mail = NewMail {
            recipient: "a@example.com".into(),
            subject: "s".into(),
            body: "here: https://a.example/reset/secret123".into(),
        };
        store.queue_mail(&mail, 0).unwrap();
        let flaky = Flaky { failures: Mutex::new(2), sent: Mutex::new(Vec::new()) };
        assert_eq!(deliver_due(&store, &flaky, 0).unwrap(), Delivery { sent: 0, failed: 1 });
        // Not due again before its delay.
        assert_eq!(deliver_due(&store, &flaky, 1_000).unwrap(), Delivery::default());
        assert_eq!(
            deliver_due(&store, &flaky, retry_delay_ms(1)).unwrap(),
            Delivery { sent: 0, failed: 1 }
        );
        let later = retry_delay_ms(1) + retry_delay_ms(2);
        assert_eq!(deliver_due(&store, &flaky, later).unwrap(), Delivery { sent: 1, failed: 0 });
        let row = &store.outbox(0, 10).unwrap()[0];
        assert_eq!((row.sent_ms, row.attempts), (Some(later), 3));
        assert_eq!(row.body, format!("here: {REDACTED_LINK}"), "the live link is gone");
        assert_eq!(*flaky.sent.lock().unwrap(), vec!["a@example.com"]);
        assert_eq!(
            deliver_due(&store, &flaky, later * 10).unwrap(),
            Delivery::default(),
            "sent once"
        );
    }

    #[test]
    fn r61_mail_is_given_up_after_the_last_attempt_and_kept() {
        let store = deputy_backends::in_memory().unwrap();
        let mail =
            NewMail { recipient: "a@example.com".into(), subject: "s".into(), body: "b".into() };
        store.queue_mail(&mail, 0).unwrap();
        let never = Flaky { failures: Mutex::new(usize::MAX), sent: Mutex::new(Vec::new()) };
        let mut now = 0;
        for _ in 0..MAX_ATTEMPTS {
            deliver_due(&store, &never, now).unwrap();
            now += 3_600_000;
        }
        assert_eq!(deliver_due(&store, &never, now).unwrap(), Delivery::default(), "given up");
        let row = &store.outbox(0, 10).unwrap()[0];
        assert_eq!(
            (row.sent_ms, row.attempts, row.last_error.as_deref()),
            (None, MAX_ATTEMPTS, Some("connection refused"))
        );
    }
}

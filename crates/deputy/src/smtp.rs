//! Mail over SMTP (R61), with `lettre`: the transport the outbox is delivered through when
//! `smtp_url` is configured (`smtps://user:pass@host:465`, `smtp://host:587?tls=required`,
//! or plain `smtp://host:25` on a trusted network).

use deputy_service::mail::MailTransport;
use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

#[derive(Debug)]
pub struct Smtp {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Smtp {
    pub fn new(url: &str, from: &str) -> Result<Smtp, String> {
        let transport = SmtpTransport::from_url(url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.parse::<Mailbox>().map_err(|e| format!("mail_from: `{from}`: {e}"))?;
        Ok(Smtp { transport, from })
    }
}

impl MailTransport for Smtp {
    fn send(&self, recipient: &str, subject: &str, body: &str) -> Result<(), String> {
        let to =
            recipient.parse::<Mailbox>().map_err(|e| format!("recipient `{recipient}`: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|e| e.to_string())?;
        self.transport.send(&message).map(|_| ()).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// A minimal SMTP server for one session: answers every command with success and
    /// returns the whole conversation.
    fn fake_server() -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut out = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let mut log = String::new();
            out.write_all(b"220 fake ESMTP\r\n").unwrap();
            let mut in_data = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                log.push_str(&line);
                if in_data {
                    if line == ".\r\n" {
                        in_data = false;
                        out.write_all(b"250 queued\r\n").unwrap();
                    }
                    continue;
                }
                let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                match verb.as_str() {
                    "EHLO" | "HELO" => out.write_all(b"250 fake\r\n").unwrap(),
                    "DATA" => {
                        in_data = true;
                        out.write_all(b"354 go on\r\n").unwrap();
                    }
                    "QUIT" => {
                        out.write_all(b"221 bye\r\n").unwrap();
                        break;
                    }
                    _ => out.write_all(b"250 ok\r\n").unwrap(),
                }
            }
            log
        });
        (url, handle)
    }

    #[test]
    fn r61_mail_goes_out_over_smtp() {
        let (url, server) = fake_server();
        let smtp = Smtp::new(&url, "Deputy <deputy@example.com>").unwrap();
        smtp.send("jane@example.com", "Reset your password", "https://portal.example/reset/abc")
            .unwrap();
        drop(smtp);
        let log = server.join().unwrap();
        assert!(log.contains("MAIL FROM:<deputy@example.com>"), "{log}");
        assert!(log.contains("RCPT TO:<jane@example.com>"), "{log}");
        assert!(log.contains("Subject: Reset your password"), "{log}");
        assert!(log.contains("https://portal.example/reset/abc"), "{log}");
    }

    #[test]
    fn r62_bad_smtp_settings_are_named() {
        assert!(Smtp::new("nonsense://x", "a@b.example").unwrap_err().starts_with("smtp_url:"));
        assert!(
            Smtp::new("smtp://127.0.0.1:1", "not a mailbox").unwrap_err().starts_with("mail_from:")
        );
    }
}

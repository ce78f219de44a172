//! `deputy serve` configuration (R62), in two stages: raw settings from a TOML file, then
//! the environment (`DEPUTY_*`), then flags, each overriding the one before; then one
//! validation that names the setting at fault.

use deputy_service::auth::AuthSettings;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;

/// Settings as written, all optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Address to listen on (`127.0.0.1:8080`).
    pub listen: Option<String>,
    /// The database URL: `sqlite:PATH` or a path to the SQLite file (`deputy.db`).
    pub database: Option<String>,
    /// Where users reach Deputy; links in mail use it (R61). Default: `http://<listen>`.
    pub public_origin: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<Vec<String>>,
    /// `text` (default) or `json` logs.
    pub log_format: Option<String>,
    /// Key and name of the root tenant created on first start.
    pub root_key: Option<String>,
    pub root_name: Option<String>,
    /// Logon name and e-mail of the first admin created on first start.
    pub admin_logon: Option<String>,
    pub admin_email: Option<String>,
    /// Deliver mail through this SMTP server; without it mail stays in the outbox (R61).
    pub smtp_url: Option<String>,
    /// The sender of Deputy's mail.
    pub mail_from: Option<String>,
    /// Serve `/metrics` on this address only (and not on `listen`).
    pub metrics_listen: Option<String>,
    /// Or: serve `/metrics` on `listen` to requests with `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Password hashes at once (R15); default: the number of cores.
    pub hash_concurrency: Option<usize>,
    /// Sign-ins waiting for a hash beyond those; default: four per core.
    pub hash_queue: Option<usize>,
    /// Reset and invitation mails per recipient, and per source address, per hour (R13).
    pub mails_per_recipient_hour: Option<u32>,
    pub mails_per_source_hour: Option<u32>,
}

impl RawConfig {
    pub fn from_file(path: &Path) -> Result<RawConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config file `{}`: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("config file `{}`: {e}", path.display()))
    }

    /// The file when one is named (`--config`, `DEPUTY_CONFIG`), then the environment.
    pub fn load(path: Option<&Path>) -> Result<RawConfig, String> {
        let file = match path {
            Some(path) => RawConfig::from_file(path)?,
            None => RawConfig::default(),
        };
        Ok(file.with_env(|name| std::env::var(name).ok()))
    }

    /// Overrides from `DEPUTY_*` variables (`vars` is the environment, for tests).
    pub fn with_env(mut self, vars: impl Fn(&str) -> Option<String>) -> RawConfig {
        let set = |name: &str, slot: &mut Option<String>| {
            if let Some(value) = vars(name) {
                *slot = Some(value);
            }
        };
        set("DEPUTY_LISTEN", &mut self.listen);
        set("DEPUTY_PUBLIC_ORIGIN", &mut self.public_origin);
        set("DEPUTY_LOG_FORMAT", &mut self.log_format);
        set("DEPUTY_ROOT_KEY", &mut self.root_key);
        set("DEPUTY_ROOT_NAME", &mut self.root_name);
        set("DEPUTY_ADMIN_LOGON", &mut self.admin_logon);
        set("DEPUTY_ADMIN_EMAIL", &mut self.admin_email);
        set("DEPUTY_SMTP_URL", &mut self.smtp_url);
        set("DEPUTY_MAIL_FROM", &mut self.mail_from);
        set("DEPUTY_METRICS_LISTEN", &mut self.metrics_listen);
        set("DEPUTY_METRICS_TOKEN", &mut self.metrics_token);

        if let Some(db) = vars("DEPUTY_DB") {
            self.database = Some(db);
        }
        if let Some(proxies) = vars("DEPUTY_TRUSTED_PROXIES") {
            self.trusted_proxies = Some(
                proxies
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
        self
    }
}

/// Where `/metrics` is served (R62).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricsSetting {
    /// On `listen` for anyone: the default when `listen` is a loopback address.
    Open,
    /// On `listen`, with this bearer token.
    Token(String),
    /// On its own address only.
    Listen(SocketAddr),
    /// Nowhere: `listen` is not loopback and neither of the others was set.
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Settings checked and defaulted.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// A database URL (`sqlite:PATH`, or a path), opened by `deputy_backends::open`.
    pub database: String,
    /// Given, or `http://<listen>`; [`Config::origin_for`] puts in the bound port.
    pub public_origin: String,
    /// No public origin was given: it follows the address actually bound.
    pub origin_from_listen: bool,
    pub metrics: MetricsSetting,
    pub trusted_proxies: Vec<IpAddr>,
    pub log_format: LogFormat,
    /// R15 and R13 limits, checked.
    pub hash_limits: deputy_service::hashing::HashLimits,
    pub mails_per_recipient_hour: u32,
    pub mails_per_source_hour: u32,
    pub root_key: String,
    pub root_name: String,
    pub admin_logon: String,
    pub admin_email: String,
    pub smtp_url: Option<String>,
    pub mail_from: String,
}

impl Config {
    /// The public origin once the listener is bound: a default one names the bound port,
    /// not the `0` of `--listen 127.0.0.1:0`.
    pub fn origin_for(&self, bound: SocketAddr) -> String {
        if self.origin_from_listen { format!("http://{bound}") } else { self.public_origin.clone() }
    }

    /// The service's settings (R13, R15, R61): what `serve` runs with once it knows its
    /// public origin, and what the console's operations run with.
    pub fn service_settings(&self, public_origin: String) -> AuthSettings {
        AuthSettings {
            public_origin,
            hash_limits: self.hash_limits,
            mails_per_recipient: self.mails_per_recipient_hour,
            mails_per_source: self.mails_per_source_hour,
            ..AuthSettings::default()
        }
    }

    pub fn validate(raw: RawConfig) -> Result<Config, String> {
        let listen_text = raw.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            format!("listen: `{listen_text}` is not an address like 127.0.0.1:8080")
        })?;
        let origin_from_listen = raw.public_origin.is_none();
        let public_origin = raw.public_origin.unwrap_or_else(|| format!("http://{listen}"));
        let origin = public_origin.trim_end_matches('/').to_owned();
        let rest =
            origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")).ok_or_else(
                || format!("public_origin: `{origin}` must start with https:// or http://"),
            )?;
        if rest.is_empty() || rest.contains('/') {
            return Err(format!(
                "public_origin: `{origin}` must be an origin (scheme and host), with no path"
            ));
        }
        let trusted_proxies = raw
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|p| {
                p.parse::<IpAddr>()
                    .map_err(|_| format!("trusted_proxies: `{p}` is not an IP address"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let log_format = match raw.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(format!("log_format: `{other}` is neither `text` nor `json`")),
        };
        let metrics = match (raw.metrics_listen, raw.metrics_token) {
            (Some(_), Some(_)) => {
                return Err("metrics_listen and metrics_token: give one of them, not both".into());
            }
            (Some(text), None) => MetricsSetting::Listen(text.parse().map_err(|_| {
                format!("metrics_listen: `{text}` is not an address like 127.0.0.1:9090")
            })?),
            (None, Some(token)) if token.trim().len() < 16 => {
                return Err("metrics_token: use at least 16 characters".into());
            }
            (None, Some(token)) => MetricsSetting::Token(token.trim().to_owned()),
            (None, None) if listen.ip().is_loopback() => MetricsSetting::Open,
            (None, None) => MetricsSetting::Off,
        };
        let mut hash_limits = deputy_service::hashing::HashLimits::for_this_machine();
        match raw.hash_concurrency {
            Some(n @ 1..=256) => hash_limits.permits = n,
            Some(n) => return Err(format!("hash_concurrency: `{n}` is not between 1 and 256")),
            None => {}
        }
        match raw.hash_queue {
            Some(n @ 0..=10_000) => hash_limits.queue = n,
            Some(_) => return Err("hash_queue: use a number between 0 and 10000".into()),
            None => {}
        }
        let per_hour = |name: &str, value: Option<u32>, default: u32| match value {
            Some(0) => Err(format!("{name}: must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let mails_per_recipient_hour =
            per_hour("mails_per_recipient_hour", raw.mails_per_recipient_hour, 3)?;
        let mails_per_source_hour =
            per_hour("mails_per_source_hour", raw.mails_per_source_hour, 100)?;
        Ok(Config {
            listen,
            origin_from_listen,
            hash_limits,
            mails_per_recipient_hour,
            mails_per_source_hour,
            metrics,
            database: raw.database.unwrap_or_else(|| "deputy.db".to_owned()),
            public_origin: origin,
            trusted_proxies,
            log_format,
            root_key: raw.root_key.unwrap_or_else(|| "root".into()),
            root_name: raw.root_name.unwrap_or_else(|| "Operator".into()),
            admin_logon: raw.admin_logon.unwrap_or_else(|| "admin".into()),
            admin_email: raw.admin_email.unwrap_or_else(|| "admin@deputy.invalid".into()),
            smtp_url: raw.smtp_url.filter(|u| !u.trim().is_empty()),
            mail_from: raw.mail_from.unwrap_or_else(|| "Deputy <deputy@deputy.invalid>".into()),
        })
    }
}

/// The settings the console's operations run with: those of the server on the same
/// configuration (file, then environment), so the links its mail carries point where the
/// server's do.
pub fn service_settings(path: Option<&Path>) -> Result<AuthSettings, String> {
    let config = Config::validate(RawConfig::load(path)?)?;
    Ok(config.service_settings(config.public_origin.clone()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn r62_defaults_env_overrides_and_clear_errors() {
        let c = Config::validate(RawConfig::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_origin, "http://127.0.0.1:8080");
        let file: RawConfig =
            toml::from_str("listen = \"127.0.0.1:9000\"\nlog_format = \"json\"").unwrap();
        let env = |name: &str| (name == "DEPUTY_LISTEN").then(|| "127.0.0.1:9100".to_owned());
        let c = Config::validate(file.with_env(env)).unwrap();
        assert_eq!(
            (c.listen.port(), c.log_format),
            (9100, LogFormat::Json),
            "the environment wins"
        );
        let bad = RawConfig { listen: Some("nowhere".into()), ..RawConfig::default() };
        assert!(Config::validate(bad).unwrap_err().starts_with("listen:"));
        let bad = RawConfig { public_origin: Some("ftp://x".into()), ..RawConfig::default() };
        assert!(Config::validate(bad).unwrap_err().starts_with("public_origin:"));
        let bad = RawConfig { trusted_proxies: Some(vec!["proxy".into()]), ..RawConfig::default() };
        assert!(Config::validate(bad).unwrap_err().starts_with("trusted_proxies:"));
        assert!(toml::from_str::<RawConfig>("lisen = 1").is_err(), "unknown settings are refused");
    }

    #[test]
    fn r15_r13_r62_limits_and_metrics_settings_are_checked() {
        let file: RawConfig = toml::from_str(
            "hash_concurrency = 3\nhash_queue = 0\nmails_per_recipient_hour = 5\nmetrics_token = \"0123456789abcdef\"",
        )
        .unwrap();
        let c = Config::validate(file).unwrap();
        assert_eq!((c.hash_limits.permits, c.hash_limits.queue), (3, 0));
        assert_eq!((c.mails_per_recipient_hour, c.mails_per_source_hour), (5, 100));
        assert_eq!(c.metrics, MetricsSetting::Token("0123456789abcdef".into()));
        for (text, field) in [
            ("hash_concurrency = 0", "hash_concurrency:"),
            ("mails_per_source_hour = 0", "mails_per_source_hour:"),
            ("metrics_token = \"short\"", "metrics_token:"),
            ("metrics_listen = \"nowhere\"", "metrics_listen:"),
        ] {
            let raw: RawConfig = toml::from_str(text).unwrap();
            assert!(Config::validate(raw).unwrap_err().starts_with(field), "{text}");
        }
        // Beyond loopback without a token or an address of their own, metrics are off.
        let raw = RawConfig { listen: Some("0.0.0.0:8080".into()), ..RawConfig::default() };
        assert_eq!(Config::validate(raw).unwrap().metrics, MetricsSetting::Off);
        let c = Config::validate(RawConfig::default()).unwrap();
        assert_eq!(c.metrics, MetricsSetting::Open);
        assert!(c.origin_from_listen);
        assert_eq!(c.origin_for("127.0.0.1:4711".parse().unwrap()), "http://127.0.0.1:4711");
    }
}

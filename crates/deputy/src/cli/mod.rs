//! The command line: parsing (clap), acting through the service layer, printing for people
//! or, with `--json`, for machines.
//!
//! This module holds what every command shares: the arguments, the failures and their exit
//! codes, opening the database, the actor of `--as`, and the dispatch; each area's
//! subcommands live with their handlers in the child modules, named as everywhere else
//! (tenants, users, roles, groups, resources, partners, access, checks). A write parses
//! its arguments, calls one `deputy_service::ops` operation and renders its answer.

mod access;
mod checks;
mod demo;
mod groups;
mod maintenance;
mod partners;
mod reports;
mod resources;
mod roles;
mod tenants;
mod users;

use clap::{Parser, Subcommand};
use deputy_core::{Actor, CheckError, Context, ErrorKind, State};
use deputy_service::auth::Auth;
use deputy_service::ops::Asker;
use deputy_service::resolve::{self, NotFound};
use deputy_service::{Committed, Deputy, ServiceError};
use deputy_store::BoxedBackend;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "deputy", version, about = "Delegated access for multi-tenant portals")]
struct Cli {
    /// The database: `sqlite:PATH`, or a path to the SQLite file.
    #[arg(long, global = true, env = "DEPUTY_DB", default_value = "deputy.db")]
    db: String,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Act as this principal (by logon name) under every rule; without it, the console acts
    /// as the operator.
    #[arg(long = "as", global = true, value_name = "LOGON")]
    as_logon: Option<String>,
    /// With --as: act switched into this client tenant (partner access). For checks and
    /// lookups: the checked principal's session is switched into it.
    #[arg(long, global = true, value_name = "TENANT")]
    switched: Option<String>,
    /// For checks and lookups: ask as the principal's home session (direct paths only).
    /// Without it or `--switched`, no session: direct and partner paths alike (R51).
    #[arg(long, global = true, conflicts_with = "switched")]
    home: bool,
    /// A TOML configuration file (see docs/configuration.md): `serve` runs on it; the
    /// other commands take from it what the service needs, such as the public origin that
    /// links in mail point at.
    #[arg(long, global = true, env = "DEPUTY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new deployment: load the catalog and create the root tenant.
    Init {
        /// A catalog TOML file (default: the shipped catalog).
        #[arg(long)]
        catalog: Option<PathBuf>,
        #[arg(long, default_value = "root")]
        root_key: String,
        #[arg(long, default_value = "Operator")]
        root_name: String,
    },
    /// Serve the HTTP API on the database (created and migrated when needed). On first
    /// start: the root tenant and a first admin, whose one-time password is printed.
    Serve {
        /// Address to listen on (overrides the file and DEPUTY_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// Where users reach Deputy (overrides the file and DEPUTY_PUBLIC_ORIGIN).
        #[arg(long)]
        public_origin: Option<String>,
    },
    /// Build a database holding scenarios S1–S4, print a tour of checks and the people's
    /// password, and serve the API and the portal on it (R60).
    Demo {
        /// Only build the database and print the tour.
        #[arg(long)]
        no_serve: bool,
        /// Start over: remove the demo an earlier run left in --db (a SQLite file holding
        /// the demo, never anything else). Without it, that demo is reused.
        #[arg(long)]
        fresh: bool,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    #[command(subcommand)]
    Tenant(tenants::TenantCmd),
    #[command(subcommand)]
    User(users::UserCmd),
    #[command(subcommand)]
    Delegate(users::DelegateCmd),
    /// Give a role (R27): in a tenant, or on a resource.
    Assign(roles::AssignArgs),
    /// Remove an assignment by id (`a12`), as listed by `user show`.
    Unassign(roles::UnassignArgs),
    #[command(subcommand)]
    Resource(resources::ResourceCmd),
    #[command(subcommand)]
    Group(groups::GroupCmd),
    #[command(subcommand)]
    Grant(partners::GrantCmd),
    /// Give a partner user a role for a client (R41).
    PartnerRole(partners::PartnerRoleArgs),
    /// May LOGON do PERMISSION on TARGET? Exit 0 allowed, 1 denied.
    Check(checks::CheckArgs),
    /// Why (not)? Every granting path, or the first failed step.
    Explain(checks::CheckArgs),
    /// Every tenant and resource where the check passes.
    LookupResources(checks::LookupResourcesArgs),
    /// Every principal for whom the check on TARGET passes.
    LookupSubjects(checks::LookupSubjectsArgs),
    #[command(subcommand)]
    Activity(reports::ActivityCmd),
    /// Write the whole deployment as JSON.
    Export { file: PathBuf },
    /// Load a deployment exported with `export` into an empty database.
    Import { file: PathBuf },
    /// Who would lose or gain which access if a change were made (R67). Commits nothing.
    WhatIf(reports::WhatIfArgs),
    /// Every principal's access in a tenant, or everything a principal may do, with reasons (R72).
    Review(reports::ReviewArgs),
    /// Many checks at once from a JSON file of `{"principal","permission","target"}` (R54).
    BatchCheck { file: PathBuf },
    /// "Add Access to Another Business" codes (R37a).
    #[command(subcommand)]
    AccessCode(access::AccessCodeCmd),
    /// Write a consistent copy of the live database to FILE (R66).
    Backup { file: PathBuf },
    /// Restore a backup into --db (which must not exist), as a new epoch (R66).
    Restore { backup: PathBuf },
    /// Save a checkpoint so the next start replays less.
    Checkpoint,
    /// Lift a sign-in lock or back-off of a logon name (R16), as the console operator.
    Unlock { logon: String },
    /// The mail outbox (R61): what was queued, sent or not, with the last error.
    Outbox {
        /// Only mail after this id.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

/// Everything that can go wrong, with its exit code.
enum Failure {
    Usage(String),
    NotFound(String),
    Forbidden(String),
    Conflict(String),
    Internal(String),
}

impl From<NotFound> for Failure {
    fn from(e: NotFound) -> Self {
        Failure::NotFound(e.0)
    }
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Command(c) => match c.kind {
                ErrorKind::NotFound => Failure::NotFound(c.message),
                ErrorKind::Invalid => Failure::Usage(c.message),
                ErrorKind::Forbidden => Failure::Forbidden(c.message),
                ErrorKind::Conflict => Failure::Conflict(c.message),
            },
            ServiceError::NotInitialised => Failure::Usage(e.to_string()),
            ServiceError::FutureRevision { .. } | ServiceError::StaleEpoch { .. } => {
                Failure::Conflict(e.to_string())
            }
            ServiceError::BadToken(_) => Failure::Usage(e.to_string()),
            other => Failure::Internal(other.to_string()),
        }
    }
}

impl From<deputy_service::auth::AuthError> for Failure {
    fn from(e: deputy_service::auth::AuthError) -> Self {
        use deputy_service::auth::AuthError;
        match e {
            AuthError::Service(e) => e.into(),
            AuthError::Password(_) => Failure::Usage(e.to_string()),
            AuthError::TooManyMails { .. } | AuthError::Busy(_) => Failure::Conflict(e.to_string()),
            AuthError::LinkInvalid | AuthError::SignInFailed | AuthError::Unauthenticated => {
                Failure::Forbidden(e.to_string())
            }
        }
    }
}

impl From<deputy_store::StoreError> for Failure {
    fn from(e: deputy_store::StoreError) -> Self {
        Failure::Internal(e.to_string())
    }
}

impl From<CheckError> for Failure {
    fn from(e: CheckError) -> Self {
        Failure::NotFound(e.to_string())
    }
}

type Outcome = Result<(serde_json::Value, String, u8), Failure>;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let json_out = cli.json;
    match execute(cli) {
        Ok((value, text, code)) => {
            if json_out {
                println!("{value}");
            } else if !text.is_empty() {
                println!("{text}");
            }
            ExitCode::from(code)
        }
        Err(failure) => {
            let (code, kind, message) = match failure {
                Failure::Usage(m) => (2, "invalid", m),
                Failure::NotFound(m) => (3, "not_found", m),
                Failure::Forbidden(m) => (4, "forbidden", m),
                Failure::Conflict(m) => (5, "conflict", m),
                Failure::Internal(m) => (10, "internal", m),
            };
            if json_out {
                println!("{}", json!({"error": kind, "message": message}));
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::from(code)
        }
    }
}

fn open(db: &str) -> Result<Deputy<BoxedBackend>, Failure> {
    let store = deputy_backends::open(db)?;
    let deputy = Deputy::open(store)?;
    for warning in deputy.warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(deputy)
}

fn initialised(db: &str) -> Result<Deputy<BoxedBackend>, Failure> {
    let d = open(db)?;
    if !d.is_initialised() {
        return Err(Failure::Usage(format!(
            "`{}` holds no deployment: run `deputy init` first",
            db
        )));
    }
    Ok(d)
}

fn actor(cli: &Cli, s: &State) -> Result<Actor, Failure> {
    match &cli.as_logon {
        None => {
            if cli.switched.is_some() {
                return Err(Failure::Usage("--switched needs --as".into()));
            }
            Ok(Actor::System)
        }
        Some(logon) => {
            let id = resolve::principal(s, logon)?;
            let switched = cli.switched.as_deref().map(|t| resolve::tenant(s, t)).transpose()?;
            Ok(Actor::Principal {
                id,
                ctx: Context { switched, impersonation: None, sessionless: false },
            })
        }
    }
}

fn done(revision: u64, what: String, extra: serde_json::Value) -> Outcome {
    let mut value = json!({"revision": revision});
    if let (Some(obj), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    Ok((value, format!("{what} (revision {revision})"), 0))
}

fn execute(cli: Cli) -> Outcome {
    match &cli.command {
        Command::Init { catalog, root_key, root_name } => {
            maintenance::init(&cli, catalog.as_deref(), root_key, root_name)
        }
        Command::Demo { no_serve, listen, fresh } => {
            let outcome = demo::demo(&cli, *fresh)?;
            if *no_serve {
                return Ok(outcome);
            }
            demo::serve_demo(&cli, listen, &outcome.1)?;
            Ok((json!({}), String::new(), 0))
        }
        Command::Serve { listen, public_origin } => {
            let mut raw =
                crate::config::RawConfig::load(cli.config.as_deref()).map_err(Failure::Usage)?;
            // `--db` (or DEPUTY_DB) wins over the file unless it is left at its default.
            if raw.database.is_none() || cli.db != "deputy.db" {
                raw.database = Some(cli.db.clone());
            }
            if listen.is_some() {
                raw.listen = listen.clone();
            }
            if public_origin.is_some() {
                raw.public_origin = public_origin.clone();
            }
            let config = crate::config::Config::validate(raw).map_err(Failure::Usage)?;
            crate::serve::serve(config).map_err(Failure::Internal)?;
            Ok((json!({}), String::new(), 0))
        }
        Command::Export { file } => maintenance::export(&cli, file),
        Command::Import { file } => maintenance::import(&cli, file),
        Command::Backup { file } => maintenance::backup(&cli, file),
        Command::Restore { backup } => maintenance::restore(&cli, backup),
        Command::Checkpoint => maintenance::checkpoint(&cli),
        Command::Activity(cmd) => reports::activity(&cli, cmd),
        Command::Unlock { logon } => users::unlock(&cli, logon),
        Command::Outbox { after, limit } => reports::outbox(&cli, *after, *limit),
        _ => {
            let auth = console_auth(&cli, initialised(&cli.db)?)?;
            act(&cli, &auth)
        }
    }
}

/// The service over the console's database: what the operations run on, with the settings
/// the server would have (links in mail point at its public origin).
fn console_auth(cli: &Cli, d: Deputy<BoxedBackend>) -> Result<Auth<BoxedBackend>, Failure> {
    let settings =
        crate::config::service_settings(cli.config.as_deref()).map_err(Failure::Usage)?;
    Auth::new(std::sync::Arc::new(d), settings).map_err(|e| Failure::Internal(e.to_string()))
}

/// A write that made something: its revision, its id under `key`, and the token of its
/// revision.
fn made<T: ToString>(c: &Committed<T>, what: String, key: &str) -> Outcome {
    done(c.revision, what, json!({key: c.output.to_string(), "token": c.token().to_string()}))
}

/// A name list given as repeated flags: none given means "not narrowed".
fn narrowed(names: &[String]) -> Option<Vec<String>> {
    (!names.is_empty()).then(|| names.to_vec())
}

fn act(cli: &Cli, auth: &Auth<BoxedBackend>) -> Outcome {
    let d: &Deputy<BoxedBackend> = auth.deputy();
    let s = d.snapshot();
    // Checks take `--switched` as the checked principal's session; writes need `--as`.
    let reads_only = matches!(
        cli.command,
        Command::Check(_)
            | Command::Explain(_)
            | Command::LookupResources(_)
            | Command::LookupSubjects(_)
    );
    let who = if reads_only { Actor::System } else { actor(cli, &s)? };
    let by = Asker::new(who, None);
    match &cli.command {
        Command::Tenant(cmd) => tenants::run(cmd, &s, auth, by),
        Command::User(cmd) => users::user(cmd, &s, auth, by),
        Command::Delegate(cmd) => users::delegate(cmd, auth, by),
        Command::Assign(args) => roles::assign(args, &s, auth, by),
        Command::Unassign(args) => roles::unassign(args, auth, by),
        Command::Resource(cmd) => resources::run(cmd, auth, by),
        Command::Group(cmd) => groups::run(cmd, auth, by),
        Command::Grant(cmd) => partners::grant(cmd, &s, auth, by),
        Command::PartnerRole(args) => partners::partner_role(args, auth, by),
        Command::AccessCode(cmd) => access::run(cmd, auth, by),
        Command::WhatIf(args) => reports::what_if(auth, who, args),
        Command::Review(args) => reports::review(d, args),
        Command::BatchCheck { file } => checks::batch_check(d, file),
        Command::Check(args) => checks::check(cli, d, args, false),
        Command::Explain(args) => checks::check(cli, d, args, true),
        Command::LookupResources(args) => checks::lookup_resources(cli, d, args),
        Command::LookupSubjects(args) => checks::lookup_subjects(cli, d, args),
        _ => Err(Failure::Internal("unhandled command".into())),
    }
}

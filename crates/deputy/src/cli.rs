//! The command line: parsing (clap), acting through the service layer, printing for people
//! or, with `--json`, for machines.

use clap::{Args, Parser, Subcommand};
use deputy_core::commands::tenants::NewTenant;
use deputy_core::*;
use deputy_http::routes::refs::{PrincipalRef, ScopeRef, TargetRef, TenantRef};
use deputy_http::routes::reports::SubjectView;
use deputy_service::auth::Auth;
use deputy_service::ops::tenants::Wizard;
use deputy_service::ops::users::FirstAccess;
use deputy_service::ops::{self, Asker};
use deputy_service::resolve::{self, NotFound};
use deputy_service::{Committed, Deputy, ServiceError};
use deputy_store::BoxedBackend;
use deputy_store::{ActivityQuery, Store, VerifyReport};
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
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    #[command(subcommand)]
    Tenant(TenantCmd),
    #[command(subcommand)]
    User(UserCmd),
    #[command(subcommand)]
    Delegate(DelegateCmd),
    /// Give a role (R27): in a tenant, or on a resource.
    Assign {
        logon: String,
        role: String,
        #[arg(long, required_unless_present = "resource")]
        tenant: Option<String>,
        #[arg(long)]
        subtree: bool,
        #[arg(long, conflicts_with = "tenant")]
        resource: Option<String>,
    },
    /// Remove an assignment by id (`a12`), as listed by `user show`.
    Unassign { logon: String, assignment: String },
    #[command(subcommand)]
    Resource(ResourceCmd),
    #[command(subcommand)]
    Group(GroupCmd),
    #[command(subcommand)]
    Grant(GrantCmd),
    /// Give a partner user a role for a client (R41).
    PartnerRole {
        logon: String,
        role: String,
        /// For one client…
        #[arg(long, required_unless_present = "group")]
        client: Option<String>,
        /// …or for every client in one of the partner tenant's groups (`sg3`).
        #[arg(long, conflicts_with = "client")]
        group: Option<String>,
    },
    /// May LOGON do PERMISSION on TARGET? Exit 0 allowed, 1 denied.
    Check(CheckArgs),
    /// Why (not)? Every granting path, or the first failed step.
    Explain(CheckArgs),
    /// Every tenant and resource where the check passes.
    LookupResources {
        logon: String,
        permission: String,
        #[arg(long = "type")]
        resource_type: Option<String>,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Every principal for whom the check on TARGET passes.
    LookupSubjects {
        target: String,
        permission: String,
        #[arg(long)]
        cursor: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    #[command(subcommand)]
    Activity(ActivityCmd),
    /// Write the whole deployment as JSON.
    Export { file: PathBuf },
    /// Load a deployment exported with `export` into an empty database.
    Import { file: PathBuf },
    /// Who would lose or gain which access if a change were made (R67). Commits nothing.
    WhatIf(crate::reports::WhatIfArgs),
    /// Every principal's access in a tenant, or everything a principal may do, with reasons (R72).
    Review(crate::reports::ReviewArgs),
    /// Many checks at once from a JSON file of `{"principal","permission","target"}` (R54).
    BatchCheck { file: PathBuf },
    /// "Add Access to Another Business" codes (R37a).
    #[command(subcommand)]
    AccessCode(crate::reports::AccessCodeCmd),
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

#[derive(Debug, Args)]
struct CheckArgs {
    logon: String,
    permission: String,
    /// `tenant:KEY`, `resource:KEY` or a bare key.
    target: String,
    /// Answer on data at least this fresh (a revision number).
    #[arg(long, conflicts_with = "token")]
    at_least: Option<u64>,
    /// Answer on data at least as fresh as this consistency token (`EPOCH.REVISION`, R50).
    #[arg(long)]
    token: Option<String>,
    /// Check as LOGON's session would while IMPERSONATOR impersonates it (R48); with
    /// `--switched`, the impersonator's session is switched.
    #[arg(long)]
    impersonator: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantCmd {
    /// Create a tenant under PARENT (R1).
    Create {
        key: String,
        #[arg(long)]
        parent: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    List,
    /// A partner's "New account for a new customer" (R46): run with --as a partner user.
    CreateCustomer {
        key: String,
        #[arg(long)]
        partner: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a tenant's own entitlements (R3).
    Entitle {
        tenant: String,
        permissions: Vec<String>,
    },
    Suspend {
        tenant: String,
    },
    Resume {
        tenant: String,
    },
    /// Flag a tenant as a partner (or `--off`).
    Partner {
        tenant: String,
        #[arg(long)]
        off: bool,
    },
    /// Move a tenant under a new parent (R1).
    Move {
        tenant: String,
        #[arg(long)]
        parent: String,
    },
    /// Set the role new principals get (R19).
    DefaultRole {
        tenant: String,
        role: String,
    },
    /// Make an active user of the tenant its contact person (R4).
    Contact {
        tenant: String,
        logon: String,
    },
    /// Change name, description and internal description (R9).
    Describe {
        tenant: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        internal: Option<String>,
    },
    /// Allow secondary logons (and nested ones) in a tenant (R34).
    Delegation {
        tenant: String,
        #[arg(long, action = clap::ArgAction::Set, default_value_t = true)]
        allowed: bool,
        #[arg(long, action = clap::ArgAction::Set, default_value_t = false)]
        nested: bool,
    },
    /// A parent account of CLIENT, created by a partner through its grant (R46).
    CreateParent {
        key: String,
        #[arg(long)]
        client: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCmd {
    /// Add a user (R10); the first of a tenant becomes its contact person and admin (R4).
    Create {
        logon: String,
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        first: String,
        #[arg(long)]
        last: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        /// pending, invited or active.
        #[arg(long, default_value = "invited")]
        status: String,
    },
    List {
        #[arg(long)]
        tenant: String,
    },
    Show {
        logon: String,
    },
    Activate {
        logon: String,
    },
    Deactivate {
        logon: String,
    },
    Cancel {
        logon: String,
    },
    /// Send (or resend) the invitation of a pending or invited user (R10, R12).
    Invite {
        logon: String,
    },
    /// Add a service account (R24).
    ServiceAccount {
        name: String,
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change profile fields and custom attributes (R18); `--attr KEY=VALUE`, `--attr KEY=` removes.
    Update {
        logon: String,
        #[arg(long)]
        first: Option<String>,
        #[arg(long)]
        last: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        internal: Option<String>,
        #[arg(long = "attr")]
        attributes: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DelegateCmd {
    /// Create a secondary logon of OWNER (R34).
    Create {
        logon: String,
        #[arg(long)]
        owner: String,
        #[arg(long)]
        first: String,
        #[arg(long)]
        last: String,
        #[arg(long)]
        email: String,
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long = "kind")]
        kinds: Vec<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Sign in with the owner's password (R17).
        #[arg(long)]
        linked: bool,
    },
    /// Change a delegate's groups, kinds and roles (no --group: Full Access).
    Access {
        logon: String,
        #[arg(long = "group")]
        groups: Vec<String>,
        #[arg(long = "kind")]
        kinds: Vec<String>,
        #[arg(long = "role")]
        roles: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ResourceCmd {
    Create {
        key: String,
        #[arg(long)]
        tenant: String,
        #[arg(long = "type")]
        resource_type: String,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum GroupCmd {
    /// Create a group of a user (`--user`) or a partner tenant (`--tenant`).
    Create {
        name: String,
        #[arg(long, conflicts_with = "tenant", required_unless_present = "tenant")]
        user: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Put TENANT in GROUP (out of its old group).
    Place {
        group: String,
        tenant: String,
    },
    Delete {
        group: String,
    },
}

#[derive(Debug, Subcommand)]
enum GrantCmd {
    Propose {
        #[arg(long)]
        client: String,
        #[arg(long)]
        partner: String,
        #[arg(long = "ceiling", required = true)]
        ceiling: Vec<String>,
        #[arg(long)]
        subtree: bool,
    },
    Approve {
        grant: String,
    },
    Revoke {
        grant: String,
    },
    List,
    /// Narrow or extend a grant (R40, R41): the client's side sets its whole terms.
    Change {
        grant: String,
        #[arg(long = "ceiling", required = true)]
        ceiling: Vec<String>,
        /// Only resources of these kinds (R38).
        #[arg(long = "kind")]
        kinds: Vec<String>,
        #[arg(long)]
        subtree: bool,
        /// Expires this many days from now.
        #[arg(long)]
        days: Option<i64>,
        #[arg(long)]
        auto_extend: bool,
    },
    /// Extend auto-extending grants and record expiry notices due within DAYS (R70).
    Upkeep {
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
}

#[derive(Debug, Subcommand)]
enum ActivityCmd {
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
    /// Recompute the hash chain and name the first broken entry (R22).
    Verify,
}

/// Everything that can go wrong, with its exit code.
pub(crate) enum Failure {
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

pub(crate) type Outcome = Result<(serde_json::Value, String, u8), Failure>;

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

pub(crate) fn done(revision: u64, what: String, extra: serde_json::Value) -> Outcome {
    let mut value = json!({"revision": revision});
    if let (Some(obj), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        obj.extend(extra.clone());
    }
    Ok((value, format!("{what} (revision {revision})"), 0))
}

/// How a new user first gets in (R12), from `--status`: `invited` sends the invitation.
fn first_access(text: &str) -> Result<FirstAccess, Failure> {
    match text {
        "pending" => Ok(FirstAccess::Pending),
        "invited" => Ok(FirstAccess::Invitation),
        "active" => Ok(FirstAccess::Active),
        other => Err(Failure::Usage(format!(
            "--status: `{other}` is not one of pending, invited, active"
        ))),
    }
}

/// A grant id as typed (`g3`), refused in the argument's words before anything is asked.
pub(crate) fn grant_id(text: &str) -> Result<(), Failure> {
    match text.parse::<GrantId>() {
        Ok(_) => Ok(()),
        Err(_) => Err(Failure::Usage(format!("grant: `{text}` is not a grant id like `g3`"))),
    }
}

fn execute(cli: Cli) -> Outcome {
    match &cli.command {
        Command::Init { catalog, root_key, root_name } => {
            let d = open(&cli.db)?;
            if d.is_initialised() {
                return Err(Failure::Conflict(format!("`{}` holds a deployment already", cli.db)));
            }
            let text = catalog
                .as_ref()
                .map(std::fs::read_to_string)
                .transpose()
                .map_err(|e| Failure::Usage(format!("--catalog: {e}")))?;
            let c = d.initialise(text.as_deref(), root_key, root_name)?;
            done(
                c.revision,
                format!("created deployment with root tenant `{root_key}` in {}", cli.db),
                json!({"root": c.output.to_string()}),
            )
        }
        Command::Demo { no_serve, listen } => {
            let outcome = demo(&cli)?;
            if *no_serve {
                return Ok(outcome);
            }
            serve_demo(&cli, listen, &outcome.1)?;
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
        Command::Export { file } => {
            let d = initialised(&cli.db)?;
            let s = d.snapshot();
            let doc = json!({"format": "deputy-export-v1", "revision": s.revision, "changes": s.to_changes()});
            std::fs::write(file, doc.to_string()).map_err(|e| {
                Failure::Internal(format!("cannot write `{}`: {e}", file.display()))
            })?;
            Ok((
                json!({"revision": s.revision}),
                format!("exported revision {} to {}", s.revision, file.display()),
                0,
            ))
        }
        Command::Import { file } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", file.display())))?;
            let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                Failure::Usage(format!("`{}` is not valid JSON: {e}", file.display()))
            })?;
            if doc.get("format").and_then(|f| f.as_str()) != Some("deputy-export-v1") {
                return Err(Failure::Usage(format!(
                    "`{}` is not a Deputy export (format `deputy-export-v1`)",
                    file.display()
                )));
            }
            let changes: Vec<Change> =
                serde_json::from_value(doc.get("changes").cloned().unwrap_or_default()).map_err(
                    |e| Failure::Usage(format!("`{}`: changes are malformed: {e}", file.display())),
                )?;
            let d = open(&cli.db)?;
            // A progress bar on a terminal; nothing when stderr is redirected or with --json.
            let bar = if cli.json {
                indicatif::ProgressBar::hidden()
            } else {
                indicatif::ProgressBar::new(changes.len() as u64)
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "importing {bar:40} {pos}/{len} changes ({eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let revision =
                d.import(&changes, 10_000, &mut |done, _| bar.set_position(done as u64))?;
            bar.finish_and_clear();
            done(revision, format!("imported {} changes", changes.len()), json!({}))
        }
        Command::Backup { file } => {
            let store = deputy_backends::open(&cli.db)?;
            store.backup_to(file)?;
            Ok((
                json!({"backup": file.display().to_string()}),
                format!("backed up {} to {}", cli.db, file.display()),
                0,
            ))
        }
        Command::Restore { backup } => {
            let store = deputy_backends::restore(backup, &cli.db)?;
            let d = Deputy::open(store)?;
            let token = d.token();
            Ok((
                json!({"token": token.to_string()}),
                format!(
                    "restored {} into {} as a new epoch (tokens from before are refused); newest token {token}",
                    backup.display(),
                    cli.db
                ),
                0,
            ))
        }
        Command::Checkpoint => {
            let d = initialised(&cli.db)?;
            let revision = d.checkpoint()?;
            done(revision, "checkpoint saved".into(), json!({}))
        }
        Command::Activity(cmd) => activity(&cli, cmd),
        Command::Unlock { logon } => {
            // As the console operator whatever `--as` says, like every maintenance command.
            let auth = console_auth(&cli, initialised(&cli.db)?)?;
            ops::users::unlock(&auth, Asker::CONSOLE, logon)?;
            let p = resolve::principal(&auth.deputy().snapshot(), logon)?;
            Ok((json!({"unlocked": p.to_string()}), format!("unlocked `{logon}`"), 0))
        }
        Command::Outbox { after, limit } => {
            use deputy_store::secrets::SecretStore;
            let store = deputy_backends::open(&cli.db)?;
            let rows = store.outbox(*after, *limit)?;
            let mut text = String::new();
            for m in &rows {
                let state = match (m.sent_ms, &m.last_error) {
                    (Some(_), _) => "sent".to_owned(),
                    (None, Some(e)) => format!("not sent after {} attempts: {e}", m.attempts),
                    (None, None) => "queued".to_owned(),
                };
                text.push_str(&format!(
                    "#{} to {} — {} [{state}]\n{}\n\n",
                    m.id,
                    m.recipient,
                    m.subject,
                    m.body.trim_end()
                ));
            }
            if rows.is_empty() {
                text.push_str("the outbox is empty");
            }
            let json_rows: Vec<_> = rows
                .iter()
                .map(|m| json!({"id": m.id, "recipient": m.recipient, "subject": m.subject, "body": m.body, "sent_ms": m.sent_ms, "attempts": m.attempts, "last_error": m.last_error}))
                .collect();
            Ok((json!({"mail": json_rows}), text.trim_end().to_owned(), 0))
        }
        _ => {
            let auth = console_auth(&cli, initialised(&cli.db)?)?;
            act(&cli, &auth)
        }
    }
}

fn activity(cli: &Cli, cmd: &ActivityCmd) -> Outcome {
    let d = initialised(&cli.db)?;
    match cmd {
        ActivityCmd::List { limit, after } => {
            let entries = d.store().activity(&ActivityQuery {
                after_seq: *after,
                limit: *limit,
                ..Default::default()
            })?;
            let rows: Vec<_> = entries
                .iter()
                .map(|e| json!({"seq": e.seq, "revision": e.revision, "at_ms": e.entry.at_ms, "action": e.entry.action, "actor": e.entry.actor, "subject": e.entry.subject, "tenant": e.entry.tenant, "acting_as": e.entry.acting_as, "details": e.entry.details}))
                .collect();
            let text = entries
                .iter()
                .map(|e| {
                    format!(
                        "{:>6}  {:<32} actor={} subject={} tenant={}",
                        e.seq,
                        e.entry.action,
                        e.entry.actor.as_deref().unwrap_or("-"),
                        e.entry.subject.as_deref().unwrap_or("-"),
                        e.entry.tenant.as_deref().unwrap_or("-")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok((json!({"entries": rows}), text, 0))
        }
        ActivityCmd::Verify => match deputy_store::verify_activity(d.store())? {
            VerifyReport::Intact { entries } => Ok((
                json!({"intact": true, "entries": entries}),
                format!("activity log intact: {entries} entries verified"),
                0,
            )),
            VerifyReport::Broken { seq, reason } => {
                Err(Failure::Conflict(format!("activity log broken at entry {seq}: {reason}")))
            }
        },
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
pub(crate) fn made<T: ToString>(c: &Committed<T>, what: String, key: &str) -> Outcome {
    done(c.revision, what, json!({key: c.output.to_string(), "token": c.token().to_string()}))
}

/// A name list given as repeated flags: none given means "not narrowed".
pub(crate) fn narrowed(names: &[String]) -> Option<Vec<String>> {
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
            | Command::LookupResources { .. }
            | Command::LookupSubjects { .. }
    );
    let who = if reads_only { Actor::System } else { actor(cli, &s)? };
    let by = Asker::new(who, None);
    match &cli.command {
        Command::Tenant(
            cmd @ (TenantCmd::Move { .. }
            | TenantCmd::DefaultRole { .. }
            | TenantCmd::Contact { .. }
            | TenantCmd::Describe { .. }
            | TenantCmd::Delegation { .. }
            | TenantCmd::CreateParent { .. }),
        ) => crate::manage::tenant(cmd, auth, by),
        Command::User(
            cmd
            @ (UserCmd::Invite { .. } | UserCmd::ServiceAccount { .. } | UserCmd::Update { .. }),
        ) => crate::manage::user(cmd, auth, by),
        Command::Tenant(cmd) => match cmd {
            TenantCmd::Create { key, parent, name, description } => {
                let new = NewTenant {
                    key: key.clone(),
                    name: name.clone().unwrap_or_else(|| key.clone()),
                    description: description.clone(),
                    ..Default::default()
                };
                let c = ops::tenants::create(auth, by, parent, new)?;
                made(&c, format!("created tenant `{key}`"), "tenant")
            }
            TenantCmd::CreateCustomer { key, partner, name } => {
                let new = NewTenant {
                    key: key.clone(),
                    name: name.clone().unwrap_or_else(|| key.clone()),
                    ..Default::default()
                };
                let c = ops::tenants::create_account(auth, by, partner, Wizard::Customer, new)?;
                made(&c, format!("created customer `{key}`"), "tenant")
            }
            TenantCmd::List => {
                let rows: Vec<_> = s.tenants().map(|t| json!({"id": t.id.to_string(), "key": t.key, "name": t.name, "parent": t.parent.and_then(|p| s.tenant(p)).map(|p| p.key.clone()), "partner": t.partner, "suspended": t.suspended})).collect();
                let text = s
                    .tenants()
                    .map(|t| {
                        format!(
                            "{}{} {}{}{}",
                            "  ".repeat(t.depth()),
                            t.key,
                            t.name,
                            if t.partner { " [partner]" } else { "" },
                            if t.suspended { " [suspended]" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                Ok((json!({"tenants": rows}), text, 0))
            }
            TenantCmd::Entitle { tenant, permissions } => {
                let c = ops::tenants::set_entitlements(auth, by, tenant, permissions)?;
                done(c.revision, format!("entitlements of `{tenant}` set"), json!({}))
            }
            TenantCmd::Suspend { tenant } | TenantCmd::Resume { tenant } => {
                let suspend = matches!(cmd, TenantCmd::Suspend { .. });
                let c = ops::tenants::set_suspended(auth, by, tenant, suspend)?;
                done(
                    c.revision,
                    format!("tenant `{tenant}` {}", if suspend { "suspended" } else { "resumed" }),
                    json!({}),
                )
            }
            TenantCmd::Partner { tenant, off } => {
                let c = ops::tenants::set_partner(auth, by, tenant, !off)?;
                done(
                    c.revision,
                    format!("tenant `{tenant}` partner flag {}", if *off { "off" } else { "on" }),
                    json!({}),
                )
            }
            // Handled in `manage`.
            _ => Err(Failure::Internal("unhandled tenant command".into())),
        },
        Command::User(cmd) => user(cmd, &s, auth, by),
        Command::Delegate(cmd) => match cmd {
            DelegateCmd::Create {
                logon,
                owner,
                first,
                last,
                email,
                groups,
                kinds,
                roles,
                linked,
            } => {
                let spec = ops::users::DelegateSpec {
                    logon: logon.clone(),
                    first_name: first.clone(),
                    last_name: last.clone(),
                    email: email.clone(),
                    access: ops::users::DelegateAccess {
                        groups: narrowed(groups),
                        kinds: narrowed(kinds),
                        roles: roles.clone(),
                    },
                    linked_password: *linked,
                };
                let c = ops::users::create_delegate(auth, by, owner, spec)?;
                made(&c, format!("created secondary logon `{logon}`"), "principal")
            }
            DelegateCmd::Access { logon, groups, kinds, roles } => {
                let access = ops::users::DelegateAccess {
                    groups: narrowed(groups),
                    kinds: narrowed(kinds),
                    roles: roles.clone(),
                };
                let c = ops::users::set_delegate_access(auth, by, logon, &access)?;
                done(c.revision, format!("access of `{logon}` changed"), json!({}))
            }
        },
        Command::Assign { logon, role, tenant, subtree, resource } => {
            use ops::roles::{Given, Place};
            // One argument names a role or, failing that, a single permission (R26).
            let given = if resolve::role(&s, role).is_ok() {
                Given::Role(role.clone())
            } else if resolve::permission(&s, role).is_ok() {
                Given::Permission(role.clone())
            } else {
                return Err(Failure::NotFound(format!("no role or permission named `{role}`")));
            };
            let place = match (tenant, resource) {
                (Some(t), _) => Place::Tenant { tenant: t.clone(), subtree: *subtree },
                (None, Some(r)) => Place::Resource(r.clone()),
                (None, None) => return Err(Failure::Usage("give --tenant or --resource".into())),
            };
            let c = ops::roles::assign(auth, by, logon, given, place, None)?;
            made(&c, format!("gave `{role}` to `{logon}`"), "assignment")
        }
        Command::Unassign { logon, assignment } => {
            if assignment.parse::<AssignmentId>().is_err() {
                return Err(Failure::Usage(format!(
                    "assignment: `{assignment}` is not an assignment id like `a12`"
                )));
            }
            let c = ops::roles::unassign(auth, by, logon, assignment)?;
            done(c.revision, format!("removed {assignment} from `{logon}`"), json!({}))
        }
        Command::Resource(ResourceCmd::Create {
            key,
            tenant,
            resource_type,
            kind,
            parent,
            name,
        }) => {
            let spec = ops::resources::ResourceSpec {
                key: key.clone(),
                name: name.clone().unwrap_or_else(|| key.clone()),
                resource_type: resource_type.clone(),
                kind: kind.clone(),
                parent: parent.clone(),
            };
            let c = ops::resources::create(auth, by, tenant, spec)?;
            made(&c, format!("created resource `{key}`"), "resource")
        }
        Command::Group(cmd) => match cmd {
            GroupCmd::Create { name, user, tenant } => {
                let owner = match (user, tenant) {
                    (Some(u), _) => ops::groups::Owner::User(u.clone()),
                    (None, Some(t)) => ops::groups::Owner::Tenant(t.clone()),
                    (None, None) => return Err(Failure::Usage("give --user or --tenant".into())),
                };
                let c = ops::groups::create(auth, by, owner, name)?;
                made(&c, format!("created group `{name}` ({})", c.output), "group")
            }
            GroupCmd::Place { group, tenant } => {
                let c = ops::groups::place(auth, by, group, tenant)?;
                done(c.revision, format!("placed `{tenant}` in {group}"), json!({}))
            }
            GroupCmd::Delete { group } => {
                let c = ops::groups::delete(auth, by, group)?;
                done(c.revision, format!("deleted {group}"), json!({}))
            }
        },
        Command::Grant(cmd) => match cmd {
            GrantCmd::Propose { client, partner, ceiling, subtree } => {
                let terms = ops::partners::TermsSpec {
                    ceiling: ceiling.clone(),
                    subtree: *subtree,
                    ..Default::default()
                };
                let c = ops::partners::propose(auth, by, client, partner, &terms)?;
                made(&c, format!("grant {} from `{client}` to `{partner}`", c.output), "grant")
            }
            GrantCmd::Approve { grant } | GrantCmd::Revoke { grant } => {
                grant_id(grant)?;
                let approve = matches!(cmd, GrantCmd::Approve { .. });
                let c = if approve {
                    ops::partners::approve(auth, by, grant)?
                } else {
                    ops::partners::revoke(auth, by, grant)?
                };
                done(
                    c.revision,
                    format!("grant {grant} {}", if approve { "approved" } else { "revoked" }),
                    json!({}),
                )
            }
            GrantCmd::Change { grant, ceiling, kinds, subtree, days, auto_extend } => {
                grant_id(grant)?;
                if days.is_some_and(|d| d < 1) {
                    return Err(Failure::Usage("--days: at least 1".into()));
                }
                let now = d.now();
                let expires_at =
                    days.map(|n| n.saturating_mul(24 * 60 * 60 * 1000).saturating_add(now));
                let terms = ops::partners::TermsSpec {
                    ceiling: ceiling.clone(),
                    kinds: narrowed(kinds),
                    subtree: *subtree,
                    expires_at,
                    auto_extend: *auto_extend,
                };
                let c = ops::partners::change(auth, by, grant, &terms)?;
                done(c.revision, format!("grant {grant} changed"), json!({}))
            }
            GrantCmd::Upkeep { days } => {
                if who != Actor::System {
                    return Err(Failure::Usage(
                        "grant upkeep runs as the console (without --as)".into(),
                    ));
                }
                let window = days.saturating_mul(24 * 60 * 60 * 1000);
                // R70: the server's upkeep, expiry and extension notices mailed as it does.
                let mails = ops::partners::upkeep(auth, window)?;
                let token = d.token();
                done(
                    token.revision,
                    format!("grant upkeep done: {mails} notices queued for mail"),
                    json!({"mails": mails, "token": token.to_string()}),
                )
            }
            GrantCmd::List => {
                let name = |t: TenantId| s.tenant(t).map_or(t.to_string(), |t| t.key.clone());
                let rows: Vec<_> = s.grants().map(|g| json!({"id": g.id.to_string(), "client": name(g.client), "partner": name(g.partner), "status": g.status, "ceiling": g.ceiling.iter().map(|r| s.catalog.role_name(*r)).collect::<Vec<_>>(), "subtree": g.subtree})).collect();
                let text = s
                    .grants()
                    .map(|g| {
                        format!(
                            "{} {} → {} {:?} ceiling={:?}",
                            g.id,
                            name(g.client),
                            name(g.partner),
                            g.status,
                            g.ceiling.iter().map(|r| s.catalog.role_name(*r)).collect::<Vec<_>>()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                Ok((json!({"grants": rows}), text, 0))
            }
        },
        Command::PartnerRole { logon, role, client, group } => {
            let (target, what) = match (client, group) {
                (Some(c), _) => (ops::partners::For::Client(c.clone()), c.clone()),
                (None, Some(g)) => (ops::partners::For::Group(g.clone()), g.clone()),
                (None, None) => return Err(Failure::Usage("give --client or --group".into())),
            };
            let c = ops::partners::give_role(auth, by, logon, role, target, None)?;
            let mut v = serde_json::to_value(&c.output).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("token".into(), json!(c.token().to_string()));
            }
            done(c.revision, format!("gave `{role}` for `{what}` to `{logon}`"), v)
        }
        Command::WhatIf(cmd) => crate::reports::what_if(d, who, cmd),
        Command::Review(args) => crate::reports::review(d, args),
        Command::BatchCheck { file } => crate::reports::batch_check(d, file),
        Command::AccessCode(cmd) => crate::reports::access_code(auth, by, cmd),
        Command::Check(args) | Command::Explain(args) => {
            check(cli, d, args, matches!(cli.command, Command::Explain(_)))
        }
        Command::LookupResources { logon, permission, resource_type, cursor, limit } => {
            let p = resolve::principal(&s, logon)?;
            let x = resolve::permission(&s, permission)?;
            let ty = resource_type
                .as_deref()
                .map(|t| {
                    s.catalog.type_id(t).ok_or_else(|| NotFound(format!("no resource type `{t}`")))
                })
                .transpose()?;
            let ctx = Context {
                switched: cli.switched.as_deref().map(|c| resolve::tenant(&s, c)).transpose()?,
                impersonation: None,
                sessionless: !cli.home,
            };
            let page = s.lookup_resources(p, x, ty, ctx, d.now(), cursor.as_deref(), *limit)?;
            let names: Vec<String> =
                page.items.iter().map(|t| resolve::target_name(&s, *t)).collect();
            // The API's items (R57): `{type, id, key}`.
            let items: Vec<TargetRef> = page.items.iter().map(|t| TargetRef::of(&s, *t)).collect();
            let mut text = names.join("\n");
            if let Some(next) = &page.next {
                text.push_str(&format!("\n… more: --cursor {next}"));
            }
            Ok((json!({"items": items, "next": page.next, "revision": s.revision}), text, 0))
        }
        Command::LookupSubjects { target, permission, cursor, limit } => {
            let t = resolve::target(&s, target)?;
            let x = resolve::permission(&s, permission)?;
            let ctx = Context {
                switched: cli.switched.as_deref().map(|c| resolve::tenant(&s, c)).transpose()?,
                impersonation: None,
                sessionless: !cli.home,
            };
            let page = s.lookup_subjects_for(t, x, ctx, d.now(), cursor.as_deref(), *limit)?;
            let rows: Vec<_> = page
                .items
                .iter()
                .map(|sub| SubjectView {
                    principal: PrincipalRef::of(&s, sub.principal),
                    switched_into: sub.switched.map(|c| TenantRef::of(&s, c)),
                })
                .collect();
            let mut text = page
                .items
                .iter()
                .map(|sub| {
                    format!(
                        "{}{}",
                        s.principal(sub.principal).map_or("?", |p| p.logon.as_ref()),
                        sub.switched
                            .and_then(|c| s.tenant(c))
                            .map(|c| format!(" (switched into {})", c.key))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            if let Some(next) = &page.next {
                text.push_str(&format!("\n… more: --cursor {next}"));
            }
            Ok((json!({"items": rows, "next": page.next, "revision": s.revision}), text, 0))
        }
        _ => Err(Failure::Internal("unhandled command".into())),
    }
}

fn user(cmd: &UserCmd, s: &State, auth: &Auth<BoxedBackend>, by: Asker<'_>) -> Outcome {
    match cmd {
        UserCmd::Create { logon, tenant, first, last, email, phone, roles, status } => {
            let spec = ops::users::UserSpec {
                logon: logon.clone(),
                first_name: first.clone(),
                last_name: last.clone(),
                email: email.clone(),
                phone: phone.clone(),
                roles: roles.clone(),
            };
            let created = ops::users::create_user(auth, by, tenant, spec, first_access(status)?)?;
            made(&created.committed, format!("created user `{logon}`"), "principal")
        }
        UserCmd::List { tenant } => {
            let t = resolve::tenant(s, tenant)?;
            let admin = s.catalog.admin_role;
            let contact = s.tenant(t).and_then(|t| t.contact);
            let rows: Vec<_> = s.members(t).map(|p| {
                let crown = p.assignments.iter().any(|a| a.bundle == Bundle::Role(admin));
                json!({"id": p.id.to_string(), "logon": p.logon, "name": p.display_name(), "status": p.status, "admin": crown, "contact": contact == Some(p.id), "delegate_of": p.owner().and_then(|o| s.principal(o)).map(|o| o.logon.clone())})
            }).collect();
            let text = s
                .members(t)
                .map(|p| {
                    let crown = if p.assignments.iter().any(|a| a.bundle == Bundle::Role(admin)) {
                        "♛ "
                    } else {
                        "  "
                    };
                    format!(
                        "{crown}{:<24} {:<24} {:<12}{}",
                        p.logon,
                        p.display_name(),
                        p.status.as_str(),
                        if contact == Some(p.id) { " (contact person)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok((json!({"users": rows}), text, 0))
        }
        UserCmd::Show { logon } => {
            let p = s
                .principal(resolve::principal(s, logon)?)
                .ok_or_else(|| Failure::NotFound(logon.clone()))?;
            let assignments: Vec<_> = p.assignments.iter().map(|a| json!({"id": a.id.to_string(), "role": match a.bundle { Bundle::Role(r) => s.catalog.role_name(r).to_owned(), Bundle::Permission(x) => s.catalog.perm_name(x).to_owned() }, "target": ScopeRef::of(s, a.scope), "expires_at": a.expires_at})).collect();
            let value = json!({"id": p.id.to_string(), "logon": p.logon, "home": TenantRef::of(s, p.home), "status": p.status, "email": p.email, "assignments": assignments});
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            Ok((value, text, 0))
        }
        UserCmd::Activate { logon } | UserCmd::Deactivate { logon } => {
            let status = if matches!(cmd, UserCmd::Activate { .. }) {
                Status::Active
            } else {
                Status::Deactivated
            };
            // The service's use case, so the same sessions and links die as over the API.
            let c = ops::users::set_status(auth, by, logon, status, None)?;
            let token = json!({"token": c.token().to_string()});
            done(c.revision, format!("`{logon}` is {}", status.as_str()), token)
        }
        UserCmd::Cancel { logon } => {
            let c = ops::users::cancel(auth, by, logon)?;
            let token = json!({"token": c.token().to_string()});
            done(c.revision, format!("`{logon}` is cancelled"), token)
        }
        // Handled in `manage`.
        _ => Err(Failure::Internal("unhandled user command".into())),
    }
}

fn check(cli: &Cli, d: &Deputy<BoxedBackend>, args: &CheckArgs, explain: bool) -> Outcome {
    let s = match (args.at_least, &args.token) {
        (Some(rev), _) => d.snapshot_at_least(rev)?,
        (None, Some(token)) => d.snapshot_for(token.parse()?)?,
        (None, None) => d.snapshot(),
    };
    let p = resolve::principal(&s, &args.logon)?;
    let x = resolve::permission(&s, &args.permission)?;
    let t = resolve::target(&s, &args.target)?;
    let switched = cli.switched.as_deref().map(|c| resolve::tenant(&s, c)).transpose()?;
    let impersonation = match &args.impersonator {
        Some(logon) => Some(Impersonation {
            actor: resolve::principal(&s, logon)?,
            expires_at: d.now() + deputy_core::commands::access::MAX_IMPERSONATION_MS,
        }),
        None => None,
    };
    // R51: no session unless one is named, as over the API.
    let ctx = Context { switched, impersonation, sessionless: !cli.home };
    let ex = s.explain(p, x, t, ctx, d.now())?;
    let allowed = ex.decision.is_allowed();
    let code = if allowed { 0 } else { 1 };
    let verdict = if allowed { "allowed" } else { "denied" };
    let value = json!({"allowed": allowed, "decision": ex.decision, "reason": ex.reason, "paths": ex.paths, "revision": s.revision});
    if !explain {
        return Ok((json!({"allowed": allowed, "revision": s.revision}), verdict.to_owned(), code));
    }
    let mut text =
        format!("{verdict}: {} {} {}", args.logon, args.permission, resolve::target_name(&s, t));
    if let Some(reason) = &ex.reason {
        text.push_str(&format!("\n  because {reason}"));
    }
    for path in &ex.paths {
        text.push_str(&format!("\n  {}", describe_path(&s, path)));
    }
    Ok((value, text, code))
}

/// One granting path in words: "role admin (subtree of root), assigned by system".
pub fn describe_path(s: &State, path: &deputy_core::check::GrantingPath) -> String {
    let what = match (path.role, path.permission) {
        (Some(r), _) => format!("role `{}`", s.catalog.role_name(r)),
        (_, Some(x)) => format!("permission `{}`", s.catalog.perm_name(x)),
        _ => "?".into(),
    };
    let scope = match path.scope {
        Some(Scope::Tenant { tenant, subtree }) => format!(
            " in {}{}",
            s.tenant(tenant).map_or("?", |t| t.key.as_str()),
            if subtree { " and below" } else { "" }
        ),
        Some(Scope::Resource { resource }) => {
            format!(" on {}", s.resource(resource).map_or("?", |r| r.key.as_ref()))
        }
        Some(Scope::Client { client }) => {
            format!(" for client {}", s.tenant(client).map_or("?", |t| t.key.as_str()))
        }
        Some(Scope::Group { group }) => format!(" for the clients of group {group}"),
        None => String::new(),
    };
    let by = match &path.assigned_by {
        Some(Author::System) => ", assigned by the console".to_owned(),
        Some(Author::Principal(p)) => {
            format!(", assigned by {}", s.principal(*p).map_or("?", |p| p.logon.as_ref()))
        }
        None => String::new(),
    };
    let grant = path.grant.map(|g| format!(", through grant {g}")).unwrap_or_default();
    let holder = s.principal(path.holder).map_or("?", |p| p.logon.as_ref());
    let via = if path.through_delegates.is_empty() {
        String::new()
    } else {
        format!(
            " (as owner of {})",
            path.through_delegates
                .iter()
                .filter_map(|d| s.principal(*d))
                .map(|d| d.logon.as_ref())
                .collect::<Vec<_>>()
                .join(" → ")
        )
    };
    format!("{} path: {holder}{via} holds {what}{scope}{by}{grant}", path.origin)
}

/// Gives every person of the demo one fresh password, prints it with the tour, and serves
/// the portal on the demo database until interrupted.
fn serve_demo(cli: &Cli, listen: &str, tour: &str) -> Result<(), Failure> {
    let raw = crate::config::RawConfig {
        database: Some(cli.db.clone()),
        listen: Some(listen.to_owned()),
        ..crate::config::RawConfig::default()
    };
    let config = crate::config::Config::validate(raw).map_err(Failure::Usage)?;
    let password = deputy_service::passwords::generate()
        .map_err(|e| Failure::Internal(format!("cannot generate a password: {e}")))?;
    let auth = deputy_service::auth::Auth::new(
        std::sync::Arc::new(open(&cli.db)?),
        deputy_service::auth::AuthSettings::default(),
    )
    .map_err(|e| Failure::Internal(e.to_string()))?;
    let s = auth.deputy().snapshot();
    let mut people = Vec::new();
    for p in s.principals() {
        let linked = p.delegate.as_deref().is_some_and(|d| d.linked_password);
        if p.is_active() && !linked && !matches!(p.kind, PrincipalKind::ServiceAccount) {
            auth.set_password(p.id, &password, false)
                .map_err(|e| Failure::Internal(e.to_string()))?;
            people.push(p.logon.to_string());
        }
    }
    drop(auth);
    println!("{tour}\n");
    println!("Sign in on the portal (its address follows) as any of: {}", people.join(", "));
    println!("  password (for everyone, this run): {password}");
    crate::serve::serve(config).map_err(Failure::Internal)
}

fn demo(cli: &Cli) -> Outcome {
    let d = open(&cli.db)?;
    if d.is_initialised() {
        return Err(Failure::Conflict(format!(
            "`{}` holds a deployment already: pick another --db",
            cli.db
        )));
    }
    d.initialise(None, "root", "Tax Agency")?;
    let m = deputy_service::demo::build(&d)?;
    let s = d.snapshot();
    let now = d.now();
    let tour: Vec<(&str, PrincipalId, &str, Target, Context)> = vec![
        (
            "S1 Jim files on the payroll client's Withholding account",
            m.jim,
            "returns.file",
            Target::Resource(m.bakery_withholding),
            Context::HOME,
        ),
        (
            "S1 …but not on its Sales & Use account",
            m.jim,
            "returns.file",
            Target::Resource(m.bakery_sales),
            Context::HOME,
        ),
        (
            "S1 …nor for the other client",
            m.jim,
            "returns.file",
            Target::Resource(m.florist_withholding),
            Context::HOME,
        ),
        (
            "S2 DataCo's customer manager, switched into Acme, adds users",
            m.dataco_cm,
            "users.create",
            Target::Tenant(m.acme),
            Context::switched(m.acme),
        ),
        (
            "S2 …but not at home in DataCo",
            m.dataco_cm,
            "users.create",
            Target::Tenant(m.dataco),
            Context::HOME,
        ),
        (
            "S3 BackupCo's senior IT manager, switched into Globex, manages tenants",
            m.sitm,
            "tenants.manage",
            Target::Tenant(m.customer_parent),
            Context::switched(m.customer_parent),
        ),
        (
            "S4 Ann views matters only after the firm's grant gives her a role",
            m.ann,
            "matters.view",
            Target::Resource(m.matter),
            Context::switched(m.law_firm),
        ),
    ];
    let mut text = format!(
        "Demo deployment written to {} (revision {}).\nPeople: jane, jim, nora, bakery-admin, acme-admin, carla, sitm, sm, globex-cs, firm-admin, provider-admin, ann, operator.\n",
        cli.db, s.revision
    );
    let mut rows = Vec::new();
    for (title, p, perm, target, ctx) in tour {
        let x = resolve::permission(&s, perm)?;
        let ex = s.explain(p, x, target, ctx, now)?;
        let who = s.principal(p).map_or("?", |p| p.logon.as_ref());
        text.push_str(&format!(
            "\n{title}\n  check {who} {perm} {} → {}\n",
            resolve::target_name(&s, target),
            if ex.decision.is_allowed() { "allowed" } else { "denied" }
        ));
        match &ex.reason {
            Some(r) => text.push_str(&format!("  because {r}\n")),
            None => {
                for path in &ex.paths {
                    text.push_str(&format!("  {}\n", describe_path(&s, path)));
                }
            }
        }
        rows.push(
            json!({"title": title, "allowed": ex.decision.is_allowed(), "reason": ex.reason}),
        );
    }
    text.push_str(&format!(
        "\nTry: deputy --db {} explain jim returns.file resource:bakery-sales-use",
        cli.db
    ));
    Ok((json!({"revision": s.revision, "tour": rows}), text, 0))
}

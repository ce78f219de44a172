//! Deputy's engine: the model of tenants, principals, roles, grants and groups; the
//! commands that change it under the rules of SPEC.md; and the checks that read it.
//!
//! Pure and synchronous: no IO, no clock (callers pass `now`), no async runtime. A
//! [`State`] is an immutable value at a revision; [`State::decide`] runs a command on a
//! scratch copy and returns the change set and the next state; [`State::apply`] replays a
//! change set. Checks ([`State::check`], [`State::explain`]) read a state and never wait.
//!
//! # Embedding: a world and session-free checks in process
//!
//! A program builds a world with the same commands the server runs ([`Tx`], decided by
//! [`State::decide`] for an [`Actor`]: here the console, [`Actor::System`]) and asks checks
//! by name. [`Context::NONE`] is the question a portal's back end asks (R51): it knows no
//! sessions, so direct and partner paths both count. [`Context::HOME`] counts direct paths
//! only, [`Context::switched`] partner paths into one client.
//!
//! ```
//! use deputy_core::commands::partners::GrantTerms;
//! use deputy_core::commands::tenants::NewTenant;
//! use deputy_core::commands::users::NewUser;
//! use deputy_core::{Actor, Catalog, Context, Scope, State, Status, Target, Tx, catalog};
//!
//! let now = 1_700_000_000_000; // milliseconds; the engine has no clock of its own
//! let mut state = State::new(Catalog::shipped());
//! let mut run = |state: &mut State, f: &dyn Fn(&mut Tx) -> Result<(), deputy_core::CommandError>| {
//!     *state = state.decide(Actor::System, now, |tx| f(tx)).expect("the console may").next;
//! };
//! run(&mut state, &|tx| tx.init_deployment(catalog::SHIPPED_CATALOG, "root", "Operator").map(drop));
//! let root = state.root().unwrap();
//! for key in ["acme", "dataco"] {
//!     let new = NewTenant { key: key.into(), name: key.into(), ..Default::default() };
//!     run(&mut state, &|tx| tx.create_tenant(root, new.clone()).map(drop));
//! }
//! let acme = state.tenant_by_key("acme").unwrap();
//! let dataco = state.tenant_by_key("dataco").unwrap();
//! let read_only = state.catalog.role_id("read-only").unwrap();
//! // DataCo is a partner; Acme grants it access up to `read-only` (R40, R41).
//! run(&mut state, &|tx| tx.set_partner(dataco, true));
//! let terms = GrantTerms { ceiling: vec![read_only], ..Default::default() };
//! run(&mut state, &|tx| tx.propose_grant(acme, dataco, terms.clone()).map(drop));
//! // Pat works at DataCo and is given `read-only` for the client Acme.
//! let pat = NewUser {
//!     home: dataco,
//!     logon: "pat".into(),
//!     first_name: "Pat".into(),
//!     last_name: "Partner".into(),
//!     email: "pat@dataco.example".into(),
//!     phone: None,
//!     roles: vec![],
//!     status: Status::Active,
//! };
//! run(&mut state, &|tx| tx.create_user(pat.clone()).map(drop));
//! let pat = state.principal_by_logon("pat").unwrap();
//! let for_acme = Scope::Client { client: acme };
//! run(&mut state, &|tx| tx.give_partner_role(pat, for_acme, read_only, None).map(drop));
//!
//! // "May Pat view reports of Acme?", asked without a session: yes, through the grant.
//! let view = state.catalog.permission_id("reports.view").unwrap();
//! let acme_target = Target::Tenant(acme);
//! assert!(state.check(pat, view, acme_target, Context::NONE, now)?.is_allowed());
//! // At home Pat holds nothing in Acme; switched into Acme it does.
//! assert!(!state.check(pat, view, acme_target, Context::HOME, now)?.is_allowed());
//! assert!(state.check(pat, view, acme_target, Context::switched(acme), now)?.is_allowed());
//! // Why, with provenance (R52, R69); and where else it may, page by page (R53).
//! let why = state.explain(pat, view, acme_target, Context::NONE, now)?;
//! assert_eq!(why.paths[0].origin, "partner");
//! // Pat, DataCo's first user, is its admin too (R4): both tenants answer.
//! let reach = state.lookup_resources_all(pat, view, None, Context::NONE, now)?;
//! assert_eq!(reach, vec![acme_target, Target::Tenant(dataco)]);
//! # Ok::<(), deputy_core::CheckError>(())
//! ```

pub mod catalog;
pub mod check;
pub mod commands;
pub mod cow_vec;
pub mod groups;
pub mod ids;
pub mod lookup;
pub mod model;
pub mod name_index;
pub mod names;
pub mod perm_set;
pub mod perms;
pub mod review;
pub mod state;
pub mod tx;

pub use catalog::Catalog;
pub use check::{CheckError, Context, Decision, Explanation, Impersonation, Rank, Step, Target};
pub use ids::*;
pub use model::*;
pub use perm_set::PermSet;
pub use state::{ApplyError, Change, State};
pub use tx::{Actor, CommandError, Decided, ErrorKind, Event, Tx};

//! The `deputy` binary: the CLI over the service layer (R60).
//!
//! Exit codes scripts can rely on: 0 success (a check: allowed), 1 a check was denied,
//! 2 bad usage or input, 3 not found, 4 forbidden by a rule, 5 conflict with existing data
//! or an invariant, 10 storage or internal failure.

mod cli;
mod config;
mod serve;
mod smtp;

use std::process::ExitCode;

fn main() -> ExitCode {
    // TLS (SMTP) uses ring. Named here because a workspace-wide build may also compile in
    // another provider, and rustls then refuses to guess.
    let _ = rustls::crypto::ring::default_provider().install_default();
    cli::run()
}

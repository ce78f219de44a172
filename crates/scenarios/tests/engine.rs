//! The scenarios of SPEC §11, from their files, on the engine alone: commands decided on an
//! in-memory state, checks asked of it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use deputy_scenarios::commands::{Commands, InMemory};
use deputy_scenarios::{ScenarioFile, driver};

fn run(file: &ScenarioFile) {
    let mut runner = Commands::new(InMemory::new().unwrap());
    if let Err(failures) = driver::run(&mut runner, file) {
        panic!("{failures}");
    }
}

#[test]
fn s1_tax_portal_secondary_logon() {
    run(&deputy_scenarios::S1);
}

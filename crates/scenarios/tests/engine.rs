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

#[test]
fn s2_data_platform_contact_person_customer_manager_entitlements() {
    run(&deputy_scenarios::S2);
}

#[test]
fn s3_backup_portal_ranked_admins() {
    run(&deputy_scenarios::S3);
}

#[test]
fn s4_legal_tech_partner_access_and_revocation_token() {
    run(&deputy_scenarios::S4);
}

//! Commands: each validates its input and the rules against the state as changed so far,
//! and either records a complete change or refuses with an error naming what was wrong.

pub mod access;
pub mod groups;
pub mod partners;
pub mod resources;
pub mod roles;
pub mod tenants;
pub mod users;

//! Attacks from outside, over real HTTP: each module reproduces what an outside review
//! broke and proves the defence (docs/security.md lists them, with the rule each cites).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod csrf;
mod disclosure;
mod names;
mod sign_in;
mod tokens;

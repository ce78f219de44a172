//! The portal (R59), over plain HTTP and in a real browser (headless Chromium driven over
//! WebDriver), against a server started here on a free loopback port with the scenarios'
//! people (S1–S4).
//!
//! Needs `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`). Where
//! they are missing the tests say so and pass, unless `DEPUTY_BROWSER_TESTS=required`
//! (set by `.ci/run`, which installs them). Screenshots of every page visited go to
//! `target/portal-screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;
mod http;
mod pages;
mod scenarios;

//! Sessions in the portal: signing in and out, the pages for people not signed in
//! (forgotten password, invitation and reset links), changing one's password, and
//! switching tenant or impersonating, each through the API's own handlers.

pub mod password;
pub mod public;
pub mod sign_in;
pub mod switch;

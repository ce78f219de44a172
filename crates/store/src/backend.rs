//! A backend as the layers above the port use it: the change log ([`Store`]), the secrets
//! ([`SecretStore`]) and its upkeep ([`Maintenance`]), behind one object-safe trait, so
//! the service, the HTTP layer and the CLI hold a `Box<dyn Backend>` and never name a
//! database. Only the binary's opening code (`deputy-backends`) knows which one it is.

use crate::secrets::SecretStore;
use crate::{Store, StoreError};

/// Upkeep an operator runs on a live backend. Restoring makes a new backend, so it is the
/// opener's (`deputy_backends::restore`), not a method here; checkpoints are
/// [`Store::save_checkpoint`] and verification is [`crate::verify_activity`].
pub trait Maintenance: Send + Sync {
    /// Writes a consistent copy of the live data to `dest` (a file for SQLite), which must
    /// not exist yet, while writers keep going (R66).
    fn backup_to(&self, dest: &std::path::Path) -> Result<(), StoreError>;

    /// Where the data lives, in an operator's words (`sqlite:/var/lib/deputy/deputy.db`).
    fn location(&self) -> String;
}

/// What the layers above the port hold: a backend the opener chose.
pub type BoxedBackend = Box<dyn Backend>;

/// Everything the service needs of storage.
pub trait Backend: Store + SecretStore + Maintenance + std::fmt::Debug {}

impl<T: Store + SecretStore + Maintenance + std::fmt::Debug + ?Sized> Backend for T {}

/// A boxed backend keeps its upkeep (`Box<dyn Backend>` above the port).
impl<M: Maintenance + ?Sized> Maintenance for Box<M> {
    fn backup_to(&self, dest: &std::path::Path) -> Result<(), StoreError> {
        (**self).backup_to(dest)
    }

    fn location(&self) -> String {
        (**self).location()
    }
}

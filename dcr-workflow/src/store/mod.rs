//! Where the DCR admin application's secret lives between runs.
//!
//! The workflow writes a secret to the store *before* it hands the secret to any other
//! system, so a crash can lose a request but never the only copy of a secret.

mod env;
mod file;
mod memory;

use async_trait::async_trait;
use secrecy::SecretString;

pub use env::EnvStore;
pub use file::FileStore;
pub use memory::MemoryStore;

use crate::Result;

/// A keyed store of secrets. Implement it to keep secrets in your own vault.
///
/// ```
/// use async_trait::async_trait;
/// use dcr_workflow::store::SecretStore;
/// use dcr_workflow::Result;
/// use secrecy::SecretString;
///
/// /// Keeps nothing: every run must rotate. (A real store would talk to a vault.)
/// #[derive(Debug)]
/// struct Forgetful;
///
/// #[async_trait]
/// impl SecretStore for Forgetful {
///     async fn get(&self, _key: &str) -> Result<Option<SecretString>> {
///         Ok(None)
///     }
///     async fn put(&self, _key: &str, _value: &SecretString) -> Result<()> {
///         Ok(())
///     }
///     async fn delete(&self, _key: &str) -> Result<()> {
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait SecretStore: Send + Sync + std::fmt::Debug {
    /// The secret stored under `key`, or `None`.
    async fn get(&self, key: &str) -> Result<Option<SecretString>>;
    /// Stores `value` under `key`, replacing any previous value. When this returns `Ok`,
    /// the value must survive a crash of this process.
    async fn put(&self, key: &str, value: &SecretString) -> Result<()>;
    /// Removes `key`; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Whether `put` can succeed. The workflow checks it before creating or rotating a
    /// secret, so a read-only store fails before anything is created.
    fn is_writable(&self) -> bool {
        true
    }
}

/// The key under which the workflow keeps the secret of the Auth0 client `client_id`.
///
/// Keyed by client id, so the secret of a deleted and re-created application is never
/// mistaken for the new one's.
pub fn admin_secret_key(client_id: &str) -> String {
    format!("auth0/clients/{client_id}/client_secret")
}

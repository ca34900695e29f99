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

    /// The keys stored under `prefix`, never their values. The workflow lists
    /// `auth0/clients/` to find an admin application that an interrupted run created and
    /// recorded but never linked to a provider or granted (killed between two requests),
    /// and removes it. The default lists nothing: such an application is then found only
    /// by `audit` and `destroy`, which scan the whole tenant.
    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let _ = prefix;
        Ok(Vec::new())
    }

    /// Whether `put` can succeed. The workflow checks it before creating or rotating a
    /// secret, so a read-only store fails before anything is created.
    fn is_writable(&self) -> bool {
        true
    }

    /// Takes an exclusive lock for one whole operation (`apply`, `destroy`, `rotate`),
    /// waiting at most `wait` for another holder; released when the guard drops. Two runs
    /// that share the store then never interleave. The default locks nothing: a store
    /// shared between machines cannot be locked through these APIs, and the workflow
    /// converges without it (duplicates are found and removed).
    async fn lock(&self, wait: std::time::Duration) -> Result<StoreLock> {
        let _ = wait;
        Ok(StoreLock::none())
    }
}

/// The guard of [`SecretStore::lock`]: the lock is held until it drops.
#[must_use = "the lock is released when the guard drops"]
pub struct StoreLock {
    _held: Option<Box<dyn Send + Sync>>,
}

impl StoreLock {
    /// A guard that holds nothing (for stores without a lock).
    pub fn none() -> Self {
        StoreLock { _held: None }
    }

    /// A guard that keeps `held` (a file handle, a lease) alive until it drops.
    pub fn holding(held: impl Send + Sync + 'static) -> Self {
        StoreLock {
            _held: Some(Box::new(held)),
        }
    }
}

impl std::fmt::Debug for StoreLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLock")
            .field("held", &self._held.is_some())
            .finish()
    }
}

/// The key under which the workflow keeps the secret of the Auth0 client `client_id`.
///
/// Keyed by client id, so the secret of a deleted and re-created application is never
/// mistaken for the new one's.
pub fn admin_secret_key(client_id: &str) -> String {
    format!("auth0/clients/{client_id}/client_secret")
}

/// The Auth0 client ids that keys made by [`admin_secret_key`] and
/// [`pending_secret_key`] name.
pub(crate) fn recorded_clients(keys: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = keys
        .iter()
        .filter_map(|k| k.strip_prefix(CLIENTS_PREFIX))
        .filter_map(|rest| rest.split_once('/'))
        .filter(|(_, leaf)| matches!(*leaf, "client_secret" | "client_secret.pending"))
        .map(|(id, _)| id.to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Present while an admin application is being created: put before the create, removed
/// once its secret is stored. Left behind (the run was killed, or the create's answer
/// lost), it tells the next run that an application may exist that nothing records, so
/// that run scans the tenant's applications by name once. Its value means nothing.
pub(crate) const ADMIN_CREATE_IN_FLIGHT: &str = "dcr-rs/admin-create-in-flight";

/// Where the workflow's keys for Auth0 clients start.
pub(crate) const CLIENTS_PREFIX: &str = "auth0/clients/";

/// The key under which a rotation of `client_id`'s secret records the new secret before
/// sending it anywhere; it is promoted to [`admin_secret_key`] once Auth0 and Konnect
/// both hold it. A value here means a rotation is unfinished: the next `rotate` or
/// `apply` finishes it.
pub fn pending_secret_key(client_id: &str) -> String {
    format!("auth0/clients/{client_id}/client_secret.pending")
}

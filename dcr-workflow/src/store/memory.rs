//! A store that lives as long as the process.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::SecretStore;
use crate::{Result, WorkflowError};

/// Secrets in memory: for tests, and for one-shot runs that rotate on the next start.
#[derive(Debug, Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, SecretString>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys are stored.
    pub fn len(&self) -> usize {
        self.secrets.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn locked(&self, key: &str) -> Result<std::sync::MutexGuard<'_, HashMap<String, SecretString>>> {
        self.secrets
            .lock()
            .map_err(|_| WorkflowError::store(key, "the store's lock was poisoned by a panic"))
    }
}

#[async_trait]
impl SecretStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<SecretString>> {
        Ok(self.locked(key)?.get(key).cloned())
    }

    async fn put(&self, key: &str, value: &SecretString) -> Result<()> {
        self.locked(key)?
            .insert(key.to_owned(), SecretString::from(value.expose_secret().to_owned()));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.locked(key)?.remove(key);
        Ok(())
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys: Vec<String> = self
            .locked(prefix)?
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        keys.sort();
        Ok(keys)
    }
}

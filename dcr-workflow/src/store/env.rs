//! A read-only store over environment variables.

use async_trait::async_trait;
use secrecy::SecretString;

use super::SecretStore;
use crate::{Result, WorkflowError};

/// Reads secrets from environment variables; refuses to write.
///
/// A key maps to `{prefix}{KEY}`, where `KEY` is the key upper-cased with every
/// character other than a letter or digit replaced by `_`:
/// `auth0/clients/abc/client_secret` → `DCR_SECRET_AUTH0_CLIENTS_ABC_CLIENT_SECRET`.
///
/// Because it cannot store a new secret, a workflow using it cannot create or rotate the
/// admin application: it fails before touching anything instead.
#[derive(Clone, Debug)]
pub struct EnvStore {
    prefix: String,
}

impl Default for EnvStore {
    fn default() -> Self {
        EnvStore::new("DCR_SECRET_")
    }
}

impl EnvStore {
    /// A store reading variables that start with `prefix`.
    pub fn new(prefix: impl Into<String>) -> Self {
        EnvStore { prefix: prefix.into() }
    }

    /// The variable a key is read from.
    pub fn variable(&self, key: &str) -> String {
        let suffix: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        format!("{}{suffix}", self.prefix)
    }
}

#[async_trait]
impl SecretStore for EnvStore {
    async fn get(&self, key: &str) -> Result<Option<SecretString>> {
        match std::env::var(self.variable(key)) {
            Ok(value) if !value.is_empty() => Ok(Some(SecretString::from(value))),
            Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(WorkflowError::store(
                key,
                format!("{} is not valid UTF-8", self.variable(key)),
            )),
        }
    }

    async fn put(&self, key: &str, _value: &SecretString) -> Result<()> {
        Err(WorkflowError::ReadOnlyStore { key: key.to_owned() })
    }

    async fn delete(&self, key: &str) -> Result<()> {
        Err(WorkflowError::ReadOnlyStore { key: key.to_owned() })
    }

    fn is_writable(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_upper_snake_variables() {
        let store = EnvStore::default();
        assert_eq!(
            store.variable("auth0/clients/aBc-1/client_secret"),
            "DCR_SECRET_AUTH0_CLIENTS_ABC_1_CLIENT_SECRET"
        );
    }

    #[tokio::test]
    async fn writes_are_refused_with_the_key() {
        let store = EnvStore::default();
        let err = store.put("k", &SecretString::from("v")).await.unwrap_err();
        assert!(matches!(err, WorkflowError::ReadOnlyStore { key } if key == "k"));
    }
}

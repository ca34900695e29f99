//! Plugging in your own secret store: here, one file per secret in a directory (mode
//! 0600 each), the way a mounted secrets volume looks. Runs the workflow on the embedded
//! sandboxes with it.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use async_trait::async_trait;
use dcr_workflow::store::SecretStore;
use dcr_workflow::{Result, Workflow, WorkflowError, sandbox::Sandboxes};
use secrecy::{ExposeSecret, SecretString};

/// Secrets as files in a directory, named after their keys.
#[derive(Debug)]
struct DirectoryStore {
    dir: PathBuf,
}

impl DirectoryStore {
    fn path(&self, key: &str) -> PathBuf {
        // Keys contain `/`: flatten them into one file name.
        self.dir.join(key.replace('/', "__"))
    }

    fn failed(key: &str, e: std::io::Error) -> WorkflowError {
        WorkflowError::SecretStore {
            key: key.to_owned(),
            reason: e.to_string(),
        }
    }
}

#[async_trait]
impl SecretStore for DirectoryStore {
    async fn get(&self, key: &str) -> Result<Option<SecretString>> {
        match tokio::fs::read_to_string(self.path(key)).await {
            Ok(text) => Ok(Some(SecretString::from(text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::failed(key, e)),
        }
    }

    async fn put(&self, key: &str, value: &SecretString) -> Result<()> {
        // Write beside, then rename: the old secret or the new one, never half of one.
        let path = self.path(key);
        let tmp = path.with_extension("tmp");
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o600);
        let write = async {
            use tokio::io::AsyncWriteExt;
            let mut file = options.open(&tmp).await?;
            file.write_all(value.expose_secret().as_bytes()).await?;
            file.sync_all().await?;
            tokio::fs::rename(&tmp, &path).await
        };
        write.await.map_err(|e| Self::failed(key, e))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Self::failed(key, e)),
            _ => Ok(()),
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("dcr-secrets-{}", std::process::id()));
    tokio::fs::create_dir_all(&dir).await?;
    let sandboxes = Sandboxes::start().await?;
    let workflow = Workflow::new(sandboxes.config(), DirectoryStore { dir: dir.clone() })?;
    workflow.converge().await?;
    let mut entries = tokio::fs::read_dir(&dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        println!("stored: {}", entry.file_name().to_string_lossy());
    }
    workflow.destroy().await?;
    println!("after destroy: {} file(s) left", std::fs::read_dir(&dir)?.count());
    tokio::fs::remove_dir_all(&dir).await?;
    Ok(())
}

//! A store in one JSON file, replaced atomically, readable by its owner only.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::SecretStore;
use crate::{Result, WorkflowError};

/// Secrets in one JSON file (`{"key": "secret", …}`).
///
/// Every write replaces the file atomically (a temporary file in the same directory,
/// created with mode 0600, flushed to disk, then renamed over the old one), so a crash
/// leaves either the old or the new file, never half of one. A file that group or others
/// can read is refused rather than used.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: Arc<PathBuf>,
    // Serialises read-modify-write cycles within this process.
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl FileStore {
    /// Opens (or prepares to create) the store at `path`. Fails when the file exists and
    /// is group/world-readable, or cannot be parsed.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        read_all(&path)?;
        Ok(FileStore {
            path: Arc::new(path),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn blocking<T: Send + 'static>(
        &self,
        key: &str,
        work: impl FnOnce(&Path) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _guard = self.lock.lock().await;
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || work(&path))
            .await
            .map_err(|e| WorkflowError::store(key, format!("the file task failed: {e}")))?
    }
}

type Secrets = BTreeMap<String, String>;

fn read_all(path: &Path) -> Result<Secrets> {
    let io = |e: std::io::Error| WorkflowError::store(&path.display().to_string(), e);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Secrets::new()),
        Err(e) => return Err(io(e)),
    };
    check_mode(path)?;
    if text.trim().is_empty() {
        return Ok(Secrets::new());
    }
    // Only the position: serde_json's message may quote the offending value.
    serde_json::from_str(&text).map_err(|e| {
        WorkflowError::store(
            &path.display().to_string(),
            format!(
                "not a JSON object of strings (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

#[cfg(unix)]
fn check_mode(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| WorkflowError::store(&path.display().to_string(), e))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(WorkflowError::InsecureFile {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path) -> Result<()> {
    Ok(())
}

fn write_all(path: &Path, secrets: &Secrets) -> Result<()> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| WorkflowError::store(&name, e);
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| WorkflowError::store(&name, "the path has no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        // A leftover temporary file may predate us with looser bits: tighten them.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        let body = serde_json::to_vec_pretty(secrets).map_err(std::io::Error::other)?;
        file.write_all(&body)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(dir) = std::fs::File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[async_trait]
impl SecretStore for FileStore {
    async fn get(&self, key: &str) -> Result<Option<SecretString>> {
        let owned = key.to_owned();
        self.blocking(key, move |path| {
            Ok(read_all(path)?.remove(&owned).map(SecretString::from))
        })
        .await
    }

    async fn put(&self, key: &str, value: &SecretString) -> Result<()> {
        let owned = key.to_owned();
        let value = value.expose_secret().to_owned();
        self.blocking(key, move |path| {
            let mut secrets = read_all(path)?;
            secrets.insert(owned, value);
            write_all(path, &secrets)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let owned = key.to_owned();
        self.blocking(key, move |path| {
            let mut secrets = read_all(path)?;
            if secrets.remove(&owned).is_some() {
                write_all(path, &secrets)?;
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_and_keeps_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let store = FileStore::open(&path).unwrap();
        assert!(store.get("a").await.unwrap().is_none());
        store.put("a", &SecretString::from("one")).await.unwrap();
        store.put("b", &SecretString::from("two")).await.unwrap();
        store.delete("a").await.unwrap();
        store.delete("missing").await.unwrap();
        let reopened = FileStore::open(&path).unwrap();
        assert!(reopened.get("a").await.unwrap().is_none());
        assert_eq!(reopened.get("b").await.unwrap().unwrap().expose_secret(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // No temporary file is left next to it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn refuses_a_group_readable_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, "{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = FileStore::open(&path).unwrap_err();
        assert!(matches!(err, WorkflowError::InsecureFile { mode: 0o640, .. }), "{err}");
    }

    #[tokio::test]
    async fn a_corrupt_file_is_reported_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, "{\"a\": \"hunter2\", oops").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let err = FileStore::open(&path).unwrap_err().to_string();
        assert!(err.contains("not a JSON object"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}

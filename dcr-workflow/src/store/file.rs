//! A store in one JSON file, replaced atomically, readable by its owner only, never
//! followed through a symlink, and locked for the whole of an operation.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{SecretStore, StoreLock};
use crate::{Result, WorkflowError};

/// The file name of the default store, in [`FileStore::default_path`]'s directory.
const DEFAULT_FILE: &str = "secrets.json";

/// Secrets in one JSON file (`{"key": "secret", …}`).
///
/// - Every write goes to a temporary file with an unpredictable name, created exclusively
///   with mode 0600 in the same directory (a planted file or symlink is never written
///   through), flushed to disk, then renamed over the old one: a crash leaves the old or
///   the new file, never half of one. Temporary files a crash left behind are removed
///   the next time a run takes the lock.
/// - [`FileStore::open`] refuses a store that is a symlink, a file group or others can
///   read, a directory group or others can write (they could swap the file), a missing
///   directory, and a place inside a git working tree that git does not ignore.
/// - [`SecretStore::lock`] takes an exclusive lock on a lock file next to it (`flock`),
///   so two runs on one machine never interleave.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: Arc<PathBuf>,
    // Serialises read-modify-write cycles within this process.
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl FileStore {
    /// Opens (or prepares to create) the store at `path`. Fails, saying why and what to
    /// do, when the place is unsafe (see the type's documentation) or the file cannot be
    /// parsed. Nothing is created yet except, once a run locks it, the lock file.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        check_place(&path)?;
        read_all(&path)?;
        Ok(FileStore {
            path: Arc::new(path),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// Opens the store at [`FileStore::default_path`], creating its directory (mode 0700).
    pub fn open_default() -> Result<Self> {
        let path = Self::default_path()?;
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        Self::open(path)
    }

    /// Where the store lives unless told otherwise: outside any working tree, in the
    /// user's state directory: `$XDG_STATE_HOME/dcr-rs/secrets.json`, or
    /// `$HOME/.local/state/dcr-rs/secrets.json`.
    pub fn default_path() -> Result<PathBuf> {
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/state")))
            .ok_or_else(|| {
                unsafe_place(
                    Path::new(DEFAULT_FILE),
                    "neither XDG_STATE_HOME nor HOME is set, so there is no default place for it; pass --store PATH",
                )
            })?;
        Ok(state.join("dcr-rs").join(DEFAULT_FILE))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        sibling(&self.path, ".lock")
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

fn unsafe_place(path: &Path, reason: impl Into<String>) -> WorkflowError {
    WorkflowError::UnsafeStore {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// `.NAME` + `suffix` next to `path`: the lock file and the temporary files' prefix.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(suffix);
    directory(path).join(name)
}

fn directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| unsafe_place(dir, format!("cannot create the store's directory: {e}")))
}

/// Everything about where the file is that can be checked before the first write.
fn check_place(path: &Path) -> Result<()> {
    if path.file_name().is_none() {
        return Err(unsafe_place(path, "the path names no file"));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(unsafe_place(
                path,
                "it is a symlink; a secrets file is never followed through one (point --store at the real file)",
            ));
        }
        Ok(meta) if !meta.is_file() => return Err(unsafe_place(path, "it exists and is not a regular file")),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(unsafe_place(path, e.to_string())),
    }
    let dir = directory(path);
    let meta = std::fs::metadata(&dir).map_err(|e| {
        let reason = if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "its directory {} does not exist: create it (mkdir -m 700) or choose another path",
                dir.display()
            )
        } else {
            format!("its directory {} cannot be read: {e}", dir.display())
        };
        unsafe_place(path, reason)
    })?;
    if !meta.is_dir() {
        return Err(unsafe_place(path, format!("{} is not a directory", dir.display())));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o022 != 0 {
            return Err(unsafe_place(
                path,
                format!(
                    "its directory {} has mode {:o}: group or others could replace the file (chmod go-w, or choose a private directory)",
                    dir.display(),
                    mode & 0o7777
                ),
            ));
        }
    }
    check_not_tracked(path, &dir)
}

/// Refuses a place inside a git working tree unless git ignores it: a secrets file must
/// never be one `git add .` away from a commit.
fn check_not_tracked(path: &Path, dir: &Path) -> Result<()> {
    let Ok(dir) = dir.canonicalize() else {
        return Ok(());
    };
    if !dir.ancestors().any(|a| a.join(".git").exists()) {
        return Ok(());
    }
    let name = path.file_name().unwrap_or_default();
    let ignored = std::process::Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["check-ignore", "--quiet", "--"])
        .arg(name)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match ignored {
        Ok(status) if status.success() => Ok(()),
        Ok(_) => Err(unsafe_place(
            path,
            "it is inside a git working tree and git does not ignore it: add it to .gitignore, \
             or keep it outside (the default is FileStore::default_path)",
        )),
        Err(_) => Err(unsafe_place(
            path,
            "it is inside a git working tree and git is not available to confirm that it is ignored: \
             keep it outside the working tree",
        )),
    }
}

type Secrets = BTreeMap<String, String>;

fn read_all(path: &Path) -> Result<Secrets> {
    let io = |e: std::io::Error| WorkflowError::store(&path.display().to_string(), e);
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(unsafe_place(path, "it became a symlink; refusing to follow it"));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Secrets::new()),
        Err(e) => return Err(io(e)),
    }
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

/// The prefix and suffix of this store's temporary files.
fn temp_affixes(path: &Path) -> (String, &'static str) {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    (format!(".{name}."), ".tmp")
}

fn write_all(path: &Path, secrets: &Secrets) -> Result<()> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| WorkflowError::store(&name, e);
    let dir = directory(path);
    let (prefix, suffix) = temp_affixes(path);
    // `tempfile` creates it with O_EXCL and mode 0600 under a random name: nothing planted
    // in advance (a file, a symlink) can be written through.
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(suffix)
        .tempfile_in(&dir)
        .map_err(io)?;
    let body = serde_json::to_vec_pretty(secrets).map_err(|e| io(std::io::Error::other(e)))?;
    tmp.write_all(&body).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    // On failure the temporary file is removed when `tmp` drops.
    tmp.persist(path).map_err(|e| io(e.error))?;
    // Make the rename itself durable.
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Removes temporary files of this store that a crashed writer left. Called with the
/// lock held, so no live writer of a cooperating process owns one.
fn remove_leftovers(path: &Path) {
    let (prefix, suffix) = temp_affixes(path);
    let Ok(entries) = std::fs::read_dir(directory(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(suffix) && name.len() > prefix.len() + suffix.len() {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!(file = %entry.path().display(), "removed a temporary file a crashed run left"),
                Err(e) => {
                    tracing::warn!(file = %entry.path().display(), error = %e, "cannot remove a leftover temporary file")
                }
            }
        }
    }
}

fn open_lock_file(lock_path: &Path) -> std::io::Result<std::fs::File> {
    if std::fs::symlink_metadata(lock_path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::other(
            "the lock file is a symlink; refusing to follow it",
        ));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(lock_path)
}

/// Takes the exclusive lock, polling until `wait` has passed.
fn take_lock(path: &Path, lock_path: &Path, wait: Duration) -> Result<std::fs::File> {
    let file = open_lock_file(lock_path).map_err(|e| {
        unsafe_place(
            path,
            format!("cannot create its lock file {}: {e}", lock_path.display()),
        )
    })?;
    let started = Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                if started.elapsed() >= wait {
                    return Err(WorkflowError::StoreLocked {
                        path: path.to_owned(),
                        waited: wait,
                    });
                }
                if !told {
                    tracing::warn!(
                        lock = %lock_path.display(),
                        wait_s = wait.as_secs(),
                        "another dcr run holds the secret store's lock; waiting for it to finish"
                    );
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(unsafe_place(path, format!("cannot lock {}: {e}", lock_path.display())));
            }
        }
    }
    remove_leftovers(path);
    Ok(file)
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

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let owned = prefix.to_owned();
        self.blocking(prefix, move |path| {
            // A BTreeMap: already sorted.
            Ok(read_all(path)?.into_keys().filter(|k| k.starts_with(&owned)).collect())
        })
        .await
    }

    async fn lock(&self, wait: Duration) -> Result<StoreLock> {
        let path = Arc::clone(&self.path);
        let lock_path = self.lock_path();
        // The file lock is released when the file closes, i.e. when the guard drops.
        let file = tokio::task::spawn_blocking(move || take_lock(&path, &lock_path, wait))
            .await
            .map_err(|e| WorkflowError::store("(lock)", format!("the lock task failed: {e}")))??;
        Ok(StoreLock::holding(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[tokio::test]
    async fn round_trips_and_keeps_mode_0600() {
        let dir = private_dir();
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
        let dir = private_dir();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, "{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = FileStore::open(&path).unwrap_err();
        assert!(matches!(err, WorkflowError::InsecureFile { mode: 0o640, .. }), "{err}");
    }

    #[tokio::test]
    async fn a_corrupt_file_is_reported_without_its_content() {
        let dir = private_dir();
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

    #[cfg(unix)]
    #[tokio::test]
    async fn a_symlinked_store_is_refused_and_a_planted_temp_symlink_is_never_written_through() {
        let dir = private_dir();
        let target = dir.path().join("elsewhere.json");
        std::fs::write(&target, "{}").unwrap();
        let link = dir.path().join("secrets.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = FileStore::open(&link).unwrap_err();
        assert!(
            matches!(err, WorkflowError::UnsafeStore { .. }) && err.to_string().contains("symlink"),
            "{err}"
        );

        // The old writer used a predictable `.secrets.json.<pid>.tmp`: plant that name
        // (and a few others) as symlinks to a victim file; a write must not touch it.
        let real = dir.path().join("real.json");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").unwrap();
        for name in [
            format!(".real.json.{}.tmp", std::process::id()),
            ".real.json.tmp".into(),
        ] {
            std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
        }
        let store = FileStore::open(&real).unwrap();
        store.put("k", &SecretString::from("v")).await.unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
        assert!(!std::fs::symlink_metadata(&real).unwrap().file_type().is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_or_a_missing_one_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = private_dir();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = FileStore::open(open.join("secrets.json")).unwrap_err().to_string();
        assert!(err.contains("mode 777") && err.contains("chmod go-w"), "{err}");
        let err = FileStore::open(dir.path().join("missing/secrets.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn a_store_inside_a_git_working_tree_must_be_ignored() {
        let dir = private_dir();
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .arg("-C")
                .arg(dir.path())
                .args(args)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        if !git(&["init", "-q"]) {
            return; // no git on this machine: nothing to check against
        }
        let err = FileStore::open(dir.path().join("dcr-secrets.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("git does not ignore it"), "{err}");
        std::fs::write(dir.path().join(".gitignore"), "dcr-secrets.json\n").unwrap();
        FileStore::open(dir.path().join("dcr-secrets.json")).unwrap();
    }

    #[tokio::test]
    async fn the_lock_is_exclusive_bounded_and_cleans_up_after_a_crash() {
        let dir = private_dir();
        let path = dir.path().join("secrets.json");
        // A crashed writer's temporary file.
        let leftover = dir.path().join(".secrets.json.Xy12ab.tmp");
        std::fs::write(&leftover, "half").unwrap();
        let store = FileStore::open(&path).unwrap();
        let held = store.lock(Duration::from_secs(1)).await.unwrap();
        assert!(!leftover.exists(), "the first run to take the lock removes leftovers");
        // A second handle on the same file (another run): waits, then fails clearly.
        let other = FileStore::open(&path).unwrap();
        let started = Instant::now();
        let err = other.lock(Duration::from_millis(300)).await.unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(matches!(err, WorkflowError::StoreLocked { .. }), "{err}");
        assert!(err.to_string().contains("another dcr run"), "{err}");
        drop(held);
        let _held = other.lock(Duration::from_millis(300)).await.unwrap();
    }
}

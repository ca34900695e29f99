//! Where the configuration comes from and which secret store the CLI uses.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use dcr_workflow::store::{FileStore, SecretStore};
use dcr_workflow::{DcrConfig, Workflow};

/// The flags every command accepts.
#[derive(Debug, Clone, Default, clap::Args)]
#[non_exhaustive]
pub struct Connection {
    /// TOML configuration file; `DCR_*` (and `AUTH0_*`, `KONNECT_*`) variables override it.
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    /// Send Auth0 requests here instead of https://{domain} (e.g. the standalone sandbox).
    #[arg(long, global = true)]
    pub auth0_url: Option<String>,
    /// Send Konnect requests here instead of the region's URL.
    #[arg(long, global = true)]
    pub konnect_url: Option<String>,
    /// Secrets file (JSON, mode 0600). Default: $XDG_STATE_HOME/dcr-rs/secrets.json
    /// (outside any working tree).
    #[arg(long, global = true)]
    pub store: Option<PathBuf>,
}

/// Environment variables as the workflow reads them: `AUTH0_X` and `KONNECT_X` are
/// accepted as short forms of `DCR_AUTH0_X` and `DCR_KONNECT_X`; the long form wins.
pub fn variables() -> Vec<(String, String)> {
    let all: Vec<(String, String)> = std::env::vars().collect();
    let short = all
        .iter()
        .filter(|(k, _)| k.starts_with("AUTH0_") || k.starts_with("KONNECT_"))
        .map(|(k, v)| (format!("DCR_{k}"), v.clone()));
    let long = all.iter().filter(|(k, _)| k.starts_with("DCR_")).cloned();
    short.chain(long).collect()
}

impl Connection {
    /// The configuration from `--config` and the environment, without the URL flags.
    pub fn load(&self) -> anyhow::Result<DcrConfig> {
        Ok(DcrConfig::load_with(self.config.as_deref(), "DCR_", variables())?)
    }

    /// `--auth0-url` and `--konnect-url` applied to `config`.
    pub fn redirect(&self, config: &mut DcrConfig) {
        if let Some(url) = &self.auth0_url {
            config.auth0.base_url = Some(url.clone());
        }
        if let Some(url) = &self.konnect_url {
            config.konnect.base_url = Some(url.clone());
            config.konnect.region = None;
        }
    }

    /// The secrets file: `--store`, else the default place.
    pub fn file_store(&self) -> anyhow::Result<Arc<dyn SecretStore>> {
        Ok(match &self.store {
            Some(path) => Arc::new(FileStore::open(path)?),
            None => Arc::new(FileStore::open_default()?),
        })
    }
}

/// The configuration and the store a command works with.
pub struct Target {
    /// The configuration, URL flags applied.
    pub config: DcrConfig,
    /// The secret store.
    pub store: Arc<dyn SecretStore>,
}

impl Target {
    /// From the flags and the environment.
    pub fn resolve(flags: &Connection) -> anyhow::Result<Self> {
        let mut config = flags.load()?;
        flags.redirect(&mut config);
        Ok(Target {
            config,
            store: flags.file_store()?,
        })
    }

    /// The workflow (validates the configuration: every problem is listed).
    pub fn workflow(&self) -> anyhow::Result<Workflow> {
        Workflow::builder(self.config.clone())
            .shared_store(self.store.clone())
            .build()
            .context("the configuration is not usable")
    }
}

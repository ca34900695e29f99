//! What the quickstart adds to the `dcr` CLI's connection handling (`dcr_cli::connection`):
//! with no Auth0 tenant configured, it runs on the embedded sandboxes.
#![allow(clippy::print_stdout)]

use std::sync::Arc;

use anyhow::Context;
use dcr_workflow::Workflow;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::{MemoryStore, SecretStore};

pub(crate) use dcr_cli::connection::Connection;
pub(crate) use dcr_cli::logging::{Verbosity, init_logging};

/// The configuration, the sandboxes when they stand in for the real services, the store.
pub(crate) struct Target {
    pub(crate) config: dcr_workflow::DcrConfig,
    pub(crate) sandboxes: Option<Sandboxes>,
    pub(crate) store: Arc<dyn SecretStore>,
}

impl Target {
    /// Reads the configuration; with no Auth0 domain anywhere, starts the embedded
    /// sandboxes instead (and keeps the secrets in memory).
    pub(crate) async fn resolve(flags: &Connection) -> anyhow::Result<Self> {
        let mut config = flags.load()?;
        let sandboxes = if config.auth0.domain.is_empty() && flags.config.is_none() {
            let sandboxes = Sandboxes::start().await?;
            println!(
                "No Auth0 tenant configured (DCR_AUTH0_DOMAIN or AUTH0_DOMAIN): using the embedded sandboxes\n  \
                 Auth0   {} (tenant {})\n  Konnect {}",
                sandboxes.auth0.uri(),
                sandboxes.auth0.domain(),
                sandboxes.konnect.uri()
            );
            config = sandboxes.config();
            Some(sandboxes)
        } else {
            None
        };
        flags.redirect(&mut config);
        let store: Arc<dyn SecretStore> = match (&flags.store, &sandboxes) {
            (None, Some(_)) => Arc::new(MemoryStore::new()),
            _ => flags.file_store()?,
        };
        Ok(Target {
            config,
            sandboxes,
            store,
        })
    }

    /// The workflow (validates the configuration: every problem is listed).
    pub(crate) fn workflow(&self) -> anyhow::Result<Workflow> {
        Workflow::builder(self.config.clone())
            .shared_store(self.store.clone())
            .build()
            .context("the configuration is not usable")
    }
}

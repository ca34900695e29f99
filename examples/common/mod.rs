//! What the examples share: where the configuration comes from and which services and
//! secret store they talk to.
#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::{FileStore, MemoryStore, SecretStore};
use dcr_workflow::{DcrConfig, Workflow};

/// Flags every example accepts.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct Connection {
    /// TOML configuration file; `DCR_*` (and `AUTH0_*`, `KONNECT_*`) variables override it.
    #[arg(long, short, global = true)]
    pub(crate) config: Option<PathBuf>,
    /// Send Auth0 requests here instead of https://{domain} (e.g. the standalone sandbox).
    #[arg(long, global = true)]
    pub auth0_url: Option<String>,
    /// Send Konnect requests here instead of the region's URL.
    #[arg(long, global = true)]
    pub(crate) konnect_url: Option<String>,
    /// Secrets file (JSON, mode 0600). Default against real services:
    /// $XDG_STATE_HOME/dcr-rs/secrets.json (outside any working tree); in memory on the
    /// embedded sandboxes.
    #[arg(long, global = true)]
    pub(crate) store: Option<PathBuf>,
}

/// Environment variables as the workflow reads them: `AUTH0_X` and `KONNECT_X` are
/// accepted as short forms of `DCR_AUTH0_X` and `DCR_KONNECT_X`; the long form wins.
fn variables() -> Vec<(String, String)> {
    let all: Vec<(String, String)> = std::env::vars().collect();
    let short = all
        .iter()
        .filter(|(k, _)| k.starts_with("AUTH0_") || k.starts_with("KONNECT_"))
        .map(|(k, v)| (format!("DCR_{k}"), v.clone()));
    let long = all.iter().filter(|(k, _)| k.starts_with("DCR_")).cloned();
    short.chain(long).collect()
}

/// The configuration, the sandboxes when they stand in for the real services, the store.
pub(crate) struct Target {
    pub(crate) config: DcrConfig,
    pub(crate) sandboxes: Option<Sandboxes>,
    pub(crate) store: Arc<dyn SecretStore>,
}

impl Target {
    /// Reads the configuration; with no Auth0 domain anywhere (and `embedded_ok`), starts
    /// the embedded sandboxes instead.
    pub(crate) async fn resolve(flags: &Connection, embedded_ok: bool) -> anyhow::Result<Self> {
        let mut config = DcrConfig::load_with(flags.config.as_deref(), "DCR_", variables())?;
        let sandboxes = if config.auth0.domain.is_empty() && flags.config.is_none() && embedded_ok {
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
        if let Some(url) = &flags.auth0_url {
            config.auth0.base_url = Some(url.clone());
        }
        if let Some(url) = &flags.konnect_url {
            config.konnect.base_url = Some(url.clone());
            config.konnect.region = None;
        }
        let store: Arc<dyn SecretStore> = match (&flags.store, &sandboxes) {
            (Some(path), _) => Arc::new(FileStore::open(path)?),
            (None, Some(_)) => Arc::new(MemoryStore::new()),
            (None, None) => Arc::new(FileStore::open_default()?),
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

/// How much the CLI says on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verbosity {
    /// Warnings only (`-q`).
    Quiet,
    /// Warnings and one line per finished step with its duration.
    Progress,
    /// Also each request (`-v`).
    Requests,
    /// Everything (`-vv`).
    Trace,
}

impl Verbosity {
    /// From `-q` and the number of `-v`.
    pub(crate) fn of(quiet: bool, verbose: u8) -> Self {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Progress,
            (false, 1) => Verbosity::Requests,
            (false, _) => Verbosity::Trace,
        }
    }
}

/// Logs to stderr at `verbosity` (`RUST_LOG`, when set, decides instead), in colour only
/// when stderr is a terminal and `NO_COLOR` is unset.
pub(crate) fn init_logging(verbosity: Verbosity) {
    use std::io::IsTerminal;
    use tracing_subscriber::fmt::format::FmtSpan;
    let default = match verbosity {
        Verbosity::Quiet => "warn",
        Verbosity::Progress => "warn,dcr_workflow=info",
        Verbosity::Requests => "warn,dcr_workflow=debug,auth0_mgmt=debug,konnect_appauth=debug,dcr_client_core=debug",
        Verbosity::Trace => "warn,dcr_workflow=trace,auth0_mgmt=trace,konnect_appauth=trace,dcr_client_core=trace",
    };
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| default.into());
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        // A finished step's line carries its duration (time.busy, time.idle).
        .with_span_events(if verbosity == Verbosity::Quiet {
            FmtSpan::NONE
        } else {
            FmtSpan::CLOSE
        })
        .with_target(false)
        // Seconds since start: short, and it turns on the close line's time.busy/idle.
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .compact()
        .init();
}

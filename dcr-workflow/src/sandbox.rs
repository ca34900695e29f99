//! Both sandboxes (crate `dcr-sandbox`), wired together, and a configuration that points
//! the workflow at them (feature `sandbox`). Use it in your own tests:
//!
//! ```
//! # #[tokio::main] async fn main() -> dcr_workflow::Result<()> {
//! use dcr_workflow::{Workflow, sandbox::Sandboxes, store::MemoryStore};
//! let sandboxes = Sandboxes::start().await?;
//! let workflow = Workflow::new(sandboxes.config(), MemoryStore::new())?;
//! workflow.converge().await?;
//! assert!(workflow.plan().await?.is_empty());
//! # Ok(()) }
//! ```
//!
//! The sandboxes depend on none of the clients; [`Auth0SandboxClients`] and
//! [`KonnectSandboxClients`] build clients pointed at them (`use
//! dcr_workflow::sandbox::*` brings `sandbox.client()` back).

use std::net::TcpListener;
use std::time::Duration;

use auth0_mgmt::RetryConfig;
use auth0_mgmt::{Auth0Client, Auth0ClientBuilder, ClientId, ClientSecret};
pub use dcr_sandbox::auth0::Auth0Sandbox;
pub use dcr_sandbox::konnect::KonnectSandbox;
pub use dcr_sandbox::{API_AUDIENCE, API_NAME, API_SCOPE, API_SLUG};
use konnect_appauth::developer::DeveloperClient;
use konnect_appauth::{KonnectClient, KonnectClientBuilder};

use crate::{ApiScope, DcrConfig, Result, WorkflowError};

/// A quick retry policy for clients of a sandbox on this machine.
fn quick_retry() -> RetryConfig {
    RetryConfig::standard()
        .min_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(200))
}

/// Clients of an [`Auth0Sandbox`].
pub trait Auth0SandboxClients {
    /// A client builder pointed at the sandbox with the bootstrap application's
    /// credentials and a quick retry policy; adjust and build.
    fn client_builder(&self) -> Auth0ClientBuilder;

    /// A ready client authenticated as the bootstrap application.
    fn client(&self) -> auth0_mgmt::Result<Auth0Client> {
        self.client_builder().build()
    }
}

impl Auth0SandboxClients for Auth0Sandbox {
    fn client_builder(&self) -> Auth0ClientBuilder {
        Auth0Client::builder()
            .domain(self.domain())
            .base_url(self.uri())
            .client_credentials(
                ClientId::new(self.bootstrap_client_id()),
                ClientSecret::from(self.bootstrap_client_secret()),
            )
            .retry(quick_retry())
    }
}

/// Clients of a [`KonnectSandbox`].
pub trait KonnectSandboxClients {
    /// A client builder pointed at the sandbox with its token and a quick retry policy.
    fn client_builder(&self) -> KonnectClientBuilder;

    /// A ready admin API client.
    fn client(&self) -> konnect_appauth::Result<KonnectClient> {
        self.client_builder().build()
    }

    /// A developer API client for `portal`, signed in as the seeded developer on first use.
    fn developer_client(&self, portal: &str) -> konnect_appauth::Result<DeveloperClient>;
}

impl KonnectSandboxClients for KonnectSandbox {
    fn client_builder(&self) -> KonnectClientBuilder {
        KonnectClient::builder()
            .base_url(self.uri())
            .token(self.token())
            .retry(quick_retry())
    }

    fn developer_client(&self, portal: &str) -> konnect_appauth::Result<DeveloperClient> {
        DeveloperClient::builder()
            .portal_url(self.portal_url(portal))
            .credentials(self.developer_email(), self.developer_password())
            .retry(quick_retry())
            .build()
    }
}

/// An Auth0 sandbox and a Konnect sandbox whose DCR calls reach it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Sandboxes {
    /// The fake Auth0 tenant.
    pub auth0: Auth0Sandbox,
    /// The fake Konnect organization, routing `https://{tenant}` to `auth0`.
    pub konnect: KonnectSandbox,
}

fn failed(e: impl std::fmt::Display) -> WorkflowError {
    WorkflowError::Sandbox { reason: e.to_string() }
}

impl Sandboxes {
    /// Starts both on free loopback ports.
    pub async fn start() -> Result<Self> {
        Self::start_with(None, None).await
    }

    /// Starts both on the given listeners (fixed ports for a standalone server).
    pub async fn start_with(auth0: Option<TcpListener>, konnect: Option<TcpListener>) -> Result<Self> {
        let pair = dcr_sandbox::Pair::start_with(auth0, konnect).await.map_err(failed)?;
        Ok(Sandboxes {
            auth0: pair.auth0,
            konnect: pair.konnect,
        })
    }

    /// A complete configuration for these sandboxes: the tenant's bootstrap credentials,
    /// both base URLs, the portal and its developer (id, and email and password for
    /// [`VerifyMode::Developer`](crate::VerifyMode::Developer)), the portal's URL, the
    /// gateway route of the API, and an API with one scope.
    pub fn config(&self) -> DcrConfig {
        let mut c = DcrConfig::default();
        let portal = self.konnect.portal_id();
        c.auth0.domain = self.auth0.domain();
        c.auth0.base_url = Some(self.auth0.uri());
        c.auth0.client_id = Some(self.auth0.bootstrap_client_id());
        c.auth0.client_secret = Some(self.auth0.bootstrap_client_secret());
        c.api.audience = API_AUDIENCE.to_owned();
        c.api.name = "Orders (Konnect portal)".to_owned();
        c.api.scopes = vec![ApiScope::new(API_SCOPE, "Read orders")];
        c.konnect.base_url = Some(self.konnect.uri());
        c.konnect.token = Some(self.konnect.token());
        c.konnect.portal_url = Some(self.konnect.portal_url(&portal));
        c.konnect.portal_id = portal;
        c.konnect.api_name = Some(API_NAME.to_owned());
        c.konnect.developer_id = Some(self.konnect.developer_id());
        c.konnect.developer_email = Some(self.konnect.developer_email());
        c.konnect.developer_password = Some(self.konnect.developer_password());
        c.konnect.gateway_url = Some(self.konnect.gateway_url(API_SLUG));
        c
    }

    /// Write requests both sandboxes have answered.
    pub fn writes(&self) -> usize {
        self.auth0.write_count() + self.konnect.write_count()
    }

    /// All requests both sandboxes have answered.
    pub fn requests(&self) -> usize {
        self.auth0.requests().len() + self.konnect.requests().len()
    }

    /// Forgets both request logs.
    pub fn clear_logs(&self) {
        self.auth0.clear_request_log();
        self.konnect.clear_request_log();
    }
}

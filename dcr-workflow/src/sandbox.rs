//! Both sandboxes, wired together, and a configuration that points the workflow at them
//! (feature `sandbox`). Use it in your own tests:
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

use std::net::TcpListener;

use auth0_mgmt::sandbox::Auth0Sandbox;
use konnect_appauth::sandbox::KonnectSandbox;

use crate::{ApiScope, DcrConfig, Result, WorkflowError};

/// The audience [`Sandboxes::config`] uses.
pub const API_AUDIENCE: &str = "https://api.example.com/orders";
/// The API scope [`Sandboxes::config`] uses.
pub const API_SCOPE: &str = "read:orders";
/// The Konnect API name [`Sandboxes::config`] publishes.
pub const API_NAME: &str = "Orders API";
/// Its slug, which names its route on the sandbox's gateway.
pub const API_SLUG: &str = "orders-api";

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
        let mut builder = Auth0Sandbox::builder();
        if let Some(listener) = auth0 {
            builder = builder.listener(listener);
        }
        let auth0 = builder.start().await.map_err(failed)?;
        let mut builder = KonnectSandbox::builder().route_issuer(format!("https://{}", auth0.domain()), auth0.uri());
        if let Some(listener) = konnect {
            builder = builder.listener(listener);
        }
        let konnect = builder.start().await.map_err(failed)?;
        Ok(Sandboxes { auth0, konnect })
    }

    /// A complete configuration for these sandboxes: the tenant's bootstrap credentials,
    /// both base URLs, the portal and its developer (id, and email and password for
    /// [`VerifyMode::Developer`](crate::VerifyMode::Developer)), the portal's URL, the
    /// gateway route of the API, and an API with one scope.
    pub fn config(&self) -> DcrConfig {
        let mut c = DcrConfig::default();
        c.auth0.domain = self.auth0.domain();
        c.auth0.base_url = Some(self.auth0.uri());
        c.auth0.client_id = Some(self.auth0.bootstrap_client_id().to_string());
        c.auth0.client_secret = Some(self.auth0.bootstrap_client_secret().into_secret_string());
        c.api.audience = API_AUDIENCE.to_owned();
        c.api.name = "Orders (Konnect portal)".to_owned();
        c.api.scopes = vec![ApiScope::new(API_SCOPE, "Read orders")];
        c.konnect.base_url = Some(self.konnect.uri());
        c.konnect.token = Some(self.konnect.token());
        c.konnect.portal_id = self.konnect.portal_id().to_string();
        c.konnect.api_name = Some(API_NAME.to_owned());
        c.konnect.developer_id = Some(self.konnect.developer_id());
        c.konnect.developer_email = Some(self.konnect.developer_email());
        c.konnect.developer_password = Some(self.konnect.developer_password());
        c.konnect.portal_url = Some(self.konnect.portal_url(&self.konnect.portal_id()));
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

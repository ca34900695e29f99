//! In-process, stateful fakes of the two services Dynamic Client Registration between
//! Kong Konnect's Dev Portal and Auth0 involves, for tests and offline runs:
//!
//! - [`auth0::Auth0Sandbox`]: a tenant's token endpoint, JWKS and OpenID metadata, and the
//!   Management API's clients, client grants and resource servers, with Auth0's rate
//!   limits per plan;
//! - [`konnect::KonnectSandbox`]: DCR providers, application auth strategies, APIs and
//!   their publications, classic portals, portal applications and their registrations,
//!   each portal's developer API, and a gateway in front of published APIs. Creating an
//!   application for a DCR strategy performs DCR against the Auth0 issuer over HTTP.
//!
//! Their rules come from the services' documents, not from the clients they are used to
//! test: this crate depends on none of them (only on `dcr-client-core`'s sandbox
//! plumbing), so a client's bug cannot be mirrored by the fake that tests it. The
//! standalone server (`dcr-sandbox`, or `cargo run --example sandbox` in the workspace)
//! runs both on loopback ports.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pair = dcr_sandbox::Pair::start().await?;
//! // Konnect's DCR calls for the tenant's issuer reach the Auth0 sandbox.
//! assert!(pair.konnect.uri().starts_with("http://127.0.0.1:"));
//! assert_eq!(pair.auth0.issuer(), format!("https://{}/", pair.auth0.domain()));
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth0;
pub mod konnect;
mod shapes;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod standalone;

use std::net::TcpListener;

/// The audience of the API the sandbox's default configuration protects.
pub const API_AUDIENCE: &str = "https://api.example.com/orders";
/// Its scope.
pub const API_SCOPE: &str = "read:orders";
/// The Konnect API the default configuration publishes.
pub const API_NAME: &str = "Orders API";
/// Its slug, which names its route on the Konnect sandbox's gateway.
pub const API_SLUG: &str = "orders-api";

/// An Auth0 sandbox and a Konnect sandbox whose DCR traffic for the tenant's issuer
/// reaches it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Pair {
    /// The fake Auth0 tenant.
    pub auth0: auth0::Auth0Sandbox,
    /// The fake Konnect organization.
    pub konnect: konnect::KonnectSandbox,
}

/// Why a pair could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The Auth0 sandbox did not start.
    #[error("the Auth0 sandbox did not start: {0}")]
    Auth0(#[from] auth0::SandboxError),
    /// The Konnect sandbox did not start.
    #[error("the Konnect sandbox did not start: {0}")]
    Konnect(#[from] konnect::SandboxProblem),
}

impl Pair {
    /// Starts both on free loopback ports.
    pub async fn start() -> Result<Self, StartError> {
        Self::start_with(None, None).await
    }

    /// Starts both on the given listeners (fixed ports for a standalone server).
    pub async fn start_with(auth0: Option<TcpListener>, konnect: Option<TcpListener>) -> Result<Self, StartError> {
        let mut builder = auth0::Auth0Sandbox::builder();
        if let Some(listener) = auth0 {
            builder = builder.listener(listener);
        }
        let auth0 = builder.start().await?;
        let mut builder =
            konnect::KonnectSandbox::builder().route_issuer(format!("https://{}", auth0.domain()), auth0.uri());
        if let Some(listener) = konnect {
            builder = builder.listener(listener);
        }
        let konnect = builder.start().await?;
        Ok(Pair { auth0, konnect })
    }
}

// The README's example is compiled as a doc-test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

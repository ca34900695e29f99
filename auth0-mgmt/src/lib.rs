//! A typed client for the Auth0 Management API v2: applications (clients), client grants
//! and APIs (resource servers), plus the client_credentials token endpoint.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use auth0_mgmt::resources::client_grants::NewClientGrant;
//! use auth0_mgmt::resources::clients::NewClient;
//! use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope};
//! use auth0_mgmt::Auth0Client;
//! use futures::TryStreamExt;
//!
//! // A fake tenant in this process (crate `dcr-sandbox`); against a real one, drop
//! // `base_url` and give your domain and M2M application's credentials.
//! let tenant = dcr_sandbox::auth0::Auth0Sandbox::start().await?;
//! // An M2M application authorized for the Management API.
//! let auth0 = Auth0Client::builder()
//!     .domain(tenant.domain()) // "acme.us.auth0.com"
//!     .base_url(tenant.uri())
//!     .client_credentials(tenant.bootstrap_client_id(), tenant.bootstrap_client_secret())
//!     .build()?;
//!
//! // An API whose identifier is the audience tokens are issued for.
//! let api = auth0
//!     .resource_servers()
//!     .create(&NewResourceServer::new("https://orders.example.com").name("Orders")
//!         .scopes([ResourceServerScope::new("read:orders", "Read orders")]))
//!     .await?;
//!
//! // A machine-to-machine application with a grant to that API.
//! let app = auth0.clients().create(&NewClient::machine_to_machine("Order sync")).await?;
//! auth0.client_grants()
//!     .create(&NewClientGrant::new(app.client_id.clone(), api.identifier.clone(), ["read:orders"]))
//!     .await?;
//!
//! // Every application, page by page, one page in memory at a time.
//! let mut apps = std::pin::pin!(auth0.clients().list().stream());
//! let mut names = Vec::new();
//! while let Some(app) = apps.try_next().await? {
//!     names.push(app.name);
//! }
//! assert!(names.contains(&"Order sync".to_owned()));
//! # Ok(()) }
//! ```
//!
//! # What the client does for you
//! - **Tokens**: with client credentials it fetches a Management API token once, caches it
//!   until shortly before `expires_in`, shares one in-flight fetch between concurrent
//!   callers, and after a 401 refreshes once and replays the request once.
//! - **Retries**: 429s (honouring `x-ratelimit-reset` / `Retry-After`), 5xx and transport
//!   errors are retried with exponential backoff and jitter, within a total budget; a POST
//!   or PATCH is repeated only if the server cannot have acted on it. See [`RetryConfig`].
//! - **Rate limit**: all clones of a client share the budget Auth0 reports in
//!   `x-ratelimit-remaining`, less the requests in flight. When it is spent, requests wait
//!   for `x-ratelimit-reset`, then one goes first to learn the new budget, so concurrent
//!   callers slow down instead of earning 429s (the bench: 0 of 221 refused at 10 req/s).
//! - **Secrets**: client secrets and tokens are [`secrecy::SecretString`]s inside types
//!   that print `[REDACTED]`; they are never logged.
//! - **Errors**: [`Auth0Error`] keeps the status and Auth0's own `errorCode` and message.
//! - **Tracing**: one `http` span per attempt (method, path template, status, attempt,
//!   latency); never a header, a body or an id that is a secret.
//!
//! # Testing your code
//! The `dcr-sandbox` crate's `auth0::Auth0Sandbox` is an in-process, stateful fake of
//! Auth0 (token endpoint, JWKS, clients, grants, resource servers, rate limits, fault
//! injection): point [`Auth0ClientBuilder::base_url`] at it.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod macros;

mod client;
mod enums;
mod error;
mod ids;
pub mod oauth;
mod pagination;
pub mod resources;
mod secret;
mod token_cache;

// The README's example is compiled as a doc-test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use client::{Auth0Client, Auth0ClientBuilder, Credentials};
pub use dcr_client_core::{RetryConfig, TransportError};
pub use enums::{
    AppType, GrantType, OrganizationUsage, SigningAlg, SubjectType, TokenDialect, TokenEndpointAuthMethod,
};
pub use error::{ApiError, Auth0Error, Result};
pub use ids::{ActionId, ActionVersionId, Audience, ClientGrantId, ClientId, ResourceServerId};
pub use pagination::{MAX_PAGE_SIZE, Page};
pub use secret::{AccessToken, ClientSecret};

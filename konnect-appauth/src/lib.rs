//! A typed client for the parts of Kong Konnect that Dev Portal Dynamic Client Registration
//! needs: DCR providers and application auth strategies (Application Auth v2), API
//! publication (API Builder v3) and portal applications (Portal Management v3).
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use konnect_appauth::resources::auth_strategies::{NewAuthStrategy, OidcConfig};
//! use konnect_appauth::resources::dcr_providers::NewDcrProvider;
//! use konnect_appauth::resources::apis::{NewApi, PublicationRequest};
//! use konnect_appauth::KonnectClient;
//! use secrecy::ExposeSecret;
//!
//! // A fake organization in this process (crate `dcr-sandbox`); against Konnect, use
//! // `.region(Region::Us)` and a `kpat_…` or `spat_…` token instead.
//! let org = dcr_sandbox::konnect::KonnectSandbox::start().await?;
//! let konnect = KonnectClient::builder()
//!     .base_url(org.uri())
//!     .token(org.token().expose_secret())
//!     .build()?;
//!
//! // The Auth0 tenant, reached with the DCR admin application's credentials.
//! let provider = konnect
//!     .dcr_providers()
//!     .create(&NewDcrProvider::auth0(
//!         "auth0-acme",
//!         "https://acme.us.auth0.com",
//!         "AaiyAPdpYdesoKnqjj8HJqRn4T5titww",
//!         "the DCR admin application's secret",
//!     ))
//!     .await?;
//!
//! // An OpenID Connect strategy that registers each application's client through it.
//! let strategy = konnect
//!     .auth_strategies()
//!     .create(
//!         &NewAuthStrategy::openid_connect(
//!             "auth0-dcr",
//!             "Auth0",
//!             OidcConfig::new(
//!                 "https://acme.us.auth0.com",
//!                 ["azp"],
//!                 ["openid"],
//!                 ["client_credentials", "bearer", "session"],
//!             )
//!             .audience("https://api.example.com/orders"),
//!         )
//!         .dcr_provider(provider.id.clone()),
//!     )
//!     .await?;
//!
//! // Applications registered for this API on the portal now get Auth0 clients.
//! let api = konnect.apis().create(&NewApi::new("Orders")).await?;
//! let published = konnect
//!     .apis()
//!     .publish(&api.id, &org.portal_id().into(), &PublicationRequest::new().auth_strategy(strategy.id.clone()))
//!     .await?;
//! assert_eq!(published.auth_strategy_ids, Some(vec![strategy.id]));
//! # Ok(()) }
//! ```
//!
//! # What the client does for you
//! - **Inputs** are checked before anything is sent, each error naming the field: names,
//!   labels (reserved prefixes, patterns, at most 50), issuers (an Auth0 issuer must not
//!   end with `/`), the HTTP bridge's `api_key`, list sizes.
//! - **Secrets** (`initial_client_secret`, `dcr_token`, `api_key`, the token, a created
//!   application's client secret) are [`secrecy::SecretString`]s, absent from every
//!   response type, never in `Debug` output or logs.
//! - **Retries, rate limits, tracing** come from `dcr-client-core`, shared with
//!   `auth0-mgmt`: 429 (honouring `Retry-After`), 5xx and transport errors with backoff
//!   and jitter; POST/PATCH repeated only when the server cannot have acted on it.
//! - **Errors**: [`KonnectError`] keeps the status and the problem+json body, including
//!   `instance`, Konnect's trace id for support.
//! - **Forward compatibility**: unknown provider and strategy types, and unknown OpenID
//!   Connect settings, are kept verbatim.
//!
//! # Testing your code
//! The `dcr-sandbox` crate's `konnect::KonnectSandbox` is an in-process, stateful fake of
//! these Konnect endpoints (and of a portal's developer API and a gateway) that performs
//! DCR against an Auth0 issuer: point [`KonnectClientBuilder::base_url`] at it.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod developer;
mod error;
mod ids;
mod pagination;
mod region;
pub mod resources;
mod secret;
mod validate;

// The README's example is compiled as a doc-test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use client::{KonnectClient, KonnectClientBuilder};
pub use dcr_client_core::{RetryConfig, TransportError};
pub use error::{InvalidParameter, KonnectError, Problem, Result};
pub use ids::{
    ApiId, ApiProductId, ApplicationId, AuthStrategyId, DcrProviderId, PortalId, PortalProductVersionId,
    ProductVersionId,
};
pub use pagination::{MAX_PAGE_SIZE, Page};
pub use region::Region;
pub use validate::{MAX_LABELS, RESERVED_LABEL_PREFIXES, check_auth0_issuer, check_label, check_url};

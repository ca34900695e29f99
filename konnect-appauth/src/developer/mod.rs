//! The developer API of a Dev Portal (v3), served on the portal's own domain: what a
//! developer does in the portal's UI, from code. Sign in with email and password (the
//! portal sets the `portalaccesstoken` cookie), create an application for an auth
//! strategy (a DCR strategy answers with the identity provider's client id and, once, its
//! secret), register it for an API, and clean up.
//!
//! The session is renewed by itself: after a 401 the client refreshes it with the
//! `portalrefreshtoken` cookie, or signs in again when the refresh is refused, and
//! replays the request once.

mod applications;
mod registrations;
pub(crate) mod session;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dcr_client_core::{HttpSettings, Operation, RetryConfig};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use applications::{
    CreatedDeveloperApplication, DeveloperApplication, DeveloperApplications, NewDeveloperApplication,
    RegeneratedSecret,
};
pub use registrations::{ApiRegistration, ApiRegistrations, RegistrationStatus};
pub use session::{ACCESS_COOKIE, REFRESH_COOKIE};

use crate::client::{Auth, KonnectClient};
use crate::error::{KonnectError, Result};
use crate::ids::ApplicationId;
use session::Session;

static ME: Operation = Operation::new(Method::GET, "/api/v3/developer/me");
static LOGOUT: Operation = Operation::new(Method::POST, "/api/v3/developer/logout");

/// Every developer API operation this crate exposes, for coverage checks.
pub const OPERATIONS: [&Operation; 14] = [
    &session::AUTHENTICATE,
    &session::REFRESH,
    &ME,
    &LOGOUT,
    &applications::CREATE,
    &applications::LIST,
    &applications::GET,
    &applications::DELETE,
    &applications::REGENERATE_SECRET,
    &applications::GRANTED_SCOPES,
    &registrations::CREATE,
    &registrations::LIST,
    &registrations::GET,
    &registrations::DELETE,
];

/// The signed-in developer (`Developer`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Developer {
    /// Their id in the portal (the document does not require it).
    #[serde(default)]
    pub id: String,
    /// Their email address.
    pub email: String,
    /// Their name.
    #[serde(default)]
    pub full_name: String,
    /// Other fields (`created_at`, `updated_at`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A client of one portal's developer API, signed in as one developer. Cheap to clone;
/// clones share the session.
///
/// ```no_run
/// # async fn run() -> konnect_appauth::Result<()> {
/// use konnect_appauth::developer::{DeveloperClient, NewDeveloperApplication};
/// let portal = DeveloperClient::builder()
///     .portal_url("https://abc123.us.kongportals.com")
///     .credentials("dev@example.com", std::env::var("PORTAL_PASSWORD").unwrap_or_default())
///     .build()?;
/// portal.sign_in().await?;
/// let created = portal
///     .applications()
///     .create(&NewDeveloperApplication::new("my app").auth_strategy("5f9fd312-a987-4628-b4c5-bb4f4fddd5f7"))
///     .await?;
/// println!("client id {:?}", created.application.client_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DeveloperClient {
    client: KonnectClient,
    session: Arc<Session>,
}

impl fmt::Debug for DeveloperClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeveloperClient")
            .field("portal_url", &self.client.base_url().as_str())
            .field("email", &self.session.email())
            .finish_non_exhaustive()
    }
}

impl DeveloperClient {
    /// Starts building a client.
    pub fn builder() -> DeveloperClientBuilder {
        DeveloperClientBuilder::default()
    }

    /// The portal's URL, e.g. `https://abc123.us.kongportals.com/`.
    pub fn portal_url(&self) -> &url::Url {
        self.client.base_url()
    }

    /// Signs in with the email and password (`POST /api/v3/developer/authenticate`),
    /// replacing any session. Requests sign in by themselves when needed; call this to
    /// learn early whether the credentials work (401 when they do not).
    pub async fn sign_in(&self) -> Result<()> {
        self.session.sign_in(&self.client).await
    }

    /// Ends the session (`POST /api/v3/developer/logout`): the portal revokes its tokens.
    pub async fn sign_out(&self) -> Result<()> {
        self.client
            .call_empty(&LOGOUT, &["api", "v3", "developer", "logout"])
            .await?;
        self.session.forget().await;
        Ok(())
    }

    /// The signed-in developer (`GET /api/v3/developer/me`).
    pub async fn me(&self) -> Result<Developer> {
        self.client.call(&ME, &["api", "v3", "developer", "me"], None).await
    }

    /// The developer's applications (`/api/v3/applications`).
    pub fn applications(&self) -> DeveloperApplications {
        DeveloperApplications::new(self.client.clone())
    }

    /// One application's registrations for APIs (`/api/v3/applications/{id}/registrations`).
    pub fn registrations(&self, application: &ApplicationId) -> ApiRegistrations {
        ApiRegistrations::new(self.client.clone(), application.clone())
    }
}

/// Builder for [`DeveloperClient`]; every setting is checked in [`build`](Self::build).
#[derive(Default)]
#[must_use]
pub struct DeveloperClientBuilder {
    portal_url: Option<String>,
    email: Option<String>,
    password: Option<SecretString>,
    http: HttpSettings,
}

impl fmt::Debug for DeveloperClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeveloperClientBuilder")
            .field("portal_url", &self.portal_url)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl DeveloperClientBuilder {
    /// The portal's URL: `https://{canonical_domain}` of the portal (see
    /// [`Portal::canonical_domain`](crate::resources::portals::Portal::canonical_domain)).
    pub fn portal_url(mut self, url: impl Into<String>) -> Self {
        self.portal_url = Some(url.into());
        self
    }

    /// The developer's email and password.
    pub fn credentials(mut self, email: impl Into<String>, password: impl Into<SecretString>) -> Self {
        self.email = Some(email.into());
        self.password = Some(password.into());
        self
    }

    /// Timeout of each attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = Some(timeout);
        self
    }

    /// Retry policy (default [`RetryConfig::standard`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.http.retry = Some(retry);
        self
    }

    /// A preconfigured reqwest client (proxies, custom roots).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http.http_client = Some(client);
        self
    }

    /// Checks the settings and builds the client; nothing is sent.
    pub fn build(self) -> Result<DeveloperClient> {
        let url = self
            .portal_url
            .ok_or_else(|| KonnectError::config("portal_url", "the portal's URL is required"))?;
        let email = self
            .email
            .filter(|e| e.contains('@') && e.trim() == e)
            .ok_or_else(|| KonnectError::config("email", "a developer's email address is required"))?;
        let password = self
            .password
            .filter(|p| !p.expose_secret().is_empty())
            .ok_or_else(|| KonnectError::config("password", "the developer's password is required"))?;
        let session = Arc::new(Session::new(email, password));
        let client = KonnectClient::assemble(&url, Auth::Developer(session.clone()), self.http, "portal_url")?;
        Ok(DeveloperClient { client, session })
    }
}

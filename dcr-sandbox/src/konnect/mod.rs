//! An in-process, stateful fake of the Konnect endpoints the workspace's clients cover
//! (application auth v2, API builder v3, portal management v2 and v3, a portal's
//! developer API), which performs Dynamic Client Registration against a real (or
//! sandboxed) Auth0 issuer, and a gateway in front of published APIs.
//!
//! It behaves like Konnect rather than echoing: a bearer token is required (401
//! problem+json otherwise); bodies are validated like the documents say (400 with
//! `invalid_parameters` naming field and rule, unknown properties refused); write-only
//! secrets are never returned; a provider's type cannot change; a strategy used by a
//! publication cannot be deleted (409); lists paginate with `meta.page` and filter with
//! `filter[field][op]`. Creating a portal application for an `openid_connect` strategy
//! whose DCR provider is `auth0` makes the sandbox do what Konnect does: get a Management
//! API token with the provider's initial client, create an Auth0 client with `konnect_*`
//! metadata, grant it the strategy's audience and scopes, and return the client id and,
//! once, the secret. Deleting the application deletes the client; `verify` checks the
//! initial client's token and scopes for real.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use dcr_sandbox::konnect::KonnectSandbox;
//! use secrecy::ExposeSecret;
//!
//! let konnect = KonnectSandbox::start().await?;
//! let created = reqwest::Client::new()
//!     .post(format!("{}/v2/dcr-providers", konnect.uri()))
//!     .bearer_auth(konnect.token().expose_secret())
//!     .json(&serde_json::json!({
//!         "name": "auth0", "provider_type": "auth0", "issuer": "https://acme.us.auth0.com",
//!         "dcr_config": {"initial_client_id": "admin-id", "initial_client_secret": "admin-secret"},
//!     }))
//!     .send()
//!     .await?;
//! assert_eq!(created.status(), 201);
//! assert_eq!(konnect.request_count("POST", "/v2/dcr-providers"), 1);
//! assert!(konnect.dcr_providers()[0]["dcr_config"]["initial_client_secret"].is_string());
//! # Ok(()) }
//! ```

pub(crate) mod check;
mod classic;
mod dcr;
mod developer;
mod gateway;
mod helper;
mod problem;
mod registrations;
mod rules;
mod server;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dcr_client_core::sandbox::Server;
use secrecy::SecretString;
use serde_json::Value;

pub use dcr_client_core::sandbox::{Exchange, Fault, FaultKind, LoggedRequest};
pub use problem::SandboxProblem;

use developer::Developers;
use server::{Shared, State, lock};
use store::{Store, public};

/// The seeded developer's email unless another is set.
pub const DEFAULT_DEVELOPER_EMAIL: &str = "developer@example.com";
/// The seeded developer's password unless another is set.
pub const DEFAULT_DEVELOPER_PASSWORD: &str = "sandbox-developer-password";

/// The token the sandbox accepts unless another is set.
pub const DEFAULT_TOKEN: &str = "kpat_sandbox0000000000000000000000000000000000000000";

/// Settings for [`KonnectSandbox`].
#[derive(Debug, Default)]
#[must_use]
pub struct KonnectSandboxBuilder {
    token: Option<String>,
    read_only_token: Option<String>,
    seed: Option<u64>,
    listener: Option<std::net::TcpListener>,
    issuer_routes: HashMap<String, String>,
    developer: Option<(String, String)>,
}

impl KonnectSandboxBuilder {
    /// The bearer token to accept (default [`DEFAULT_TOKEN`]).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Also accept this token for reads only: writes with it answer 403, as for a Konnect
    /// user without the admin role.
    pub fn read_only_token(mut self, token: impl Into<String>) -> Self {
        self.read_only_token = Some(token.into());
        self
    }

    /// Seed for ids, for reproducible runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Serve on this listener (for a fixed port) instead of a random loopback port.
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Sends DCR traffic for `issuer` (e.g. `https://sandbox.us.auth0.com`) to `base_url`
    /// (e.g. an `Auth0Sandbox`'s URI) instead of the issuer itself.
    pub fn route_issuer(mut self, issuer: impl Into<String>, base_url: impl Into<String>) -> Self {
        let issuer: String = issuer.into();
        self.issuer_routes
            .insert(issuer.trim_end_matches('/').to_owned(), base_url.into());
        self
    }

    /// The seeded developer's email and password (default [`DEFAULT_DEVELOPER_EMAIL`],
    /// [`DEFAULT_DEVELOPER_PASSWORD`]); they sign in on every portal.
    pub fn developer(mut self, email: impl Into<String>, password: impl Into<String>) -> Self {
        self.developer = Some((email.into(), password.into()));
        self
    }

    /// Starts the sandbox with one portal.
    pub async fn start(self) -> Result<KonnectSandbox, SandboxProblem> {
        let mut store = Store::new(self.seed);
        let portal = store.add_portal("Sandbox Portal");
        let developer = store.new_id();
        let token = self.token.unwrap_or_else(|| DEFAULT_TOKEN.to_owned());
        let (email, password) = self.developer.unwrap_or_else(|| {
            (
                DEFAULT_DEVELOPER_EMAIL.to_owned(),
                DEFAULT_DEVELOPER_PASSWORD.to_owned(),
            )
        });
        let state: State = Arc::new(Mutex::new(Shared::new(
            store,
            token,
            self.read_only_token,
            self.issuer_routes,
            Developers::new(developer.clone(), email, password),
        )));
        let server = dcr_client_core::sandbox::serve(state.clone(), self.listener)
            .map_err(|e| SandboxProblem::new(500, format!("the sandbox cannot listen: {e}")))?;
        Ok(KonnectSandbox {
            server,
            state,
            portal,
            developer,
        })
    }
}

/// A running fake Konnect organization. Dropping it stops the server.
pub struct KonnectSandbox {
    server: Server,
    state: State,
    portal: String,
    developer: String,
}

impl std::fmt::Debug for KonnectSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KonnectSandbox")
            .field("uri", &self.server.uri())
            .field("portal", &self.portal)
            .finish_non_exhaustive()
    }
}

fn rows(table: &dcr_client_core::sandbox::Table) -> Vec<Value> {
    table.iter_from(0).map(|(_, row)| Value::Object(row.clone())).collect()
}

impl KonnectSandbox {
    /// Starts a sandbox with default settings.
    pub async fn start() -> Result<Self, SandboxProblem> {
        Self::builder().start().await
    }

    /// Settings for a sandbox.
    pub fn builder() -> KonnectSandboxBuilder {
        KonnectSandboxBuilder::default()
    }

    /// Base URL the sandbox listens on, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The token it accepts.
    pub fn token(&self) -> SecretString {
        SecretString::from(lock(&self.state).token.clone())
    }

    /// The seeded portal.
    pub fn portal_id(&self) -> String {
        self.portal.clone()
    }

    /// Adds another portal.
    pub fn add_portal(&self, name: &str) -> String {
        lock(&self.state).store.add_portal(name)
    }

    /// Adds a classic (v2) portal: API product versions are published on it through
    /// `/v2/portals/{portalId}/product-versions`; the v3 endpoints do not know it.
    pub fn add_classic_portal(&self, name: &str) -> String {
        lock(&self.state).store.add_classic_portal(name)
    }

    /// The organization id that goes into `konnect_org_id`.
    pub fn org_id(&self) -> String {
        lock(&self.state).store.org_id.clone()
    }

    /// A developer id to own applications with.
    pub fn developer_id(&self) -> String {
        self.developer.clone()
    }

    /// The seeded developer's email.
    pub fn developer_email(&self) -> String {
        lock(&self.state).developers.email.clone()
    }

    /// The seeded developer's password.
    pub fn developer_password(&self) -> SecretString {
        SecretString::from(lock(&self.state).developers.password.clone())
    }

    /// The URL of a portal's developer API, standing in for `https://{canonical_domain}`:
    /// `{uri}/portal/{portalId}`.
    pub fn portal_url(&self, portal: &str) -> String {
        format!("{}/portal/{portal}", self.uri())
    }

    /// The URL of the gateway's route for an API, by id or slug (`orders-api` for an API
    /// named "Orders API"): `{uri}/gateway/{api}`. It enforces the API's publication and
    /// strategy like Kong Gateway: only the strategy's auth methods, the token's
    /// signature, issuer, expiry and audience (401 otherwise), and an approved
    /// registration of the application the credential claim names (403 otherwise).
    pub fn gateway_url(&self, api: &str) -> String {
        format!("{}/gateway/{api}", self.uri())
    }

    /// Every registration of an application for an API, with `_application_id`, `_api_id`
    /// and `_portal_id`.
    pub fn registrations(&self) -> Vec<Value> {
        rows(&lock(&self.state).store.registrations)
    }

    /// Makes every developer access token expire (refresh tokens stay valid), as time would.
    pub fn expire_developer_sessions(&self) {
        lock(&self.state).developers.expire_access();
    }

    /// Ends every developer session, refresh tokens included.
    pub fn revoke_developer_sessions(&self) {
        lock(&self.state).developers.revoke_all();
    }

    /// How many times the gateway exchanged Basic credentials at the token endpoint.
    pub fn gateway_token_exchanges(&self) -> usize {
        lock(&self.state).gateway_cache.exchanges
    }

    /// Sends DCR traffic for `issuer` to `base_url` from now on.
    pub fn route_issuer(&self, issuer: &str, base_url: &str) {
        lock(&self.state)
            .issuer_routes
            .insert(issuer.trim_end_matches('/').to_owned(), base_url.to_owned());
    }

    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        lock(&self.state).controls.faults.push(fault);
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        lock(&self.state).controls.faults.clear();
    }

    /// Adds this latency to every response (`None` removes it).
    pub fn set_latency(&self, latency: Option<Duration>) {
        lock(&self.state).controls.latency = latency;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.state).controls.log.clone()
    }

    /// How many requests matched this method and path template (e.g.
    /// `("POST", "/v3/portals/{portalId}/applications")`).
    pub fn request_count(&self, method: &str, route: &str) -> usize {
        lock(&self.state).controls.request_count(method, route)
    }

    /// Number of requests that can change state.
    pub fn write_count(&self) -> usize {
        lock(&self.state).controls.write_count()
    }

    /// Empties the request log.
    pub fn clear_request_log(&self) {
        lock(&self.state).controls.log.clear();
    }

    /// Starts recording full exchanges (bodies and headers; the `authorization` value is
    /// redacted), forgetting earlier ones. Off by default, to keep long runs small.
    pub fn record_exchanges(&self) {
        lock(&self.state).controls.exchanges = Some(Vec::new());
    }

    /// The exchanges recorded since [`record_exchanges`](Self::record_exchanges), in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.state).controls.exchanges.clone().unwrap_or_default()
    }

    /// Every DCR provider as stored, write-only secrets included.
    pub fn dcr_providers(&self) -> Vec<Value> {
        rows(&lock(&self.state).store.providers)
    }

    /// The stored `initial_client_secret` of a provider.
    pub fn provider_secret(&self, id: &str) -> Option<SecretString> {
        lock(&self.state)
            .store
            .providers
            .get(id)
            .and_then(|p| p.get("dcr_config"))
            .and_then(|c| c.get("initial_client_secret"))
            .and_then(Value::as_str)
            .map(|s| SecretString::from(s.to_owned()))
    }

    /// Every auth strategy as stored.
    pub fn auth_strategies(&self) -> Vec<Value> {
        rows(&lock(&self.state).store.strategies)
    }

    /// Every API as stored.
    pub fn apis(&self) -> Vec<Value> {
        rows(&lock(&self.state).store.apis)
    }

    /// Every publication, with `_api_id` and `_portal_id`.
    pub fn publications(&self) -> Vec<Value> {
        rows(&lock(&self.state).store.publications)
    }

    /// Every application of every portal, as a caller would see it.
    pub fn applications(&self) -> Vec<Value> {
        lock(&self.state)
            .store
            .applications
            .iter_from(0)
            .map(|(_, row)| public(row))
            .collect()
    }

    /// Creates a portal application directly (same rules as `POST
    /// /v3/portals/{portalId}/applications`, no HTTP, no log entry), for seeding large
    /// portals quickly. With `dcr_client_id` in `body` the application is linked to that
    /// existing client and no registration is made.
    pub fn insert_application(&self, portal: &str, body: Value) -> Result<Value, SandboxProblem> {
        lock(&self.state).create_application(portal, &body)
    }

    /// Removes an application without touching its DCR client (as a database restore or a
    /// bug would), to plant orphans.
    pub fn remove_application(&self, id: &str) {
        lock(&self.state).store.applications.remove(id);
    }

    /// DCR clients that could not be deleted along with their application.
    pub fn dcr_failures(&self) -> Vec<String> {
        lock(&self.state).dcr_failures.clone()
    }
}

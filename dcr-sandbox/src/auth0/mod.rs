//! An in-process, stateful fake of an Auth0 tenant for tests: the token endpoint, JWKS and
//! OpenID metadata, and the Management API's clients, client grants and resource servers.
//!
//! It behaves like Auth0 rather than echoing: tokens are RS256 JWTs issued only to
//! registered clients with a grant for the audience; every Management API call checks the
//! bearer token and the scope its operation requires; ids, defaults, uniqueness (409),
//! `client_metadata` limits (400), missing ids (404), cascades, pagination (offset and
//! checkpoint) and rate-limit headers follow the Management API document. Faults can be
//! injected, and every exchange is logged for assertions.
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use dcr_sandbox::auth0::{Auth0Sandbox, Fault};
//! use secrecy::ExposeSecret;
//!
//! let sandbox = Auth0Sandbox::start().await?;
//! sandbox.inject(Fault::status(503).on("POST", "/oauth/token"));
//! let http = reqwest::Client::new();
//! let token = |http: reqwest::Client| {
//!     http.post(format!("{}/oauth/token", sandbox.uri())).json(&serde_json::json!({
//!         "grant_type": "client_credentials",
//!         "client_id": sandbox.bootstrap_client_id(),
//!         "client_secret": sandbox.bootstrap_client_secret().expose_secret(),
//!         "audience": sandbox.management_audience(),
//!     }))
//!     .send()
//! };
//! assert_eq!(token(http.clone()).await?.status(), 503); // the injected fault
//! assert_eq!(token(http).await?.status(), 200);
//! assert_eq!(sandbox.tokens_issued(), 1);
//! # Ok(()) }
//! ```

mod actions;
mod bucket;
mod certificate;
mod failure;
mod schema;
mod server;
mod store;
mod tokens;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dcr_client_core::sandbox::Server;
use secrecy::SecretString;
use serde_json::{Map, Value, json};

pub use bucket::{EndpointLimit, RateLimit, RateLimits, Tier};
pub use dcr_client_core::sandbox::{Exchange, Fault, FaultKind, LoggedRequest};
pub use failure::SandboxError;
pub use tokens::SIGNING_KEY_ID;

use server::{Shared, State, lock};

/// Name of the seeded bootstrap application.
pub const BOOTSTRAP_CLIENT_NAME: &str = "Sandbox Bootstrap (dashboard M2M)";

/// Settings for [`Auth0Sandbox`].
#[derive(Debug)]
#[must_use]
pub struct Auth0SandboxBuilder {
    domain: String,
    rate_limits: RateLimits,
    token_lifetime: Duration,
    seed: Option<u64>,
    listener: Option<std::net::TcpListener>,
}

impl Default for Auth0SandboxBuilder {
    fn default() -> Self {
        Auth0SandboxBuilder {
            domain: "sandbox.us.auth0.com".to_owned(),
            rate_limits: RateLimits::single(RateLimit::unlimited()),
            token_lifetime: Duration::from_secs(86_400),
            seed: None,
            listener: None,
        }
    }
}

impl Auth0SandboxBuilder {
    /// The tenant domain the sandbox pretends to be (default `sandbox.us.auth0.com`); it
    /// shapes the issuer (`https://{domain}/`) and the Management API audience.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = domain.into();
        self
    }

    /// One rate limit for the whole Management API and none for the token endpoint
    /// (default: effectively unlimited).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limits = RateLimits::single(limit);
        self
    }

    /// Every limit: Management API buckets and the token endpoint's.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// The documented limits of an Auth0 plan ([`RateLimits::tier`]).
    pub fn tier(self, tier: Tier) -> Self {
        self.rate_limits(RateLimits::tier(tier))
    }

    /// Lifetime of issued tokens (default 24 h, like Auth0's default).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Seed for ids and secrets, for reproducible runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Serve on this listener (for a fixed port) instead of a random loopback port.
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Starts the sandbox with a Management API resource server and a bootstrap M2M
    /// application holding every Management API scope.
    pub async fn start(self) -> Result<Auth0Sandbox, SandboxError> {
        let mut store = store::Store::new(self.domain.to_ascii_lowercase(), self.seed);
        let audience = store.management_audience();
        let scopes: Vec<Value> = schema::MANAGEMENT_SCOPES
            .iter()
            .map(|s| json!({"value": s, "description": s}))
            .collect();
        let system_api = json!({
            "name": "Auth0 Management API",
            "identifier": audience,
            "is_system": true,
            "scopes": scopes,
            "signing_alg": "RS256",
            "token_lifetime": 86400,
            "allow_offline_access": false,
            "skip_consent_for_verifiable_first_party_clients": false,
        });
        if let Value::Object(row) = system_api {
            store.insert_resource_server(row);
        }
        let bootstrap = store.create_client(&json!({
            "name": BOOTSTRAP_CLIENT_NAME,
            "app_type": "non_interactive",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_post",
        }))?;
        let field = |k: &str| bootstrap.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let (bootstrap_id, bootstrap_secret) = (field("client_id"), field("client_secret"));
        let all_scopes = schema::MANAGEMENT_SCOPES.iter().map(|s| (*s).to_owned()).collect();
        store.insert_grant(&bootstrap_id, &audience, all_scopes, &Map::new());

        let lifetime = self.token_lifetime.as_secs().max(1);
        let state: State = Arc::new(Mutex::new(Shared {
            store,
            issuer: tokens::Issuer::new(lifetime, &self.domain)?,
            limiter: bucket::Limiter::new(&self.rate_limits),
            controls: dcr_client_core::sandbox::Controls::default(),
        }));
        let server = dcr_client_core::sandbox::serve(state.clone(), self.listener)
            .map_err(|e| SandboxError::mgmt(500, "server_failed", format!("the sandbox cannot listen: {e}")))?;
        Ok(Auth0Sandbox {
            server,
            state,
            audience,
            bootstrap_id,
            bootstrap_secret: SecretString::from(bootstrap_secret),
        })
    }
}

/// A running fake Auth0 tenant. Dropping it stops the server.
pub struct Auth0Sandbox {
    server: Server,
    state: State,
    audience: String,
    bootstrap_id: String,
    bootstrap_secret: SecretString,
}

impl std::fmt::Debug for Auth0Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth0Sandbox")
            .field("uri", &self.server.uri())
            .field("domain", &self.domain())
            .finish_non_exhaustive()
    }
}

fn rows(table: &store::Table) -> Vec<Value> {
    table.iter_from(0).map(|(_, row)| Value::Object(row.clone())).collect()
}

impl Auth0Sandbox {
    /// Starts a sandbox with default settings.
    pub async fn start() -> Result<Self, SandboxError> {
        Self::builder().start().await
    }

    /// Settings for a sandbox.
    pub fn builder() -> Auth0SandboxBuilder {
        Auth0SandboxBuilder::default()
    }

    /// Base URL the sandbox listens on, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The tenant domain it pretends to be.
    pub fn domain(&self) -> String {
        lock(&self.state).store.domain.clone()
    }

    /// `https://{domain}/`, the `iss` of its tokens.
    pub fn issuer(&self) -> String {
        format!("https://{}/", self.domain())
    }

    /// `https://{domain}/api/v2/`.
    pub fn management_audience(&self) -> String {
        self.audience.clone()
    }

    /// The seeded M2M application with every Management API scope.
    pub fn bootstrap_client_id(&self) -> String {
        self.bootstrap_id.clone()
    }

    /// Its secret.
    pub fn bootstrap_client_secret(&self) -> SecretString {
        self.bootstrap_secret.clone()
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

    /// Replaces the limits with one Management API bucket (it starts full) and none for
    /// the token endpoint.
    pub fn set_rate_limit(&self, limit: RateLimit) {
        self.set_rate_limits(&RateLimits::single(limit));
    }

    /// Replaces every limit (the buckets start full).
    pub fn set_rate_limits(&self, limits: &RateLimits) {
        lock(&self.state).limiter = bucket::Limiter::new(limits);
    }

    /// Invalidates every token issued so far (as expiry or revocation would): the next
    /// Management API call with one of them gets a 401.
    pub fn revoke_tokens(&self) {
        lock(&self.state).issuer.revoke_all();
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.state).controls.log.clone()
    }

    /// How many requests matched this method and path template (e.g.
    /// `("POST", "/api/v2/clients")`, `("GET", "/api/v2/clients/{id}")`).
    pub fn request_count(&self, method: &str, route: &str) -> usize {
        lock(&self.state).controls.request_count(method, route)
    }

    /// Number of Management API requests that can change state.
    pub fn write_count(&self) -> usize {
        lock(&self.state).controls.write_count()
    }

    /// Tokens issued by `/oauth/token` so far.
    pub fn tokens_issued(&self) -> u64 {
        lock(&self.state).issuer.count
    }

    /// Empties the request log (the token count stays).
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

    /// Every application, secrets included, in creation order.
    pub fn clients(&self) -> Vec<Value> {
        rows(&lock(&self.state).store.clients)
    }

    /// Number of applications.
    pub fn client_count(&self) -> usize {
        lock(&self.state).store.clients.len()
    }

    /// One application, secret included.
    pub fn client_state(&self, id: &str) -> Option<Value> {
        lock(&self.state)
            .store
            .clients
            .get(id)
            .map(|row| Value::Object(row.clone()))
    }

    /// Every client grant.
    pub fn client_grants(&self) -> Vec<Value> {
        rows(&lock(&self.state).store.grants)
    }

    /// Every resource server, the Management API included.
    pub fn resource_servers(&self) -> Vec<Value> {
        rows(&lock(&self.state).store.resource_servers)
    }

    /// Creates an application directly (same rules as `POST /api/v2/clients`, no HTTP,
    /// no log entry), for seeding large tenants quickly.
    pub fn insert_client(&self, body: Value) -> Result<Value, SandboxError> {
        lock(&self.state).store.create_client(&body)
    }

    /// Creates a grant directly (same rules as `POST /api/v2/client-grants`).
    pub fn insert_client_grant(&self, body: Value) -> Result<Value, SandboxError> {
        lock(&self.state).store.create_grant(&body)
    }

    /// Creates a resource server directly (same rules as `POST /api/v2/resource-servers`).
    pub fn insert_resource_server(&self, body: Value) -> Result<Value, SandboxError> {
        lock(&self.state).store.create_resource_server(&body)
    }

    /// Deletes an application directly, as someone in the dashboard would.
    pub fn remove_client(&self, id: &str) {
        lock(&self.state).store.delete_client(id);
    }

    /// Every action, as `GET /api/v2/actions/actions/{id}` answers it.
    pub fn actions(&self) -> Vec<Value> {
        lock(&self.state)
            .store
            .actions
            .actions
            .iter_from(0)
            .map(|(_, row)| Value::Object(row.clone()))
            .collect()
    }

    /// Creates an action as `POST /api/v2/actions/actions` would and deploys it (someone
    /// else's action, to bind beside the workflow's). Returns its id.
    pub fn insert_action(&self, body: Value) -> Result<String, SandboxError> {
        let mut state = lock(&self.state);
        let created = state.store.actions.create(&body)?;
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        state.store.actions.deploy(&id)?;
        Ok(id)
    }

    /// The value of an action's secret (Auth0 never answers it; a test may read it).
    pub fn action_secret(&self, action_id: &str, name: &str) -> Option<SecretString> {
        lock(&self.state)
            .store
            .actions
            .secret(action_id, name)
            .map(SecretString::from)
    }

    /// The actions bound to a trigger (`credentials-exchange`), in execution order.
    pub fn bound_actions(&self, trigger: &str) -> Vec<String> {
        lock(&self.state).store.actions.bound(trigger)
    }

    /// Every deployed version of an action, oldest first.
    pub fn action_versions(&self, action_id: &str) -> Vec<Value> {
        lock(&self.state).store.actions.versions(action_id)
    }

    /// Changes an action's draft directly (as someone in the dashboard would), to plant drift.
    pub fn edit_action(&self, action_id: &str, body: Value) -> Result<Value, SandboxError> {
        lock(&self.state).store.actions.update(action_id, &body)
    }

    /// Deploys an action's draft directly.
    pub fn deploy_action(&self, action_id: &str) -> Result<Value, SandboxError> {
        lock(&self.state).store.actions.deploy(action_id)
    }

    /// Replaces a trigger's bindings directly (`{"bindings": [...]}`), to plant drift.
    pub fn set_bindings(&self, trigger: &str, body: Value) -> Result<Value, SandboxError> {
        lock(&self.state).store.actions.update_bindings(trigger, &body)
    }

    /// The public signing key as a JWKS document (also served at `/.well-known/jwks.json`).
    pub fn jwks(&self) -> Value {
        lock(&self.state).issuer.jwks()
    }

    /// The current secret of an application, for tests that act as that application.
    pub fn client_secret(&self, id: &str) -> Option<SecretString> {
        lock(&self.state)
            .store
            .clients
            .get(id)
            .and_then(|row| row.get("client_secret"))
            .and_then(Value::as_str)
            .map(|s| SecretString::from(s.to_owned()))
    }
}

//! APIs (resource servers): `/api/v2/resource-servers`. A resource server's `identifier`
//! is the audience tokens are issued for.

use futures::Stream;
use futures::future::BoxFuture;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use super::{check_len, check_name};
use crate::client::Auth0Client;
use crate::enums::{SigningAlg, TokenDialect};
use crate::error::{Auth0Error, NotFoundAsNone, Result};
use crate::ids::{Audience, ClientId, ResourceServerId};
use crate::pagination::{Filters, Page, PageRequest, PageSource, Paging, walk};
use dcr_client_core::Operation;

static LIST: Operation = Operation::new(Method::GET, "/api/v2/resource-servers");
static CREATE: Operation = Operation::new(Method::POST, "/api/v2/resource-servers");
static GET: Operation = Operation::new(Method::GET, "/api/v2/resource-servers/{id}");
static UPDATE: Operation = Operation::new(Method::PATCH, "/api/v2/resource-servers/{id}");
static DELETE: Operation = Operation::new(Method::DELETE, "/api/v2/resource-servers/{id}");

/// Every operation this handler exposes, for coverage and contract checks.
pub const OPERATIONS: [&Operation; 5] = [&LIST, &CREATE, &GET, &UPDATE, &DELETE];

/// Longest token lifetime Auth0 accepts, in seconds (30 days).
pub const MAX_TOKEN_LIFETIME: u32 = 2_592_000;

/// A scope an API defines (`ResourceServerScope`).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceServerScope {
    /// The scope, e.g. `read:orders` (1–280 characters).
    pub value: String,
    /// What it allows (max 500 characters).
    pub description: Option<String>,
}

impl ResourceServerScope {
    /// A scope with a description.
    pub fn new(value: impl Into<String>, description: impl Into<String>) -> Self {
        ResourceServerScope {
            value: value.into(),
            description: Some(description.into()),
        }
    }
}

/// An API as Auth0 returns it (`ResourceServer`).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceServer {
    /// The resource server's id.
    pub id: ResourceServerId,
    /// Its identifier: the audience.
    pub identifier: Audience,
    /// Display name.
    pub name: Option<String>,
    /// Scopes the API defines.
    pub scopes: Option<Vec<ResourceServerScope>>,
    /// Access token lifetime in seconds.
    pub token_lifetime: Option<u32>,
    /// Signing algorithm of access tokens.
    pub signing_alg: Option<SigningAlg>,
    /// Whether refresh tokens may be issued.
    pub allow_offline_access: Option<bool>,
    /// Access token dialect.
    pub token_dialect: Option<TokenDialect>,
    /// Skip consent for first-party clients.
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
    /// True for Auth0's own APIs (the Management API).
    pub is_system: Option<bool>,
    /// The API's own client, if any.
    pub client_id: Option<ClientId>,
    /// Every other field Auth0 returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResourceServer {
    /// The scope values the API defines.
    pub fn scope_values(&self) -> Vec<&str> {
        self.scopes.iter().flatten().map(|s| s.value.as_str()).collect()
    }
}

/// Settings shared by create and update bodies.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
struct Settings {
    name: Option<String>,
    scopes: Option<Vec<ResourceServerScope>>,
    token_lifetime: Option<u32>,
    signing_alg: Option<SigningAlg>,
    allow_offline_access: Option<bool>,
    token_dialect: Option<TokenDialect>,
    skip_consent_for_verifiable_first_party_clients: Option<bool>,
}

impl Settings {
    fn validate(&self) -> Result<()> {
        if let Some(name) = &self.name {
            check_name("name", name, 200)?;
        }
        for (i, scope) in self.scopes.iter().flatten().enumerate() {
            check_len(&format!("scopes[{i}].value"), &scope.value, 1, 280)?;
            if let Some(d) = &scope.description {
                check_len(&format!("scopes[{i}].description"), d, 0, 500)?;
            }
        }
        if let Some(lifetime) = self.token_lifetime
            && lifetime > MAX_TOKEN_LIFETIME
        {
            return Err(Auth0Error::invalid(
                "token_lifetime",
                format!("at most {MAX_TOKEN_LIFETIME} seconds, got {lifetime}"),
            ));
        }
        Ok(())
    }
}

macro_rules! settings_setters {
    () => {
        /// Sets the display name (max 200 characters, no `<` or `>`).
        pub fn name(mut self, name: impl Into<String>) -> Self {
            self.settings.name = Some(name.into());
            self
        }

        /// Sets the scopes the API defines (replaces the whole list).
        pub fn scopes(mut self, scopes: impl IntoIterator<Item = ResourceServerScope>) -> Self {
            self.settings.scopes = Some(scopes.into_iter().collect());
            self
        }

        /// Sets the access token lifetime in seconds (max 30 days).
        pub fn token_lifetime(mut self, seconds: u32) -> Self {
            self.settings.token_lifetime = Some(seconds);
            self
        }

        /// Sets the signing algorithm.
        pub fn signing_alg(mut self, alg: SigningAlg) -> Self {
            self.settings.signing_alg = Some(alg);
            self
        }

        /// Allows refresh tokens.
        pub fn allow_offline_access(mut self, allow: bool) -> Self {
            self.settings.allow_offline_access = Some(allow);
            self
        }

        /// Sets the token dialect.
        pub fn token_dialect(mut self, dialect: TokenDialect) -> Self {
            self.settings.token_dialect = Some(dialect);
            self
        }

        /// Skips consent for verifiable first-party clients.
        pub fn skip_consent_for_verifiable_first_party_clients(mut self, skip: bool) -> Self {
            self.settings.skip_consent_for_verifiable_first_party_clients = Some(skip);
            self
        }
    };
}

/// Body of `POST /api/v2/resource-servers` (`CreateResourceServerRequestContent`).
#[derive(Clone, Debug, Serialize)]
#[must_use]
pub struct NewResourceServer {
    identifier: Audience,
    #[serde(flatten)]
    settings: Settings,
}

impl NewResourceServer {
    /// A new API whose identifier (audience) is `identifier` (1–600 characters).
    pub fn new(identifier: impl Into<Audience>) -> Self {
        NewResourceServer {
            identifier: identifier.into(),
            settings: Settings::default(),
        }
    }

    settings_setters!();

    fn validate(&self) -> Result<()> {
        check_len("identifier", self.identifier.as_str(), 1, 600)?;
        self.settings.validate()
    }
}

/// Body of `PATCH /api/v2/resource-servers/{id}` (`UpdateResourceServerRequestContent`).
/// The identifier cannot change.
#[derive(Clone, Debug, Default, Serialize)]
#[must_use]
pub struct ResourceServerUpdate {
    #[serde(flatten)]
    settings: Settings,
}

impl ResourceServerUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    settings_setters!();
}

/// Handler for `/api/v2/resource-servers`. Obtain it with [`Auth0Client::resource_servers`].
#[derive(Clone, Debug)]
pub struct ResourceServers {
    client: Auth0Client,
}

impl ResourceServers {
    pub(crate) fn new(client: Auth0Client) -> Self {
        ResourceServers { client }
    }

    /// Creates an API. An identifier already in use fails with [`Auth0Error::Conflict`].
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client) -> auth0_mgmt::Result<()> {
    /// use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope};
    /// let api = auth0
    ///     .resource_servers()
    ///     .create(
    ///         &NewResourceServer::new("https://api.example.com")
    ///             .name("Example API")
    ///             .scopes([ResourceServerScope::new("read:orders", "Read orders")]),
    ///     )
    ///     .await?;
    /// println!("{} -> {}", api.id, api.identifier);
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, new: &NewResourceServer) -> Result<ResourceServer> {
        new.validate()?;
        let builder = self
            .client
            .request(Method::POST, self.client.api_url(&["resource-servers"]))
            .json(new);
        self.client.send_json(&CREATE, builder).await
    }

    /// Reads an API by id or by identifier (Auth0 accepts both in the path).
    #[tracing::instrument(skip_all, fields(id = %id_or_identifier))]
    pub async fn get(&self, id_or_identifier: &str) -> Result<ResourceServer> {
        check_len("id", id_or_identifier, 1, usize::MAX)?;
        let url = self.client.api_url(&["resource-servers", id_or_identifier]);
        self.client.send_json(&GET, self.client.request(Method::GET, url)).await
    }

    /// Reads an API by id or identifier, `Ok(None)` if it does not exist.
    pub async fn get_opt(&self, id_or_identifier: &str) -> Result<Option<ResourceServer>> {
        self.get(id_or_identifier).await.optional()
    }

    /// Lists APIs; see [`ListResourceServers`].
    pub fn list(&self) -> ListResourceServers {
        ListResourceServers {
            client: self.client.clone(),
            paging: PageRequest::default(),
            filters: Filters::default(),
        }
    }

    /// Changes an API's settings. Auth0 answers this PATCH with 201.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update(&self, id: &ResourceServerId, update: &ResourceServerUpdate) -> Result<ResourceServer> {
        check_len("id", id.as_str(), 1, usize::MAX)?;
        update.settings.validate()?;
        let url = self.client.api_url(&["resource-servers", id.as_str()]);
        self.client
            .send_json(&UPDATE, self.client.request(Method::PATCH, url).json(update))
            .await
    }

    /// Deletes an API (and, on Auth0, the grants for its audience). 204 whether or not it
    /// existed.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete(&self, id: &ResourceServerId) -> Result<()> {
        check_len("id", id.as_str(), 1, usize::MAX)?;
        let url = self.client.api_url(&["resource-servers", id.as_str()]);
        self.client
            .send_empty(&DELETE, self.client.request(Method::DELETE, url))
            .await
    }
}

/// `GET /api/v2/resource-servers` with its filters (offset pagination only).
#[derive(Clone, Debug)]
#[must_use]
pub struct ListResourceServers {
    client: Auth0Client,
    paging: PageRequest,
    filters: Filters,
}

impl ListResourceServers {
    /// Only APIs with one of these identifiers (may be called several times).
    pub fn identifier(mut self, identifier: impl Into<Audience>) -> Self {
        self.filters.add("identifiers", identifier.into().into_inner());
        self
    }

    offset_paging_setters!();

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<ResourceServer>> {
        let paging = self.paging.single(false)?;
        self.fetch(paging).await
    }

    /// Walks every page lazily.
    pub fn stream(self) -> impl Stream<Item = Result<ResourceServer>> + Send + 'static {
        let start = self.paging.stream_start(false);
        walk(self, start)
    }
}

impl PageSource for ListResourceServers {
    type Item = ResourceServer;
    fn fetch(&self, paging: Paging) -> BoxFuture<'static, Result<Page<ResourceServer>>> {
        self.client
            .list_page(&LIST, "resource-servers", self.filters.to_vec(), paging)
    }
}

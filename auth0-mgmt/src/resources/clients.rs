//! Applications: `/api/v2/clients`.

use std::collections::BTreeMap;

use futures::Stream;
use futures::future::BoxFuture;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use super::{check_len, check_name};
use crate::client::Auth0Client;
use crate::enums::{AppType, GrantType, OrganizationUsage, SigningAlg, TokenEndpointAuthMethod};
use crate::error::{Auth0Error, NotFoundAsNone, Result};
use crate::ids::ClientId;
use crate::pagination::{Filters, Page, PageRequest, PageSource, Paging, walk};
use crate::secret::ClientSecret;
use dcr_client_core::Operation;

static LIST: Operation = Operation::new(Method::GET, "/api/v2/clients");
static CREATE: Operation = Operation::new(Method::POST, "/api/v2/clients");
static GET: Operation = Operation::new(Method::GET, "/api/v2/clients/{id}");
static UPDATE: Operation = Operation::new(Method::PATCH, "/api/v2/clients/{id}");
static DELETE: Operation = Operation::new(Method::DELETE, "/api/v2/clients/{id}");
/// A PATCH that sets only the secret: sending it twice sets the same value, so a lost
/// answer or a 5xx is retried.
static SET_SECRET: Operation = Operation::new(Method::PATCH, "/api/v2/clients/{id}").repeatable();
static ROTATE: Operation = Operation::new(Method::POST, "/api/v2/clients/{id}/rotate-secret");

/// Every operation this handler exposes, for coverage and contract checks.
pub const OPERATIONS: [&Operation; 6] = [&LIST, &CREATE, &GET, &UPDATE, &DELETE, &ROTATE];

/// Most keys `client_metadata` may hold (the document's `maxProperties`).
pub const METADATA_MAX_KEYS: usize = 10;
/// Longest `client_metadata` key and value Auth0 accepts.
pub const METADATA_MAX_LEN: usize = 255;

/// `client_metadata`: string keys to string values.
pub type ClientMetadata = BTreeMap<String, String>;

/// An application as Auth0 returns it (`GetClientResponseContent` and friends).
///
/// Fields this crate does not model are kept in `extra`, so nothing is lost on a
/// round trip.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Client {
    /// The application's id.
    pub client_id: ClientId,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Free-text description (max 140 characters).
    pub description: Option<String>,
    /// Application type.
    pub app_type: Option<AppType>,
    /// Whether the application is first-party.
    pub is_first_party: Option<bool>,
    /// Whether the application is OIDC conformant.
    pub oidc_conformant: Option<bool>,
    /// Grant types the application may use.
    pub grant_types: Option<Vec<GrantType>>,
    /// How the application authenticates at the token endpoint.
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    /// Free-form string metadata.
    pub client_metadata: Option<ClientMetadata>,
    /// Token settings.
    pub jwt_configuration: Option<JwtConfiguration>,
    /// Organizations usage.
    pub organization_usage: Option<OrganizationUsage>,
    /// The client secret, present for confidential applications when the token may read it.
    pub client_secret: Option<ClientSecret>,
    /// Every other field Auth0 returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Client {
    /// A `client_metadata` value.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.client_metadata.as_ref()?.get(key).map(String::as_str)
    }
}

/// `jwt_configuration` of an application.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JwtConfiguration {
    /// Signing algorithm of ID tokens.
    pub alg: Option<SigningAlg>,
    /// ID token lifetime in seconds.
    pub lifetime_in_seconds: Option<u64>,
    /// Whether the client secret is base64-encoded.
    pub secret_encoded: Option<bool>,
    /// Scopes configuration.
    pub scopes: Option<Map<String, Value>>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl JwtConfiguration {
    /// An empty configuration to fill in.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the signing algorithm.
    pub fn alg(mut self, alg: SigningAlg) -> Self {
        self.alg = Some(alg);
        self
    }

    /// Sets the ID token lifetime.
    pub fn lifetime_in_seconds(mut self, seconds: u64) -> Self {
        self.lifetime_in_seconds = Some(seconds);
        self
    }
}

/// Optional application settings shared by the create and update bodies.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
struct ClientSettings {
    description: Option<String>,
    app_type: Option<AppType>,
    is_first_party: Option<bool>,
    oidc_conformant: Option<bool>,
    grant_types: Option<Vec<GrantType>>,
    token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    client_metadata: Option<ClientMetadata>,
    jwt_configuration: Option<JwtConfiguration>,
    organization_usage: Option<OrganizationUsage>,
}

impl ClientSettings {
    fn validate(&self) -> Result<()> {
        if let Some(d) = &self.description {
            check_len("description", d, 0, 140)?;
        }
        if let Some(m) = &self.client_metadata {
            validate_metadata(m)?;
        }
        Ok(())
    }
}

/// Setters for the fields of [`ClientSettings`], on a type with a `settings` field.
macro_rules! client_settings_setters {
    () => {
        /// Sets the description (max 140 characters).
        pub fn description(mut self, description: impl Into<String>) -> Self {
            self.settings.description = Some(description.into());
            self
        }

        /// Sets the application type.
        pub fn app_type(mut self, app_type: AppType) -> Self {
            self.settings.app_type = Some(app_type);
            self
        }

        /// Marks the application first-party (or third-party).
        pub fn is_first_party(mut self, first_party: bool) -> Self {
            self.settings.is_first_party = Some(first_party);
            self
        }

        /// Sets OIDC conformance.
        pub fn oidc_conformant(mut self, conformant: bool) -> Self {
            self.settings.oidc_conformant = Some(conformant);
            self
        }

        /// Sets the allowed grant types (replaces the list).
        pub fn grant_types(mut self, grant_types: impl IntoIterator<Item = GrantType>) -> Self {
            self.settings.grant_types = Some(grant_types.into_iter().collect());
            self
        }

        /// Sets the token endpoint authentication method.
        pub fn token_endpoint_auth_method(mut self, method: TokenEndpointAuthMethod) -> Self {
            self.settings.token_endpoint_auth_method = Some(method);
            self
        }

        /// Adds one `client_metadata` entry.
        pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
            self.settings
                .client_metadata
                .get_or_insert_with(BTreeMap::new)
                .insert(key.into(), value.into());
            self
        }

        /// Sets `client_metadata` (on update, Auth0 merges these keys into the existing ones).
        pub fn client_metadata(mut self, metadata: ClientMetadata) -> Self {
            self.settings.client_metadata = Some(metadata);
            self
        }

        /// Sets `jwt_configuration`.
        pub fn jwt_configuration(mut self, config: JwtConfiguration) -> Self {
            self.settings.jwt_configuration = Some(config);
            self
        }

        /// Sets Organizations usage.
        pub fn organization_usage(mut self, usage: OrganizationUsage) -> Self {
            self.settings.organization_usage = Some(usage);
            self
        }
    };
}

/// Body of `POST /api/v2/clients` (`CreateClientRequestContent`).
#[derive(Clone, Debug, Serialize)]
#[must_use]
pub struct NewClient {
    name: String,
    #[serde(flatten)]
    settings: ClientSettings,
}

impl NewClient {
    /// A new application with this name; everything else is optional.
    pub fn new(name: impl Into<String>) -> Self {
        NewClient {
            name: name.into(),
            settings: ClientSettings::default(),
        }
    }

    /// A machine-to-machine application: `non_interactive`, `client_credentials`,
    /// secret sent in the request body.
    pub fn machine_to_machine(name: impl Into<String>) -> Self {
        Self::new(name)
            .app_type(AppType::NonInteractive)
            .grant_types([GrantType::ClientCredentials])
            .token_endpoint_auth_method(TokenEndpointAuthMethod::ClientSecretPost)
    }

    client_settings_setters!();

    fn validate(&self) -> Result<()> {
        check_name("name", &self.name, usize::MAX)?;
        self.settings.validate()
    }
}

/// Body of `PATCH /api/v2/clients/{id}` (`UpdateClientRequestContent`): only the fields set
/// are sent.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[must_use]
pub struct ClientUpdate {
    name: Option<String>,
    #[serde(flatten)]
    settings: ClientSettings,
}

impl ClientUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the application.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    client_settings_setters!();

    fn validate(&self) -> Result<()> {
        if let Some(n) = &self.name {
            check_name("name", n, usize::MAX)?;
        }
        self.settings.validate()
    }
}

/// Auth0's `client_metadata` rules: at most 10 keys; keys of letters, digits, `_` and `-`;
/// keys and values at most 255 characters.
pub fn validate_metadata(metadata: &ClientMetadata) -> Result<()> {
    if metadata.len() > METADATA_MAX_KEYS {
        return Err(Auth0Error::invalid(
            "client_metadata",
            format!("at most {METADATA_MAX_KEYS} keys, got {}", metadata.len()),
        ));
    }
    for (key, value) in metadata {
        let field = format!("client_metadata.{key}");
        check_len(&field, key, 1, METADATA_MAX_LEN)?;
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(Auth0Error::invalid(
                field,
                "keys may hold only letters, digits, `_` and `-`",
            ));
        }
        check_len(&field, value, 0, METADATA_MAX_LEN)?;
    }
    Ok(())
}

fn check_id(id: &ClientId) -> Result<()> {
    if id.as_str().is_empty() {
        return Err(Auth0Error::invalid("client_id", "must not be empty"));
    }
    Ok(())
}

/// Handler for `/api/v2/clients`. Obtain it with [`Auth0Client::clients`].
#[derive(Clone, Debug)]
pub struct Clients {
    client: Auth0Client,
}

impl Clients {
    pub(crate) fn new(client: Auth0Client) -> Self {
        Clients { client }
    }

    /// Creates an application. The response holds the `client_secret` for confidential
    /// applications; it is the only time you are sure to see it, so store it.
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client) -> auth0_mgmt::Result<()> {
    /// use auth0_mgmt::resources::clients::NewClient;
    /// let app = auth0
    ///     .clients()
    ///     .create(&NewClient::machine_to_machine("Konnect Portal DCR Admin").metadata("managed_by", "dcr-rs"))
    ///     .await?;
    /// println!("created {}", app.client_id);
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, new: &NewClient) -> Result<Client> {
        new.validate()?;
        let builder = self
            .client
            .request(Method::POST, self.client.api_url(&["clients"]))
            .json(new);
        self.client.send_json(&CREATE, builder).await
    }

    /// Reads an application.
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client) -> auth0_mgmt::Result<()> {
    /// let app = auth0.clients().get(&"AaiyAPdpYdesoKnqjj8HJqRn4T5titww".into()).await?;
    /// println!("{} ({:?})", app.name, app.app_type);
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all, fields(client_id = %id))]
    pub async fn get(&self, id: &ClientId) -> Result<Client> {
        check_id(id)?;
        let builder = self
            .client
            .request(Method::GET, self.client.api_url(&["clients", id.as_str()]));
        self.client.send_json(&GET, builder).await
    }

    /// Reads only some of an application's fields (`fields` and `include_fields=true` on
    /// the wire): cheaper, and the way to ask for `client_secret` alone, which Auth0
    /// includes only when the token holds `read:client_keys`.
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client) -> auth0_mgmt::Result<()> {
    /// let app = auth0.clients().get_fields(&"AaiyAPdpYdesoKnqjj8HJqRn4T5titww".into(), ["client_id", "client_secret"]).await?;
    /// println!("secret readable: {}", app.client_secret.is_some());
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all, fields(client_id = %id))]
    pub async fn get_fields(&self, id: &ClientId, fields: impl IntoIterator<Item = impl AsRef<str>>) -> Result<Client> {
        check_id(id)?;
        let joined = fields
            .into_iter()
            .map(|f| f.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(",");
        let builder = self
            .client
            .request(Method::GET, self.client.api_url(&["clients", id.as_str()]))
            .query(&[("fields", joined.as_str()), ("include_fields", "true")]);
        self.client.send_json(&GET, builder).await
    }

    /// Reads an application, `Ok(None)` if it does not exist.
    pub async fn get_opt(&self, id: &ClientId) -> Result<Option<Client>> {
        self.get(id).await.optional()
    }

    /// Lists applications; see [`ListClients`] for filters, `send()` and `stream()`.
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client) -> auth0_mgmt::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut apps = std::pin::pin!(auth0.clients().list().stream());
    /// while let Some(app) = apps.try_next().await? {
    ///     if app.metadata("konnect_application_id").is_some() {
    ///         println!("{}", app.client_id);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListClients {
        ListClients {
            client: self.client.clone(),
            paging: PageRequest::default(),
            filters: Filters::default(),
        }
    }

    /// Changes an application; only the fields set on `update` are sent.
    #[tracing::instrument(skip_all, fields(client_id = %id))]
    pub async fn update(&self, id: &ClientId, update: &ClientUpdate) -> Result<Client> {
        check_id(id)?;
        update.validate()?;
        let builder = self
            .client
            .request(Method::PATCH, self.client.api_url(&["clients", id.as_str()]))
            .json(update);
        self.client.send_json(&UPDATE, builder).await
    }

    /// Deletes an application. Auth0 answers 204 whether or not it existed.
    #[tracing::instrument(skip_all, fields(client_id = %id))]
    pub async fn delete(&self, id: &ClientId) -> Result<()> {
        check_id(id)?;
        let builder = self
            .client
            .request(Method::DELETE, self.client.api_url(&["clients", id.as_str()]));
        self.client.send_empty(&DELETE, builder).await
    }

    /// Replaces the application's secret; the old one stops working at once. The new
    /// secret is in the returned [`Client::client_secret`].
    #[tracing::instrument(skip_all, fields(client_id = %id))]
    pub async fn rotate_secret(&self, id: &ClientId) -> Result<Client> {
        check_id(id)?;
        let url = self.client.api_url(&["clients", id.as_str(), "rotate-secret"]);
        let builder = self.client.request(Method::POST, url);
        self.client.send_json(&ROTATE, builder).await
    }

    /// Sets the application's secret to one chosen by the caller (`PATCH` with only
    /// `client_secret`). Unlike [`Clients::rotate_secret`] the caller knows the new secret
    /// before Auth0 does, so it can be recorded first and the request repeated safely
    /// (it is retried after a lost answer or a 5xx): the building block of a crash-safe
    /// rotation. The old secret stops working at once.
    #[tracing::instrument(skip_all, fields(client_id = %id))]
    pub async fn set_secret(&self, id: &ClientId, secret: &ClientSecret) -> Result<Client> {
        check_id(id)?;
        #[derive(Serialize)]
        struct Body<'a> {
            client_secret: &'a ClientSecret,
        }
        let builder = self
            .client
            .request(Method::PATCH, self.client.api_url(&["clients", id.as_str()]))
            .json(&Body { client_secret: secret });
        self.client.send_json(&SET_SECRET, builder).await
    }
}

/// `GET /api/v2/clients` with its filters. [`ListClients::send`] returns one page,
/// [`ListClients::stream`] walks them all.
#[derive(Clone, Debug)]
#[must_use]
pub struct ListClients {
    client: Auth0Client,
    paging: PageRequest,
    filters: Filters,
}

impl ListClients {
    fn filter(mut self, key: &'static str, value: String) -> Self {
        self.filters.set(key, value);
        self
    }

    offset_paging_setters!();
    checkpoint_paging_setters!();

    /// Only applications of these types.
    pub fn app_type(self, types: impl IntoIterator<Item = AppType>) -> Self {
        let joined = types.into_iter().map(|t| t.to_string()).collect::<Vec<_>>().join(",");
        self.filter("app_type", joined)
    }

    /// Only first-party (or third-party) applications.
    pub fn is_first_party(self, first_party: bool) -> Self {
        self.filter("is_first_party", first_party.to_string())
    }

    /// Only global (or non-global) applications.
    pub fn is_global(self, global: bool) -> Self {
        self.filter("is_global", global.to_string())
    }

    /// Return only these fields (comma-separated on the wire).
    pub fn fields(self, fields: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let joined = fields
            .into_iter()
            .map(|f| f.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(",");
        self.filter("fields", joined)
            .filter("include_fields", "true".to_owned())
    }

    /// Fetches one page (offset by default, checkpoint if `from`/`take` was set).
    pub async fn send(self) -> Result<Page<Client>> {
        let paging = self.paging.single(true)?;
        self.fetch(paging).await
    }

    /// Walks every page lazily (checkpoint pagination unless `page`/`per_page` was set),
    /// one page in memory at a time.
    pub fn stream(self) -> impl Stream<Item = Result<Client>> + Send + 'static {
        let start = self.paging.stream_start(true);
        walk(self, start)
    }
}

impl PageSource for ListClients {
    type Item = Client;
    fn fetch(&self, paging: Paging) -> BoxFuture<'static, Result<Page<Client>>> {
        self.client.list_page(&LIST, "clients", self.filters.to_vec(), paging)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_rules_name_the_key() {
        let mut m = ClientMetadata::new();
        m.insert("konnect_org_id".into(), "x".repeat(256));
        let err = validate_metadata(&m).unwrap_err();
        assert!(
            matches!(&err, Auth0Error::InvalidInput { field, .. } if field == "client_metadata.konnect_org_id"),
            "{err}"
        );

        let mut m = ClientMetadata::new();
        m.insert("bad key".into(), "v".into());
        assert!(validate_metadata(&m).is_err());

        let m: ClientMetadata = (0..11).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        let err = validate_metadata(&m).unwrap_err();
        assert!(err.to_string().contains("at most 10 keys"), "{err}");
    }

    #[test]
    fn new_client_validates_name_and_description() {
        assert!(NewClient::new("").validate().is_err());
        assert!(NewClient::new("a<b").validate().is_err());
        assert!(NewClient::new("ok").description("d".repeat(141)).validate().is_err());
        assert!(NewClient::machine_to_machine("ok").validate().is_ok());
    }

    #[test]
    fn machine_to_machine_body_matches_the_document() {
        let body = serde_json::to_value(NewClient::machine_to_machine("DCR admin").metadata("k", "v")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "name": "DCR admin",
                "app_type": "non_interactive",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "client_secret_post",
                "client_metadata": {"k": "v"}
            })
        );
    }

    #[test]
    fn client_decodes_with_unknown_fields_and_redacts_its_secret() {
        let json = serde_json::json!({
            "client_id": "AaiyAPdpYdesoKnqjj8HJqRn4T5titww",
            "name": "My application",
            "client_secret": "MG_TNT2ver-SylNat-_VeMmd-4m0Waba0jr1troztBniSChEw0glxEmgEi2Kw40H",
            "app_type": "brand_new_type",
            "callbacks": ["https://example.com/cb"],
            "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 36000, "secret_encoded": true}
        });
        let client: Client = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(client.app_type, Some(AppType::Unknown("brand_new_type".into())));
        assert!(client.extra.contains_key("callbacks"));
        let debug = format!("{client:?}");
        assert!(!debug.contains("MG_TNT2ver"), "{debug}");
        assert_eq!(
            serde_json::to_value(&client).unwrap(),
            json,
            "round trip keeps every field"
        );
    }
}

//! Application auth strategies (`/v2/application-auth-strategies`): how portal
//! applications authenticate, `key_auth` or `openid_connect` (optionally with DCR).
//!
//! On the wire the type sits in `strategy_type` and the settings in `configs` under
//! `key-auth` or `openid-connect`. OpenID Connect settings beyond the four documented
//! ones sit inline in that object (there is no `additional_properties` key); they are
//! kept in [`OidcConfig::extra`]. The strategy's audience for Auth0 travels that way:
//! `token_post_args_names: ["audience"]`, `token_post_args_values: [<audience>]`.

use dcr_client_core::Operation;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Labels, LabelsUpdate, List};
use crate::client::KonnectClient;
use crate::error::{KonnectError, NotFoundAsNone, Result};
use crate::ids::{AuthStrategyId, DcrProviderId};
use crate::validate;

static CREATE: Operation = Operation::new(Method::POST, "/v2/application-auth-strategies");
static LIST: Operation = Operation::new(Method::GET, "/v2/application-auth-strategies");
static GET: Operation = Operation::new(Method::GET, "/v2/application-auth-strategies/{authStrategyId}");
static REPLACE: Operation = Operation::new(Method::PUT, "/v2/application-auth-strategies/{authStrategyId}");
static UPDATE: Operation = Operation::new(Method::PATCH, "/v2/application-auth-strategies/{authStrategyId}");
static DELETE: Operation = Operation::new(Method::DELETE, "/v2/application-auth-strategies/{authStrategyId}");

/// Every operation this handler exposes, for coverage checks.
pub const OPERATIONS: [&Operation; 6] = [&CREATE, &LIST, &GET, &REPLACE, &UPDATE, &DELETE];

const TOKEN_POST_ARGS_NAMES: &str = "token_post_args_names";
const TOKEN_POST_ARGS_VALUES: &str = "token_post_args_values";

/// Makes the OpenID Connect plugin send `audience` with token requests.
fn set_audience(settings: &mut Map<String, Value>, audience: String) {
    settings.insert(TOKEN_POST_ARGS_NAMES.into(), Value::from(vec!["audience"]));
    settings.insert(TOKEN_POST_ARGS_VALUES.into(), Value::from(vec![audience]));
}

/// The audience sent with token requests, from OpenID Connect settings (`token_post_args_*`).
pub(crate) fn audience_in(settings: &Map<String, Value>) -> Option<&str> {
    let names = settings.get(TOKEN_POST_ARGS_NAMES)?.as_array()?;
    let values = settings.get(TOKEN_POST_ARGS_VALUES)?.as_array()?;
    let index = names.iter().position(|n| n.as_str() == Some("audience"))?;
    values.get(index)?.as_str()
}

/// `configs.openid-connect` (`AppAuthStrategyConfigOpenIDConnect`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OidcConfig {
    /// The identity provider's issuer URL.
    pub issuer: String,
    /// Claims that identify the application, e.g. `["azp"]` for Auth0.
    pub credential_claim: Vec<String>,
    /// Scopes, `openid` among them.
    pub scopes: Vec<String>,
    /// Allowed auth methods, e.g. `client_credentials`, `bearer`, `session`.
    pub auth_methods: Vec<String>,
    /// Further OpenID Connect plugin settings, kept inline on the wire.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OidcConfig {
    /// The four documented settings; add others with [`Self::audience`] or [`Self::extra`].
    pub fn new<S: Into<String>>(
        issuer: impl Into<String>,
        credential_claim: impl IntoIterator<Item = S>,
        scopes: impl IntoIterator<Item = S>,
        auth_methods: impl IntoIterator<Item = S>,
    ) -> Self {
        OidcConfig {
            issuer: issuer.into(),
            credential_claim: credential_claim.into_iter().map(Into::into).collect(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            auth_methods: auth_methods.into_iter().map(Into::into).collect(),
            extra: Map::new(),
        }
    }

    /// Sends `audience` with token requests: `token_post_args_names: ["audience"]`,
    /// `token_post_args_values: [audience]`.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        set_audience(&mut self.extra, audience.into());
        self
    }

    /// Sets any other OpenID Connect plugin setting inline.
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }

    /// The audience set through `token_post_args_*`, if any.
    pub fn audience_value(&self) -> Option<&str> {
        audience_in(&self.extra)
    }

    fn validate(&self, prefix: &str) -> Result<()> {
        validate::issuer(&format!("{prefix}.issuer"), &self.issuer, false)?;
        validate::list(
            &format!("{prefix}.credential_claim"),
            &self.credential_claim,
            0,
            10,
            128,
        )?;
        validate::list(&format!("{prefix}.scopes"), &self.scopes, 0, 50, 128)?;
        validate::list(&format!("{prefix}.auth_methods"), &self.auth_methods, 0, 10, 64)?;
        Ok(())
    }
}

/// `ttl` of key-auth credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyTtl {
    /// How many units (≥ 1).
    pub value: u32,
    /// `days`, `weeks` or `years`.
    pub unit: String,
}

impl KeyTtl {
    /// A TTL; `unit` is `days`, `weeks` or `years`.
    pub fn new(value: u32, unit: impl Into<String>) -> Self {
        KeyTtl {
            value,
            unit: unit.into(),
        }
    }
}

/// `configs.key-auth` (`AppAuthStrategyConfigKeyAuth`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyAuthConfig {
    /// Header/query names the key is read from (1–10, each ≤ 256 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_names: Option<Vec<String>>,
    /// Credential lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<KeyTtl>,
}

impl KeyAuthConfig {
    /// Key names to read the key from.
    pub fn new<S: Into<String>>(key_names: impl IntoIterator<Item = S>) -> Self {
        KeyAuthConfig {
            key_names: Some(key_names.into_iter().map(Into::into).collect()),
            ttl: None,
        }
    }

    /// Sets the credential lifetime.
    #[must_use]
    pub fn ttl(mut self, ttl: KeyTtl) -> Self {
        self.ttl = Some(ttl);
        self
    }

    fn validate(&self, prefix: &str) -> Result<()> {
        if let Some(names) = &self.key_names {
            validate::list(&format!("{prefix}.key_names"), names, 1, 10, 256)?;
        }
        if let Some(ttl) = &self.ttl {
            if ttl.value == 0 {
                return Err(KonnectError::invalid(
                    format!("{prefix}.ttl.value"),
                    "must be at least 1",
                ));
            }
            if !matches!(ttl.unit.as_str(), "days" | "weeks" | "years") {
                return Err(KonnectError::invalid(
                    format!("{prefix}.ttl.unit"),
                    "must be one of days, weeks, years",
                ));
            }
        }
        Ok(())
    }
}

/// A strategy's type and settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StrategyConfig {
    /// `key_auth`.
    KeyAuth(KeyAuthConfig),
    /// `openid_connect`.
    OpenIdConnect(OidcConfig),
    /// A type this version does not know, kept verbatim.
    Unknown {
        /// The `strategy_type` as sent.
        strategy_type: String,
        /// The `configs` object as sent.
        configs: Value,
    },
}

impl StrategyConfig {
    /// The `strategy_type` on the wire.
    pub fn strategy_type(&self) -> &str {
        match self {
            StrategyConfig::KeyAuth(_) => "key_auth",
            StrategyConfig::OpenIdConnect(_) => "openid_connect",
            StrategyConfig::Unknown { strategy_type, .. } => strategy_type,
        }
    }

    /// The OpenID Connect settings, if this is one.
    pub fn as_openid_connect(&self) -> Option<&OidcConfig> {
        match self {
            StrategyConfig::OpenIdConnect(c) => Some(c),
            _ => None,
        }
    }

    fn to_wire(&self) -> Value {
        let mut configs = Map::new();
        match self {
            StrategyConfig::KeyAuth(c) => {
                configs.insert("key-auth".into(), serde_json::to_value(c).unwrap_or(Value::Null));
            }
            StrategyConfig::OpenIdConnect(c) => {
                configs.insert("openid-connect".into(), serde_json::to_value(c).unwrap_or(Value::Null));
            }
            StrategyConfig::Unknown { configs: raw, .. } => return raw.clone(),
        }
        Value::Object(configs)
    }

    fn from_wire(strategy_type: String, mut configs: Value) -> std::result::Result<Self, serde_json::Error> {
        let mut take = |key: &str| {
            configs
                .get_mut(key)
                .map(Value::take)
                .unwrap_or(Value::Object(Map::new()))
        };
        Ok(match strategy_type.as_str() {
            "key_auth" => StrategyConfig::KeyAuth(serde_json::from_value(take("key-auth"))?),
            "openid_connect" => StrategyConfig::OpenIdConnect(serde_json::from_value(take("openid-connect"))?),
            _ => StrategyConfig::Unknown { strategy_type, configs },
        })
    }

    fn validate(&self) -> Result<()> {
        match self {
            StrategyConfig::KeyAuth(c) => c.validate("configs.key-auth"),
            StrategyConfig::OpenIdConnect(c) => c.validate("configs.openid-connect"),
            StrategyConfig::Unknown { strategy_type, .. } => Err(KonnectError::invalid(
                "strategy_type",
                format!("cannot send the unknown strategy type {strategy_type:?}"),
            )),
        }
    }
}

/// The summary of the DCR provider a strategy uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DcrProviderSummary {
    /// Its id.
    pub id: DcrProviderId,
    /// Its name.
    pub name: String,
    /// Its display name, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Its type, e.g. `auth0`.
    pub provider_type: String,
}

/// `principals`: whether developers' portal identities flow to the upstream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Principals {
    /// On or off.
    pub enabled: bool,
}

/// An application auth strategy (`AppAuthStrategy`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireStrategy", into = "WireStrategy")]
#[non_exhaustive]
pub struct AuthStrategy {
    /// Its id.
    pub id: AuthStrategyId,
    /// Its name.
    pub name: String,
    /// Name shown to developers.
    pub display_name: String,
    /// Type and settings.
    pub config: StrategyConfig,
    /// Whether an API publication uses it.
    pub active: bool,
    /// The DCR provider it uses, if any.
    pub dcr_provider: Option<DcrProviderSummary>,
    /// Labels.
    pub labels: Labels,
    /// Whether applications may hold several credentials.
    pub supports_multiple_credentials: Option<bool>,
    /// Principals setting, when returned.
    pub principals: Option<Principals>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

#[derive(Serialize, Deserialize)]
struct WireStrategy {
    id: AuthStrategyId,
    name: String,
    #[serde(default)]
    display_name: String,
    strategy_type: String,
    configs: Value,
    #[serde(default)]
    active: bool,
    #[serde(default)]
    dcr_provider: Option<DcrProviderSummary>,
    #[serde(default)]
    labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    supports_multiple_credentials: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    principals: Option<Principals>,
    created_at: String,
    updated_at: String,
}

impl TryFrom<WireStrategy> for AuthStrategy {
    type Error = serde_json::Error;
    fn try_from(w: WireStrategy) -> std::result::Result<Self, Self::Error> {
        Ok(AuthStrategy {
            config: StrategyConfig::from_wire(w.strategy_type, w.configs)?,
            id: w.id,
            name: w.name,
            display_name: w.display_name,
            active: w.active,
            dcr_provider: w.dcr_provider,
            labels: w.labels,
            supports_multiple_credentials: w.supports_multiple_credentials,
            principals: w.principals,
            created_at: w.created_at,
            updated_at: w.updated_at,
        })
    }
}

impl From<AuthStrategy> for WireStrategy {
    fn from(s: AuthStrategy) -> Self {
        WireStrategy {
            strategy_type: s.config.strategy_type().to_owned(),
            configs: s.config.to_wire(),
            id: s.id,
            name: s.name,
            display_name: s.display_name,
            active: s.active,
            dcr_provider: s.dcr_provider,
            labels: s.labels,
            supports_multiple_credentials: s.supports_multiple_credentials,
            principals: s.principals,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Body of create (POST) and replace (PUT) (`CreateAppAuthStrategyRequest`).
///
/// ```
/// use konnect_appauth::resources::auth_strategies::{NewAuthStrategy, OidcConfig};
/// let strategy = NewAuthStrategy::openid_connect(
///     "auth0-dcr",
///     "Auth0 client credentials",
///     OidcConfig::new(
///         "https://acme.us.auth0.com",
///         ["azp"],
///         ["openid", "read:orders"],
///         ["client_credentials", "bearer", "session"],
///     )
///     .audience("https://api.example.com/orders"),
/// )
/// .dcr_provider("5f3ad2b4-4c5a-4a39-8e4b-0f1b0f8a8a11");
/// # let _ = strategy;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct NewAuthStrategy {
    name: String,
    display_name: String,
    config: StrategyConfig,
    dcr_provider_id: Option<DcrProviderId>,
    labels: Labels,
    principals: Option<Principals>,
}

impl Serialize for NewAuthStrategy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            name: &'a str,
            display_name: &'a str,
            strategy_type: &'a str,
            configs: Value,
            #[serde(skip_serializing_if = "Option::is_none")]
            dcr_provider_id: Option<&'a DcrProviderId>,
            #[serde(skip_serializing_if = "Labels::is_empty")]
            labels: &'a Labels,
            #[serde(skip_serializing_if = "Option::is_none")]
            principals: Option<Principals>,
        }
        Wire {
            name: &self.name,
            display_name: &self.display_name,
            strategy_type: self.config.strategy_type(),
            configs: self.config.to_wire(),
            dcr_provider_id: self.dcr_provider_id.as_ref(),
            labels: &self.labels,
            principals: self.principals,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for NewAuthStrategy {
    /// Reads a create/replace body, e.g. from a configuration file.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            name: String,
            display_name: String,
            strategy_type: String,
            configs: Value,
            #[serde(default)]
            dcr_provider_id: Option<DcrProviderId>,
            #[serde(default)]
            labels: Labels,
            #[serde(default)]
            principals: Option<Principals>,
        }
        let w = Wire::deserialize(deserializer)?;
        let config = StrategyConfig::from_wire(w.strategy_type, w.configs).map_err(serde::de::Error::custom)?;
        Ok(NewAuthStrategy {
            name: w.name,
            display_name: w.display_name,
            config,
            dcr_provider_id: w.dcr_provider_id,
            labels: w.labels,
            principals: w.principals,
        })
    }
}

impl NewAuthStrategy {
    /// An `openid_connect` strategy.
    pub fn openid_connect(name: impl Into<String>, display_name: impl Into<String>, config: OidcConfig) -> Self {
        Self::with_config(name, display_name, StrategyConfig::OpenIdConnect(config))
    }

    /// A `key_auth` strategy.
    pub fn key_auth(name: impl Into<String>, display_name: impl Into<String>, config: KeyAuthConfig) -> Self {
        Self::with_config(name, display_name, StrategyConfig::KeyAuth(config))
    }

    fn with_config(name: impl Into<String>, display_name: impl Into<String>, config: StrategyConfig) -> Self {
        NewAuthStrategy {
            name: name.into(),
            display_name: display_name.into(),
            config,
            dcr_provider_id: None,
            labels: Labels::new(),
            principals: None,
        }
    }

    /// Uses this DCR provider to create applications' clients (openid_connect only).
    pub fn dcr_provider(mut self, id: impl Into<DcrProviderId>) -> Self {
        self.dcr_provider_id = Some(id.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Sets `principals.enabled`.
    pub fn principals(mut self, enabled: bool) -> Self {
        self.principals = Some(Principals { enabled });
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        validate::name("name", &self.name)?;
        validate::len("display_name", &self.display_name, 0, 256)?;
        validate::labels(&self.labels)?;
        if self.dcr_provider_id.is_some() && !matches!(self.config, StrategyConfig::OpenIdConnect(_)) {
            return Err(KonnectError::invalid(
                "dcr_provider_id",
                "only openid_connect strategies use a DCR provider",
            ));
        }
        self.config.validate()
    }
}

/// Sparse `configs.openid-connect` of a PATCH (`PartialAppAuthStrategyConfigOpenIDConnect`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[must_use]
pub struct OidcConfigUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_claim: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_methods: Option<Vec<String>>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

impl OidcConfigUpdate {
    /// An empty change.
    pub fn new() -> Self {
        Self::default()
    }

    /// New issuer.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// New credential claims.
    pub fn credential_claim<S: Into<String>>(mut self, claims: impl IntoIterator<Item = S>) -> Self {
        self.credential_claim = Some(claims.into_iter().map(Into::into).collect());
        self
    }

    /// New scopes.
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// New auth methods.
    pub fn auth_methods<S: Into<String>>(mut self, methods: impl IntoIterator<Item = S>) -> Self {
        self.auth_methods = Some(methods.into_iter().map(Into::into).collect());
        self
    }

    /// New audience, sent as `token_post_args_names`/`token_post_args_values`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        set_audience(&mut self.extra, audience.into());
        self
    }

    /// Any other OpenID Connect setting.
    pub fn extra(mut self, key: impl Into<String>, value: Value) -> Self {
        self.extra.insert(key.into(), value);
        self
    }

    fn validate(&self) -> Result<()> {
        let prefix = "configs.openid-connect";
        if let Some(issuer) = &self.issuer {
            validate::issuer(&format!("{prefix}.issuer"), issuer, false)?;
        }
        if let Some(v) = &self.credential_claim {
            validate::list(&format!("{prefix}.credential_claim"), v, 0, 10, 128)?;
        }
        if let Some(v) = &self.scopes {
            validate::list(&format!("{prefix}.scopes"), v, 0, 50, 128)?;
        }
        if let Some(v) = &self.auth_methods {
            validate::list(&format!("{prefix}.auth_methods"), v, 0, 10, 64)?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
enum ConfigsUpdate {
    #[serde(rename = "openid-connect")]
    OpenIdConnect(OidcConfigUpdate),
    #[serde(rename = "key-auth")]
    KeyAuth(KeyAuthConfig),
}

/// Body of `PATCH /v2/application-auth-strategies/{id}` (`UpdateAppAuthStrategyRequest`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct AuthStrategyUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<LabelsUpdate>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "::serde_with::rust::double_option"
    )]
    dcr_provider_id: Option<Option<DcrProviderId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    configs: Option<ConfigsUpdate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principals: Option<Principals>,
}

impl AuthStrategyUpdate {
    /// An empty change.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the strategy.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// New display name.
    pub fn display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(display_name.into());
        self
    }

    /// Sets a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels
            .get_or_insert_with(LabelsUpdate::new)
            .insert(key.into(), Some(value.into()));
        self
    }

    /// Deletes a label.
    pub fn remove_label(mut self, key: impl Into<String>) -> Self {
        self.labels
            .get_or_insert_with(LabelsUpdate::new)
            .insert(key.into(), None);
        self
    }

    /// Points the strategy at a DCR provider (`Some`) or detaches it (`None`).
    pub fn dcr_provider(mut self, id: Option<DcrProviderId>) -> Self {
        self.dcr_provider_id = Some(id);
        self
    }

    /// Changes OpenID Connect settings.
    pub fn openid_connect(mut self, config: OidcConfigUpdate) -> Self {
        self.configs = Some(ConfigsUpdate::OpenIdConnect(config));
        self
    }

    /// Changes key-auth settings.
    pub fn key_auth(mut self, config: KeyAuthConfig) -> Self {
        self.configs = Some(ConfigsUpdate::KeyAuth(config));
        self
    }

    /// Sets `principals.enabled`.
    pub fn principals(mut self, enabled: bool) -> Self {
        self.principals = Some(Principals { enabled });
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(name) = &self.name {
            validate::name("name", name)?;
        }
        if let Some(display_name) = &self.display_name {
            validate::len("display_name", display_name, 0, 256)?;
        }
        if let Some(labels) = &self.labels {
            validate::label_update(labels)?;
        }
        match &self.configs {
            Some(ConfigsUpdate::OpenIdConnect(c)) => c.validate(),
            Some(ConfigsUpdate::KeyAuth(c)) => c.validate("configs.key-auth"),
            None => Ok(()),
        }
    }
}

/// Handler for `/v2/application-auth-strategies`.
#[derive(Clone, Debug)]
pub struct AuthStrategies {
    client: KonnectClient,
}

impl AuthStrategies {
    pub(crate) fn new(client: KonnectClient) -> Self {
        AuthStrategies { client }
    }

    /// Creates a strategy (201).
    pub async fn create(&self, strategy: &NewAuthStrategy) -> Result<AuthStrategy> {
        strategy.validate()?;
        self.client
            .call(&CREATE, &["v2", "application-auth-strategies"], Some(strategy))
            .await
    }

    /// Reads a strategy.
    pub async fn get(&self, id: &AuthStrategyId) -> Result<AuthStrategy> {
        self.client
            .call(&GET, &["v2", "application-auth-strategies", id.as_str()], None)
            .await
    }

    /// Reads a strategy, `None` if it does not exist.
    pub async fn get_opt(&self, id: &AuthStrategyId) -> Result<Option<AuthStrategy>> {
        self.get(id).await.optional()
    }

    /// Lists strategies: filter, then `.send()` for one page or `.stream()` for all.
    pub fn list(&self) -> List<AuthStrategy> {
        List::new(&self.client, &LIST, &["v2", "application-auth-strategies"])
    }

    /// The strategy with exactly this name, if any.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<AuthStrategy>> {
        let page = self.list().name(name).page_size(10).send().await?;
        Ok(page.items.into_iter().find(|s| s.name == name))
    }

    /// Replaces a strategy's whole definition (PUT, 201).
    pub async fn replace(&self, id: &AuthStrategyId, strategy: &NewAuthStrategy) -> Result<AuthStrategy> {
        strategy.validate()?;
        self.client
            .call(
                &REPLACE,
                &["v2", "application-auth-strategies", id.as_str()],
                Some(strategy),
            )
            .await
    }

    /// Changes a strategy (PATCH, sparse).
    pub async fn update(&self, id: &AuthStrategyId, update: &AuthStrategyUpdate) -> Result<AuthStrategy> {
        update.validate()?;
        self.client
            .call(
                &UPDATE,
                &["v2", "application-auth-strategies", id.as_str()],
                Some(update),
            )
            .await
    }

    /// Deletes a strategy (204); a strategy an API publication uses answers 409
    /// ([`KonnectError::is_conflict`]).
    pub async fn delete(&self, id: &AuthStrategyId) -> Result<()> {
        self.client
            .call_empty(&DELETE, &["v2", "application-auth-strategies", id.as_str()])
            .await
    }
}

impl List<AuthStrategy> {
    /// `filter[name][eq]`.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.filter("name", "eq", name)
    }

    /// `filter[strategy_type][eq]`: `key_auth` or `openid_connect`.
    pub fn strategy_type(self, strategy_type: impl Into<String>) -> Self {
        self.filter("strategy_type", "eq", strategy_type)
    }

    /// `filter[dcr_provider_id][eq]`.
    pub fn dcr_provider_id(self, id: &DcrProviderId) -> Self {
        self.filter("dcr_provider_id", "eq", id.as_str())
    }

    /// `filter[dcr_provider_type][eq]`, e.g. `auth0`.
    pub fn dcr_provider_type(self, provider_type: impl Into<String>) -> Self {
        self.filter("dcr_provider_type", "eq", provider_type)
    }
}

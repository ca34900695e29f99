//! DCR providers (`/v2/dcr-providers`): the identity providers Konnect registers
//! developer applications with.
//!
//! The wire shape is a union on `provider_type`, each type with its own `dcr_config`.
//! Responses are [`DcrProvider`] with a [`DcrConfig`]; a type this version does not know
//! (Konnect has added `kongIdentity` beyond older documents) decodes into
//! [`DcrConfig::Unknown`] instead of failing. Write-only secrets (`initial_client_secret`,
//! `dcr_token`, `api_key`) exist only on request types, as [`SecretString`]s.

use dcr_client_core::Operation;
use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Labels, LabelsUpdate, List};
use crate::client::KonnectClient;
use crate::error::{KonnectError, NotFoundAsNone, Result};
use crate::ids::DcrProviderId;
use crate::validate;

static CREATE: Operation = Operation::new(Method::POST, "/v2/dcr-providers");
static LIST: Operation = Operation::new(Method::GET, "/v2/dcr-providers");
static GET: Operation = Operation::new(Method::GET, "/v2/dcr-providers/{dcrProviderId}");
/// Every field of the update sets an absolute value (labels included), so a repeated send
/// has the effect of one: retried after a lost answer or a 5xx.
static UPDATE: Operation = Operation::new(Method::PATCH, "/v2/dcr-providers/{dcrProviderId}").repeatable();
static DELETE: Operation = Operation::new(Method::DELETE, "/v2/dcr-providers/{dcrProviderId}");
static VERIFY: Operation = Operation::new(Method::POST, "/v2/dcr-providers/{dcrProviderId}/verify");

/// The Auth0 Management API scopes Konnect's DCR needs on an auth0 provider's initial
/// client (Konnect's Auth0 DCR guide): it creates, updates and deletes applications'
/// clients and their grants, and rotates their secrets.
pub const AUTH0_DCR_SCOPES: [&str; 9] = [
    "read:clients",
    "create:clients",
    "update:clients",
    "delete:clients",
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
    "update:client_keys",
];

/// Needed on top of [`AUTH0_DCR_SCOPES`] when developer-managed scopes are on (Konnect
/// reads the API's scopes to offer them).
pub const AUTH0_DEVELOPER_MANAGED_SCOPE: &str = "read:resource_servers";

/// Every operation this handler exposes, for coverage checks.
pub const OPERATIONS: [&Operation; 6] = [&CREATE, &LIST, &GET, &UPDATE, &DELETE, &VERIFY];

/// The `auth0` provider's `dcr_config` as Konnect returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Auth0Config {
    /// The DCR admin application's client id.
    pub initial_client_id: String,
    /// Audience of the Management API token, set when the tenant uses a custom domain.
    #[serde(default)]
    pub initial_client_audience: Option<String>,
    /// Whether developers pick scopes (needs `read:resource_servers`). Missing means false.
    #[serde(default)]
    pub use_developer_managed_scopes: bool,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `azureAd` and `curity` providers' `dcr_config` as Konnect returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InitialClientConfig {
    /// The initial (admin) client id.
    pub initial_client_id: String,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `http` (DCR bridge) provider's `dcr_config` as Konnect returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Base URL of the bridge.
    pub dcr_base_url: String,
    /// Whether event hooks are off. Missing means false.
    #[serde(default)]
    pub disable_event_hooks: bool,
    /// Whether secret refresh is off. Missing means false.
    #[serde(default)]
    pub disable_refresh_secret: bool,
    /// Whether an application may hold several credentials. Missing means false.
    #[serde(default)]
    pub allow_multiple_credentials: bool,
    /// Fields this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A provider's type and configuration, as returned (never holds a secret).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DcrConfig {
    /// `auth0`.
    Auth0(Auth0Config),
    /// `azureAd` (Microsoft Entra ID).
    AzureAd(InitialClientConfig),
    /// `curity`.
    Curity(InitialClientConfig),
    /// `okta` (its `dcr_token` is write-only, so nothing is returned).
    Okta(Map<String, Value>),
    /// `kongIdentity`.
    KongIdentity(Map<String, Value>),
    /// `http`: a DCR bridge.
    Http(HttpConfig),
    /// A type this version does not know, kept verbatim.
    Unknown {
        /// The `provider_type` as sent.
        provider_type: String,
        /// The `dcr_config` as sent.
        dcr_config: Value,
    },
}

impl DcrConfig {
    /// The `provider_type` on the wire.
    pub fn provider_type(&self) -> &str {
        match self {
            DcrConfig::Auth0(_) => "auth0",
            DcrConfig::AzureAd(_) => "azureAd",
            DcrConfig::Curity(_) => "curity",
            DcrConfig::Okta(_) => "okta",
            DcrConfig::KongIdentity(_) => "kongIdentity",
            DcrConfig::Http(_) => "http",
            DcrConfig::Unknown { provider_type, .. } => provider_type,
        }
    }

    fn from_wire(provider_type: String, config: Value) -> std::result::Result<Self, serde_json::Error> {
        let object =
            |v: Value| -> std::result::Result<Map<String, Value>, serde_json::Error> { serde_json::from_value(v) };
        Ok(match provider_type.as_str() {
            "auth0" => DcrConfig::Auth0(serde_json::from_value(config)?),
            "azureAd" => DcrConfig::AzureAd(serde_json::from_value(config)?),
            "curity" => DcrConfig::Curity(serde_json::from_value(config)?),
            "okta" => DcrConfig::Okta(object(config)?),
            "kongIdentity" => DcrConfig::KongIdentity(object(config)?),
            "http" => DcrConfig::Http(serde_json::from_value(config)?),
            _ => DcrConfig::Unknown {
                provider_type,
                dcr_config: config,
            },
        })
    }

    fn to_wire(&self) -> Value {
        let value = match self {
            DcrConfig::Auth0(c) => serde_json::to_value(c),
            DcrConfig::AzureAd(c) | DcrConfig::Curity(c) => serde_json::to_value(c),
            DcrConfig::Okta(m) | DcrConfig::KongIdentity(m) => Ok(Value::Object(m.clone())),
            DcrConfig::Http(c) => serde_json::to_value(c),
            DcrConfig::Unknown { dcr_config, .. } => Ok(dcr_config.clone()),
        };
        value.unwrap_or(Value::Null)
    }
}

/// A DCR provider (`DcrProviderResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "WireProvider", into = "WireProvider")]
#[non_exhaustive]
pub struct DcrProvider {
    /// Its id.
    pub id: DcrProviderId,
    /// Its unique name.
    pub name: String,
    /// Name shown in the portal; Konnect may omit it.
    pub display_name: Option<String>,
    /// The issuer URL.
    pub issuer: String,
    /// Whether any auth strategy uses it.
    pub active: bool,
    /// Type and configuration.
    pub config: DcrConfig,
    /// Labels.
    pub labels: Labels,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

#[derive(Serialize, Deserialize)]
struct WireProvider {
    id: DcrProviderId,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    provider_type: String,
    issuer: String,
    #[serde(default)]
    active: bool,
    #[serde(default)]
    dcr_config: Value,
    #[serde(default)]
    labels: Labels,
    created_at: String,
    updated_at: String,
}

impl TryFrom<WireProvider> for DcrProvider {
    type Error = serde_json::Error;
    fn try_from(w: WireProvider) -> std::result::Result<Self, Self::Error> {
        let config = if w.dcr_config.is_null() {
            Value::Object(Map::new())
        } else {
            w.dcr_config
        };
        Ok(DcrProvider {
            config: DcrConfig::from_wire(w.provider_type, config)?,
            id: w.id,
            name: w.name,
            display_name: w.display_name,
            issuer: w.issuer,
            active: w.active,
            labels: w.labels,
            created_at: w.created_at,
            updated_at: w.updated_at,
        })
    }
}

impl From<DcrProvider> for WireProvider {
    fn from(p: DcrProvider) -> Self {
        WireProvider {
            provider_type: p.config.provider_type().to_owned(),
            dcr_config: p.config.to_wire(),
            id: p.id,
            name: p.name,
            display_name: p.display_name,
            issuer: p.issuer,
            active: p.active,
            labels: p.labels,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// What `POST /v2/dcr-providers/{id}/verify` says (`VerifyDcrProviderResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Verification {
    /// `success` or `failed` (other values kept).
    pub status: String,
    /// What failed, in Konnect's words.
    #[serde(default)]
    pub errors: Vec<String>,
}

impl Verification {
    /// True when Konnect could use the provider's initial client.
    pub fn is_success(&self) -> bool {
        self.status == "success"
    }
}

/// Type-specific part of a create request; secrets are write-only.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum NewDcrConfig {
    /// `auth0`.
    Auth0 {
        /// The DCR admin application's client id.
        initial_client_id: String,
        /// Its client secret.
        initial_client_secret: SecretString,
        /// Management API audience, for tenants served from a custom domain.
        initial_client_audience: Option<String>,
        /// Whether developers pick scopes.
        use_developer_managed_scopes: Option<bool>,
    },
    /// `azureAd`.
    AzureAd {
        /// Initial client id.
        initial_client_id: String,
        /// Initial client secret.
        initial_client_secret: SecretString,
    },
    /// `curity`.
    Curity {
        /// Initial client id.
        initial_client_id: String,
        /// Initial client secret.
        initial_client_secret: SecretString,
    },
    /// `okta`.
    Okta {
        /// Okta API token with rights to register applications.
        dcr_token: SecretString,
    },
    /// `kongIdentity`: no configuration.
    KongIdentity,
    /// `http`: a DCR bridge.
    Http {
        /// Base URL of the bridge.
        dcr_base_url: String,
        /// Key the bridge expects in `X-API-KEY` (12–256 chars of `[a-zA-Z0-9_]`).
        api_key: SecretString,
        /// Turn event hooks off.
        disable_event_hooks: Option<bool>,
        /// Turn secret refresh off.
        disable_refresh_secret: Option<bool>,
        /// Allow several credentials per application.
        allow_multiple_credentials: Option<bool>,
    },
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireNewConfig<'a> {
    InitialClient {
        initial_client_id: &'a str,
        #[serde(serialize_with = "crate::secret::expose")]
        initial_client_secret: &'a SecretString,
        #[serde(skip_serializing_if = "Option::is_none")]
        initial_client_audience: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        use_developer_managed_scopes: Option<bool>,
    },
    Okta {
        #[serde(serialize_with = "crate::secret::expose")]
        dcr_token: &'a SecretString,
    },
    Empty {},
    Http {
        dcr_base_url: &'a str,
        #[serde(serialize_with = "crate::secret::expose")]
        api_key: &'a SecretString,
        #[serde(skip_serializing_if = "Option::is_none")]
        disable_event_hooks: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        disable_refresh_secret: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        allow_multiple_credentials: Option<bool>,
    },
}

impl NewDcrConfig {
    fn provider_type(&self) -> &'static str {
        match self {
            NewDcrConfig::Auth0 { .. } => "auth0",
            NewDcrConfig::AzureAd { .. } => "azureAd",
            NewDcrConfig::Curity { .. } => "curity",
            NewDcrConfig::Okta { .. } => "okta",
            NewDcrConfig::KongIdentity => "kongIdentity",
            NewDcrConfig::Http { .. } => "http",
        }
    }

    fn wire(&self) -> WireNewConfig<'_> {
        match self {
            NewDcrConfig::Auth0 {
                initial_client_id,
                initial_client_secret,
                initial_client_audience,
                use_developer_managed_scopes,
            } => WireNewConfig::InitialClient {
                initial_client_id,
                initial_client_secret,
                initial_client_audience: initial_client_audience.as_deref(),
                use_developer_managed_scopes: *use_developer_managed_scopes,
            },
            NewDcrConfig::AzureAd {
                initial_client_id,
                initial_client_secret,
            }
            | NewDcrConfig::Curity {
                initial_client_id,
                initial_client_secret,
            } => WireNewConfig::InitialClient {
                initial_client_id,
                initial_client_secret,
                initial_client_audience: None,
                use_developer_managed_scopes: None,
            },
            NewDcrConfig::Okta { dcr_token } => WireNewConfig::Okta { dcr_token },
            NewDcrConfig::KongIdentity => WireNewConfig::Empty {},
            NewDcrConfig::Http {
                dcr_base_url,
                api_key,
                disable_event_hooks,
                disable_refresh_secret,
                allow_multiple_credentials,
            } => WireNewConfig::Http {
                dcr_base_url,
                api_key,
                disable_event_hooks: *disable_event_hooks,
                disable_refresh_secret: *disable_refresh_secret,
                allow_multiple_credentials: *allow_multiple_credentials,
            },
        }
    }

    fn validate(&self) -> Result<()> {
        use secrecy::ExposeSecret;
        match self {
            NewDcrConfig::Auth0 {
                initial_client_id,
                initial_client_secret,
                initial_client_audience,
                ..
            } => {
                validate::len("dcr_config.initial_client_id", initial_client_id, 1, 256)?;
                validate::secret(
                    "dcr_config.initial_client_secret",
                    initial_client_secret.expose_secret(),
                    256,
                )?;
                if let Some(audience) = initial_client_audience {
                    validate::len("dcr_config.initial_client_audience", audience, 1, 256)?;
                }
            }
            NewDcrConfig::AzureAd {
                initial_client_id,
                initial_client_secret,
            }
            | NewDcrConfig::Curity {
                initial_client_id,
                initial_client_secret,
            } => {
                validate::len("dcr_config.initial_client_id", initial_client_id, 1, 256)?;
                validate::secret(
                    "dcr_config.initial_client_secret",
                    initial_client_secret.expose_secret(),
                    256,
                )?;
            }
            NewDcrConfig::Okta { dcr_token } => {
                validate::secret("dcr_config.dcr_token", dcr_token.expose_secret(), 256)?;
            }
            NewDcrConfig::KongIdentity => {}
            NewDcrConfig::Http {
                dcr_base_url, api_key, ..
            } => {
                validate::url("dcr_config.dcr_base_url", dcr_base_url)?;
                validate::api_key(api_key.expose_secret())?;
            }
        }
        Ok(())
    }
}

/// Body of `POST /v2/dcr-providers` (`CreateDcrProviderRequest`).
///
/// ```
/// use konnect_appauth::resources::dcr_providers::NewDcrProvider;
/// let provider = NewDcrProvider::auth0(
///     "auth0-acme",
///     "https://acme.us.auth0.com",
///     "AaiyAPdpYdesoKnqjj8HJqRn4T5titww",
///     std::env::var("DCR_ADMIN_SECRET").unwrap_or_default(),
/// )
/// .display_name("Acme Auth0")
/// .label("managed-by", "dcr-rs");
/// # let _ = provider;
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct NewDcrProvider {
    name: String,
    display_name: Option<String>,
    issuer: String,
    labels: Labels,
    config: NewDcrConfig,
}

impl Serialize for NewDcrProvider {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            name: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            display_name: Option<&'a str>,
            provider_type: &'static str,
            issuer: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            dcr_config: Option<WireNewConfig<'a>>,
            #[serde(skip_serializing_if = "Labels::is_empty")]
            labels: &'a Labels,
        }
        Wire {
            name: &self.name,
            display_name: self.display_name.as_deref(),
            provider_type: self.config.provider_type(),
            issuer: &self.issuer,
            // kongIdentity takes no configuration, and its documented body has none.
            dcr_config: (!matches!(self.config, NewDcrConfig::KongIdentity)).then(|| self.config.wire()),
            labels: &self.labels,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for NewDcrProvider {
    /// Reads a create body, e.g. from a configuration file; secrets become `SecretString`s.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            name: String,
            #[serde(default)]
            display_name: Option<String>,
            provider_type: String,
            issuer: String,
            #[serde(default)]
            dcr_config: ConfigWire,
            #[serde(default)]
            labels: Labels,
        }
        #[derive(Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ConfigWire {
            initial_client_id: Option<String>,
            initial_client_secret: Option<SecretString>,
            #[serde(default)]
            initial_client_audience: Option<String>,
            use_developer_managed_scopes: Option<bool>,
            dcr_token: Option<SecretString>,
            dcr_base_url: Option<String>,
            api_key: Option<SecretString>,
            disable_event_hooks: Option<bool>,
            disable_refresh_secret: Option<bool>,
            allow_multiple_credentials: Option<bool>,
        }
        let w = Wire::deserialize(deserializer)?;
        let c = w.dcr_config;
        let need = |v: Option<String>, f: &'static str| v.ok_or_else(|| D::Error::missing_field(f));
        let secret = |v: Option<SecretString>, f: &'static str| v.ok_or_else(|| D::Error::missing_field(f));
        let config = match w.provider_type.as_str() {
            "auth0" => NewDcrConfig::Auth0 {
                initial_client_id: need(c.initial_client_id, "initial_client_id")?,
                initial_client_secret: secret(c.initial_client_secret, "initial_client_secret")?,
                initial_client_audience: c.initial_client_audience,
                use_developer_managed_scopes: c.use_developer_managed_scopes,
            },
            "azureAd" => NewDcrConfig::AzureAd {
                initial_client_id: need(c.initial_client_id, "initial_client_id")?,
                initial_client_secret: secret(c.initial_client_secret, "initial_client_secret")?,
            },
            "curity" => NewDcrConfig::Curity {
                initial_client_id: need(c.initial_client_id, "initial_client_id")?,
                initial_client_secret: secret(c.initial_client_secret, "initial_client_secret")?,
            },
            "okta" => NewDcrConfig::Okta {
                dcr_token: secret(c.dcr_token, "dcr_token")?,
            },
            "kongIdentity" => NewDcrConfig::KongIdentity,
            "http" => NewDcrConfig::Http {
                dcr_base_url: need(c.dcr_base_url, "dcr_base_url")?,
                api_key: secret(c.api_key, "api_key")?,
                disable_event_hooks: c.disable_event_hooks,
                disable_refresh_secret: c.disable_refresh_secret,
                allow_multiple_credentials: c.allow_multiple_credentials,
            },
            other => {
                return Err(D::Error::unknown_variant(
                    other,
                    &["auth0", "azureAd", "curity", "okta", "kongIdentity", "http"],
                ));
            }
        };
        Ok(NewDcrProvider {
            name: w.name,
            display_name: w.display_name,
            issuer: w.issuer,
            labels: w.labels,
            config,
        })
    }
}

impl NewDcrProvider {
    /// Any provider type.
    pub fn new(name: impl Into<String>, issuer: impl Into<String>, config: NewDcrConfig) -> Self {
        NewDcrProvider {
            name: name.into(),
            display_name: None,
            issuer: issuer.into(),
            labels: Labels::new(),
            config,
        }
    }

    /// An Auth0 provider: `issuer` is the tenant URL without a trailing slash
    /// (`https://acme.us.auth0.com`); the initial client is the DCR admin M2M application.
    pub fn auth0(
        name: impl Into<String>,
        issuer: impl Into<String>,
        initial_client_id: impl Into<String>,
        initial_client_secret: impl Into<SecretString>,
    ) -> Self {
        Self::new(
            name,
            issuer,
            NewDcrConfig::Auth0 {
                initial_client_id: initial_client_id.into(),
                initial_client_secret: initial_client_secret.into(),
                initial_client_audience: None,
                use_developer_managed_scopes: None,
            },
        )
    }

    /// An Okta provider.
    pub fn okta(name: impl Into<String>, issuer: impl Into<String>, dcr_token: impl Into<SecretString>) -> Self {
        Self::new(
            name,
            issuer,
            NewDcrConfig::Okta {
                dcr_token: dcr_token.into(),
            },
        )
    }

    /// An HTTP DCR bridge.
    pub fn http(
        name: impl Into<String>,
        issuer: impl Into<String>,
        dcr_base_url: impl Into<String>,
        api_key: impl Into<SecretString>,
    ) -> Self {
        Self::new(
            name,
            issuer,
            NewDcrConfig::Http {
                dcr_base_url: dcr_base_url.into(),
                api_key: api_key.into(),
                disable_event_hooks: None,
                disable_refresh_secret: None,
                allow_multiple_credentials: None,
            },
        )
    }

    /// Name shown in the portal.
    pub fn display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(display_name.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Auth0 only: the Management API audience, for tenants served from a custom domain.
    pub fn client_audience(mut self, audience: impl Into<String>) -> Self {
        if let NewDcrConfig::Auth0 {
            initial_client_audience,
            ..
        } = &mut self.config
        {
            *initial_client_audience = Some(audience.into());
        }
        self
    }

    /// Auth0 only: let developers pick scopes (the admin app then needs `read:resource_servers`).
    pub fn developer_managed_scopes(mut self, on: bool) -> Self {
        if let NewDcrConfig::Auth0 {
            use_developer_managed_scopes,
            ..
        } = &mut self.config
        {
            *use_developer_managed_scopes = Some(on);
        }
        self
    }

    /// The provider type this request creates.
    pub fn provider_type(&self) -> &'static str {
        self.config.provider_type()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        validate::name("name", &self.name)?;
        if let Some(display_name) = &self.display_name {
            validate::name("display_name", display_name)?;
        }
        validate::issuer(
            "issuer",
            &self.issuer,
            matches!(self.config, NewDcrConfig::Auth0 { .. }),
        )?;
        validate::labels(&self.labels)?;
        self.config.validate()
    }
}

/// Sparse `dcr_config` of a PATCH: only the fields set are sent. Which fields apply depends
/// on the provider's type, which cannot change.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct DcrConfigUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_client_id: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::secret::expose_opt"
    )]
    initial_client_secret: Option<SecretString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "::serde_with::rust::double_option"
    )]
    initial_client_audience: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    use_developer_managed_scopes: Option<bool>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::secret::expose_opt"
    )]
    dcr_token: Option<SecretString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dcr_base_url: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::secret::expose_opt"
    )]
    api_key: Option<SecretString>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_event_hooks: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disable_refresh_secret: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_multiple_credentials: Option<bool>,
}

impl DcrConfigUpdate {
    /// An empty change.
    pub fn new() -> Self {
        Self::default()
    }

    /// auth0/azureAd/curity: a new initial client id.
    pub fn initial_client_id(mut self, id: impl Into<String>) -> Self {
        self.initial_client_id = Some(id.into());
        self
    }

    /// auth0/azureAd/curity: a new initial client secret (after a rotation).
    pub fn initial_client_secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.initial_client_secret = Some(secret.into());
        self
    }

    /// auth0: set (`Some`) or clear (`None`) the Management API audience.
    pub fn initial_client_audience(mut self, audience: Option<String>) -> Self {
        self.initial_client_audience = Some(audience);
        self
    }

    /// auth0: developer-managed scopes on or off.
    pub fn use_developer_managed_scopes(mut self, on: bool) -> Self {
        self.use_developer_managed_scopes = Some(on);
        self
    }

    /// okta: a new DCR token.
    pub fn dcr_token(mut self, token: impl Into<SecretString>) -> Self {
        self.dcr_token = Some(token.into());
        self
    }

    /// http: a new bridge URL.
    pub fn dcr_base_url(mut self, url: impl Into<String>) -> Self {
        self.dcr_base_url = Some(url.into());
        self
    }

    /// http: a new API key.
    pub fn api_key(mut self, key: impl Into<SecretString>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// http: event hooks off or on.
    pub fn disable_event_hooks(mut self, on: bool) -> Self {
        self.disable_event_hooks = Some(on);
        self
    }

    /// http: secret refresh off or on.
    pub fn disable_refresh_secret(mut self, on: bool) -> Self {
        self.disable_refresh_secret = Some(on);
        self
    }

    /// http: several credentials per application.
    pub fn allow_multiple_credentials(mut self, on: bool) -> Self {
        self.allow_multiple_credentials = Some(on);
        self
    }

    fn validate(&self) -> Result<()> {
        use secrecy::ExposeSecret;
        if let Some(id) = &self.initial_client_id {
            validate::len("dcr_config.initial_client_id", id, 1, 256)?;
        }
        if let Some(secret) = &self.initial_client_secret {
            validate::secret("dcr_config.initial_client_secret", secret.expose_secret(), 256)?;
        }
        if let Some(Some(audience)) = &self.initial_client_audience {
            validate::len("dcr_config.initial_client_audience", audience, 1, 256)?;
        }
        if let Some(token) = &self.dcr_token {
            validate::secret("dcr_config.dcr_token", token.expose_secret(), 256)?;
        }
        if let Some(url) = &self.dcr_base_url {
            validate::url("dcr_config.dcr_base_url", url)?;
        }
        if let Some(key) = &self.api_key {
            validate::api_key(key.expose_secret())?;
        }
        let initial = self.initial_client_id.is_some()
            || self.initial_client_secret.is_some()
            || self.initial_client_audience.is_some()
            || self.use_developer_managed_scopes.is_some();
        let http = self.dcr_base_url.is_some()
            || self.api_key.is_some()
            || self.disable_event_hooks.is_some()
            || self.disable_refresh_secret.is_some()
            || self.allow_multiple_credentials.is_some();
        if [initial, self.dcr_token.is_some(), http]
            .into_iter()
            .filter(|b| *b)
            .count()
            > 1
        {
            return Err(KonnectError::invalid(
                "dcr_config",
                "mixes fields of different provider types; a provider's type cannot change",
            ));
        }
        Ok(())
    }
}

/// Body of `PATCH /v2/dcr-providers/{id}` (`UpdateDcrProviderRequest`): every field optional.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct DcrProviderUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<LabelsUpdate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dcr_config: Option<DcrConfigUpdate>,
    #[serde(skip)]
    auth0: bool,
}

impl DcrProviderUpdate {
    /// An empty change.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the provider.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// New display name.
    pub fn display_name(mut self, display_name: impl Into<String>) -> Self {
        self.display_name = Some(display_name.into());
        self
    }

    /// New issuer. Set [`Self::for_auth0`] to have the Auth0 rule (no trailing slash) checked.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Declares the provider an Auth0 one, so its issuer is checked as such.
    pub fn for_auth0(mut self) -> Self {
        self.auth0 = true;
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

    /// Changes the type-specific configuration.
    pub fn dcr_config(mut self, config: DcrConfigUpdate) -> Self {
        self.dcr_config = Some(config);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(name) = &self.name {
            validate::name("name", name)?;
        }
        if let Some(display_name) = &self.display_name {
            validate::name("display_name", display_name)?;
        }
        if let Some(issuer) = &self.issuer {
            validate::issuer("issuer", issuer, self.auth0)?;
        }
        if let Some(labels) = &self.labels {
            validate::label_update(labels)?;
        }
        if let Some(config) = &self.dcr_config {
            config.validate()?;
        }
        Ok(())
    }
}

/// Handler for `/v2/dcr-providers`.
#[derive(Clone, Debug)]
pub struct DcrProviders {
    client: KonnectClient,
}

impl DcrProviders {
    pub(crate) fn new(client: KonnectClient) -> Self {
        DcrProviders { client }
    }

    /// Creates a provider (201).
    pub async fn create(&self, provider: &NewDcrProvider) -> Result<DcrProvider> {
        provider.validate()?;
        self.client
            .call(&CREATE, &["v2", "dcr-providers"], Some(provider))
            .await
    }

    /// Reads a provider.
    pub async fn get(&self, id: &DcrProviderId) -> Result<DcrProvider> {
        self.client
            .call(&GET, &["v2", "dcr-providers", id.as_str()], None)
            .await
    }

    /// Reads a provider, `None` if it does not exist.
    pub async fn get_opt(&self, id: &DcrProviderId) -> Result<Option<DcrProvider>> {
        self.get(id).await.optional()
    }

    /// Lists providers: filter, then `.send()` for one page or `.stream()` for all.
    pub fn list(&self) -> List<DcrProvider> {
        List::new(&self.client, &LIST, &["v2", "dcr-providers"])
    }

    /// The first provider with exactly this name, if any. Konnect does not document names
    /// as unique: `list().name(..)` lists every namesake.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<DcrProvider>> {
        let page = self.list().name(name).page_size(10).send().await?;
        Ok(page.items.into_iter().find(|p| p.name == name))
    }

    /// Changes a provider (PATCH, sparse). Its `provider_type` cannot change.
    pub async fn update(&self, id: &DcrProviderId, update: &DcrProviderUpdate) -> Result<DcrProvider> {
        update.validate()?;
        self.client
            .call(&UPDATE, &["v2", "dcr-providers", id.as_str()], Some(update))
            .await
    }

    /// Deletes a provider (204).
    pub async fn delete(&self, id: &DcrProviderId) -> Result<()> {
        self.client
            .call_empty(&DELETE, &["v2", "dcr-providers", id.as_str()])
            .await
    }

    /// Asks Konnect to check the provider's initial client against the identity provider.
    /// A failed check is `Ok` with `status == "failed"` and the reasons in `errors`.
    pub async fn verify(&self, id: &DcrProviderId) -> Result<Verification> {
        self.client
            .call(&VERIFY, &["v2", "dcr-providers", id.as_str(), "verify"], None)
            .await
    }
}

impl List<DcrProvider> {
    /// `filter[name][eq]`.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.filter("name", "eq", name)
    }

    /// `filter[name][contains]`.
    pub fn name_contains(self, part: impl Into<String>) -> Self {
        self.filter("name", "contains", part)
    }

    /// `filter[issuer][eq]`.
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.filter("issuer", "eq", issuer)
    }

    /// `filter[provider_type][eq]`, e.g. `auth0`.
    pub fn provider_type(self, provider_type: impl Into<String>) -> Self {
        self.filter("provider_type", "eq", provider_type)
    }

    /// `filter[initial_client_id][eq]`.
    pub fn initial_client_id(self, id: impl Into<String>) -> Self {
        self.filter("initial_client_id", "eq", id)
    }
}

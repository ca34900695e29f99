//! What the workflow sets up: one serde struct, loadable from TOML and the environment.
//!
//! ```toml
//! [auth0]
//! domain = "acme.eu.auth0.com"
//! client_id = "bootstrap client id"       # secret: DCR_AUTH0_CLIENT_SECRET
//!
//! [api]
//! audience = "https://api.acme.com/orders"
//! name = "Orders API"
//! scopes = [{ value = "read:orders", description = "Read orders" }]
//!
//! [konnect]
//! region = "eu"                            # token: DCR_KONNECT_TOKEN
//! portal_id = "f32d905a-ed33-46a3-a093-d8f536af9a8a"
//! api_name = "Orders API"
//! ```
//!
//! Several APIs, or several portals: one `[[konnect.publications]]` entry each, instead of
//! `portal_id` and `api_name` (`visibility` and `auto_approve_registrations` under
//! `[konnect]` are then the entries' defaults):
//!
//! ```toml
//! [[konnect.publications]]
//! portal_id = "f32d905a-ed33-46a3-a093-d8f536af9a8a"
//! api_name = "Orders API"
//!
//! [[konnect.publications]]
//! portal_id = "7710d5c4-d902-410b-992f-18b814155b53"
//! api_id = "9f5061ce-78f6-4452-9108-ad7c02821fd5"
//! visibility = "private"
//! auto_approve_registrations = true
//! ```

mod load;
mod validate;
mod write;

use std::collections::BTreeMap;

use konnect_appauth::resources::dcr_providers::{AUTH0_DCR_SCOPES, AUTH0_DEVELOPER_MANAGED_SCOPE};
use secrecy::SecretString;
use serde::Deserialize;

pub use load::ENV_VARIABLES;

/// Default name of the Auth0 application Konnect uses for DCR.
pub const DEFAULT_ADMIN_APP_NAME: &str = "Konnect Portal DCR Admin";
/// Default auth methods of the strategy.
pub const DEFAULT_AUTH_METHODS: [&str; 3] = ["client_credentials", "bearer", "session"];
/// Auth methods the OpenID Connect plugin behind a Konnect strategy knows.
pub const KNOWN_AUTH_METHODS: [&str; 9] = [
    "password",
    "client_credentials",
    "authorization_code",
    "bearer",
    "introspection",
    "userinfo",
    "kong_oauth2",
    "refresh_token",
    "session",
];

/// The whole configuration. Missing fields take their documented defaults; required ones
/// left empty are reported by [`validate`](DcrConfig::validate), all at once.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DcrConfig {
    /// The Auth0 tenant and the credentials that set it up.
    pub auth0: Auth0Settings,
    /// The API (Auth0 resource server) developers' applications get tokens for.
    pub api: ApiSettings,
    /// The Konnect organization, portal and the names of what is created there.
    pub konnect: KonnectSettings,
    /// Extra labels put on every Konnect resource the workflow creates.
    pub labels: BTreeMap<String, String>,
    /// How the Auth0 applications Konnect registers are named.
    pub naming: NamingSettings,
}

/// Default name of the Auth0 Action that names Konnect's applications.
pub const DEFAULT_NAMING_ACTION_NAME: &str = "dcr-rs Konnect application naming";

/// `[naming]`: the names of the Auth0 applications Konnect registers for developers'
/// applications (Konnect names each after the developer's application, so a tenant fills
/// with names like "test").
///
/// ```toml
/// [naming]
/// template = "{application_name} ({developer_id})"
/// action = false
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct NamingSettings {
    /// The name each application should have. Placeholders: `{portal_id}`,
    /// `{developer_id}`, `{org_id}` and `{application_id}` (the `konnect_*` metadata
    /// Konnect puts on the client) and `{application_name}` (the portal application's
    /// name); `{{` and `}}` are literal braces. `dcr rename` (and `dcr apply`) rename the
    /// applications whose name differs. Unset: nothing is renamed.
    pub template: Option<String>,
    /// Also deploy an Auth0 Action on the `credentials-exchange` trigger that renames an
    /// application at its first token request, so names are right between runs. It
    /// cannot know the portal application's name: the template must not use
    /// `{application_name}`.
    pub action: bool,
    /// The Action's name. Default "dcr-rs Konnect application naming".
    pub action_name: String,
}

impl Default for NamingSettings {
    fn default() -> Self {
        NamingSettings {
            template: None,
            action: false,
            action_name: DEFAULT_NAMING_ACTION_NAME.to_owned(),
        }
    }
}

/// `[auth0]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Auth0Settings {
    /// Tenant domain, e.g. `acme.eu.auth0.com` (no scheme, no slash). Required.
    pub domain: String,
    /// A custom domain serving the tenant's login and token endpoints. When set, it is
    /// the issuer, and the DCR provider's client audience is the Management API audience.
    pub custom_domain: Option<String>,
    /// Where requests go instead of `https://{domain}` (a proxy, or the sandbox).
    pub base_url: Option<String>,
    /// Bootstrap M2M client id (rights to create clients, grants and resource servers).
    pub client_id: Option<String>,
    /// Its secret (prefer `DCR_AUTH0_CLIENT_SECRET` to a file).
    pub client_secret: Option<SecretString>,
    /// A Management API token instead of bootstrap client credentials.
    pub management_token: Option<SecretString>,
    /// Name of the DCR admin application. Default "Konnect Portal DCR Admin".
    pub admin_app_name: String,
    /// The tenant's Auth0 plan (`free`, `essentials`, `professional`, `enterprise`), so
    /// that the client paces by the plan's documented refill rate instead of whole-second
    /// `x-ratelimit-reset` headers alone. Optional.
    pub plan: Option<String>,
}

impl Default for Auth0Settings {
    fn default() -> Self {
        Auth0Settings {
            domain: String::new(),
            custom_domain: None,
            base_url: None,
            client_id: None,
            client_secret: None,
            management_token: None,
            admin_app_name: DEFAULT_ADMIN_APP_NAME.to_owned(),
            plan: None,
        }
    }
}

/// `[api]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ApiSettings {
    /// The resource server identifier: the audience of developers' tokens. Required.
    pub audience: String,
    /// Its display name in Auth0. Required.
    pub name: String,
    /// The scopes it defines.
    pub scopes: Vec<ApiScope>,
    /// Let developers pick scopes (Konnect then also needs `read:resource_servers`).
    pub developer_managed_scopes: bool,
}

/// One scope of the API.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ApiScope {
    /// `read:orders`.
    pub value: String,
    /// Shown in Auth0's dashboard; defaults to the value.
    #[serde(default)]
    pub description: Option<String>,
}

impl ApiScope {
    /// A scope with a description.
    pub fn new(value: impl Into<String>, description: impl Into<String>) -> Self {
        ApiScope {
            value: value.into(),
            description: Some(description.into()),
        }
    }

    /// The description, or the value when there is none.
    pub fn description_or_value(&self) -> &str {
        self.description.as_deref().unwrap_or(&self.value)
    }
}

/// `[konnect]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct KonnectSettings {
    /// `us`, `eu`, `au`, `me`, `in` or `sg` (default `us` when no base URL is set).
    pub region: Option<String>,
    /// A base URL instead of a region (a proxy, or the sandbox).
    pub base_url: Option<String>,
    /// Personal (`kpat_…`) or system account (`spat_…`) token. Required.
    pub token: Option<SecretString>,
    /// The portal the API is published on. Required, unless `publications` is used.
    pub portal_id: String,
    /// The API to publish, by id (it must exist; never deleted by the workflow)…
    pub api_id: Option<String>,
    /// …or by name (created when missing, and then owned by the workflow).
    pub api_name: Option<String>,
    /// Who sees the published API: `public` (default: everyone) or `private` (signed-in
    /// developers). Drift is corrected. The default of every `publications` entry.
    pub visibility: String,
    /// Whether the publication approves registrations by itself (default `false`: the
    /// portal's `auto_approve_applications` decides). Drift is corrected. The default of
    /// every `publications` entry.
    pub auto_approve_registrations: bool,
    /// `[[konnect.publications]]`: many APIs on many portals, instead of `portal_id` with
    /// `api_id` or `api_name` (one or the other way, not both). See
    /// [`DcrConfig::publications`].
    pub publications: Vec<PublicationSettings>,
    /// Name of the DCR provider. Default `auth0-dcr`.
    pub provider_name: String,
    /// Name of the auth strategy. Default `auth0-dcr`.
    pub strategy_name: String,
    /// Name developers see for the strategy. Default `Auth0`.
    pub strategy_display_name: String,
    /// Strategy scopes; must include `openid`. Default `openid` plus the API's scopes.
    pub scopes: Option<Vec<String>>,
    /// Claim that maps a token to an application. Default `azp`.
    pub credential_claim: Vec<String>,
    /// Default `client_credentials`, `bearer`, `session`.
    pub auth_methods: Vec<String>,
    /// A developer of the portal, used by `verify` to create a real portal application.
    pub developer_id: Option<String>,
    /// A developer account's email: `verify` then signs in to the portal as that
    /// developer and does what the guide's developer does (see
    /// [`VerifyMode::Developer`](crate::verify::VerifyMode::Developer)).
    pub developer_email: Option<String>,
    /// That developer's password: from the environment only
    /// (`DCR_KONNECT_DEVELOPER_PASSWORD`), never from a file.
    pub developer_password: Option<SecretString>,
    /// The portal's URL for the developer API. Default `https://{canonical_domain}` of
    /// the first v3 portal, read from Konnect.
    pub portal_url: Option<String>,
    /// A gateway route of an API published on the first v3 portal, which `verify`'s
    /// developer mode calls with the application's credentials (`--gateway-url` wins).
    pub gateway_url: Option<String>,
}

impl Default for KonnectSettings {
    fn default() -> Self {
        KonnectSettings {
            region: None,
            base_url: None,
            token: None,
            portal_id: String::new(),
            api_id: None,
            api_name: None,
            visibility: "public".to_owned(),
            auto_approve_registrations: false,
            publications: Vec::new(),
            provider_name: "auth0-dcr".to_owned(),
            strategy_name: "auth0-dcr".to_owned(),
            strategy_display_name: "Auth0".to_owned(),
            scopes: None,
            credential_claim: vec!["azp".to_owned()],
            auth_methods: DEFAULT_AUTH_METHODS.map(str::to_owned).to_vec(),
            developer_id: None,
            developer_email: None,
            developer_password: None,
            portal_url: None,
            gateway_url: None,
        }
    }
}

/// `[[konnect.publications]]`: one API published on one portal with the workflow's
/// strategy. On a classic (v2) portal, an API product version instead of an API:
/// `api_product_name` (or `api_product_id`) and `product_version`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PublicationSettings {
    /// The portal. Required.
    pub portal_id: String,
    /// The API, by id (it must exist; never deleted by the workflow)…
    pub api_id: Option<String>,
    /// …or by name (created when missing, and then owned by the workflow).
    pub api_name: Option<String>,
    /// A classic portal's API product, by id (it must exist; never deleted)…
    pub api_product_id: Option<String>,
    /// …or by name (created when missing with its version, and then owned).
    pub api_product_name: Option<String>,
    /// The product's version to publish on the classic portal. Default `v1`.
    pub product_version: Option<String>,
    /// `public` or `private`; default `konnect.visibility`. Not for classic portals,
    /// which have no per-API visibility.
    pub visibility: Option<String>,
    /// Default `konnect.auto_approve_registrations`.
    pub auto_approve_registrations: Option<bool>,
}

/// Default `product_version` of a classic publication.
pub const DEFAULT_PRODUCT_VERSION: &str = "v1";

impl PublicationSettings {
    /// An entry publishing the API named `api_name` on `portal_id`, with the defaults.
    pub fn new(portal_id: impl Into<String>, api_name: impl Into<String>) -> Self {
        PublicationSettings {
            portal_id: portal_id.into(),
            api_name: Some(api_name.into()),
            ..Self::default()
        }
    }

    /// An entry publishing version `version` of the API product named `product` on the
    /// classic portal `portal_id`.
    pub fn classic(portal_id: impl Into<String>, product: impl Into<String>, version: impl Into<String>) -> Self {
        PublicationSettings {
            portal_id: portal_id.into(),
            api_product_name: Some(product.into()),
            product_version: Some(version.into()),
            ..Self::default()
        }
    }

    /// The same entry naming its API by id (it must exist) instead of by name.
    pub fn with_api_id(mut self, id: impl Into<String>) -> Self {
        self.api_id = Some(id.into());
        self.api_name = None;
        self
    }

    /// The same entry with this visibility (`public` or `private`).
    pub fn with_visibility(mut self, visibility: impl Into<String>) -> Self {
        self.visibility = Some(visibility.into());
        self
    }

    /// The same entry approving registrations automatically, or not.
    pub fn with_auto_approve_registrations(mut self, on: bool) -> Self {
        self.auto_approve_registrations = Some(on);
        self
    }

    /// Whether it targets a classic (v2) portal: it names an API product.
    pub fn is_classic(&self) -> bool {
        self.api_product_id.is_some() || self.api_product_name.is_some()
    }

    /// The product version (`v1` when unset).
    pub fn product_version(&self) -> &str {
        self.product_version.as_deref().unwrap_or(DEFAULT_PRODUCT_VERSION)
    }

    /// The API's (or API product's) name, or its id when it is given by id: how plans
    /// name it.
    pub fn api_key(&self) -> &str {
        self.api_name
            .as_deref()
            .or(self.api_id.as_deref())
            .or(self.api_product_name.as_deref())
            .or(self.api_product_id.as_deref())
            .unwrap_or_default()
    }

    /// The visibility, `public` when unset.
    pub fn visibility(&self) -> &str {
        self.visibility.as_deref().unwrap_or("public")
    }
}

impl DcrConfig {
    /// The publications to converge, in configuration order: the
    /// `[[konnect.publications]]` entries, or the one the single keys (`konnect.portal_id`
    /// with `api_id` or `api_name`) describe. Unset visibility and auto-approval are
    /// filled in from `konnect.visibility` and `konnect.auto_approve_registrations`.
    ///
    /// ```
    /// use dcr_workflow::DcrConfig;
    /// let mut config = DcrConfig::default();
    /// config.konnect.portal_id = "p".into();
    /// config.konnect.api_name = Some("Orders".into());
    /// let publications = config.publications();
    /// assert_eq!(publications.len(), 1);
    /// assert_eq!(publications[0].api_key(), "Orders");
    /// assert_eq!(publications[0].visibility(), "public");
    /// ```
    pub fn publications(&self) -> Vec<PublicationSettings> {
        let k = &self.konnect;
        let entries = if k.publications.is_empty() {
            vec![PublicationSettings {
                portal_id: k.portal_id.clone(),
                api_id: k.api_id.clone(),
                api_name: k.api_name.clone(),
                ..PublicationSettings::default()
            }]
        } else {
            k.publications.clone()
        };
        entries
            .into_iter()
            .map(|e| PublicationSettings {
                visibility: if e.is_classic() {
                    e.visibility.clone()
                } else {
                    Some(e.visibility.clone().unwrap_or_else(|| k.visibility.clone()))
                },
                auto_approve_registrations: Some(e.auto_approve_registrations.unwrap_or(k.auto_approve_registrations)),
                ..e
            })
            .collect()
    }

    /// Where each publication's settings live, for messages: `konnect` for the single
    /// keys, `konnect.publications[i]` for an entry.
    pub(crate) fn publication_field(&self, index: usize, field: &str) -> String {
        if self.konnect.publications.is_empty() {
            format!("konnect.{field}")
        } else {
            format!("konnect.publications[{index}].{field}")
        }
    }

    /// The first v3 publication's portal: where `verify` registers its application (the
    /// classic admin API cannot create applications).
    pub(crate) fn first_portal(&self) -> Option<String> {
        self.publications()
            .into_iter()
            .find(|p| !p.is_classic())
            .map(|p| p.portal_id)
    }

    /// The first publication's portal, of either kind: what a verification client's
    /// `konnect_portal_id` names.
    pub(crate) fn any_portal(&self) -> String {
        self.publications()
            .into_iter()
            .next()
            .map(|p| p.portal_id)
            .unwrap_or_default()
    }

    /// The distinct v3 portals of the publications, in configuration order.
    pub fn portal_ids(&self) -> Vec<String> {
        self.portals_where(|p| !p.is_classic())
    }

    /// The distinct classic (v2) portals of the publications, in configuration order.
    pub fn classic_portal_ids(&self) -> Vec<String> {
        self.portals_where(PublicationSettings::is_classic)
    }

    fn portals_where(&self, wanted: impl Fn(&PublicationSettings) -> bool) -> Vec<String> {
        let mut portals: Vec<String> = Vec::new();
        for p in self.publications().into_iter().filter(|p| wanted(p)) {
            if !portals.contains(&p.portal_id) {
                portals.push(p.portal_id);
            }
        }
        portals
    }

    /// The issuer Konnect and the strategy use: `https://{custom_domain or domain}`,
    /// without a trailing slash.
    pub fn issuer(&self) -> String {
        let host = self.auth0.custom_domain.as_deref().unwrap_or(&self.auth0.domain);
        format!("https://{}", host.trim_end_matches('/'))
    }

    /// The Management API audience: always on the tenant domain, even with a custom domain.
    pub fn management_audience(&self) -> String {
        format!("https://{}/api/v2/", self.auth0.domain.trim_end_matches('/'))
    }

    /// The DCR provider's client audience: the Management API audience when a custom
    /// domain is used, else none (Konnect then uses the issuer).
    pub fn client_audience(&self) -> Option<String> {
        self.auth0.custom_domain.as_ref().map(|_| self.management_audience())
    }

    /// Exactly the Management API scopes the DCR admin application gets.
    pub fn admin_scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = AUTH0_DCR_SCOPES.map(str::to_owned).to_vec();
        if self.api.developer_managed_scopes {
            scopes.push(AUTH0_DEVELOPER_MANAGED_SCOPE.to_owned());
        }
        scopes
    }

    /// The Management API refill rate documented for `auth0.plan` (the slowest bucket's
    /// where a plan has several), or `None` without a plan.
    pub fn auth0_refill_per_second(&self) -> Option<f64> {
        match self.auth0.plan.as_deref()? {
            // Free: 2 per second.
            "free" => Some(2.0),
            // Essentials and Professional: reading clients refills 100 per minute, the
            // slowest of the buckets the workflow uses.
            "essentials" | "professional" => Some(100.0 / 60.0),
            // Enterprise, production tenant: 16 per second.
            "enterprise" => Some(16.0),
            _ => None,
        }
    }

    /// The strategy's scopes: as configured, or `openid` plus the API's scopes.
    pub fn strategy_scopes(&self) -> Vec<String> {
        match &self.konnect.scopes {
            Some(scopes) => scopes.clone(),
            None => std::iter::once("openid".to_owned())
                .chain(self.api.scopes.iter().map(|s| s.value.clone()))
                .collect(),
        }
    }

    /// The labels put on Konnect resources: the configured ones plus the ownership mark.
    pub fn konnect_labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.labels.clone();
        labels.insert(crate::owner::LABEL_KEY.to_owned(), crate::owner::LABEL_VALUE.to_owned());
        labels
    }
}

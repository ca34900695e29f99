//! Classic (v2) Dev Portals: API products and their versions (`/v2/api-products`), and
//! a version's publication on a classic portal, the *portal product version*
//! (`/v2/portals/{portalId}/product-versions`), which is where a classic portal attaches
//! an auth strategy (documents `konnect-api-products-v2` and
//! `konnect-portal-management-v2`).
//!
//! ```
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use konnect_appauth::resources::api_products::{NewApiProduct, NewPortalProductVersion, NewProductVersion};
//! use konnect_appauth::{KonnectClient, PortalId};
//! use secrecy::ExposeSecret;
//! let sandbox = dcr_sandbox::konnect::KonnectSandbox::start().await?;
//! let classic = PortalId::new(sandbox.add_classic_portal("classic"));
//! let konnect = KonnectClient::builder().base_url(sandbox.uri()).token(sandbox.token().expose_secret()).build()?;
//! let products = konnect.api_products();
//! let product = products.create(&NewApiProduct::new("Orders")).await?;
//! let version = products.create_version(&product.id, &NewProductVersion::new("v1")).await?;
//! let published = products
//!     .publish(&classic, &NewPortalProductVersion::new(version.id.clone()))
//!     .await?;
//! assert_eq!(published.publish_status, "published");
//! assert!(published.application_registration_enabled);
//! # Ok(()) }
//! ```

use dcr_client_core::Operation;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Labels, List};
use crate::client::KonnectClient;
use crate::error::{KonnectError, NotFoundAsNone, Result};
use crate::ids::{ApiProductId, AuthStrategyId, PortalId, PortalProductVersionId, ProductVersionId};
use crate::validate;

static CREATE: Operation = Operation::new(Method::POST, "/v2/api-products");
static LIST: Operation = Operation::new(Method::GET, "/v2/api-products");
static GET: Operation = Operation::new(Method::GET, "/v2/api-products/{id}");
static DELETE: Operation = Operation::new(Method::DELETE, "/v2/api-products/{id}");
static CREATE_VERSION: Operation = Operation::new(Method::POST, "/v2/api-products/{apiProductId}/product-versions");
static LIST_VERSIONS: Operation = Operation::new(Method::GET, "/v2/api-products/{apiProductId}/product-versions");
static DELETE_VERSION: Operation =
    Operation::new(Method::DELETE, "/v2/api-products/{apiProductId}/product-versions/{id}");
static LIST_ON_PORTAL: Operation = Operation::new(Method::GET, "/v2/portals/{portalId}/product-versions");
static PUBLISH: Operation = Operation::new(Method::POST, "/v2/portals/{portalId}/product-versions");
static GET_ON_PORTAL: Operation = Operation::new(
    Method::GET,
    "/v2/portals/{portalId}/product-versions/{productVersionId}",
);
static UPDATE_ON_PORTAL: Operation = Operation::new(
    Method::PATCH,
    "/v2/portals/{portalId}/product-versions/{productVersionId}",
);
static UNPUBLISH: Operation = Operation::new(
    Method::DELETE,
    "/v2/portals/{portalId}/product-versions/{productVersionId}",
);

/// Every operation this handler exposes, for coverage checks.
pub const OPERATIONS: [&Operation; 12] = [
    &CREATE,
    &LIST,
    &GET,
    &DELETE,
    &CREATE_VERSION,
    &LIST_VERSIONS,
    &DELETE_VERSION,
    &LIST_ON_PORTAL,
    &PUBLISH,
    &GET_ON_PORTAL,
    &UPDATE_ON_PORTAL,
    &UNPUBLISH,
];

/// An API product (`APIProduct`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiProduct {
    /// Its id.
    pub id: ApiProductId,
    /// Its name (not unique).
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Labels,
    /// The classic portals it is published on.
    #[serde(default)]
    pub portal_ids: Vec<PortalId>,
    /// How many versions it has (typed `number` by the document).
    #[serde(default, deserialize_with = "crate::pagination::lenient")]
    pub version_count: u64,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
    /// Fields this crate does not model (`portals`, `public_labels`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `POST /v2/api-products` (`CreateAPIProductDTO`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct NewApiProduct {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Labels::is_empty", default)]
    labels: Labels,
}

impl NewApiProduct {
    /// A product named `name` (1–100 characters).
    pub fn new(name: impl Into<String>) -> Self {
        NewApiProduct {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Its description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// A label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    fn validate(&self) -> Result<()> {
        validate::len("name", &self.name, 1, 100)?;
        validate::labels(&self.labels)
    }
}

/// A version of an API product (`APIProductVersion`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProductVersion {
    /// Its id.
    pub id: ProductVersionId,
    /// Its name (`v1`).
    pub name: String,
    /// Labels.
    #[serde(default)]
    pub labels: Labels,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
    /// Fields this crate does not model (`portals`, `gateway_service`, the deprecated
    /// `publish_status` and `deprecated`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `POST /v2/api-products/{id}/product-versions` (`CreateAPIProductVersionDTO`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct NewProductVersion {
    name: String,
    #[serde(skip_serializing_if = "Labels::is_empty", default)]
    labels: Labels,
}

impl NewProductVersion {
    /// A version named `name` (not empty).
    pub fn new(name: impl Into<String>) -> Self {
        NewProductVersion {
            name: name.into(),
            labels: Labels::new(),
        }
    }

    /// A label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }
}

/// A strategy a portal product version uses, as the portal shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortalAuthStrategy {
    /// The strategy's id.
    pub id: AuthStrategyId,
    /// Its name.
    pub name: String,
    /// `client_credentials` (DCR and openid_connect), `self_managed_client_credentials`
    /// or `key_auth`.
    pub credential_type: String,
    /// Fields this crate does not model (`auth_methods`, `key_names`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A version published on a classic portal (`PortalProductVersion`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortalProductVersion {
    /// Its id (not the product version's).
    pub id: PortalProductVersionId,
    /// The product version it publishes.
    pub product_version_id: ProductVersionId,
    /// `published` or `unpublished`.
    pub publish_status: String,
    /// Whether developers may register applications for it.
    pub application_registration_enabled: bool,
    /// Whether registrations are approved automatically.
    pub auto_approve_registration: bool,
    /// Whether it is shown as deprecated.
    pub deprecated: bool,
    /// The strategy applications use (at most one).
    #[serde(default)]
    pub auth_strategies: Vec<PortalAuthStrategy>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

impl PortalProductVersion {
    /// The ids of its strategies.
    pub fn auth_strategy_ids(&self) -> Vec<AuthStrategyId> {
        self.auth_strategies.iter().map(|s| s.id.clone()).collect()
    }
}

/// Body of `POST /v2/portals/{portalId}/product-versions`
/// (`CreatePortalProductVersionPayload`: every field is required, so each has a value).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct NewPortalProductVersion {
    product_version_id: ProductVersionId,
    #[serde(flatten)]
    settings: PortalProductVersionUpdate,
}

impl NewPortalProductVersion {
    /// Published, application registration enabled, not auto-approved, not deprecated,
    /// no strategy.
    pub fn new(version: impl Into<ProductVersionId>) -> Self {
        NewPortalProductVersion {
            product_version_id: version.into(),
            settings: PortalProductVersionUpdate {
                publish_status: Some("published".into()),
                auth_strategy_ids: Some(Vec::new()),
                application_registration_enabled: Some(true),
                auto_approve_registration: Some(false),
                deprecated: Some(false),
            },
        }
    }

    /// Applications register with this strategy (a classic portal allows one).
    pub fn auth_strategy(mut self, id: impl Into<AuthStrategyId>) -> Self {
        self.settings.auth_strategy_ids = Some(vec![id.into()]);
        self
    }

    /// Approve registrations automatically.
    pub fn auto_approve_registration(mut self, on: bool) -> Self {
        self.settings.auto_approve_registration = Some(on);
        self
    }
}

/// Body of `PATCH /v2/portals/{portalId}/product-versions/{id}`
/// (`UpdatePortalProductVersionPayload`): the fields set are changed.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct PortalProductVersionUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    publish_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_strategy_ids: Option<Vec<AuthStrategyId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    application_registration_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_approve_registration: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deprecated: Option<bool>,
}

impl PortalProductVersionUpdate {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `published` (`true`) or `unpublished`.
    pub fn published(mut self, on: bool) -> Self {
        self.publish_status = Some(if on { "published" } else { "unpublished" }.into());
        self
    }

    /// The strategy applications use (`None`: none).
    pub fn auth_strategy(mut self, id: Option<AuthStrategyId>) -> Self {
        self.auth_strategy_ids = Some(id.into_iter().collect());
        self
    }

    /// Whether developers may register applications.
    pub fn application_registration_enabled(mut self, on: bool) -> Self {
        self.application_registration_enabled = Some(on);
        self
    }

    /// Whether registrations are approved automatically.
    pub fn auto_approve_registration(mut self, on: bool) -> Self {
        self.auto_approve_registration = Some(on);
        self
    }

    /// Whether it is shown as deprecated.
    pub fn deprecated(mut self, on: bool) -> Self {
        self.deprecated = Some(on);
        self
    }
}

/// Handler for `/v2/api-products` and the classic portals' product versions.
#[derive(Clone, Debug)]
pub struct ApiProducts {
    client: KonnectClient,
}

impl ApiProducts {
    pub(crate) fn new(client: KonnectClient) -> Self {
        ApiProducts { client }
    }

    /// Creates an API product (201).
    pub async fn create(&self, product: &NewApiProduct) -> Result<ApiProduct> {
        product.validate()?;
        self.client.call(&CREATE, &["v2", "api-products"], Some(product)).await
    }

    /// Lists API products; narrow with [`List::name`] / [`List::names`].
    pub fn list(&self) -> List<ApiProduct> {
        List::new(&self.client, &LIST, &["v2", "api-products"])
    }

    /// Reads an API product, `None` if it does not exist.
    pub async fn get_opt(&self, id: &ApiProductId) -> Result<Option<ApiProduct>> {
        self.client
            .call(&GET, &["v2", "api-products", id.as_str()], None)
            .await
            .optional()
    }

    /// Deletes an API product with its versions (204).
    pub async fn delete(&self, id: &ApiProductId) -> Result<()> {
        self.client
            .call_empty(&DELETE, &["v2", "api-products", id.as_str()])
            .await
    }

    /// Creates a version of a product (201).
    pub async fn create_version(&self, product: &ApiProductId, version: &NewProductVersion) -> Result<ProductVersion> {
        if version.name.is_empty() {
            return Err(KonnectError::invalid("name", "must not be empty"));
        }
        validate::labels(&version.labels)?;
        self.client
            .call(
                &CREATE_VERSION,
                &["v2", "api-products", product.as_str(), "product-versions"],
                Some(version),
            )
            .await
    }

    /// Lists a product's versions; narrow with [`List::name`].
    pub fn versions(&self, product: &ApiProductId) -> List<ProductVersion> {
        List::new(
            &self.client,
            &LIST_VERSIONS,
            &["v2", "api-products", product.as_str(), "product-versions"],
        )
    }

    /// Deletes a version with its publications (204).
    pub async fn delete_version(&self, product: &ApiProductId, version: &ProductVersionId) -> Result<()> {
        self.client
            .call_empty(
                &DELETE_VERSION,
                &[
                    "v2",
                    "api-products",
                    product.as_str(),
                    "product-versions",
                    version.as_str(),
                ],
            )
            .await
    }

    /// A classic portal's product versions (404 when the portal does not exist).
    pub fn on_portal(&self, portal: &PortalId) -> List<PortalProductVersion> {
        List::new(
            &self.client,
            &LIST_ON_PORTAL,
            &["v2", "portals", portal.as_str(), "product-versions"],
        )
    }

    /// Publishes a version on a classic portal (201).
    pub async fn publish(&self, portal: &PortalId, request: &NewPortalProductVersion) -> Result<PortalProductVersion> {
        self.client
            .call(
                &PUBLISH,
                &["v2", "portals", portal.as_str(), "product-versions"],
                Some(request),
            )
            .await
    }

    /// Reads a portal product version, `None` if it does not exist.
    pub async fn get_on_portal(
        &self,
        portal: &PortalId,
        id: &PortalProductVersionId,
    ) -> Result<Option<PortalProductVersion>> {
        self.client
            .call(
                &GET_ON_PORTAL,
                &["v2", "portals", portal.as_str(), "product-versions", id.as_str()],
                None,
            )
            .await
            .optional()
    }

    /// Changes a portal product version (200).
    pub async fn update_on_portal(
        &self,
        portal: &PortalId,
        id: &PortalProductVersionId,
        update: &PortalProductVersionUpdate,
    ) -> Result<PortalProductVersion> {
        self.client
            .call(
                &UPDATE_ON_PORTAL,
                &["v2", "portals", portal.as_str(), "product-versions", id.as_str()],
                Some(update),
            )
            .await
    }

    /// Removes a version from a classic portal (204).
    pub async fn unpublish(&self, portal: &PortalId, id: &PortalProductVersionId) -> Result<()> {
        self.client
            .call_empty(
                &UNPUBLISH,
                &["v2", "portals", portal.as_str(), "product-versions", id.as_str()],
            )
            .await
    }
}

impl List<ApiProduct> {
    /// `filter[name][eq]`.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.filter("name", "eq", name)
    }

    /// `filter[name][oeq]`: any of these names (a name holding a comma: use
    /// [`name`](Self::name)).
    pub fn names<S: AsRef<str>>(self, names: &[S]) -> Self {
        let joined: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
        self.filter("name", "oeq", joined.join(","))
    }
}

impl List<ProductVersion> {
    /// `filter[name][eq]`.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.filter("name", "eq", name)
    }
}

//! APIs in the API Builder (`/v3/apis`) and their publication on a portal
//! (`/v3/apis/{apiId}/publications/{portalId}`), which is where an auth strategy is
//! attached to an API.

use dcr_client_core::Operation;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Labels, List};
use crate::client::KonnectClient;
use crate::error::{KonnectError, NotFoundAsNone, Result};
use crate::ids::{ApiId, AuthStrategyId, PortalId};
use crate::validate;

static CREATE: Operation = Operation::new(Method::POST, "/v3/apis");
static LIST: Operation = Operation::new(Method::GET, "/v3/apis");
static GET: Operation = Operation::new(Method::GET, "/v3/apis/{apiId}");
static DELETE: Operation = Operation::new(Method::DELETE, "/v3/apis/{apiId}");
static PUBLISH: Operation = Operation::new(Method::PUT, "/v3/apis/{apiId}/publications/{portalId}");
static GET_PUBLICATION: Operation = Operation::new(Method::GET, "/v3/apis/{apiId}/publications/{portalId}");
static DELETE_PUBLICATION: Operation = Operation::new(Method::DELETE, "/v3/apis/{apiId}/publications/{portalId}");
static LIST_PUBLICATIONS: Operation = Operation::new(Method::GET, "/v3/api-publications");
static LIST_PORTAL_PUBLICATIONS: Operation = Operation::new(Method::GET, "/v3/portals/{portalId}/api-publications");

/// Every operation this handler exposes, for coverage checks.
pub const OPERATIONS: [&Operation; 9] = [
    &CREATE,
    &LIST,
    &GET,
    &DELETE,
    &PUBLISH,
    &GET_PUBLICATION,
    &DELETE_PUBLICATION,
    &LIST_PUBLICATIONS,
    &LIST_PORTAL_PUBLICATIONS,
];

/// A portal an API is published on (read-only summary).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiPortal {
    /// Portal id.
    pub id: PortalId,
    /// Portal name.
    pub name: String,
    /// Portal display name.
    pub display_name: String,
}

/// An API (`ApiResponseSchema`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Api {
    /// Its id.
    pub id: ApiId,
    /// Its name.
    pub name: String,
    /// Its version, if any.
    #[serde(default)]
    pub version: Option<String>,
    /// URL slug.
    #[serde(default)]
    pub slug: Option<String>,
    /// Portals it is published on.
    #[serde(default)]
    pub portals: Vec<ApiPortal>,
    /// Labels.
    #[serde(default)]
    pub labels: Labels,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
    /// Fields this crate does not model (`current_version_summary`, `attributes`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `POST /v3/apis`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct NewApi {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    slug: Option<String>,
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attributes: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec_content: Option<String>,
}

impl NewApi {
    /// An API with this name (1–255 characters).
    pub fn new(name: impl Into<String>) -> Self {
        NewApi {
            name: name.into(),
            version: None,
            slug: None,
            labels: Labels::new(),
            attributes: None,
            spec_content: None,
        }
    }

    /// Custom attributes (`{"env": ["prod"]}`).
    pub fn attributes(mut self, attributes: Value) -> Self {
        self.attributes = Some(attributes);
        self
    }

    /// An OpenAPI or AsyncAPI document to create the API from.
    pub fn spec_content(mut self, content: impl Into<String>) -> Self {
        self.spec_content = Some(content.into());
        self
    }

    /// Its version.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// Its slug (`^[\w-]+$`).
    pub fn slug(mut self, slug: impl Into<String>) -> Self {
        self.slug = Some(slug.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    fn validate(&self) -> Result<()> {
        validate::len("name", &self.name, 1, 255)?;
        if let Some(version) = &self.version {
            validate::len("version", version, 1, 255)?;
        }
        if let Some(slug) = &self.slug
            && (slug.is_empty() || !slug.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-'))
        {
            return Err(KonnectError::invalid("slug", "must match ^[\\w-]+$"));
        }
        validate::labels(&self.labels)
    }
}

/// Who sees an API on a portal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Visibility {
    /// Everyone, signed in or not.
    Public,
    /// Signed-in developers only (Konnect's default).
    #[default]
    Private,
}

/// An API's publication on a portal (`ApiPublication`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Publication {
    /// The strategy applications use; `None` means no application auth.
    #[serde(default)]
    pub auth_strategy_ids: Option<Vec<AuthStrategyId>>,
    /// Whether registrations are approved automatically (portal default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_approve_registrations: Option<bool>,
    /// Visibility.
    pub visibility: Visibility,
    /// What Konnect warns about (e.g. no Gateway Service linked yet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// One entry of the publication lists (`ApiPublicationListItem` of
/// `GET /v3/api-publications`, `PublicationListItem` of
/// `GET /v3/portals/{portalId}/api-publications`): the publication with the API and
/// portal it joins, so that a whole portal's publications cost one request per page
/// instead of one per API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ListedPublication {
    /// The published API (or API package, see `entity_type`).
    pub api_id: ApiId,
    /// The portal, in the organization-wide list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_id: Option<PortalId>,
    /// The portal(s), in a portal's own list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub portal_ids: Vec<PortalId>,
    /// `api` or `api_package`.
    pub entity_type: String,
    /// The strategy applications use; `None` means no application auth.
    #[serde(default)]
    pub auth_strategy_ids: Option<Vec<AuthStrategyId>>,
    /// Whether registrations are approved automatically (`false`: the portal decides).
    #[serde(default)]
    pub auto_approve_registrations: Option<bool>,
    /// Visibility.
    pub visibility: Visibility,
    /// What Konnect warns about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

impl ListedPublication {
    /// Whether it publishes an API (not an API package).
    pub fn is_api(&self) -> bool {
        self.entity_type == "api"
    }

    /// Whether it is on `portal`.
    pub fn on_portal(&self, portal: &PortalId) -> bool {
        self.portal_id.as_ref() == Some(portal) || self.portal_ids.contains(portal)
    }

    /// The publication itself, as [`Apis::publication`] returns it.
    pub fn publication(&self) -> Publication {
        Publication {
            auth_strategy_ids: self.auth_strategy_ids.clone(),
            auto_approve_registrations: self.auto_approve_registrations,
            visibility: self.visibility,
            warnings: self.warnings.clone(),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }
}

/// Body of `PUT /v3/apis/{apiId}/publications/{portalId}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct PublicationRequest {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "::serde_with::rust::double_option"
    )]
    auth_strategy_ids: Option<Option<Vec<AuthStrategyId>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_approve_registrations: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visibility: Option<Visibility>,
}

impl PublicationRequest {
    /// A publication with the portal's default strategy and visibility.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applications authenticate with this strategy (Konnect allows exactly one).
    pub fn auth_strategy(mut self, id: impl Into<AuthStrategyId>) -> Self {
        self.auth_strategy_ids = Some(Some(vec![id.into()]));
        self
    }

    /// No application auth at all (`auth_strategy_ids: null`).
    pub fn no_auth_strategy(mut self) -> Self {
        self.auth_strategy_ids = Some(None);
        self
    }

    /// Approve registrations automatically.
    pub fn auto_approve_registrations(mut self, on: bool) -> Self {
        self.auto_approve_registrations = Some(on);
        self
    }

    /// Visibility.
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = Some(visibility);
        self
    }
}

/// Handler for `/v3/apis`.
#[derive(Clone, Debug)]
pub struct Apis {
    client: KonnectClient,
}

impl Apis {
    pub(crate) fn new(client: KonnectClient) -> Self {
        Apis { client }
    }

    /// Creates an API (201).
    pub async fn create(&self, api: &NewApi) -> Result<Api> {
        api.validate()?;
        self.client.call(&CREATE, &["v3", "apis"], Some(api)).await
    }

    /// Reads an API.
    pub async fn get(&self, id: &ApiId) -> Result<Api> {
        self.client.call(&GET, &["v3", "apis", id.as_str()], None).await
    }

    /// Reads an API, `None` if it does not exist.
    pub async fn get_opt(&self, id: &ApiId) -> Result<Option<Api>> {
        self.get(id).await.optional()
    }

    /// The API with exactly this name, if any.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<Api>> {
        let page = self.list().name(name).page_size(10).send().await?;
        Ok(page.items.into_iter().find(|a| a.name == name))
    }

    /// Lists APIs.
    pub fn list(&self) -> List<Api> {
        List::new(&self.client, &LIST, &["v3", "apis"])
    }

    /// Deletes an API (204).
    pub async fn delete(&self, id: &ApiId) -> Result<()> {
        self.client.call_empty(&DELETE, &["v3", "apis", id.as_str()]).await
    }

    /// Publishes (or re-publishes) an API on a portal: an idempotent PUT.
    pub async fn publish(&self, api: &ApiId, portal: &PortalId, request: &PublicationRequest) -> Result<Publication> {
        self.client
            .call(
                &PUBLISH,
                &["v3", "apis", api.as_str(), "publications", portal.as_str()],
                Some(request),
            )
            .await
    }

    /// Reads a publication; `None` when the API is not published on that portal.
    pub async fn publication(&self, api: &ApiId, portal: &PortalId) -> Result<Option<Publication>> {
        self.client
            .call(
                &GET_PUBLICATION,
                &["v3", "apis", api.as_str(), "publications", portal.as_str()],
                None,
            )
            .await
            .optional()
    }

    /// Every API publication of the organization (`GET /v3/api-publications`), narrowed
    /// with [`auth_strategy_id`](List::auth_strategy_id) or [`api_ids`](List::api_ids).
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::TryStreamExt;
    /// use konnect_appauth::resources::apis::{NewApi, PublicationRequest};
    /// use konnect_appauth::{KonnectClient, PortalId};
    /// use secrecy::ExposeSecret;
    /// let sandbox = dcr_sandbox::konnect::KonnectSandbox::start().await?;
    /// let konnect = KonnectClient::builder().base_url(sandbox.uri()).token(sandbox.token().expose_secret()).build()?;
    /// let apis = konnect.apis();
    /// let portal = PortalId::new(sandbox.portal_id());
    /// let api = apis.create(&NewApi::new("Orders")).await?;
    /// apis.publish(&api.id, &portal, &PublicationRequest::new()).await?;
    /// let mine: Vec<_> = apis.portal_publications(&portal).stream().try_collect().await?;
    /// assert_eq!(mine.len(), 1);
    /// assert_eq!(mine[0].api_id, api.id);
    /// # Ok(()) }
    /// ```
    pub fn publications(&self) -> List<ListedPublication> {
        List::new(&self.client, &LIST_PUBLICATIONS, &["v3", "api-publications"])
    }

    /// A portal's API publications (`GET /v3/portals/{portalId}/api-publications`); a
    /// portal that does not exist answers 404.
    pub fn portal_publications(&self, portal: &PortalId) -> List<ListedPublication> {
        List::new(
            &self.client,
            &LIST_PORTAL_PUBLICATIONS,
            &["v3", "portals", portal.as_str(), "api-publications"],
        )
    }

    /// Unpublishes an API from a portal (204).
    pub async fn unpublish(&self, api: &ApiId, portal: &PortalId) -> Result<()> {
        self.client
            .call_empty(
                &DELETE_PUBLICATION,
                &["v3", "apis", api.as_str(), "publications", portal.as_str()],
            )
            .await
    }
}

impl List<Api> {
    /// `filter[name][eq]`.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.filter("name", "eq", name)
    }

    /// `filter[name][oeq]`: any of these names. A name holding a comma cannot be told
    /// apart from two names: ask for it with [`name`](Self::name).
    pub fn names<S: AsRef<str>>(self, names: &[S]) -> Self {
        self.filter("name", "oeq", join(names))
    }

    /// `filter[id][oeq]`: any of these APIs.
    pub fn ids(self, ids: &[ApiId]) -> Self {
        self.filter("id", "oeq", join(ids))
    }
}

impl List<ListedPublication> {
    /// `filter[auth_strategy_id][eq]`: the publications applications reach with this
    /// strategy.
    pub fn auth_strategy_id(self, id: &AuthStrategyId) -> Self {
        self.filter("auth_strategy_id", "eq", id.as_str())
    }

    /// `filter[api_id][oeq]`: the publications of any of these APIs.
    pub fn api_ids(self, ids: &[ApiId]) -> Self {
        self.filter("api_id", "oeq", join(ids))
    }
}

fn join<S: AsRef<str>>(items: &[S]) -> String {
    items.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(",")
}

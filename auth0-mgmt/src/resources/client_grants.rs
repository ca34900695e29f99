//! Client grants: `/api/v2/client-grants`. A grant authorizes one application for one
//! API (audience) with a set of scopes; Auth0 allows one grant per (client, audience).

use futures::Stream;
use futures::future::BoxFuture;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use super::check_len;
use crate::client::Auth0Client;
use crate::enums::{OrganizationUsage, SubjectType};
use crate::error::{Auth0Error, NotFoundAsNone, Result};
use crate::ids::{Audience, ClientGrantId, ClientId};
use crate::pagination::{Filters, Page, PageRequest, PageSource, Paging, walk};
use dcr_client_core::Operation;

static LIST: Operation = Operation::new(Method::GET, "/api/v2/client-grants");
static CREATE: Operation = Operation::new(Method::POST, "/api/v2/client-grants");
static GET: Operation = Operation::new(Method::GET, "/api/v2/client-grants/{id}");
static UPDATE: Operation = Operation::new(Method::PATCH, "/api/v2/client-grants/{id}");
static DELETE: Operation = Operation::new(Method::DELETE, "/api/v2/client-grants/{id}");

/// Every operation this handler exposes, for coverage and contract checks.
pub const OPERATIONS: [&Operation; 5] = [&LIST, &CREATE, &GET, &UPDATE, &DELETE];

/// A client grant as Auth0 returns it (`ClientGrantResponseContent`).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientGrant {
    /// The grant's id.
    pub id: ClientGrantId,
    /// The application granted access.
    pub client_id: ClientId,
    /// The API (resource server identifier) access is granted to.
    pub audience: Audience,
    /// Scopes granted.
    #[serde(default)]
    pub scope: Vec<String>,
    /// Organizations usage.
    pub organization_usage: Option<OrganizationUsage>,
    /// Whether any organization may be used.
    pub allow_any_organization: Option<bool>,
    /// Whether the grant is a system grant (cannot be changed).
    pub is_system: Option<bool>,
    /// Who the grant authorizes.
    pub subject_type: Option<SubjectType>,
    /// Every other field Auth0 returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `POST /api/v2/client-grants` (`CreateClientGrantRequestContent`).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[must_use]
pub struct NewClientGrant {
    client_id: ClientId,
    audience: Audience,
    scope: Vec<String>,
    organization_usage: Option<OrganizationUsage>,
    allow_any_organization: Option<bool>,
    subject_type: Option<SubjectType>,
}

impl NewClientGrant {
    /// Grants `client_id` access to `audience` with `scopes`.
    pub fn new(
        client_id: impl Into<ClientId>,
        audience: impl Into<Audience>,
        scopes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        NewClientGrant {
            client_id: client_id.into(),
            audience: audience.into(),
            scope: scopes.into_iter().map(Into::into).collect(),
            organization_usage: None,
            allow_any_organization: None,
            subject_type: None,
        }
    }

    /// Sets Organizations usage.
    pub fn organization_usage(mut self, usage: OrganizationUsage) -> Self {
        self.organization_usage = Some(usage);
        self
    }

    /// Allows any organization.
    pub fn allow_any_organization(mut self, allow: bool) -> Self {
        self.allow_any_organization = Some(allow);
        self
    }

    /// Sets the subject type (`client` for M2M).
    pub fn subject_type(mut self, subject_type: SubjectType) -> Self {
        self.subject_type = Some(subject_type);
        self
    }

    fn validate(&self) -> Result<()> {
        if self.client_id.as_str().is_empty() {
            return Err(Auth0Error::invalid("client_id", "must not be empty"));
        }
        check_len("audience", self.audience.as_str(), 1, usize::MAX)?;
        validate_scopes(&self.scope)
    }
}

fn validate_scopes(scopes: &[String]) -> Result<()> {
    for (i, s) in scopes.iter().enumerate() {
        check_len(&format!("scope[{i}]"), s, 1, 280)?;
    }
    Ok(())
}

/// Body of `PATCH /api/v2/client-grants/{id}` (`UpdateClientGrantRequestContent`).
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[must_use]
pub struct ClientGrantUpdate {
    scope: Option<Vec<String>>,
    organization_usage: Option<OrganizationUsage>,
    allow_any_organization: Option<bool>,
}

impl ClientGrantUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the granted scopes.
    pub fn scope(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scope = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Sets Organizations usage.
    pub fn organization_usage(mut self, usage: OrganizationUsage) -> Self {
        self.organization_usage = Some(usage);
        self
    }

    /// Allows any organization.
    pub fn allow_any_organization(mut self, allow: bool) -> Self {
        self.allow_any_organization = Some(allow);
        self
    }
}

fn check_id(id: &ClientGrantId) -> Result<()> {
    if id.as_str().is_empty() {
        return Err(Auth0Error::invalid("id", "must not be empty"));
    }
    Ok(())
}

/// Handler for `/api/v2/client-grants`. Obtain it with [`Auth0Client::client_grants`].
#[derive(Clone, Debug)]
pub struct ClientGrants {
    client: Auth0Client,
}

impl ClientGrants {
    pub(crate) fn new(client: Auth0Client) -> Self {
        ClientGrants { client }
    }

    /// Creates a grant. A second grant for the same (client, audience) fails with
    /// [`Auth0Error::Conflict`].
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client, app: auth0_mgmt::ClientId) -> auth0_mgmt::Result<()> {
    /// use auth0_mgmt::resources::client_grants::NewClientGrant;
    /// let audience = auth0.audience().clone();
    /// let grant = auth0
    ///     .client_grants()
    ///     .create(&NewClientGrant::new(app, audience, ["read:clients", "create:clients"]))
    ///     .await?;
    /// println!("{} grants {:?}", grant.id, grant.scope);
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, new: &NewClientGrant) -> Result<ClientGrant> {
        new.validate()?;
        let builder = self
            .client
            .request(Method::POST, self.client.api_url(&["client-grants"]))
            .json(new);
        self.client.send_json(&CREATE, builder).await
    }

    /// Reads a grant.
    #[tracing::instrument(skip_all, fields(grant_id = %id))]
    pub async fn get(&self, id: &ClientGrantId) -> Result<ClientGrant> {
        check_id(id)?;
        let builder = self
            .client
            .request(Method::GET, self.client.api_url(&["client-grants", id.as_str()]));
        self.client.send_json(&GET, builder).await
    }

    /// Reads a grant, `Ok(None)` if it does not exist.
    pub async fn get_opt(&self, id: &ClientGrantId) -> Result<Option<ClientGrant>> {
        self.get(id).await.optional()
    }

    /// The grant of `client_id` for `audience`, if there is one (one request).
    pub async fn find(&self, client_id: &ClientId, audience: &Audience) -> Result<Option<ClientGrant>> {
        let page = self
            .list()
            .client_id(client_id.clone())
            .audience(audience.clone())
            .send()
            .await?;
        Ok(page
            .items
            .into_iter()
            .find(|g| &g.client_id == client_id && &g.audience == audience))
    }

    /// Lists grants; see [`ListClientGrants`].
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client) -> auth0_mgmt::Result<()> {
    /// let page = auth0.client_grants().list().audience(auth0.audience().clone()).send().await?;
    /// println!("{} grants for the Management API", page.total.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListClientGrants {
        ListClientGrants {
            client: self.client.clone(),
            paging: PageRequest::default(),
            filters: Filters::default(),
        }
    }

    /// Changes a grant's scopes or organization settings.
    #[tracing::instrument(skip_all, fields(grant_id = %id))]
    pub async fn update(&self, id: &ClientGrantId, update: &ClientGrantUpdate) -> Result<ClientGrant> {
        check_id(id)?;
        if let Some(scopes) = &update.scope {
            validate_scopes(scopes)?;
        }
        let builder = self
            .client
            .request(Method::PATCH, self.client.api_url(&["client-grants", id.as_str()]))
            .json(update);
        self.client.send_json(&UPDATE, builder).await
    }

    /// Deletes a grant. Auth0 answers 204 whether or not it existed.
    #[tracing::instrument(skip_all, fields(grant_id = %id))]
    pub async fn delete(&self, id: &ClientGrantId) -> Result<()> {
        check_id(id)?;
        let builder = self
            .client
            .request(Method::DELETE, self.client.api_url(&["client-grants", id.as_str()]));
        self.client.send_empty(&DELETE, builder).await
    }
}

/// `GET /api/v2/client-grants` with its filters.
#[derive(Clone, Debug)]
#[must_use]
pub struct ListClientGrants {
    client: Auth0Client,
    paging: PageRequest,
    filters: Filters,
}

impl ListClientGrants {
    fn filter(mut self, key: &'static str, value: String) -> Self {
        self.filters.set(key, value);
        self
    }

    offset_paging_setters!();
    checkpoint_paging_setters!();

    /// Only grants for this audience.
    pub fn audience(self, audience: impl Into<Audience>) -> Self {
        self.filter("audience", audience.into().into_inner())
    }

    /// Only grants of this application.
    pub fn client_id(self, client_id: impl Into<ClientId>) -> Self {
        self.filter("client_id", client_id.into().into_inner())
    }

    /// Only grants that allow any organization (the API accepts only `true`).
    pub fn allow_any_organization(self) -> Self {
        self.filter("allow_any_organization", "true".to_owned())
    }

    /// Only grants of this subject type.
    pub fn subject_type(self, subject_type: SubjectType) -> Self {
        self.filter("subject_type", subject_type.to_string())
    }

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<ClientGrant>> {
        let paging = self.paging.single(true)?;
        self.fetch(paging).await
    }

    /// Walks every page lazily.
    pub fn stream(self) -> impl Stream<Item = Result<ClientGrant>> + Send + 'static {
        let start = self.paging.stream_start(true);
        walk(self, start)
    }
}

impl PageSource for ListClientGrants {
    type Item = ClientGrant;
    fn fetch(&self, paging: Paging) -> BoxFuture<'static, Result<Page<ClientGrant>>> {
        self.client
            .list_page(&LIST, "client-grants", self.filters.to_vec(), paging)
    }
}

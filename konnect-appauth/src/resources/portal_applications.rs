//! Applications of a Dev Portal (`/v3/portals/{portalId}/applications`). Creating one for
//! a DCR-backed `openid_connect` strategy makes Konnect register a client with the
//! identity provider; the client's secret is returned once, on creation.

use dcr_client_core::Operation;
use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{LabelsUpdate, List};
use crate::client::KonnectClient;
use crate::error::{NotFoundAsNone, Result};
use crate::ids::{ApplicationId, AuthStrategyId, DcrProviderId, PortalId};
use crate::validate;

static CREATE: Operation = Operation::new(Method::POST, "/v3/portals/{portalId}/applications");
static LIST: Operation = Operation::new(Method::GET, "/v3/portals/{portalId}/applications");
static GET: Operation = Operation::new(Method::GET, "/v3/portals/{portalId}/applications/{applicationId}");
static DELETE: Operation = Operation::new(Method::DELETE, "/v3/portals/{portalId}/applications/{applicationId}");

/// Every operation this handler exposes, for coverage checks.
pub const OPERATIONS: [&Operation; 4] = [&CREATE, &LIST, &GET, &DELETE];

/// Who owns an application: a developer or a team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Owner {
    /// `developer` or `team`.
    #[serde(rename = "type")]
    pub owner_type: String,
    /// The developer's or team's id.
    pub id: String,
}

impl Owner {
    /// A developer owner.
    pub fn developer(id: impl Into<String>) -> Self {
        Owner {
            owner_type: "developer".into(),
            id: id.into(),
        }
    }

    /// A team owner.
    pub fn team(id: impl Into<String>) -> Self {
        Owner {
            owner_type: "team".into(),
            id: id.into(),
        }
    }
}

/// The strategy an application uses, as summarised on the application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApplicationStrategy {
    /// Strategy id.
    pub id: AuthStrategyId,
    /// Strategy name.
    pub name: String,
    /// `client_credentials`, `self_managed_client_credentials` or `key_auth`.
    pub credential_type: String,
    /// Other fields (`auth_methods`, `key_names`, `available_scopes`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A reference by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdRef<T> {
    /// The id.
    pub id: T,
}

/// A portal application (`Application`: client-credentials or key-auth).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PortalApplication {
    /// Its id.
    pub id: ApplicationId,
    /// Its name.
    pub name: String,
    /// Description, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The identity provider's client id (DCR applications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The strategy it authenticates with.
    pub auth_strategy: ApplicationStrategy,
    /// The DCR provider that registered its client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dcr_provider: Option<IdRef<DcrProviderId>>,
    /// The portal it lives on.
    pub portal: IdRef<PortalId>,
    /// Number of API registrations.
    #[serde(default, deserialize_with = "crate::pagination::lenient")]
    pub registration_count: u64,
    /// Scopes the identity provider granted; `None` where unsupported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_scopes: Option<Vec<String>>,
    /// Labels (`LabelsUpdate`, which the document declares nullable: `null` decodes empty).
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub labels: LabelsUpdate,
    /// Owner, when returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// What creating an application returns: the application, and the client secret the
/// identity provider issued, which is shown this once and never again.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CreatedApplication {
    /// The application.
    #[serde(flatten)]
    pub application: PortalApplication,
    /// The DCR client's secret, when Konnect returns it.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
}

/// Body of `POST /v3/portals/{portalId}/applications` (`CreateApplicationRequest`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct NewApplication {
    name: String,
    owner: Owner,
    // Not in `CreateApplicationRequest`'s properties, yet in the document's own example
    // of that body and in Konnect's application responses: accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_strategy_id: Option<AuthStrategyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dcr_client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<LabelsUpdate>,
}

impl NewApplication {
    /// An application owned by `owner`.
    pub fn new(name: impl Into<String>, owner: Owner) -> Self {
        NewApplication {
            name: name.into(),
            owner,
            description: None,
            auth_strategy_id: None,
            dcr_client_id: None,
            client_id: None,
            labels: None,
        }
    }

    /// A description shown to developers.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The strategy it authenticates with; for a DCR strategy Konnect registers a client.
    pub fn auth_strategy(mut self, id: impl Into<AuthStrategyId>) -> Self {
        self.auth_strategy_id = Some(id.into());
        self
    }

    /// Links an existing identity-provider client instead of registering a new one.
    pub fn dcr_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.dcr_client_id = Some(client_id.into());
        self
    }

    /// Sets the client id of a self-managed client-credentials application.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels
            .get_or_insert_with(LabelsUpdate::new)
            .insert(key.into(), Some(value.into()));
        self
    }

    fn validate(&self) -> Result<()> {
        validate::len("name", &self.name, 1, 255)?;
        if !matches!(self.owner.owner_type.as_str(), "developer" | "team") {
            return Err(crate::KonnectError::invalid("owner.type", "must be developer or team"));
        }
        if let Some(id) = &self.dcr_client_id {
            validate::len("dcr_client_id", id, 1, 255)?;
        }
        if let Some(id) = &self.client_id {
            validate::len("client_id", id, 1, 255)?;
        }
        if let Some(labels) = &self.labels {
            validate::label_update(labels)?;
        }
        Ok(())
    }
}

/// Handler for one portal's applications.
#[derive(Clone, Debug)]
pub struct PortalApplications {
    client: KonnectClient,
    portal: PortalId,
}

impl PortalApplications {
    pub(crate) fn new(client: KonnectClient, portal: PortalId) -> Self {
        PortalApplications { client, portal }
    }

    /// Creates an application (201). For a DCR strategy the result carries the client id
    /// and, once, its secret.
    pub async fn create(&self, application: &NewApplication) -> Result<CreatedApplication> {
        application.validate()?;
        self.client
            .call(
                &CREATE,
                &["v3", "portals", self.portal.as_str(), "applications"],
                Some(application),
            )
            .await
    }

    /// Reads an application.
    pub async fn get(&self, id: &ApplicationId) -> Result<PortalApplication> {
        self.client
            .call(
                &GET,
                &["v3", "portals", self.portal.as_str(), "applications", id.as_str()],
                None,
            )
            .await
    }

    /// Reads an application, `None` if it does not exist.
    pub async fn get_opt(&self, id: &ApplicationId) -> Result<Option<PortalApplication>> {
        self.get(id).await.optional()
    }

    /// Deletes an application (204); Konnect deletes its DCR client too.
    pub async fn delete(&self, id: &ApplicationId) -> Result<()> {
        self.client
            .call_empty(
                &DELETE,
                &["v3", "portals", self.portal.as_str(), "applications", id.as_str()],
            )
            .await
    }

    /// One application's registrations for APIs: list, approve, reject, revoke.
    pub fn registrations(&self, id: &ApplicationId) -> super::application_registrations::ApplicationRegistrations {
        super::application_registrations::ApplicationRegistrations::new(
            self.client.clone(),
            self.portal.clone(),
            id.clone(),
        )
    }

    /// Every registration of every application of the portal.
    pub fn all_registrations(&self) -> List<super::application_registrations::ApplicationRegistration> {
        super::application_registrations::portal_list(&self.client, &self.portal)
    }

    /// Lists the portal's applications.
    pub fn list(&self) -> List<PortalApplication> {
        List::new(
            &self.client,
            &LIST,
            &["v3", "portals", self.portal.as_str(), "applications"],
        )
    }
}

impl List<PortalApplication> {
    /// `filter[name][eq]`.
    pub fn name(self, name: impl Into<String>) -> Self {
        self.filter("name", "eq", name)
    }

    /// `filter[developer_id][eq]`.
    pub fn developer_id(self, id: impl Into<String>) -> Self {
        self.filter("developer_id", "eq", id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The portal document declares `labels` nullable (`LabelsUpdate`); Konnect has been
    /// seen sending `null`.
    #[test]
    fn an_application_with_null_labels_decodes() {
        let body = serde_json::json!({
            "id": "11111111-1111-4111-8111-111111111111",
            "name": "app",
            "description": null,
            "client_id": "abc",
            "auth_strategy": {"id": "22222222-2222-4222-8222-222222222222", "name": "s", "credential_type": "client_credentials"},
            "dcr_provider": null,
            "portal": {"id": "33333333-3333-4333-8333-333333333333"},
            "registration_count": 0,
            "labels": null,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"
        });
        let app: PortalApplication = serde_json::from_value(body).unwrap();
        assert!(app.labels.is_empty());
    }
}

//! A developer's applications (`/api/v3/applications`).

use dcr_client_core::Operation;
use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::client::KonnectClient;
use crate::error::{NotFoundAsNone, Result};
use crate::ids::{ApplicationId, AuthStrategyId};
use crate::resources::List;
use crate::resources::portal_applications::ApplicationStrategy;
use crate::validate;

pub(crate) static CREATE: Operation = Operation::new(Method::POST, "/api/v3/applications");
pub(crate) static LIST: Operation = Operation::new(Method::GET, "/api/v3/applications");
pub(crate) static GET: Operation = Operation::new(Method::GET, "/api/v3/applications/{applicationId}");
pub(crate) static DELETE: Operation = Operation::new(Method::DELETE, "/api/v3/applications/{applicationId}");
pub(crate) static REGENERATE_SECRET: Operation =
    Operation::new(Method::POST, "/api/v3/applications/{applicationId}/regenerate-secret");
pub(crate) static GRANTED_SCOPES: Operation =
    Operation::new(Method::GET, "/api/v3/applications/{applicationId}/granted-scopes");

/// An application as its developer sees it (`GetApplicationResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeveloperApplication {
    /// Its id (the same as in the admin API).
    pub id: ApplicationId,
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// The identity provider's client id (DCR applications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Where an OIDC flow returns to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// The strategy it authenticates with (`auth_methods` among its other fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_strategy: Option<ApplicationStrategy>,
    /// Scopes granted, where the strategy supports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The team that owns it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// What creating an application returns (`ApplicationCreationResponse`): the application
/// and the client secret, shown this once.
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct CreatedDeveloperApplication {
    /// The application.
    #[serde(flatten)]
    pub application: DeveloperApplication,
    /// The identity provider's client secret (DCR applications), never shown again.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
}

/// What regenerating a secret returns (`RegenerateSecretResponse`).
#[derive(Clone, Debug, Deserialize)]
#[non_exhaustive]
pub struct RegeneratedSecret {
    /// The client id (unchanged).
    pub client_id: String,
    /// The new secret; the old one stops working.
    pub client_secret: SecretString,
}

#[derive(Deserialize)]
struct GrantedScopes {
    scopes: Vec<String>,
}

/// Body of `POST /api/v3/applications` (`CreateApplicationPayload`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct NewDeveloperApplication {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auth_strategy_id: Option<AuthStrategyId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    team_id: Option<String>,
}

impl NewDeveloperApplication {
    /// An application named `name`, with the portal's default strategy unless
    /// [`auth_strategy`](Self::auth_strategy) names one.
    pub fn new(name: impl Into<String>) -> Self {
        NewDeveloperApplication {
            name: name.into(),
            description: None,
            auth_strategy_id: None,
            redirect_uri: None,
            scopes: None,
            client_id: None,
            team_id: None,
        }
    }

    /// A description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The strategy; for a DCR strategy Konnect registers a client with the provider.
    pub fn auth_strategy(mut self, id: impl Into<AuthStrategyId>) -> Self {
        self.auth_strategy_id = Some(id.into());
        self
    }

    /// Scopes to ask for, where the strategy lets developers choose.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The team that owns it.
    pub fn team(mut self, id: impl Into<String>) -> Self {
        self.team_id = Some(id.into());
        self
    }

    fn validate(&self) -> Result<()> {
        validate::len("name", &self.name, 1, 255)?;
        if let Some(d) = &self.description {
            validate::len("description", d, 0, 255)?;
        }
        if let Some(id) = &self.client_id {
            validate::len("client_id", id, 1, 255)?;
        }
        Ok(())
    }
}

/// Handler for the signed-in developer's applications.
#[derive(Clone, Debug)]
pub struct DeveloperApplications {
    client: KonnectClient,
}

impl DeveloperApplications {
    pub(crate) fn new(client: KonnectClient) -> Self {
        DeveloperApplications { client }
    }

    /// Creates an application (201). A DCR strategy's answer carries the client id and,
    /// once, the secret.
    pub async fn create(&self, application: &NewDeveloperApplication) -> Result<CreatedDeveloperApplication> {
        application.validate()?;
        self.client
            .call(&CREATE, &["api", "v3", "applications"], Some(application))
            .await
    }

    /// Reads one of the developer's applications (404 for anyone else's).
    pub async fn get(&self, id: &ApplicationId) -> Result<DeveloperApplication> {
        self.client
            .call(&GET, &["api", "v3", "applications", id.as_str()], None)
            .await
    }

    /// Reads an application, `None` if it does not exist (or is not the developer's).
    pub async fn get_opt(&self, id: &ApplicationId) -> Result<Option<DeveloperApplication>> {
        self.get(id).await.optional()
    }

    /// Deletes an application and its registrations (204); Konnect deletes its DCR client.
    pub async fn delete(&self, id: &ApplicationId) -> Result<()> {
        self.client
            .call_empty(&DELETE, &["api", "v3", "applications", id.as_str()])
            .await
    }

    /// Issues a new client secret (201); the old one stops working.
    pub async fn regenerate_secret(&self, id: &ApplicationId) -> Result<RegeneratedSecret> {
        self.client
            .call(
                &REGENERATE_SECRET,
                &["api", "v3", "applications", id.as_str(), "regenerate-secret"],
                None,
            )
            .await
    }

    /// The scopes the identity provider granted the application (422 where unsupported).
    pub async fn granted_scopes(&self, id: &ApplicationId) -> Result<Vec<String>> {
        let granted: GrantedScopes = self
            .client
            .call(
                &GRANTED_SCOPES,
                &["api", "v3", "applications", id.as_str(), "granted-scopes"],
                None,
            )
            .await?;
        Ok(granted.scopes)
    }

    /// Lists the developer's applications.
    pub fn list(&self) -> List<DeveloperApplication> {
        List::new(&self.client, &LIST, &["api", "v3", "applications"])
    }
}

impl List<DeveloperApplication> {
    /// `filter[auth_strategy_id][eq]`.
    pub fn auth_strategy_id(self, id: impl Into<String>) -> Self {
        self.filter("auth_strategy_id", "eq", id)
    }
}

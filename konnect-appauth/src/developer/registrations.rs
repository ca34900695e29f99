//! An application's registrations for APIs (`/api/v3/applications/{id}/registrations`):
//! what "Use this API" does in the portal. A registration is approved at once when the
//! publication auto-approves, and pending until an admin approves it otherwise; only an
//! approved one lets the application's credentials through the gateway.

use dcr_client_core::Operation;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::KonnectClient;
use crate::error::{NotFoundAsNone, Result};
use crate::ids::{ApiId, ApplicationId};
use crate::resources::List;

pub(crate) static CREATE: Operation =
    Operation::new(Method::POST, "/api/v3/applications/{applicationId}/registrations");
pub(crate) static LIST: Operation = Operation::new(Method::GET, "/api/v3/applications/{applicationId}/registrations");
pub(crate) static GET: Operation = Operation::new(
    Method::GET,
    "/api/v3/applications/{applicationId}/registrations/{registrationId}",
);
pub(crate) static DELETE: Operation = Operation::new(
    Method::DELETE,
    "/api/v3/applications/{applicationId}/registrations/{registrationId}",
);

/// Where a registration stands (`ApplicationRegistrationStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RegistrationStatus {
    /// Traffic is allowed.
    Approved,
    /// Waiting for an admin.
    Pending,
    /// An admin refused it.
    Rejected,
    /// An admin withdrew it.
    Revoked,
}

impl RegistrationStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Approved => "approved",
            RegistrationStatus::Pending => "pending",
            RegistrationStatus::Rejected => "rejected",
            RegistrationStatus::Revoked => "revoked",
        }
    }
}

impl std::fmt::Display for RegistrationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registration as its developer sees it (`GetApiRegistrationResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiRegistration {
    /// Its id.
    pub id: String,
    /// Its status.
    pub status: RegistrationStatus,
    /// The application.
    pub application_id: ApplicationId,
    /// The API.
    pub api_id: ApiId,
    /// The API's name on the portal.
    pub api_name: String,
    /// The API's slug.
    pub api_slug: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

#[derive(Serialize)]
struct NewRegistration<'a> {
    api_id: &'a str,
}

/// Handler for one application's registrations.
#[derive(Clone, Debug)]
pub struct ApiRegistrations {
    client: KonnectClient,
    application: ApplicationId,
}

impl ApiRegistrations {
    pub(crate) fn new(client: KonnectClient, application: ApplicationId) -> Self {
        ApiRegistrations { client, application }
    }

    /// Registers the application for an API (201); 409 when it already is.
    pub async fn create(&self, api: &ApiId) -> Result<ApiRegistration> {
        self.client
            .call(
                &CREATE,
                &["api", "v3", "applications", self.application.as_str(), "registrations"],
                Some(&NewRegistration { api_id: api.as_str() }),
            )
            .await
    }

    /// Reads a registration.
    pub async fn get(&self, id: &str) -> Result<ApiRegistration> {
        self.client
            .call(
                &GET,
                &[
                    "api",
                    "v3",
                    "applications",
                    self.application.as_str(),
                    "registrations",
                    id,
                ],
                None,
            )
            .await
    }

    /// Reads a registration, `None` if it does not exist.
    pub async fn get_opt(&self, id: &str) -> Result<Option<ApiRegistration>> {
        self.get(id).await.optional()
    }

    /// Removes a registration (204).
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.client
            .call_empty(
                &DELETE,
                &[
                    "api",
                    "v3",
                    "applications",
                    self.application.as_str(),
                    "registrations",
                    id,
                ],
            )
            .await
    }

    /// Lists the application's registrations.
    pub fn list(&self) -> List<ApiRegistration> {
        List::new(
            &self.client,
            &LIST,
            &["api", "v3", "applications", self.application.as_str(), "registrations"],
        )
    }
}

impl List<ApiRegistration> {
    /// `filter[status][eq]`.
    pub fn status(self, status: super::RegistrationStatus) -> Self {
        self.filter("status", "eq", status.as_str())
    }
}

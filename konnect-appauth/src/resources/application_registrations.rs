//! Registrations of a portal's applications for APIs, as an admin sees them
//! (`/v3/portals/{portalId}/application-registrations`,
//! `/v3/portals/{portalId}/applications/{applicationId}/registrations`): list them, and
//! approve, reject or revoke one with `PATCH`.

use dcr_client_core::Operation;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::List;
use crate::client::KonnectClient;
use crate::developer::RegistrationStatus;
use crate::error::{NotFoundAsNone, Result};
use crate::ids::{ApiId, ApplicationId, PortalId};

static LIST_PORTAL: Operation = Operation::new(Method::GET, "/v3/portals/{portalId}/application-registrations");
static LIST: Operation = Operation::new(
    Method::GET,
    "/v3/portals/{portalId}/applications/{applicationId}/registrations",
);
static CREATE: Operation = Operation::new(
    Method::POST,
    "/v3/portals/{portalId}/applications/{applicationId}/registrations",
);
static GET: Operation = Operation::new(
    Method::GET,
    "/v3/portals/{portalId}/applications/{applicationId}/registrations/{registrationId}",
);
// Sets an absolute status: sending it twice has the effect of sending it once.
static UPDATE: Operation = Operation::new(
    Method::PATCH,
    "/v3/portals/{portalId}/applications/{applicationId}/registrations/{registrationId}",
)
.repeatable();
static DELETE: Operation = Operation::new(
    Method::DELETE,
    "/v3/portals/{portalId}/applications/{applicationId}/registrations/{registrationId}",
);

/// Every operation this handler exposes, for coverage checks.
pub const OPERATIONS: [&Operation; 6] = [&LIST_PORTAL, &LIST, &CREATE, &GET, &UPDATE, &DELETE];

/// The API a registration is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegisteredApi {
    /// Its id.
    pub id: ApiId,
    /// Its name.
    pub name: String,
    /// Its version, if any.
    #[serde(default)]
    pub version: Option<String>,
    /// `api` (or `api_product_version` on classic portals).
    pub entity_type: String,
}

/// The application a registration belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RegisteringApplication {
    /// Its id.
    pub id: ApplicationId,
    /// Its name.
    pub name: String,
}

/// A registration (`ApplicationRegistration`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApplicationRegistration {
    /// Its id.
    pub id: String,
    /// Its status; only `approved` lets traffic through.
    pub status: RegistrationStatus,
    /// The API.
    pub api: RegisteredApi,
    /// The application.
    pub application: RegisteringApplication,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

#[derive(Serialize)]
struct StatusBody {
    status: RegistrationStatus,
}

#[derive(Serialize)]
struct NewRegistration<'a> {
    api_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<RegistrationStatus>,
}

/// Handler for one application's registrations, as an admin.
#[derive(Clone, Debug)]
pub struct ApplicationRegistrations {
    client: KonnectClient,
    portal: PortalId,
    application: ApplicationId,
}

impl ApplicationRegistrations {
    pub(crate) fn new(client: KonnectClient, portal: PortalId, application: ApplicationId) -> Self {
        ApplicationRegistrations {
            client,
            portal,
            application,
        }
    }

    fn path<'a>(&'a self, id: Option<&'a str>) -> Vec<&'a str> {
        let mut path = vec![
            "v3",
            "portals",
            self.portal.as_str(),
            "applications",
            self.application.as_str(),
            "registrations",
        ];
        path.extend(id);
        path
    }

    /// Registers the application for an API (201), `approved` or `pending` (the
    /// publication's setting when `None`).
    pub async fn create(&self, api: &ApiId, status: Option<RegistrationStatus>) -> Result<ApplicationRegistration> {
        if status.is_some_and(|s| !matches!(s, RegistrationStatus::Approved | RegistrationStatus::Pending)) {
            return Err(crate::KonnectError::invalid(
                "status",
                "a new registration is approved or pending",
            ));
        }
        let body = NewRegistration {
            api_id: api.as_str(),
            status,
        };
        self.client.call(&CREATE, &self.path(None), Some(&body)).await
    }

    /// Reads a registration.
    pub async fn get(&self, id: &str) -> Result<ApplicationRegistration> {
        self.client.call(&GET, &self.path(Some(id)), None).await
    }

    /// Reads a registration, `None` if it does not exist.
    pub async fn get_opt(&self, id: &str) -> Result<Option<ApplicationRegistration>> {
        self.get(id).await.optional()
    }

    /// Approves, rejects, revokes or sets pending a registration.
    pub async fn set_status(&self, id: &str, status: RegistrationStatus) -> Result<ApplicationRegistration> {
        self.client
            .call(&UPDATE, &self.path(Some(id)), Some(&StatusBody { status }))
            .await
    }

    /// Approves a registration: the application's credentials get through the gateway.
    pub async fn approve(&self, id: &str) -> Result<ApplicationRegistration> {
        self.set_status(id, RegistrationStatus::Approved).await
    }

    /// Deletes a registration (204).
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.client.call_empty(&DELETE, &self.path(Some(id))).await
    }

    /// Lists the application's registrations.
    pub fn list(&self) -> List<ApplicationRegistration> {
        List::new(&self.client, &LIST, &self.path(None))
    }
}

/// Every registration of a portal (`GET /v3/portals/{portalId}/application-registrations`).
pub(crate) fn portal_list(client: &KonnectClient, portal: &PortalId) -> List<ApplicationRegistration> {
    List::new(
        client,
        &LIST_PORTAL,
        &["v3", "portals", portal.as_str(), "application-registrations"],
    )
}

impl List<ApplicationRegistration> {
    /// `filter[status][eq]`.
    pub fn status(self, status: RegistrationStatus) -> Self {
        self.filter("status", "eq", status.as_str())
    }

    /// `filter[developer_id][eq]` (a portal's list only).
    pub fn developer_id(self, id: impl Into<String>) -> Self {
        self.filter("developer_id", "eq", id)
    }
}

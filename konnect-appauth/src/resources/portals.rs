//! Portals (`/v3/portals/{portalId}`): read only, to check that a configured portal
//! exists before anything is published on it.

use dcr_client_core::Operation;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::KonnectClient;
use crate::error::{NotFoundAsNone, Result};
use crate::ids::PortalId;

static GET: Operation = Operation::new(Method::GET, "/v3/portals/{portalId}");

/// Every operation this handler exposes, for coverage checks.
pub const OPERATIONS: [&Operation; 1] = [&GET];

/// A Dev Portal (`PortalResponse`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Portal {
    /// Its id.
    pub id: PortalId,
    /// Its name (unique in the organization).
    pub name: String,
    /// The name developers see.
    pub display_name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// The domain Konnect assigned to it.
    pub default_domain: String,
    /// The domain it is served on (the custom domain when one is set).
    pub canonical_domain: String,
    /// Whether registrations of applications for APIs are approved automatically.
    pub auto_approve_applications: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
    /// Fields this crate does not model (`rbac_enabled`, `labels`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Handler for `/v3/portals`.
#[derive(Clone, Debug)]
pub struct Portals {
    client: KonnectClient,
}

impl Portals {
    pub(crate) fn new(client: KonnectClient) -> Self {
        Portals { client }
    }

    /// Reads a portal.
    pub async fn get(&self, id: &PortalId) -> Result<Portal> {
        self.client.call(&GET, &["v3", "portals", id.as_str()], None).await
    }

    /// Reads a portal, `None` if it does not exist.
    pub async fn get_opt(&self, id: &PortalId) -> Result<Option<Portal>> {
        self.get(id).await.optional()
    }
}

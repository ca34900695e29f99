//! Fills the sandboxes quickly (no HTTP) with what a busy tenant and portal hold: Auth0
//! clients shaped like the ones Konnect registers, and portal applications linked to them.

use anyhow::Context;
use dcr_workflow::Workflow;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::MemoryStore;
use konnect_appauth::AuthStrategyId;
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use serde_json::json;

/// Inserts `n` clients as Konnect registers them; `application(i)` is the
/// `konnect_application_id` of the i-th. Returns their client ids.
pub(crate) fn konnect_clients(
    s: &Sandboxes,
    n: usize,
    application: impl Fn(usize) -> String,
) -> anyhow::Result<Vec<String>> {
    let portal = s.konnect.portal_id().to_string();
    let developer = s.konnect.developer_id();
    let org = s.konnect.org_id();
    (0..n)
        .map(|i| {
            let client = s
                .auth0
                .insert_client(json!({
                    "name": format!("portal app {i}"),
                    "description": "Registered by Konnect for a Dev Portal application",
                    "app_type": "non_interactive",
                    "grant_types": ["client_credentials"],
                    "token_endpoint_auth_method": "client_secret_post",
                    "client_metadata": {
                        "konnect_portal_id": portal,
                        "konnect_developer_id": developer,
                        "konnect_org_id": org,
                        "konnect_application_id": application(i),
                    }
                }))
                .map_err(|e| anyhow::anyhow!("seeding Auth0 client {i}: {e}"))?;
            client["client_id"]
                .as_str()
                .map(str::to_owned)
                .context("inserted client without client_id")
        })
        .collect()
}

/// Inserts one portal application per client id, linked to that client (no registration).
/// Returns the application ids.
pub(crate) fn applications(
    s: &Sandboxes,
    strategy: &AuthStrategyId,
    client_ids: impl IntoIterator<Item = String>,
) -> anyhow::Result<Vec<String>> {
    let owner = Owner::developer(s.konnect.developer_id());
    let portal = konnect_appauth::PortalId::new(s.konnect.portal_id());
    client_ids
        .into_iter()
        .enumerate()
        .map(|(i, client_id)| {
            let body = NewApplication::new(format!("portal app {i}"), owner.clone())
                .description("An application a developer registered")
                .auth_strategy(strategy.clone())
                .dcr_client_id(client_id);
            let app = s
                .konnect
                .insert_application(portal.as_str(), serde_json::to_value(&body)?)
                .map_err(|e| anyhow::anyhow!("seeding application {i}: {e}"))?;
            app["id"]
                .as_str()
                .map(str::to_owned)
                .context("inserted application without id")
        })
        .collect()
}

/// Sandboxes with the workflow applied and `n` portal applications, each linked to a
/// client shaped like the ones Konnect registers.
pub(crate) struct LinkedPortal {
    pub(crate) s: Sandboxes,
    pub(crate) workflow: Workflow,
    /// Client ids, in the order of `applications`.
    pub(crate) clients: Vec<String>,
    pub(crate) applications: Vec<String>,
}

pub(crate) async fn linked_portal(n: usize) -> anyhow::Result<LinkedPortal> {
    let s = Sandboxes::start().await?;
    let workflow = Workflow::new(s.config(), MemoryStore::new())?;
    let applied = workflow.converge().await?;
    let clients = konnect_clients(&s, n, |i| format!("app-{i}"))?;
    let applications = applications(&s, &applied.strategy.id, clients.iter().cloned())?;
    Ok(LinkedPortal {
        s,
        workflow,
        clients,
        applications,
    })
}

//! What earlier verifications left behind: `verify` removes what it creates on every
//! path it controls, but a run killed mid-way, or a create whose answer was lost, leaves
//! a portal application (and the Auth0 client Konnect registered for it) or an Auth0
//! client it made itself. Both carry a mark, so `audit` reports them and `destroy`
//! removes them.

use auth0_mgmt::resources::clients::Client;
use futures::TryStreamExt;
use konnect_appauth::PortalId;
use konnect_appauth::resources::portal_applications::PortalApplication;

use crate::owner::{VERIFY_DESCRIPTION, VERIFY_LABEL_KEY, VERIFY_METADATA_KEY, VERIFY_NAME_PREFIX, VERIFY_VALUE};
use crate::plan::StepId;
use crate::steps::Ctx;
use crate::steps::duplicates::gone_ok;
use crate::{Result, WorkflowError};

use crate::pairs::CLIENT_FIELDS;

/// A portal application `verify` created: labelled (admin API), or named and described as
/// verify names and describes it (developer API, which takes no labels).
pub(crate) fn is_verify_application(app: &PortalApplication) -> bool {
    app.labels.get(VERIFY_LABEL_KEY).and_then(Option::as_deref) == Some(VERIFY_VALUE)
        || (app.description.as_deref() == Some(VERIFY_DESCRIPTION) && app.name.starts_with(VERIFY_NAME_PREFIX))
}

/// An Auth0 client `verify` created itself.
pub(crate) fn is_verify_client(client: &Client) -> bool {
    client.metadata(VERIFY_METADATA_KEY) == Some(VERIFY_VALUE)
}

/// Deletes every leftover of earlier verifications: the portal's marked applications
/// (Konnect deletes their Auth0 clients with them) and the tenant's marked clients.
/// Returns what it removed (kind and id); with `delete` false, only what it would.
pub(crate) async fn sweep(ctx: Ctx<'_>, delete: bool) -> Result<Vec<(StepId, String)>> {
    let mut removed = Vec::new();
    // Verify creates portal applications on the first v3 portal only.
    if let Some(portal) = ctx.config.first_portal() {
        let applications = ctx.konnect.portal_applications(PortalId::new(portal));
        // Collected first: deleting while paging would shift the pages.
        let marked: Vec<PortalApplication> = applications
            .list()
            .page_size(konnect_appauth::MAX_PAGE_SIZE)
            .stream()
            .try_filter(|a| std::future::ready(is_verify_application(a)))
            .try_collect()
            .await
            .map_err(WorkflowError::konnect(StepId::Verify))?;
        for app in marked {
            if delete {
                tracing::info!(application = %app.id, "removing a portal application an earlier verify left");
                gone_ok(applications.delete(&app.id).await).map_err(WorkflowError::konnect(StepId::Verify))?;
            }
            removed.push((StepId::Verify, format!("portal application {}", app.id)));
        }
    }
    let clients: Vec<Client> = ctx
        .auth0
        .clients()
        .list()
        .fields(CLIENT_FIELDS)
        .stream()
        .try_filter(|c| std::future::ready(is_verify_client(c)))
        .try_collect()
        .await
        .map_err(WorkflowError::auth0(StepId::Verify))?;
    for client in clients {
        if delete {
            tracing::info!(client_id = %client.client_id, "removing an Auth0 client an earlier verify left");
            gone_ok(ctx.auth0.clients().delete(&client.client_id).await)
                .map_err(WorkflowError::auth0(StepId::Verify))?;
        }
        removed.push((StepId::Verify, format!("Auth0 client {}", client.client_id)));
    }
    Ok(removed)
}

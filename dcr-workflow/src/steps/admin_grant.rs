//! Step 1b: the admin application's grant to the Management API, with exactly the scopes
//! Konnect's DCR needs.

use auth0_mgmt::resources::client_grants::{ClientGrant, ClientGrantUpdate, NewClientGrant};
use auth0_mgmt::{Audience, ClientId};

use futures::TryStreamExt;

use super::{Ctx, Observed};
use crate::plan::{Action, FieldChange, KNOWN_AFTER_APPLY, StepId, StepPlan, list, sorted};
use crate::{Result, WorkflowError};

const STEP: StepId = StepId::AdminGrant;

fn audience(ctx: Ctx<'_>) -> Audience {
    Audience::new(ctx.config.management_audience())
}

/// The kept application's grant, and the other applications whose Management API grant
/// has only scopes the workflow grants: each may be an admin application an overlapping
/// run created (the caller checks its mark and name). One listing of the Management API's
/// grants, the same single request as a lookup of one grant; in a tenant with no such
/// applications it finds nothing more.
pub(crate) async fn observe(ctx: Ctx<'_>, client_id: &ClientId) -> Result<(Option<ClientGrant>, Vec<ClientId>)> {
    let ours: Vec<String> = konnect_appauth::resources::dcr_providers::AUTH0_DCR_SCOPES
        .iter()
        .chain([&konnect_appauth::resources::dcr_providers::AUTH0_DEVELOPER_MANAGED_SCOPE])
        .map(|s| (*s).to_owned())
        .collect();
    let mut grants = std::pin::pin!(ctx.auth0.client_grants().list().audience(audience(ctx)).stream());
    let (mut kept, mut candidates) = (None, Vec::new());
    while let Some(grant) = grants.try_next().await.map_err(WorkflowError::auth0(STEP))? {
        if &grant.client_id == client_id {
            kept = Some(grant);
        } else if !grant.scope.is_empty() && grant.scope.iter().all(|s| ours.contains(s)) {
            candidates.push(grant.client_id);
        }
    }
    Ok((kept, candidates))
}

pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed, client_id: Option<&ClientId>) -> StepPlan {
    let wanted = ctx.config.admin_scopes();
    let key = format!(
        "{} -> {}",
        client_id.map_or(KNOWN_AFTER_APPLY, ClientId::as_str),
        ctx.config.management_audience()
    );
    match &observed.grant {
        None => StepPlan::new(
            STEP,
            key,
            Action::Create(vec![FieldChange::new("scope", None, list(&wanted))]),
        ),
        Some(grant) if sorted(&grant.scope) != sorted(&wanted) => StepPlan::new(
            STEP,
            key,
            Action::Update(vec![FieldChange::new("scope", Some(list(&grant.scope)), list(&wanted))]),
        ),
        Some(_) => StepPlan::new(STEP, key, Action::NoOp),
    }
}

pub(crate) async fn apply(ctx: Ctx<'_>, observed: &Observed, client_id: &ClientId) -> Result<StepPlan> {
    let plan = diff(ctx, observed, Some(client_id));
    let grants = ctx.auth0.client_grants();
    let wanted = ctx.config.admin_scopes();
    match (&observed.grant, &plan.action) {
        (_, Action::NoOp) => {}
        (Some(grant), _) => {
            grants
                .update(&grant.id, &ClientGrantUpdate::new().scope(wanted))
                .await
                .map_err(WorkflowError::auth0(STEP))?;
        }
        (None, _) => {
            grants
                .create(&NewClientGrant::new(client_id.clone(), audience(ctx), wanted))
                .await
                .map_err(WorkflowError::auth0(STEP))?;
        }
    }
    Ok(plan)
}

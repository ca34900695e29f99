//! Step 5b: the API published on the portal with the strategy.

use konnect_appauth::resources::apis::{Publication, PublicationRequest, Visibility};
use konnect_appauth::{ApiId, AuthStrategyId, PortalId};

use super::{Ctx, Observed};
use crate::plan::{Action, FieldChange, KNOWN_AFTER_APPLY, StepId, StepPlan, list};
use crate::{Result, WorkflowError};

const STEP: StepId = StepId::Publication;

fn portal(ctx: Ctx<'_>) -> PortalId {
    PortalId::new(ctx.config.konnect.portal_id.clone())
}

pub(crate) async fn observe(ctx: Ctx<'_>, api: &ApiId) -> Result<Option<Publication>> {
    ctx.konnect
        .apis()
        .publication(api, &portal(ctx))
        .await
        .map_err(WorkflowError::konnect(STEP))
}

/// The portal must exist before anything is created for it.
pub(crate) fn check_portal(ctx: Ctx<'_>, observed: &Observed) -> Result<()> {
    if observed.portal_missing {
        return Err(WorkflowError::Missing {
            resource: "Konnect portal",
            name: ctx.config.konnect.portal_id.clone(),
            hint: "konnect.portal_id names no portal in this organization and region: check the id and \
                   konnect.region (or base_url)",
        });
    }
    Ok(())
}

pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed, strategy: Option<&AuthStrategyId>) -> StepPlan {
    let key = format!("portal {}", ctx.config.konnect.portal_id);
    let wanted = list(&[strategy.map_or(KNOWN_AFTER_APPLY, AuthStrategyId::as_str)]);
    match &observed.publication {
        None => StepPlan::new(
            STEP,
            key,
            Action::Create(vec![
                FieldChange::new("auth_strategy_ids", None, wanted),
                FieldChange::new("visibility", None, "public"),
            ]),
        ),
        Some(p) => {
            let current: Vec<&str> = p
                .auth_strategy_ids
                .iter()
                .flatten()
                .map(AuthStrategyId::as_str)
                .collect();
            let current = list(&current);
            if current == wanted {
                StepPlan::new(STEP, key, Action::NoOp)
            } else {
                StepPlan::new(
                    STEP,
                    key,
                    Action::Update(vec![FieldChange::new("auth_strategy_ids", Some(current), wanted)]),
                )
            }
        }
    }
}

pub(crate) async fn apply(
    ctx: Ctx<'_>,
    observed: &Observed,
    api: &ApiId,
    strategy: &AuthStrategyId,
) -> Result<StepPlan> {
    let plan = diff(ctx, observed, Some(strategy));
    if plan.changes() {
        let visibility = observed
            .publication
            .as_ref()
            .map_or(Visibility::Public, |p| p.visibility);
        ctx.konnect
            .apis()
            .publish(
                api,
                &portal(ctx),
                &PublicationRequest::new()
                    .auth_strategy(strategy.clone())
                    .visibility(visibility),
            )
            .await
            .map_err(WorkflowError::konnect(STEP))?;
    }
    Ok(plan)
}

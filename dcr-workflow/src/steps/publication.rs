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

/// The configured visibility (validated as one of the two).
fn visibility(ctx: Ctx<'_>) -> Visibility {
    match ctx.config.konnect.visibility.as_str() {
        "private" => Visibility::Private,
        _ => Visibility::Public,
    }
}

fn render(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Private => "private",
        _ => "public",
    }
}

pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed, strategy: Option<&AuthStrategyId>) -> StepPlan {
    let key = format!("portal {}", ctx.config.konnect.portal_id);
    let wanted = list(&[strategy.map_or(KNOWN_AFTER_APPLY, AuthStrategyId::as_str)]);
    let auto_approve = ctx.config.konnect.auto_approve_registrations;
    let Some(p) = &observed.publication else {
        return StepPlan::new(
            STEP,
            key,
            Action::Create(vec![
                FieldChange::new("auth_strategy_ids", None, wanted),
                FieldChange::new("visibility", None, render(visibility(ctx))),
                FieldChange::new("auto_approve_registrations", None, auto_approve.to_string()),
            ]),
        );
    };
    let current: Vec<&str> = p
        .auth_strategy_ids
        .iter()
        .flatten()
        .map(AuthStrategyId::as_str)
        .collect();
    let current = list(&current);
    let mut changes = Vec::new();
    if current != wanted {
        changes.push(FieldChange::new("auth_strategy_ids", Some(current), wanted));
    }
    if p.visibility != visibility(ctx) {
        changes.push(FieldChange::new(
            "visibility",
            Some(render(p.visibility).to_owned()),
            render(visibility(ctx)),
        ));
    }
    // Absent means false: the portal's own setting decides.
    let current_auto = p.auto_approve_registrations.unwrap_or(false);
    if current_auto != auto_approve {
        changes.push(FieldChange::new(
            "auto_approve_registrations",
            Some(current_auto.to_string()),
            auto_approve.to_string(),
        ));
    }
    StepPlan::from_changes(STEP, key, changes)
}

pub(crate) async fn apply(
    ctx: Ctx<'_>,
    observed: &Observed,
    api: &ApiId,
    strategy: &AuthStrategyId,
) -> Result<StepPlan> {
    let plan = diff(ctx, observed, Some(strategy));
    if plan.changes() {
        // A PUT replaces the publication: every setting is sent.
        ctx.konnect
            .apis()
            .publish(
                api,
                &portal(ctx),
                &PublicationRequest::new()
                    .auth_strategy(strategy.clone())
                    .visibility(visibility(ctx))
                    .auto_approve_registrations(ctx.config.konnect.auto_approve_registrations),
            )
            .await
            .map_err(WorkflowError::konnect(STEP))?;
    }
    Ok(plan)
}

//! Step 5a: the Konnect API to publish: given by id (never created nor deleted), or by
//! name (created when missing, labelled as the workflow's).

use futures::TryStreamExt;
use konnect_appauth::resources::apis::{Api, NewApi};
use konnect_appauth::{ApiId, MAX_PAGE_SIZE};

use super::{Ctx, Observed};
use crate::plan::{Action, FieldChange, StepId, StepPlan};
use crate::{Result, WorkflowError};

const STEP: StepId = StepId::KonnectApi;

/// The API given by id, or every API with the configured name (two overlapping runs may
/// each have created one).
pub(crate) async fn observe_all(ctx: Ctx<'_>) -> Result<Vec<Api>> {
    let apis = ctx.konnect.apis();
    let k = &ctx.config.konnect;
    let found = match (&k.api_id, &k.api_name) {
        (Some(id), _) => apis
            .get_opt(&ApiId::new(id.clone()))
            .await
            .map(|a| a.into_iter().collect()),
        (None, Some(name)) => {
            apis.list()
                .name(name)
                .page_size(MAX_PAGE_SIZE)
                .stream()
                .try_filter(|a| std::future::ready(&a.name == name))
                .try_collect()
                .await
        }
        (None, None) => Ok(Vec::new()),
    };
    found.map_err(WorkflowError::konnect(STEP))
}

fn key(ctx: Ctx<'_>) -> String {
    let k = &ctx.config.konnect;
    k.api_name.clone().or_else(|| k.api_id.clone()).unwrap_or_default()
}

/// An API given by id must exist: the workflow does not invent one.
pub(crate) fn check_exists(ctx: Ctx<'_>, observed: &Observed) -> Result<()> {
    match (&ctx.config.konnect.api_id, &observed.api) {
        (Some(id), None) => Err(WorkflowError::Missing {
            resource: "Konnect API",
            name: id.clone(),
            hint: "konnect.api_id names an API that does not exist; fix the id or use konnect.api_name",
        }),
        _ => Ok(()),
    }
}

pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed) -> StepPlan {
    match &observed.api {
        Some(_) => StepPlan::new(STEP, key(ctx), Action::NoOp),
        None => StepPlan::new(
            STEP,
            key(ctx),
            Action::Create(vec![FieldChange::new(
                "labels",
                None,
                crate::plan::labels(&ctx.config.konnect_labels()),
            )]),
        ),
    }
}

pub(crate) async fn apply(ctx: Ctx<'_>, observed: &Observed) -> Result<(StepPlan, Api)> {
    let plan = diff(ctx, observed);
    if let Some(api) = &observed.api {
        return Ok((plan, api.clone()));
    }
    let mut new = NewApi::new(key(ctx));
    for (k, v) in ctx.config.konnect_labels() {
        new = new.label(k, v);
    }
    let api = match ctx.konnect.apis().create(&new).await {
        Ok(api) => api,
        // An overlapping run created it in the meantime (name and version are unique):
        // use it when it is the workflow's.
        Err(e) if e.is_conflict() => {
            let name = key(ctx);
            let found = ctx
                .konnect
                .apis()
                .find_by_name(&name)
                .await
                .map_err(WorkflowError::konnect(STEP))?;
            match found.filter(|a| crate::owner::owns_labels(&a.labels)) {
                Some(api) => api,
                None => return Err(WorkflowError::konnect(STEP)(e)),
            }
        }
        Err(e) => return Err(WorkflowError::konnect(STEP)(e)),
    };
    Ok((plan, api))
}

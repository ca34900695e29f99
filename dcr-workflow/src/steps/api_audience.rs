//! Step 2: the Auth0 API (resource server) whose identifier is the audience developers'
//! applications get tokens for. Drift is corrected in place, never by re-creating it.

use auth0_mgmt::resources::resource_servers::{
    NewResourceServer, ResourceServer, ResourceServerScope, ResourceServerUpdate,
};

use super::{Ctx, Observed};
use crate::plan::{Action, FieldChange, StepId, StepPlan, list};
use crate::{Result, WorkflowError};

const STEP: StepId = StepId::ApiAudience;

pub(crate) async fn observe(ctx: Ctx<'_>) -> Result<Option<ResourceServer>> {
    ctx.auth0
        .resource_servers()
        .get_opt(&ctx.config.api.audience)
        .await
        .map_err(WorkflowError::auth0(STEP))
}

fn wanted_scopes(ctx: Ctx<'_>) -> Vec<ResourceServerScope> {
    ctx.config
        .api
        .scopes
        .iter()
        .map(|s| ResourceServerScope::new(&s.value, s.description_or_value()))
        .collect()
}

fn render(scopes: &[ResourceServerScope]) -> String {
    let values: Vec<&str> = scopes.iter().map(|s| s.value.as_str()).collect();
    list(&values)
}

/// The scopes to send: all wanted ones for an owned API; for one the workflow did not
/// create, the existing ones plus the missing wanted ones (nothing is taken away).
fn target_scopes(ctx: Ctx<'_>, current: &[ResourceServerScope], owned: bool) -> Vec<ResourceServerScope> {
    let wanted = wanted_scopes(ctx);
    if owned {
        return wanted;
    }
    let mut merged = current.to_vec();
    for scope in wanted {
        if !merged.iter().any(|s| s.value == scope.value) {
            merged.push(scope);
        }
    }
    merged
}

pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed) -> StepPlan {
    let api = &ctx.config.api;
    let Some(server) = &observed.resource_server else {
        return StepPlan::new(
            STEP,
            &api.audience,
            Action::Create(vec![
                FieldChange::new("name", None, &api.name),
                FieldChange::new("scopes", None, render(&wanted_scopes(ctx))),
            ]),
        );
    };
    let owned = observed.owns_resource_server(ctx.config);
    let current = server.scopes.clone().unwrap_or_default();
    let target = target_scopes(ctx, &current, owned);
    let mut changes = Vec::new();
    if owned && server.name.as_deref() != Some(api.name.as_str()) {
        changes.push(FieldChange::new("name", server.name.clone(), &api.name));
    }
    let same = |a: &[ResourceServerScope], b: &[ResourceServerScope]| {
        a.len() == b.len()
            && a.iter()
                .all(|x| b.iter().any(|y| y.value == x.value && y.description == x.description))
    };
    if !same(&current, &target) {
        changes.push(FieldChange::new("scopes", Some(render(&current)), render(&target)));
    }
    let plan = StepPlan::from_changes(STEP, &api.audience, changes);
    if observed.adopt && !crate::steps::admin_app::claims_api(observed.admin.as_ref(), &api.audience) {
        // Claimed through the admin application's metadata, which that step writes.
        plan.adopted()
            .note("made without dcr-rs: adopted (the admin application records the claim), so destroy removes it")
    } else if owned {
        plan
    } else {
        plan.note("not created by dcr-rs: only missing scopes are added, and destroy keeps it")
    }
}

pub(crate) async fn apply(ctx: Ctx<'_>, observed: &Observed) -> Result<StepPlan> {
    let plan = diff(ctx, observed);
    let servers = ctx.auth0.resource_servers();
    let api = &ctx.config.api;
    match (&observed.resource_server, &plan.action) {
        (_, Action::NoOp) => {}
        (None, _) => {
            let created = servers
                .create(
                    &NewResourceServer::new(api.audience.as_str())
                        .name(&api.name)
                        .scopes(wanted_scopes(ctx)),
                )
                .await;
            match created {
                Ok(_) => {}
                // An overlapping run created it in the meantime, from the same
                // configuration: it is there, as wanted; the next run compares it.
                Err(e) if e.is_conflict() => {
                    tracing::warn!(audience = %api.audience, "another run created the resource server first");
                }
                Err(e) => return Err(WorkflowError::auth0(STEP)(e)),
            }
        }
        (Some(server), _) => {
            let owned = observed.owns_resource_server(ctx.config);
            let current = server.scopes.clone().unwrap_or_default();
            let mut update = ResourceServerUpdate::new().scopes(target_scopes(ctx, &current, owned));
            if plan.fields().iter().any(|f| f.field == "name") {
                update = update.name(&api.name);
            }
            servers
                .update(&server.id, &update)
                .await
                .map_err(WorkflowError::auth0(STEP))?;
        }
    }
    Ok(plan)
}

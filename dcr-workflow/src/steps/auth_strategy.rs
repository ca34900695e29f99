//! Step 4: the openid_connect application auth strategy that uses the DCR provider.

use futures::TryStreamExt;
use konnect_appauth::resources::auth_strategies::{
    AuthStrategy, AuthStrategyUpdate, NewAuthStrategy, OidcConfig, OidcConfigUpdate,
};
use konnect_appauth::{DcrProviderId, MAX_PAGE_SIZE};

use super::{Ctx, Observed};
use crate::owner;
use crate::plan::{Action, FieldChange, KNOWN_AFTER_APPLY, StepId, StepPlan, list, sorted};
use crate::{Result, WorkflowError};

const STEP: StepId = StepId::AuthStrategy;

/// Every strategy with the configured name (names are not unique in Konnect).
pub(crate) async fn observe_all(ctx: Ctx<'_>) -> Result<Vec<AuthStrategy>> {
    let name = &ctx.config.konnect.strategy_name;
    ctx.konnect
        .auth_strategies()
        .list()
        .name(name)
        .page_size(MAX_PAGE_SIZE)
        .stream()
        .try_filter(|s| std::future::ready(&s.name == name))
        .try_collect()
        .await
        .map_err(WorkflowError::konnect(STEP))
}

pub(crate) fn check_owned(ctx: Ctx<'_>, observed: &Observed) -> Result<()> {
    match &observed.strategy {
        // Never converted: a key-auth strategy (say) serves other applications.
        Some(s) if ctx.adopt && s.config.as_openid_connect().is_none() => Err(WorkflowError::NotAdoptable {
            resource: "Konnect auth strategy",
            name: s.name.clone(),
            id: s.id.to_string(),
            reason: format!(
                "its strategy_type is {}, not openid_connect; give the workflow another konnect.strategy_name",
                s.config.strategy_type()
            ),
        }),
        Some(s) if !owner::owns_labels(&s.labels) && !ctx.adopt => Err(WorkflowError::NotOwned {
            resource: "Konnect auth strategy",
            name: ctx.config.konnect.strategy_name.clone(),
            mark: "label managed-by=dcr-rs",
        }),
        _ => Ok(()),
    }
}

fn wanted(ctx: Ctx<'_>) -> OidcConfig {
    let k = &ctx.config.konnect;
    OidcConfig::new(
        ctx.config.issuer(),
        k.credential_claim.clone(),
        ctx.config.strategy_scopes(),
        k.auth_methods.clone(),
    )
    .audience(&ctx.config.api.audience)
}

pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed, provider: Option<&DcrProviderId>) -> StepPlan {
    let k = &ctx.config.konnect;
    let want = wanted(ctx);
    let provider_id = provider.map_or(KNOWN_AFTER_APPLY, DcrProviderId::as_str);
    let Some(strategy) = &observed.strategy else {
        return StepPlan::new(
            STEP,
            &k.strategy_name,
            Action::Create(vec![
                FieldChange::new("display_name", None, &k.strategy_display_name),
                FieldChange::new("strategy_type", None, "openid_connect"),
                FieldChange::new("dcr_provider_id", None, provider_id),
                FieldChange::new("issuer", None, &want.issuer),
                FieldChange::new("scopes", None, list(&want.scopes)),
                FieldChange::new("credential_claim", None, list(&want.credential_claim)),
                FieldChange::new("auth_methods", None, list(&want.auth_methods)),
                FieldChange::new("audience", None, &ctx.config.api.audience),
            ]),
        );
    };
    let mut changes = Vec::new();
    let mut compare = |field: &str, current: String, wanted: String| {
        if current != wanted {
            changes.push(FieldChange::new(field, Some(current), wanted));
        }
    };
    compare(
        "display_name",
        strategy.display_name.clone(),
        k.strategy_display_name.clone(),
    );
    compare(
        "dcr_provider_id",
        strategy
            .dcr_provider
            .as_ref()
            .map_or("(none)".into(), |p| p.id.to_string()),
        provider_id.to_owned(),
    );
    match strategy.config.as_openid_connect() {
        Some(current) => {
            compare("issuer", current.issuer.clone(), want.issuer.clone());
            compare("scopes", list(&sorted(&current.scopes)), list(&sorted(&want.scopes)));
            compare(
                "credential_claim",
                list(&current.credential_claim),
                list(&want.credential_claim),
            );
            compare(
                "auth_methods",
                list(&sorted(&current.auth_methods)),
                list(&sorted(&want.auth_methods)),
            );
            compare(
                "audience",
                current.audience_value().unwrap_or("(none)").to_owned(),
                ctx.config.api.audience.clone(),
            );
        }
        None => compare(
            "strategy_type",
            strategy.config.strategy_type().to_owned(),
            "openid_connect".into(),
        ),
    }
    changes.extend(crate::plan::missing_labels(
        &strategy.labels,
        &ctx.config.konnect_labels(),
    ));
    let plan = StepPlan::from_changes(STEP, &k.strategy_name, changes);
    if owner::owns_labels(&strategy.labels) {
        plan
    } else {
        plan.adopted()
    }
}

pub(crate) async fn apply(
    ctx: Ctx<'_>,
    observed: &Observed,
    provider: &DcrProviderId,
) -> Result<(StepPlan, AuthStrategy)> {
    let plan = diff(ctx, observed, Some(provider));
    let k = &ctx.config.konnect;
    let strategies = ctx.konnect.auth_strategies();
    let strategy = match (&observed.strategy, &plan.action) {
        (Some(strategy), Action::NoOp) => strategy.clone(),
        (None, _) => {
            let mut new = NewAuthStrategy::openid_connect(&k.strategy_name, &k.strategy_display_name, wanted(ctx))
                .dcr_provider(provider.clone());
            for (key, v) in ctx.config.konnect_labels() {
                new = new.label(key, v);
            }
            strategies.create(&new).await.map_err(WorkflowError::konnect(STEP))?
        }
        (Some(strategy), _) => {
            let want = wanted(ctx);
            let mut update = AuthStrategyUpdate::new()
                .display_name(&k.strategy_display_name)
                .dcr_provider(Some(provider.clone()))
                .openid_connect(
                    OidcConfigUpdate::new()
                        .issuer(&want.issuer)
                        .credential_claim(want.credential_claim.clone())
                        .scopes(want.scopes.clone())
                        .auth_methods(want.auth_methods.clone())
                        .audience(&ctx.config.api.audience),
                );
            for (key, v) in ctx.config.konnect_labels() {
                update = update.label(key, v);
            }
            strategies
                .update(&strategy.id, &update)
                .await
                .map_err(WorkflowError::konnect(STEP))?
        }
    };
    Ok((plan, strategy))
}

//! Step 3: the Konnect DCR provider of type auth0, using the admin application.

use auth0_mgmt::ClientId;
use futures::TryStreamExt;
use konnect_appauth::MAX_PAGE_SIZE;
use konnect_appauth::resources::dcr_providers::{
    DcrConfig as ProviderConfig, DcrConfigUpdate, DcrProvider, DcrProviderUpdate, NewDcrProvider,
};
use secrecy::{ExposeSecret, SecretString};

use super::admin_app::AdminOutput;
use super::{Ctx, Observed};
use crate::owner;
use crate::plan::{Action, FieldChange, KNOWN_AFTER_APPLY, StepId, StepPlan};
use crate::{Result, WorkflowError};

const STEP: StepId = StepId::DcrProvider;
const SECRET_FIELD: &str = "dcr_config.initial_client_secret";

/// Every provider with the configured name: Konnect does not document names as unique,
/// and two overlapping runs may each have created one.
pub(crate) async fn observe_all(ctx: Ctx<'_>) -> Result<Vec<DcrProvider>> {
    let name = &ctx.config.konnect.provider_name;
    ctx.konnect
        .dcr_providers()
        .list()
        .name(name)
        .page_size(MAX_PAGE_SIZE)
        .stream()
        .try_filter(|p| std::future::ready(&p.name == name))
        .try_collect()
        .await
        .map_err(WorkflowError::konnect(STEP))
}

/// When adopting and no provider has the configured name: the one a strategy with the
/// configured name uses, whatever its name (one request, only then).
pub(crate) async fn referenced(
    ctx: Ctx<'_>,
    strategies: &[konnect_appauth::resources::auth_strategies::AuthStrategy],
) -> Result<Option<DcrProvider>> {
    let Some(id) = strategies
        .iter()
        .find_map(|s| s.dcr_provider.as_ref().map(|d| d.id.clone()))
    else {
        return Ok(None);
    };
    let found = ctx
        .konnect
        .dcr_providers()
        .get_opt(&id)
        .await
        .map_err(WorkflowError::konnect(STEP))?;
    Ok(found.filter(|p| !owner::owns_labels(&p.labels)))
}

pub(crate) fn check_owned(ctx: Ctx<'_>, observed: &Observed) -> Result<()> {
    match &observed.provider {
        // Never converted: Konnect cannot change a provider's type, and another type's
        // provider serves another identity provider.
        Some(p) if ctx.adopt && !matches!(p.config, ProviderConfig::Auth0(_)) => Err(WorkflowError::NotAdoptable {
            resource: "Konnect DCR provider",
            name: p.name.clone(),
            id: p.id.to_string(),
            reason: format!(
                "its provider_type is {:?}, not auth0 (a provider's type cannot change); give the workflow \
                 another konnect.provider_name",
                p.config.provider_type()
            ),
        }),
        Some(p) if !owner::owns_labels(&p.labels) && !ctx.adopt => Err(WorkflowError::NotOwned {
            resource: "Konnect DCR provider",
            name: ctx.config.konnect.provider_name.clone(),
            mark: "label managed-by=dcr-rs",
        }),
        Some(p) if !matches!(p.config, ProviderConfig::Auth0(_)) => Err(WorkflowError::NotOwned {
            resource: "Konnect DCR provider (not of type auth0; provider_type cannot change)",
            name: ctx.config.konnect.provider_name.clone(),
            mark: "provider_type auth0",
        }),
        _ => Ok(()),
    }
}

/// What the step knows about the admin application: its id and whether its secret is new.
/// At plan time, before step 1 ran, the id may be unknown.
pub(crate) struct AdminView<'a> {
    pub(crate) client_id: Option<&'a ClientId>,
    pub(crate) secret_changed: bool,
}

impl<'a> From<&'a AdminOutput> for AdminView<'a> {
    fn from(out: &'a AdminOutput) -> Self {
        AdminView {
            client_id: Some(&out.client_id),
            secret_changed: out.secret_changed,
        }
    }
}

pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed, admin: &AdminView<'_>) -> StepPlan {
    let config = ctx.config;
    let name = &config.konnect.provider_name;
    let issuer = config.issuer();
    let client_id = admin.client_id.map_or(KNOWN_AFTER_APPLY, ClientId::as_str);
    let audience = config.client_audience();
    let dev_scopes = config.api.developer_managed_scopes;
    let Some(provider) = &observed.provider else {
        let mut fields = vec![
            FieldChange::new("provider_type", None, "auth0"),
            FieldChange::new("issuer", None, &issuer),
            FieldChange::new("dcr_config.initial_client_id", None, client_id),
            FieldChange::sensitive(SECRET_FIELD, None, "(from the secret store)"),
            FieldChange::new("dcr_config.use_developer_managed_scopes", None, dev_scopes.to_string()),
        ];
        if let Some(audience) = &audience {
            fields.push(FieldChange::new("dcr_config.initial_client_audience", None, audience));
        }
        fields.push(FieldChange::new(
            "labels",
            None,
            crate::plan::labels(&config.konnect_labels()),
        ));
        return StepPlan::new(STEP, name, Action::Create(fields));
    };
    let mut changes = Vec::new();
    // Only an adopted provider found through its strategy can have another name.
    if &provider.name != name {
        changes.push(FieldChange::new("name", Some(provider.name.clone()), name));
    }
    if provider.issuer != issuer {
        changes.push(FieldChange::new("issuer", Some(provider.issuer.clone()), &issuer));
    }
    if let ProviderConfig::Auth0(current) = &provider.config {
        if current.initial_client_id != client_id {
            changes.push(FieldChange::new(
                "dcr_config.initial_client_id",
                Some(current.initial_client_id.clone()),
                client_id,
            ));
        }
        if current.initial_client_audience != audience {
            changes.push(FieldChange::new(
                "dcr_config.initial_client_audience",
                Some(
                    current
                        .initial_client_audience
                        .clone()
                        .unwrap_or_else(|| "(none)".into()),
                ),
                audience.clone().unwrap_or_else(|| "(none)".into()),
            ));
        }
        if current.use_developer_managed_scopes != dev_scopes {
            changes.push(FieldChange::new(
                "dcr_config.use_developer_managed_scopes",
                Some(current.use_developer_managed_scopes.to_string()),
                dev_scopes.to_string(),
            ));
        }
    }
    // The secret is write-only: it is sent when it changed or the client changed.
    let client_changed = changes.iter().any(|c| c.field == "dcr_config.initial_client_id");
    if observed.provider_secret_rejected && !admin.secret_changed {
        changes.push(FieldChange::sensitive(
            SECRET_FIELD,
            Some("(refused by Konnect's provider check)"),
            "(from the secret store)",
        ));
    } else if admin.secret_changed || client_changed {
        changes.push(FieldChange::sensitive(SECRET_FIELD, Some("(write-only)"), "(new)"));
    }
    changes.extend(crate::plan::missing_labels(&provider.labels, &config.konnect_labels()));
    let plan = StepPlan::from_changes(STEP, name, changes);
    if owner::owns_labels(&provider.labels) {
        plan
    } else {
        plan.adopted()
    }
}

fn copy(secret: &SecretString) -> SecretString {
    SecretString::from(secret.expose_secret().to_owned())
}

pub(crate) async fn apply(ctx: Ctx<'_>, observed: &Observed, admin: &AdminOutput) -> Result<(StepPlan, DcrProvider)> {
    let plan = diff(ctx, observed, &admin.into());
    let config = ctx.config;
    let providers = ctx.konnect.dcr_providers();
    let provider = match (&observed.provider, &plan.action) {
        (Some(provider), Action::NoOp) => provider.clone(),
        (None, _) => {
            let mut new = NewDcrProvider::auth0(
                &config.konnect.provider_name,
                config.issuer(),
                admin.client_id.as_str(),
                copy(&admin.secret),
            )
            .display_name(&config.konnect.provider_name)
            .developer_managed_scopes(config.api.developer_managed_scopes);
            if let Some(audience) = config.client_audience() {
                new = new.client_audience(audience);
            }
            for (k, v) in config.konnect_labels() {
                new = new.label(k, v);
            }
            providers.create(&new).await.map_err(WorkflowError::konnect(STEP))?
        }
        (Some(provider), _) => {
            let mut dcr = DcrConfigUpdate::new()
                .initial_client_id(admin.client_id.as_str())
                .initial_client_audience(config.client_audience())
                .use_developer_managed_scopes(config.api.developer_managed_scopes);
            if plan.fields().iter().any(|f| f.field == SECRET_FIELD) {
                dcr = dcr.initial_client_secret(copy(&admin.secret));
            }
            let mut update = DcrProviderUpdate::new()
                .for_auth0()
                .issuer(config.issuer())
                .dcr_config(dcr);
            if plan.fields().iter().any(|f| f.field == "name") {
                update = update.name(&config.konnect.provider_name);
            }
            for (k, v) in config.konnect_labels() {
                update = update.label(k, v);
            }
            providers
                .update(&provider.id, &update)
                .await
                .map_err(WorkflowError::konnect(STEP))?
        }
    };
    Ok((plan, provider))
}

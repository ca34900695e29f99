//! Owned duplicates: two runs on two machines cannot lock each other out (neither service
//! offers a lock or a unique key for most of these resources), so both may create a
//! resource under the same natural key. Every run therefore finds *all* the resources
//! that carry the workflow's mark under each key, keeps the one the chain references,
//! and deletes the others. What does not carry the mark is never touched.

use auth0_mgmt::resources::clients::Client;
use konnect_appauth::resources::apis::Api;
use konnect_appauth::resources::auth_strategies::AuthStrategy;
use konnect_appauth::resources::dcr_providers::{DcrConfig as ProviderConfig, DcrProvider};
use konnect_appauth::{AuthStrategyId, DcrProviderId, PortalId};

use super::Ctx;
use crate::owner;
use crate::plan::{Action, StepId, StepPlan};
use crate::store::{admin_secret_key, pending_secret_key};
use crate::{Result, WorkflowError};

/// The owned resources beyond the one kept under each natural key.
#[derive(Clone, Debug, Default)]
pub(crate) struct Duplicates {
    pub(crate) admins: Vec<Client>,
    pub(crate) providers: Vec<DcrProvider>,
    pub(crate) strategies: Vec<AuthStrategy>,
    pub(crate) apis: Vec<Api>,
}

impl Duplicates {
    pub(crate) fn is_empty(&self) -> bool {
        self.admins.is_empty() && self.providers.is_empty() && self.strategies.is_empty() && self.apis.is_empty()
    }
}

/// Splits the providers with the configured name into the one kept and the owned rest.
/// Kept: the owned one an owned strategy references, else the first owned one; without
/// an owned one, the first (which `plan` then refuses as not owned). Unmarked namesakes
/// are neither kept nor deleted. When adopting and nothing is owned, the unmarked one a
/// strategy with the configured name references is kept, else the only one; two that
/// nothing decides between are refused.
pub(crate) fn choose_provider(
    all: Vec<DcrProvider>,
    strategies: &[AuthStrategy],
    adopt: bool,
) -> Result<(Option<DcrProvider>, Vec<DcrProvider>)> {
    let referenced_by = |p: &DcrProvider, owned_only: bool| {
        strategies.iter().any(|s| {
            (!owned_only || owner::owns_labels(&s.labels)) && s.dcr_provider.as_ref().is_some_and(|d| d.id == p.id)
        })
    };
    let (owned, unowned): (Vec<_>, Vec<_>) = all.into_iter().partition(|p| owner::owns_labels(&p.labels));
    if adopt && owned.is_empty() {
        let name = unowned.first().map(|p| p.name.clone()).unwrap_or_default();
        let kept = pick_candidate(
            unowned,
            |p| referenced_by(p, false),
            |p| p.id.to_string(),
            "Konnect DCR provider",
            &name,
        )?;
        return Ok((kept, Vec::new()));
    }
    Ok(keep_one(owned, unowned, |p| referenced_by(p, true)))
}

/// Splits the strategies with the configured name. Kept: the owned one the publication
/// uses, else the owned one that uses the kept provider, else the first owned one. When
/// adopting and nothing is owned: the unmarked one the publication uses or that uses the
/// kept provider, else the only one; two that nothing decides between are refused.
pub(crate) fn choose_strategy(
    all: Vec<AuthStrategy>,
    published: &[AuthStrategyId],
    provider: Option<&DcrProviderId>,
    adopt: bool,
) -> Result<(Option<AuthStrategy>, Vec<AuthStrategy>)> {
    let uses_provider = |s: &AuthStrategy| s.dcr_provider.as_ref().map(|d| &d.id) == provider && provider.is_some();
    let (owned, unowned): (Vec<_>, Vec<_>) = all.into_iter().partition(|s| owner::owns_labels(&s.labels));
    if adopt && owned.is_empty() {
        let name = unowned.first().map(|s| s.name.clone()).unwrap_or_default();
        let kept = pick_candidate(
            unowned,
            |s| published.contains(&s.id) || uses_provider(s),
            |s| s.id.to_string(),
            "Konnect auth strategy",
            &name,
        )?;
        return Ok((kept, Vec::new()));
    }
    if owned.iter().any(|s| published.contains(&s.id)) {
        return Ok(keep_one(owned, unowned, |s| published.contains(&s.id)));
    }
    Ok(keep_one(owned, unowned, uses_provider))
}

/// Among unmarked candidates for adoption: the first one something links to the rest of
/// the setup, else the only one; several with no link are refused, naming every id.
pub(crate) fn pick_candidate<T>(
    candidates: Vec<T>,
    linked: impl Fn(&T) -> bool,
    id: impl Fn(&T) -> String,
    resource: &'static str,
    name: &str,
) -> Result<Option<T>> {
    if let Some(i) = candidates.iter().position(&linked) {
        return Ok(candidates.into_iter().nth(i));
    }
    if candidates.len() > 1 {
        return Err(WorkflowError::Ambiguous {
            resource,
            name: name.to_owned(),
            ids: candidates.iter().map(id).collect(),
        });
    }
    Ok(candidates.into_iter().next())
}

/// Splits the APIs with the configured name. Kept: the one published on one of its
/// configured portals,
/// else one the workflow did not create (the user's), else the first. Only owned ones
/// are ever deleted.
pub(crate) fn choose_api(all: Vec<Api>, portals: &[PortalId]) -> (Option<Api>, Vec<Api>) {
    let published = |a: &Api| a.portals.iter().any(|p| portals.contains(&p.id));
    let kept = all
        .iter()
        .position(published)
        .or_else(|| all.iter().position(|a| !owner::owns_labels(&a.labels)))
        .or(if all.is_empty() { None } else { Some(0) });
    let Some(kept) = kept else {
        return (None, Vec::new());
    };
    let mut all = all;
    let kept = all.remove(kept);
    let extras = all.into_iter().filter(|a| owner::owns_labels(&a.labels)).collect();
    (Some(kept), extras)
}

/// Among owned candidates, the first that `preferred` picks (else the first owned one) is
/// kept and the other owned ones are duplicates; with no owned candidate, the first
/// unowned one is returned for the ownership check to refuse.
fn keep_one<T>(owned: Vec<T>, unowned: Vec<T>, preferred: impl Fn(&T) -> bool) -> (Option<T>, Vec<T>) {
    if owned.is_empty() {
        return (unowned.into_iter().next(), Vec::new());
    }
    let index = owned.iter().position(preferred).unwrap_or(0);
    let mut owned = owned;
    let kept = owned.remove(index);
    (Some(kept), owned)
}

/// The admin applications the duplicate providers name: each was created by the run
/// that created that provider.
pub(crate) fn provider_clients(providers: &[DcrProvider]) -> Vec<String> {
    providers
        .iter()
        .filter_map(|p| match &p.config {
            ProviderConfig::Auth0(c) => Some(c.initial_client_id.clone()),
            _ => None,
        })
        .collect()
}

/// One owned duplicate, for the plan and the audit.
pub(crate) struct Found {
    pub(crate) step: StepId,
    pub(crate) name: String,
    pub(crate) id: String,
    /// The id of the one the chain keeps.
    pub(crate) kept: Option<String>,
}

/// Every owned duplicate, in the order [`remove`] deletes them.
pub(crate) fn found(observed: &super::Observed) -> Vec<Found> {
    let d = &observed.duplicates;
    let entry = |step, name: &str, id: &str, kept: Option<String>| Found {
        step,
        name: name.to_owned(),
        id: id.to_owned(),
        kept,
    };
    let kept_api = |name: &str| {
        observed
            .apis
            .iter()
            .filter_map(|a| a.found.as_ref())
            .find(|a| a.name == name)
            .map(|a| a.id.to_string())
    };
    let kept_strategy = observed.strategy.as_ref().map(|s| s.id.to_string());
    let kept_provider = observed.provider.as_ref().map(|p| p.id.to_string());
    let kept_admin = observed.admin.as_ref().map(|a| a.client_id.to_string());
    let apis = d
        .apis
        .iter()
        .map(|a| entry(StepId::KonnectApi, &a.name, a.id.as_str(), kept_api(&a.name)));
    let strategies = d
        .strategies
        .iter()
        .map(|s| entry(StepId::AuthStrategy, &s.name, s.id.as_str(), kept_strategy.clone()));
    let providers = d
        .providers
        .iter()
        .map(|p| entry(StepId::DcrProvider, &p.name, p.id.as_str(), kept_provider.clone()));
    let admins = d
        .admins
        .iter()
        .map(|a| entry(StepId::AdminApp, &a.name, a.client_id.as_str(), kept_admin.clone()));
    apis.chain(strategies).chain(providers).chain(admins).collect()
}

/// The plan's `- duplicate` lines.
pub(crate) fn diff(observed: &super::Observed) -> Vec<StepPlan> {
    found(observed)
        .into_iter()
        .map(|f| {
            let note = match &f.kept {
                Some(kept) => format!("duplicate: an overlapping run created it; {kept} is kept"),
                None => "duplicate: an overlapping run created it".to_owned(),
            };
            StepPlan::new(f.step, format!("{} ({})", f.name, f.id), Action::Delete).note(note)
        })
        .collect()
}

/// Deletes the duplicates, dependents first: an API's publication on the portal and the
/// API, then strategies, providers (a provider in use by a strategy cannot go), and the
/// admin applications with their grants and stored secrets. A 404 counts as deleted: an
/// overlapping run may have removed it first.
pub(crate) async fn remove(ctx: Ctx<'_>, duplicates: &Duplicates) -> Result<()> {
    let konnect = ctx.konnect;
    for api in &duplicates.apis {
        tracing::info!(api = %api.id, "deleting a duplicate Konnect API");
        // Konnect refuses to delete a published API: its publications go first.
        for portal in &api.portals {
            gone_ok(konnect.apis().unpublish(&api.id, &portal.id).await)
                .map_err(WorkflowError::konnect(StepId::Publication))?;
        }
        gone_ok(konnect.apis().delete(&api.id).await).map_err(WorkflowError::konnect(StepId::KonnectApi))?;
    }
    for s in &duplicates.strategies {
        tracing::info!(strategy = %s.id, "deleting a duplicate auth strategy");
        gone_ok(konnect.auth_strategies().delete(&s.id).await).map_err(WorkflowError::konnect(StepId::AuthStrategy))?;
    }
    for p in &duplicates.providers {
        tracing::info!(provider = %p.id, "deleting a duplicate DCR provider");
        gone_ok(konnect.dcr_providers().delete(&p.id).await).map_err(WorkflowError::konnect(StepId::DcrProvider))?;
    }
    for admin in &duplicates.admins {
        remove_admin(ctx, admin).await?;
    }
    Ok(())
}

/// Deletes an owned admin application, its Management API grant and what the store holds
/// for it.
pub(crate) async fn remove_admin(ctx: Ctx<'_>, admin: &Client) -> Result<()> {
    tracing::info!(client_id = %admin.client_id, "deleting a DCR admin application");
    let audience = auth0_mgmt::Audience::new(ctx.config.management_audience());
    let grant = ctx
        .auth0
        .client_grants()
        .find(&admin.client_id, &audience)
        .await
        .map_err(WorkflowError::auth0(StepId::AdminGrant))?;
    if let Some(grant) = grant {
        gone_ok(ctx.auth0.client_grants().delete(&grant.id).await).map_err(WorkflowError::auth0(StepId::AdminGrant))?;
    }
    gone_ok(ctx.auth0.clients().delete(&admin.client_id).await).map_err(WorkflowError::auth0(StepId::AdminApp))?;
    forget_secrets(ctx, admin.client_id.as_str()).await
}

/// Removes both secret keys of a deleted application from the store.
pub(crate) async fn forget_secrets(ctx: Ctx<'_>, client_id: &str) -> Result<()> {
    for key in [admin_secret_key(client_id), pending_secret_key(client_id)] {
        match ctx.store.delete(&key).await {
            // A read-only store holds the secret elsewhere; the app is gone anyway.
            Ok(()) | Err(WorkflowError::ReadOnlyStore { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A delete whose target is already gone succeeded.
pub(crate) fn gone_ok<E: NotFound>(result: std::result::Result<(), E>) -> std::result::Result<(), E> {
    match result {
        Err(e) if e.not_found() => Ok(()),
        other => other,
    }
}

/// Errors that can say "it was not there".
pub(crate) trait NotFound {
    fn not_found(&self) -> bool;
}

impl NotFound for auth0_mgmt::Auth0Error {
    fn not_found(&self) -> bool {
        self.is_not_found()
    }
}

impl NotFound for konnect_appauth::KonnectError {
    fn not_found(&self) -> bool {
        self.is_not_found()
    }
}

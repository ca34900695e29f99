//! Step 5b: each configured API published on its portal with the strategy. Every
//! configured portal's publications are read through its list
//! (`/v3/portals/{portalId}/api-publications`), one request per page however many APIs
//! it publishes; publications of the strategy that are no longer configured are shown,
//! and removed only when pruning.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};
use konnect_appauth::resources::apis::{ListedPublication, Publication, PublicationRequest, Visibility};
use konnect_appauth::{ApiId, AuthStrategyId, MAX_PAGE_SIZE, PortalId};

use super::konnect_api::{ApiRef, CONCURRENCY};
use super::{Ctx, Observed};
use crate::plan::{Action, FieldChange, KNOWN_AFTER_APPLY, StepId, StepPlan, list};
use crate::{PublicationSettings, Result, WorkflowError};

const STEP: StepId = StepId::Publication;

/// One configured publication and what exists for it.
#[derive(Clone, Debug)]
pub(crate) struct ObservedPublication {
    pub(crate) settings: PublicationSettings,
    pub(crate) current: Option<Publication>,
}

/// A configured portal's publications, or `None` when the portal does not exist.
pub(crate) type PortalPublications = HashMap<String, Option<Vec<ListedPublication>>>;

/// Every configured portal's API publications, one list walk per portal, concurrently.
pub(crate) async fn observe_portals(ctx: Ctx<'_>) -> Result<PortalPublications> {
    let apis = ctx.konnect.apis();
    let walks = ctx.config.portal_ids().into_iter().map(|portal| {
        let apis = apis.clone();
        async move {
            let listed: std::result::Result<Vec<ListedPublication>, _> = apis
                .portal_publications(&PortalId::new(portal.clone()))
                .page_size(MAX_PAGE_SIZE)
                .stream()
                .try_filter(|p| std::future::ready(p.is_api()))
                .try_collect()
                .await;
            match listed {
                Ok(listed) => Ok((portal, Some(listed))),
                // The portal itself is missing (the list's parent).
                Err(e) if e.is_not_found() => Ok((portal, None)),
                Err(e) => Err(WorkflowError::konnect(STEP)(e)),
            }
        }
    });
    Ok(futures::future::try_join_all(walks).await?.into_iter().collect())
}

/// Matches the configured publications with what the portals list, by the APIs found.
pub(crate) fn match_configured(
    ctx: Ctx<'_>,
    portals: &PortalPublications,
    apis: &[super::konnect_api::ObservedApi],
) -> Vec<ObservedPublication> {
    ctx.config
        .publications()
        .into_iter()
        .filter(|p| !p.is_classic())
        .map(|settings| {
            let wanted = ApiRef::of(&settings);
            let api = apis.iter().find(|a| a.wanted == wanted).and_then(|a| a.found.as_ref());
            let current = match (api, portals.get(&settings.portal_id)) {
                (Some(api), Some(Some(listed))) => listed
                    .iter()
                    .find(|p| p.api_id == api.id)
                    .map(ListedPublication::publication),
                _ => None,
            };
            ObservedPublication { settings, current }
        })
        .collect()
}

/// The publications of `strategy` that no configured entry accounts for: from the
/// configured portals' lists (free, they were read anyway), or, when pruning, from the
/// organization-wide list filtered by the strategy (one more walk), so that a portal
/// dropped from the configuration is found too.
pub(crate) async fn unconfigured(
    ctx: Ctx<'_>,
    portals: &PortalPublications,
    apis: &[super::konnect_api::ObservedApi],
    strategy: &AuthStrategyId,
    prune: bool,
) -> Result<Vec<ListedPublication>> {
    let configured: Vec<(String, ApiId)> = ctx
        .config
        .publications()
        .iter()
        .filter(|p| !p.is_classic())
        .filter_map(|p| {
            let wanted = ApiRef::of(p);
            let api = apis.iter().find(|a| a.wanted == wanted)?.found.as_ref()?;
            Some((p.portal_id.clone(), api.id.clone()))
        })
        .collect();
    let uses = |p: &ListedPublication| p.auth_strategy_ids.iter().flatten().any(|id| id == strategy);
    let is_configured = |p: &ListedPublication| {
        configured
            .iter()
            .any(|(portal, api)| p.on_portal(&PortalId::new(portal.clone())) && &p.api_id == api)
    };
    let listed: Vec<ListedPublication> = if prune {
        ctx.konnect
            .apis()
            .publications()
            .auth_strategy_id(strategy)
            .page_size(MAX_PAGE_SIZE)
            .stream()
            .try_collect()
            .await
            .map_err(WorkflowError::konnect(STEP))?
    } else {
        portals
            .iter()
            .flat_map(|(portal, listed)| {
                listed.iter().flatten().cloned().map(|mut p| {
                    // A portal's own list names its portal in `portal_ids`; keep one form.
                    p.portal_id.get_or_insert_with(|| PortalId::new(portal.clone()));
                    p
                })
            })
            .collect()
    };
    let mut found: Vec<ListedPublication> = listed
        .into_iter()
        .filter(|p| p.is_api() && uses(p) && !is_configured(p))
        .collect();
    found.sort_by(|a, b| (portal_of(a), &a.api_id).cmp(&(portal_of(b), &b.api_id)));
    Ok(found)
}

/// The portal of a listed publication.
pub(crate) fn portal_of(p: &ListedPublication) -> &str {
    p.portal_id
        .as_ref()
        .or(p.portal_ids.first())
        .map_or("", PortalId::as_str)
}

/// Every configured portal must exist before anything is created for it.
pub(crate) fn check_portals(ctx: Ctx<'_>, observed: &Observed) -> Result<()> {
    if let Some(entry) = ctx
        .config
        .publications()
        .iter()
        .position(|p| observed.missing_portals.contains(&p.portal_id))
    {
        let portal = &ctx.config.publications()[entry].portal_id;
        return Err(WorkflowError::Missing {
            resource: "Konnect portal",
            name: format!("{portal} ({})", ctx.config.publication_field(entry, "portal_id")),
            hint: "the portal_id names no portal in this organization and region: check the id and \
                   konnect.region (or base_url)",
        });
    }
    Ok(())
}

fn visibility(settings: &PublicationSettings) -> Visibility {
    match settings.visibility() {
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

fn key(settings: &PublicationSettings) -> String {
    format!("{} on portal {}", settings.api_key(), settings.portal_id)
}

fn auto_approve(settings: &PublicationSettings) -> bool {
    settings.auto_approve_registrations.unwrap_or(false)
}

fn diff_one(p: &ObservedPublication, strategy: Option<&AuthStrategyId>) -> StepPlan {
    let wanted = list(&[strategy.map_or(KNOWN_AFTER_APPLY, AuthStrategyId::as_str)]);
    let settings = &p.settings;
    let Some(current) = &p.current else {
        return StepPlan::new(
            STEP,
            key(settings),
            Action::Create(vec![
                FieldChange::new("auth_strategy_ids", None, wanted),
                FieldChange::new("visibility", None, render(visibility(settings))),
                FieldChange::new("auto_approve_registrations", None, auto_approve(settings).to_string()),
            ]),
        );
    };
    let ids: Vec<&str> = current
        .auth_strategy_ids
        .iter()
        .flatten()
        .map(AuthStrategyId::as_str)
        .collect();
    let ids = list(&ids);
    let mut changes = Vec::new();
    if ids != wanted {
        changes.push(FieldChange::new("auth_strategy_ids", Some(ids), wanted));
    }
    if current.visibility != visibility(settings) {
        changes.push(FieldChange::new(
            "visibility",
            Some(render(current.visibility).to_owned()),
            render(visibility(settings)),
        ));
    }
    // Absent means false: the portal's own setting decides.
    let current_auto = current.auto_approve_registrations.unwrap_or(false);
    if current_auto != auto_approve(settings) {
        changes.push(FieldChange::new(
            "auto_approve_registrations",
            Some(current_auto.to_string()),
            auto_approve(settings).to_string(),
        ));
    }
    StepPlan::from_changes(STEP, key(settings), changes)
}

/// The line for a publication of the strategy that is not configured: kept, or with
/// pruning removed.
fn diff_unconfigured(p: &ListedPublication, prune: bool) -> StepPlan {
    let key = format!("{} on portal {}", p.api_id, portal_of(p));
    if prune {
        StepPlan::new(STEP, key, Action::Delete).note("uses the strategy but is no longer configured: pruned")
    } else {
        StepPlan::new(STEP, key, Action::NoOp)
            .note("uses the strategy but is not configured: kept (--prune removes it)")
    }
}

/// One line per configured publication, then one per unconfigured publication of the
/// strategy.
pub(crate) fn diff(observed: &Observed, strategy: Option<&AuthStrategyId>) -> Vec<StepPlan> {
    observed
        .publications
        .iter()
        .map(|p| diff_one(p, strategy))
        .chain(
            observed
                .unconfigured
                .iter()
                .map(|p| diff_unconfigured(p, observed.prune)),
        )
        .collect()
}

/// Publishes every configured publication that differs (concurrently; a PUT replaces
/// the publication, so every setting is sent), then, when pruning, unpublishes the
/// unconfigured ones.
pub(crate) async fn apply(
    ctx: Ctx<'_>,
    observed: &Observed,
    apis: &[(ApiRef, ApiId)],
    strategy: &AuthStrategyId,
) -> Result<Vec<StepPlan>> {
    let konnect = ctx.konnect;
    let mut done: Vec<StepPlan> = futures::stream::iter(observed.publications.iter().map(|p| async move {
        let plan = diff_one(p, Some(strategy));
        if plan.changes() {
            let wanted = ApiRef::of(&p.settings);
            let api = apis
                .iter()
                .find(|(w, _)| *w == wanted)
                .map(|(_, id)| id)
                .ok_or(WorkflowError::Missing {
                    resource: "Konnect API",
                    name: wanted.key().to_owned(),
                    hint: "it was neither found nor created: run apply again",
                })?;
            konnect
                .apis()
                .publish(
                    api,
                    &PortalId::new(p.settings.portal_id.clone()),
                    &PublicationRequest::new()
                        .auth_strategy(strategy.clone())
                        .visibility(visibility(&p.settings))
                        .auto_approve_registrations(auto_approve(&p.settings)),
                )
                .await
                .map_err(WorkflowError::konnect(STEP))?;
        }
        Ok::<_, WorkflowError>(plan)
    }))
    .buffered(CONCURRENCY)
    .try_collect()
    .await?;
    for p in &observed.unconfigured {
        if observed.prune {
            let portal = PortalId::new(portal_of(p).to_owned());
            super::duplicates::gone_ok(konnect.apis().unpublish(&p.api_id, &portal).await)
                .map_err(WorkflowError::konnect(STEP))?;
        }
        done.push(diff_unconfigured(p, observed.prune));
    }
    Ok(done)
}

//! Step 5c: classic (v2) portals. An entry names an API product and a version; the
//! product (and the version) is created when missing, and the version is published on
//! the classic portal as a portal product version with the strategy, registration
//! enabled, the configured auto-approval, published and not deprecated. Each classic
//! portal's product versions are read through its list, each product's versions through
//! one list: cost grows by pages and products, not per publication.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};
use konnect_appauth::resources::api_products::{
    ApiProduct, NewApiProduct, NewPortalProductVersion, NewProductVersion, PortalProductVersion,
    PortalProductVersionUpdate, ProductVersion,
};
use konnect_appauth::{ApiProductId, AuthStrategyId, MAX_PAGE_SIZE, PortalId, ProductVersionId};

use super::Ctx;
use super::konnect_api::CONCURRENCY;
use crate::plan::{Action, FieldChange, KNOWN_AFTER_APPLY, StepId, StepPlan, list};
use crate::{PublicationSettings, Result, WorkflowError, owner};

/// How the configuration names a product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProductRef {
    Id(String),
    Name(String),
}

impl ProductRef {
    pub(crate) fn of(entry: &PublicationSettings) -> ProductRef {
        match (&entry.api_product_id, &entry.api_product_name) {
            (Some(id), _) => ProductRef::Id(id.clone()),
            (None, name) => ProductRef::Name(name.clone().unwrap_or_default()),
        }
    }

    fn key(&self) -> &str {
        match self {
            ProductRef::Id(s) | ProductRef::Name(s) => s,
        }
    }

    fn matches(&self, product: &ApiProduct) -> bool {
        match self {
            ProductRef::Id(id) => product.id.as_str() == id,
            ProductRef::Name(name) => &product.name == name,
        }
    }
}

/// One distinct product of the configuration, with the versions it needs.
#[derive(Clone, Debug)]
pub(crate) struct ObservedProduct {
    pub(crate) wanted: ProductRef,
    /// The first entry naming it (for messages).
    pub(crate) entry: usize,
    pub(crate) found: Option<ApiProduct>,
    /// Each wanted version name and the version found.
    pub(crate) versions: Vec<(String, Option<ProductVersion>)>,
}

impl ObservedProduct {
    fn version(&self, name: &str) -> Option<&ProductVersion> {
        self.versions
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_ref())
    }
}

/// One configured classic publication and what exists for it.
#[derive(Clone, Debug)]
pub(crate) struct ClassicEntry {
    pub(crate) settings: PublicationSettings,
    pub(crate) current: Option<PortalProductVersion>,
}

/// What the classic portals hold.
#[derive(Clone, Debug, Default)]
pub(crate) struct ObservedClassic {
    pub(crate) products: Vec<ObservedProduct>,
    pub(crate) entries: Vec<ClassicEntry>,
    /// Every product version on each configured classic portal (`None`: no such portal).
    pub(crate) portals: HashMap<String, Option<Vec<PortalProductVersion>>>,
    /// Owned products under a configured name beyond the one kept.
    pub(crate) duplicates: Vec<ApiProduct>,
    /// Versions on a configured classic portal that use the kept strategy and no entry
    /// configures: (portal, the portal product version).
    pub(crate) unconfigured: Vec<(String, PortalProductVersion)>,
}

impl ObservedClassic {
    pub(crate) fn missing_portals(&self) -> impl Iterator<Item = &String> {
        self.portals.iter().filter(|(_, l)| l.is_none()).map(|(p, _)| p)
    }

    /// The strategies the configured classic publications use now.
    pub(crate) fn published_strategies(&self) -> Vec<AuthStrategyId> {
        self.entries
            .iter()
            .filter_map(|e| e.current.as_ref())
            .flat_map(PortalProductVersion::auth_strategy_ids)
            .collect()
    }

    fn product(&self, settings: &PublicationSettings) -> Option<&ObservedProduct> {
        let wanted = ProductRef::of(settings);
        self.products.iter().find(|p| p.wanted == wanted)
    }
}

/// The distinct products of the classic entries, with their versions and portals.
fn wanted(ctx: Ctx<'_>) -> Vec<(ProductRef, usize, Vec<String>, Vec<PortalId>)> {
    let mut out: Vec<(ProductRef, usize, Vec<String>, Vec<PortalId>)> = Vec::new();
    for (i, entry) in ctx.config.publications().iter().enumerate() {
        if !entry.is_classic() {
            continue;
        }
        let wanted = ProductRef::of(entry);
        let version = entry.product_version().to_owned();
        let portal = PortalId::new(entry.portal_id.clone());
        match out.iter_mut().find(|(w, ..)| *w == wanted) {
            Some((_, _, versions, portals)) => {
                if !versions.contains(&version) {
                    versions.push(version);
                }
                portals.push(portal);
            }
            None => out.push((wanted, i, vec![version], vec![portal])),
        }
    }
    out
}

/// Finds the products (one name walk, one read per id), their versions (one list per
/// product) and every configured classic portal's product versions (one list each).
pub(crate) async fn observe(ctx: Ctx<'_>) -> Result<ObservedClassic> {
    let wanted = wanted(ctx);
    if wanted.is_empty() {
        return Ok(ObservedClassic::default());
    }
    let products = ctx.konnect.api_products();
    let (plain, with_comma): (Vec<&str>, Vec<&str>) = wanted
        .iter()
        .filter_map(|(w, ..)| match w {
            ProductRef::Name(n) => Some(n.as_str()),
            ProductRef::Id(_) => None,
        })
        .partition(|n| !n.contains(','));
    let by_name = async {
        let mut walks = Vec::new();
        if !plain.is_empty() {
            walks.push(products.list().names(&plain));
        }
        walks.extend(with_comma.iter().map(|n| products.list().name(*n)));
        let found: Vec<Vec<ApiProduct>> = futures::future::try_join_all(
            walks
                .into_iter()
                .map(|w| w.page_size(MAX_PAGE_SIZE).stream().try_collect()),
        )
        .await?;
        Ok::<_, konnect_appauth::KonnectError>(found.into_iter().flatten().collect::<Vec<_>>())
    };
    let by_id = futures::future::try_join_all(wanted.iter().filter_map(|(w, ..)| match w {
        ProductRef::Id(id) => {
            let (products, id) = (products.clone(), ApiProductId::new(id.clone()));
            Some(async move { products.get_opt(&id).await })
        }
        ProductRef::Name(_) => None,
    }));
    let portals = futures::future::try_join_all(ctx.config.classic_portal_ids().into_iter().map(|portal| {
        let products = products.clone();
        async move {
            let listed: std::result::Result<Vec<PortalProductVersion>, _> = products
                .on_portal(&PortalId::new(portal.clone()))
                .page_size(MAX_PAGE_SIZE)
                .stream()
                .try_collect()
                .await;
            match listed {
                Ok(listed) => Ok((portal, Some(listed))),
                Err(e) if e.is_not_found() => Ok((portal, None)),
                Err(e) => Err(e),
            }
        }
    }));
    let (named, ids, portals) = futures::future::try_join3(by_name, by_id, portals)
        .await
        .map_err(WorkflowError::konnect(StepId::ApiProduct))?;
    let found: Vec<ApiProduct> = named.into_iter().chain(ids.into_iter().flatten()).collect();
    let mut observed = ObservedClassic {
        portals: portals.into_iter().collect(),
        ..ObservedClassic::default()
    };
    for (wanted, entry, versions, on) in wanted {
        let candidates: Vec<ApiProduct> = found.iter().filter(|p| wanted.matches(p)).cloned().collect();
        let (kept, extra) = choose(candidates, &on);
        observed.duplicates.extend(extra);
        observed.products.push(ObservedProduct {
            wanted,
            entry,
            found: kept,
            versions: versions.into_iter().map(|v| (v, None)).collect(),
        });
    }
    // Each found product's versions: one list per product.
    let listed: Vec<Vec<ProductVersion>> = futures::future::try_join_all(observed.products.iter().map(|p| async {
        match &p.found {
            Some(found) => {
                products
                    .versions(&found.id)
                    .page_size(MAX_PAGE_SIZE)
                    .stream()
                    .try_collect()
                    .await
            }
            None => Ok(Vec::new()),
        }
    }))
    .await
    .map_err(WorkflowError::konnect(StepId::ApiProduct))?;
    for (product, listed) in observed.products.iter_mut().zip(listed) {
        for (name, version) in &mut product.versions {
            *version = listed.iter().find(|v| &v.name == name).cloned();
        }
    }
    observed.entries = ctx
        .config
        .publications()
        .into_iter()
        .filter(PublicationSettings::is_classic)
        .map(|settings| {
            let version = observed
                .product(&settings)
                .and_then(|p| p.version(settings.product_version()));
            let current = match (version, observed.portals.get(&settings.portal_id)) {
                (Some(v), Some(Some(listed))) => listed.iter().find(|p| p.product_version_id == v.id).cloned(),
                _ => None,
            };
            ClassicEntry { settings, current }
        })
        .collect();
    Ok(observed)
}

/// Among products with a configured name: the one published on one of its classic
/// portals, else one the workflow did not create, else the first; the other owned ones
/// are duplicates.
fn choose(all: Vec<ApiProduct>, portals: &[PortalId]) -> (Option<ApiProduct>, Vec<ApiProduct>) {
    let kept = all
        .iter()
        .position(|p| p.portal_ids.iter().any(|id| portals.contains(id)))
        .or_else(|| all.iter().position(|p| !owner::owns_labels(&p.labels)))
        .or(if all.is_empty() { None } else { Some(0) });
    let Some(kept) = kept else {
        return (None, Vec::new());
    };
    let mut all = all;
    let kept = all.remove(kept);
    (
        Some(kept),
        all.into_iter().filter(|p| owner::owns_labels(&p.labels)).collect(),
    )
}

/// The versions on the configured classic portals that use `strategy` and that no entry
/// configures.
pub(crate) fn find_unconfigured(observed: &mut ObservedClassic, strategy: &AuthStrategyId) {
    let configured: Vec<(String, ProductVersionId)> = observed
        .entries
        .iter()
        .filter_map(|e| {
            let version = observed.product(&e.settings)?.version(e.settings.product_version())?;
            Some((e.settings.portal_id.clone(), version.id.clone()))
        })
        .collect();
    let mut found: Vec<(String, PortalProductVersion)> = observed
        .portals
        .iter()
        .flat_map(|(portal, listed)| listed.iter().flatten().map(move |p| (portal.clone(), p.clone())))
        .filter(|(portal, p)| {
            p.auth_strategy_ids().contains(strategy)
                && !configured
                    .iter()
                    .any(|(c, v)| c == portal && v == &p.product_version_id)
        })
        .collect();
    found.sort_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
    observed.unconfigured = found;
}

/// Every configured classic portal must exist.
pub(crate) fn check_portals(ctx: Ctx<'_>, observed: &ObservedClassic) -> Result<()> {
    let publications = ctx.config.publications();
    if let Some(entry) = publications
        .iter()
        .position(|p| p.is_classic() && observed.missing_portals().any(|m| m == &p.portal_id))
    {
        return Err(WorkflowError::Missing {
            resource: "Konnect classic portal",
            name: format!(
                "{} ({})",
                publications[entry].portal_id,
                ctx.config.publication_field(entry, "portal_id")
            ),
            hint: "the portal_id names no classic (v2) portal in this organization and region: check the id, \
                   and use api_name or api_id for a v3 portal",
        });
    }
    if let Some(product) = observed
        .products
        .iter()
        .find(|p| matches!(p.wanted, ProductRef::Id(_)) && p.found.is_none())
    {
        return Err(WorkflowError::Missing {
            resource: "Konnect API product",
            name: format!(
                "{} ({})",
                product.wanted.key(),
                ctx.config.publication_field(product.entry, "api_product_id")
            ),
            hint: "the api_product_id names no API product; fix the id or use api_product_name",
        });
    }
    Ok(())
}

fn version_key(product: &ObservedProduct, version: &str) -> String {
    format!("{} {version}", product.wanted.key())
}

/// One line per product version: created (with the product when it is missing) or kept.
pub(crate) fn diff_products(ctx: Ctx<'_>, observed: &ObservedClassic) -> Vec<StepPlan> {
    let labels = crate::plan::labels(&ctx.config.konnect_labels());
    observed
        .products
        .iter()
        .flat_map(|p| {
            let labels = labels.clone();
            p.versions.iter().map(move |(name, version)| {
                let key = version_key(p, name);
                match (&p.found, version) {
                    (Some(_), Some(_)) => StepPlan::new(StepId::ApiProduct, key, Action::NoOp),
                    (found, _) => {
                        let mut fields = Vec::new();
                        if found.is_none() {
                            fields.push(FieldChange::new("product", None, p.wanted.key()));
                        }
                        fields.push(FieldChange::new("version", None, name.clone()));
                        fields.push(FieldChange::new("labels", None, labels.clone()));
                        StepPlan::new(StepId::ApiProduct, key, Action::Create(fields))
                    }
                }
            })
        })
        .collect()
}

fn publication_key(settings: &PublicationSettings) -> String {
    format!(
        "{} {} on classic portal {}",
        settings.api_key(),
        settings.product_version(),
        settings.portal_id
    )
}

fn auto_approve(settings: &PublicationSettings) -> bool {
    settings.auto_approve_registrations.unwrap_or(false)
}

fn diff_entry(entry: &ClassicEntry, strategy: Option<&AuthStrategyId>) -> StepPlan {
    let wanted = list(&[strategy.map_or(KNOWN_AFTER_APPLY, AuthStrategyId::as_str)]);
    let settings = &entry.settings;
    let key = publication_key(settings);
    let auto = auto_approve(settings);
    let Some(current) = &entry.current else {
        return StepPlan::new(
            StepId::Publication,
            key,
            Action::Create(vec![
                FieldChange::new("auth_strategy_ids", None, wanted),
                FieldChange::new("publish_status", None, "published"),
                FieldChange::new("application_registration_enabled", None, "true"),
                FieldChange::new("auto_approve_registration", None, auto.to_string()),
                FieldChange::new("deprecated", None, "false"),
            ]),
        );
    };
    let ids: Vec<String> = current.auth_strategy_ids().iter().map(ToString::to_string).collect();
    let ids = list(&ids);
    let mut changes = Vec::new();
    if ids != wanted {
        changes.push(FieldChange::new("auth_strategy_ids", Some(ids), wanted));
    }
    if current.publish_status != "published" {
        changes.push(FieldChange::new(
            "publish_status",
            Some(current.publish_status.clone()),
            "published",
        ));
    }
    for (field, now, want) in [
        (
            "application_registration_enabled",
            current.application_registration_enabled,
            true,
        ),
        ("auto_approve_registration", current.auto_approve_registration, auto),
        ("deprecated", current.deprecated, false),
    ] {
        if now != want {
            changes.push(FieldChange::new(field, Some(now.to_string()), want.to_string()));
        }
    }
    StepPlan::from_changes(StepId::Publication, key, changes)
}

fn diff_unconfigured(portal: &str, p: &PortalProductVersion, prune: bool) -> StepPlan {
    let key = format!("version {} on classic portal {portal}", p.product_version_id);
    if prune {
        StepPlan::new(StepId::Publication, key, Action::Delete)
            .note("uses the strategy but is no longer configured: pruned")
    } else {
        StepPlan::new(StepId::Publication, key, Action::NoOp)
            .note("uses the strategy but is not configured: kept (--prune removes it)")
    }
}

/// One line per classic publication, then the unconfigured ones.
pub(crate) fn diff_publications(
    observed: &ObservedClassic,
    strategy: Option<&AuthStrategyId>,
    prune: bool,
) -> Vec<StepPlan> {
    observed
        .entries
        .iter()
        .map(|e| diff_entry(e, strategy))
        .chain(
            observed
                .unconfigured
                .iter()
                .map(|(portal, p)| diff_unconfigured(portal, p, prune)),
        )
        .collect()
}

/// Creates the missing products and versions (each product concurrently); returns the
/// plan lines and the version id of every (product, version).
pub(crate) async fn apply_products(
    ctx: Ctx<'_>,
    observed: &ObservedClassic,
) -> Result<(Vec<StepPlan>, Vec<(ProductRef, String, ProductVersionId)>)> {
    let products = ctx.konnect.api_products();
    let done: Vec<Vec<(ProductRef, String, ProductVersionId)>> =
        futures::stream::iter(observed.products.iter().map(|p| {
            let products = products.clone();
            async move {
                let product = match &p.found {
                    Some(found) => found.clone(),
                    None => {
                        let mut new = NewApiProduct::new(p.wanted.key());
                        for (k, v) in ctx.config.konnect_labels() {
                            new = new.label(k, v);
                        }
                        products.create(&new).await?
                    }
                };
                let mut ids = Vec::new();
                for (name, version) in &p.versions {
                    let id = match version {
                        Some(v) => v.id.clone(),
                        None => {
                            let mut new = NewProductVersion::new(name.clone());
                            for (k, v) in ctx.config.konnect_labels() {
                                new = new.label(k, v);
                            }
                            products.create_version(&product.id, &new).await?.id
                        }
                    };
                    ids.push((p.wanted.clone(), name.clone(), id));
                }
                Ok::<_, konnect_appauth::KonnectError>(ids)
            }
        }))
        .buffered(CONCURRENCY)
        .try_collect()
        .await
        .map_err(WorkflowError::konnect(StepId::ApiProduct))?;
    Ok((diff_products(ctx, observed), done.into_iter().flatten().collect()))
}

/// Publishes (POST) or corrects (PATCH, every setting) each classic publication that
/// differs, then, when pruning, removes the unconfigured ones.
pub(crate) async fn apply_publications(
    ctx: Ctx<'_>,
    observed: &ObservedClassic,
    versions: &[(ProductRef, String, ProductVersionId)],
    strategy: &AuthStrategyId,
    prune: bool,
) -> Result<Vec<StepPlan>> {
    let products = ctx.konnect.api_products();
    let mut done: Vec<StepPlan> = futures::stream::iter(observed.entries.iter().map(|entry| {
        let products = products.clone();
        async move {
            let plan = diff_entry(entry, Some(strategy));
            if !plan.changes() {
                return Ok(plan);
            }
            let settings = &entry.settings;
            let portal = PortalId::new(settings.portal_id.clone());
            let auto = auto_approve(settings);
            match &entry.current {
                Some(current) => {
                    let update = PortalProductVersionUpdate::new()
                        .auth_strategy(Some(strategy.clone()))
                        .published(true)
                        .application_registration_enabled(true)
                        .auto_approve_registration(auto)
                        .deprecated(false);
                    products.update_on_portal(&portal, &current.id, &update).await?;
                }
                None => {
                    let wanted = ProductRef::of(settings);
                    let version = versions
                        .iter()
                        .find(|(p, v, _)| *p == wanted && v == settings.product_version())
                        .map(|(_, _, id)| id.clone())
                        .unwrap_or_else(|| ProductVersionId::new(""));
                    let new = NewPortalProductVersion::new(version)
                        .auth_strategy(strategy.clone())
                        .auto_approve_registration(auto);
                    products.publish(&portal, &new).await?;
                }
            }
            Ok::<_, konnect_appauth::KonnectError>(plan)
        }
    }))
    .buffered(CONCURRENCY)
    .try_collect()
    .await
    .map_err(WorkflowError::konnect(StepId::Publication))?;
    for (portal, p) in &observed.unconfigured {
        if prune {
            super::duplicates::gone_ok(products.unpublish(&PortalId::new(portal.clone()), &p.id).await)
                .map_err(WorkflowError::konnect(StepId::Publication))?;
        }
        done.push(diff_unconfigured(portal, p, prune));
    }
    Ok(done)
}

/// The plan's lines for owned duplicate products (overlapping runs each created one).
pub(crate) fn diff_duplicates(observed: &ObservedClassic) -> Vec<StepPlan> {
    observed
        .duplicates
        .iter()
        .map(|d| {
            let kept = observed
                .products
                .iter()
                .filter_map(|p| p.found.as_ref())
                .find(|p| p.name == d.name)
                .map_or_else(String::new, |k| format!("; {} is kept", k.id));
            StepPlan::new(StepId::ApiProduct, format!("{} ({})", d.name, d.id), Action::Delete)
                .note(format!("duplicate: an overlapping run created it{kept}"))
        })
        .collect()
}

/// Deletes the owned duplicate products (with their versions and publications).
pub(crate) async fn remove_duplicates(ctx: Ctx<'_>, observed: &ObservedClassic) -> Result<()> {
    for d in &observed.duplicates {
        tracing::info!(product = %d.id, "deleting a duplicate API product");
        super::duplicates::gone_ok(ctx.konnect.api_products().delete(&d.id).await)
            .map_err(WorkflowError::konnect(StepId::ApiProduct))?;
    }
    Ok(())
}

/// What `destroy` does on classic portals.
pub(crate) struct Teardown {
    /// (portal, the portal product version, the plan key) to unpublish.
    pub(crate) unpublish: Vec<(String, PortalProductVersion, String)>,
    /// The products the workflow created, to delete with their versions.
    pub(crate) products: Vec<ApiProduct>,
    /// Publications that are not the workflow's: kept.
    pub(crate) kept: Vec<String>,
}

/// `destroy`: what to unpublish (ours: using `strategy`, or on a product the workflow
/// created; and the unconfigured ones of `strategy`) and the products to delete.
pub(crate) fn teardown(observed: &ObservedClassic, strategy: Option<&AuthStrategyId>) -> Teardown {
    let mut unpublish = Vec::new();
    let mut kept = Vec::new();
    for entry in &observed.entries {
        let Some(current) = &entry.current else {
            continue;
        };
        let product = observed.product(&entry.settings).and_then(|p| p.found.as_ref());
        let ours = strategy.is_some_and(|s| current.auth_strategy_ids().contains(s))
            || product.is_some_and(|p| owner::owns_labels(&p.labels));
        let key = publication_key(&entry.settings);
        if ours {
            unpublish.push((entry.settings.portal_id.clone(), current.clone(), key));
        } else {
            kept.push(key);
        }
    }
    if strategy.is_some() {
        for (portal, p) in &observed.unconfigured {
            let key = format!("version {} on classic portal {portal}", p.product_version_id);
            unpublish.push((portal.clone(), p.clone(), key));
        }
    }
    let owned: Vec<ApiProduct> = observed
        .products
        .iter()
        .filter_map(|p| p.found.clone())
        .chain(observed.duplicates.iter().cloned())
        .filter(|p| owner::owns_labels(&p.labels))
        .collect();
    Teardown {
        unpublish,
        products: owned,
        kept,
    }
}

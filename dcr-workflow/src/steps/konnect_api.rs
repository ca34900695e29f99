//! Step 5a: the Konnect APIs to publish, one per distinct API of the publications: given
//! by id (never created nor deleted), or by name (created when missing, labelled as the
//! workflow's). All of them are found in one list walk per kind (ids, names), never one
//! request per API.

use futures::{StreamExt, TryStreamExt};
use konnect_appauth::resources::apis::{Api, NewApi};
use konnect_appauth::{ApiId, MAX_PAGE_SIZE, PortalId};

use super::{Ctx, Observed, duplicates};
use crate::plan::{Action, FieldChange, StepId, StepPlan};
use crate::{Result, WorkflowError};

const STEP: StepId = StepId::KonnectApi;

/// How many API creates (and, in the publication step, publications) are in flight at
/// once: a page's worth, so that 50 APIs on two portals cost two round trips, not fifty.
pub(crate) const CONCURRENCY: usize = 100;

/// How the configuration names an API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ApiRef {
    Id(String),
    Name(String),
}

impl ApiRef {
    pub(crate) fn of(entry: &crate::PublicationSettings) -> ApiRef {
        match (&entry.api_id, &entry.api_name) {
            (Some(id), _) => ApiRef::Id(id.clone()),
            (None, name) => ApiRef::Name(name.clone().unwrap_or_default()),
        }
    }

    /// The name or the id: the plan's key.
    pub(crate) fn key(&self) -> &str {
        match self {
            ApiRef::Id(s) | ApiRef::Name(s) => s,
        }
    }

    pub(crate) fn matches(&self, api: &Api) -> bool {
        match self {
            ApiRef::Id(id) => api.id.as_str() == id,
            ApiRef::Name(name) => &api.name == name,
        }
    }
}

/// One distinct API of the configuration and what was found for it.
#[derive(Clone, Debug)]
pub(crate) struct ObservedApi {
    pub(crate) wanted: ApiRef,
    /// The index of the first publication naming it (for messages).
    pub(crate) entry: usize,
    pub(crate) found: Option<Api>,
}

/// The distinct APIs of the publications, in configuration order, with the portals each
/// is configured on.
fn wanted(ctx: Ctx<'_>) -> Vec<(ApiRef, usize, Vec<PortalId>)> {
    let mut out: Vec<(ApiRef, usize, Vec<PortalId>)> = Vec::new();
    for (i, entry) in ctx.config.publications().iter().enumerate() {
        if entry.is_classic() {
            continue;
        }
        let wanted = ApiRef::of(entry);
        let portal = PortalId::new(entry.portal_id.clone());
        match out.iter_mut().find(|(w, _, _)| *w == wanted) {
            Some((_, _, portals)) => portals.push(portal),
            None => out.push((wanted, i, vec![portal])),
        }
    }
    out
}

/// Every API the configuration names, and the owned duplicates under each name (two
/// overlapping runs may each have created one). Ids are asked with one `filter[id][oeq]`
/// walk, names with one `filter[name][oeq]` walk (a name holding a comma on its own).
pub(crate) async fn observe_all(ctx: Ctx<'_>) -> Result<(Vec<ObservedApi>, Vec<Api>)> {
    let wanted = wanted(ctx);
    let ids: Vec<ApiId> = wanted
        .iter()
        .filter_map(|(w, _, _)| match w {
            ApiRef::Id(id) => Some(ApiId::new(id.clone())),
            ApiRef::Name(_) => None,
        })
        .collect();
    let (plain, with_comma): (Vec<&str>, Vec<&str>) = wanted
        .iter()
        .filter_map(|(w, _, _)| match w {
            ApiRef::Name(name) => Some(name.as_str()),
            ApiRef::Id(_) => None,
        })
        .partition(|n| !n.contains(','));
    let apis = ctx.konnect.apis();
    let list = || apis.list().page_size(MAX_PAGE_SIZE);
    let mut walks = Vec::new();
    if !ids.is_empty() {
        walks.push(list().ids(&ids));
    }
    if !plain.is_empty() {
        walks.push(list().names(&plain));
    }
    walks.extend(with_comma.iter().map(|name| list().name(*name)));
    let found: Vec<Vec<Api>> = futures::future::try_join_all(walks.into_iter().map(|w| w.stream().try_collect()))
        .await
        .map_err(WorkflowError::konnect(STEP))?;
    let found: Vec<Api> = found.into_iter().flatten().collect();
    let mut observed = Vec::new();
    let mut extra = Vec::new();
    for (wanted, entry, portals) in wanted {
        let candidates: Vec<Api> = found.iter().filter(|a| wanted.matches(a)).cloned().collect();
        let (kept, duplicates) = duplicates::choose_api(candidates, &portals);
        extra.extend(duplicates);
        observed.push(ObservedApi {
            wanted,
            entry,
            found: kept,
        });
    }
    Ok((observed, extra))
}

/// An API given by id must exist: the workflow does not invent one.
pub(crate) fn check_exists(ctx: Ctx<'_>, observed: &Observed) -> Result<()> {
    for api in &observed.apis {
        if let (ApiRef::Id(id), None) = (&api.wanted, &api.found) {
            return Err(WorkflowError::Missing {
                resource: "Konnect API",
                name: format!("{id} ({})", ctx.config.publication_field(api.entry, "api_id")),
                hint: "the api_id names an API that does not exist; fix the id or use api_name",
            });
        }
    }
    Ok(())
}

fn diff_one(ctx: Ctx<'_>, api: &ObservedApi) -> StepPlan {
    match &api.found {
        Some(_) => StepPlan::new(STEP, api.wanted.key(), Action::NoOp),
        None => StepPlan::new(
            STEP,
            api.wanted.key(),
            Action::Create(vec![FieldChange::new(
                "labels",
                None,
                crate::plan::labels(&ctx.config.konnect_labels()),
            )]),
        ),
    }
}

/// One line per distinct API.
pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed) -> Vec<StepPlan> {
    observed.apis.iter().map(|api| diff_one(ctx, api)).collect()
}

/// Creates the missing APIs (concurrently); returns each distinct API with its plan line.
pub(crate) async fn apply(ctx: Ctx<'_>, observed: &Observed) -> Result<Vec<(StepPlan, Api)>> {
    futures::stream::iter(observed.apis.iter().map(|api| async move {
        let plan = diff_one(ctx, api);
        match &api.found {
            Some(found) => Ok((plan, found.clone())),
            None => Ok((plan, create(ctx, api.wanted.key()).await?)),
        }
    }))
    .buffered(CONCURRENCY)
    .try_collect()
    .await
}

async fn create(ctx: Ctx<'_>, name: &str) -> Result<Api> {
    let mut new = NewApi::new(name);
    for (k, v) in ctx.config.konnect_labels() {
        new = new.label(k, v);
    }
    match ctx.konnect.apis().create(&new).await {
        Ok(api) => Ok(api),
        // An overlapping run created it in the meantime (name and version are unique):
        // use it when it is the workflow's.
        Err(e) if e.is_conflict() => {
            let found = ctx
                .konnect
                .apis()
                .find_by_name(name)
                .await
                .map_err(WorkflowError::konnect(STEP))?;
            match found.filter(|a| crate::owner::owns_labels(&a.labels)) {
                Some(api) => Ok(api),
                None => Err(WorkflowError::konnect(STEP)(e)),
            }
        }
        Err(e) => Err(WorkflowError::konnect(STEP)(e)),
    }
}

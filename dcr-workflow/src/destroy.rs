//! Teardown: removes, in reverse order, exactly what the workflow created.

use futures::{StreamExt, TryStreamExt};
use konnect_appauth::{ApiId, PortalId};

use crate::owner;
use crate::plan::StepId;
use crate::steps::duplicates::{self, Duplicates, gone_ok};
use crate::steps::konnect_api::{self, ApiRef};
use crate::steps::{Purpose, admin_app, classic, in_step, observe, publication};
use crate::workflow::{Destroyed, Workflow};
use crate::{Result, WorkflowError};

impl Workflow {
    /// Removes what the workflow owns, newest first: the publication of its strategy,
    /// the API it created in Konnect, the strategy, the provider, the resource server it
    /// created, the admin grant and application, and the stored secret. Anything with a
    /// configured name that the workflow did not create is reported in
    /// [`Destroyed::kept`] and left alone. Running it twice is safe.
    pub async fn destroy(&self) -> Result<Destroyed> {
        let _lock = self.store.lock(self.lock_wait).await?;
        self.destroy_or_preview(false).await
    }

    /// What [`destroy`](Self::destroy) would remove and keep, found the same way, without
    /// removing anything (read requests only): what a confirmation prompt shows.
    pub async fn destroy_preview(&self) -> Result<Destroyed> {
        self.destroy_or_preview(true).await
    }

    /// One walk for both, so the preview cannot disagree with the teardown: with
    /// `preview`, every delete is skipped and only recorded.
    async fn destroy_or_preview(&self, preview: bool) -> Result<Destroyed> {
        let ctx = self.ctx();
        let delete = !preview;
        // Every delete below sits behind `delete`; everything else is the same walk.
        let observed = in_step(StepId::Observe, observe(ctx, Purpose::Sweep)).await?;
        let mut done = Destroyed::default();
        // First what earlier verifications left: their applications use the strategy.
        done.removed.extend(crate::leftovers::sweep(ctx, delete).await?);
        let konnect = &self.konnect;
        let strategy = observed.strategy.as_ref().filter(|s| owner::owns_labels(&s.labels));
        let owned_api = |api: &konnect_appauth::resources::apis::Api| owner::owns_labels(&api.labels);

        // Publications: ours when they use our strategy (or sit on our API). Those of the
        // strategy that are not configured go too: a strategy in use cannot be deleted.
        let mut unpublish: Vec<(ApiId, PortalId, String)> = Vec::new();
        for p in &observed.publications {
            let wanted = ApiRef::of(&p.settings);
            let api = observed
                .apis
                .iter()
                .find(|a| a.wanted == wanted)
                .and_then(|a| a.found.as_ref());
            let (Some(api), Some(current)) = (api, &p.current) else {
                continue;
            };
            let uses_ours = strategy.is_some_and(|s| current.auth_strategy_ids.iter().flatten().any(|id| id == &s.id));
            let key = format!("{} on portal {}", api.name, p.settings.portal_id);
            if uses_ours || owned_api(api) {
                unpublish.push((api.id.clone(), PortalId::new(p.settings.portal_id.clone()), key));
            } else {
                done.kept.push((StepId::Publication, key));
            }
        }
        if strategy.is_some() {
            for p in &observed.unconfigured {
                let portal = publication::portal_of(p).to_owned();
                let key = format!("{} on portal {portal}", p.api_id);
                unpublish.push((p.api_id.clone(), PortalId::new(portal), key));
            }
        }
        let classic::Teardown {
            unpublish: classic_unpublish,
            products: classic_products,
            kept: classic_kept,
        } = classic::teardown(&observed.classic, strategy.map(|s| &s.id));
        done.kept
            .extend(classic_kept.into_iter().map(|key| (StepId::Publication, key)));
        if delete {
            let products = konnect.api_products();
            in_step(StepId::Publication, async {
                futures::stream::iter(classic_unpublish.iter().map(|(portal, p, _)| {
                    let products = products.clone();
                    async move {
                        gone_ok(products.unpublish(&PortalId::new(portal.clone()), &p.id).await)
                            .map_err(WorkflowError::konnect(StepId::Publication))
                    }
                }))
                .buffer_unordered(konnect_api::CONCURRENCY)
                .try_collect::<()>()
                .await
            })
            .await?;
        }
        done.removed.extend(
            classic_unpublish
                .into_iter()
                .map(|(_, _, key)| (StepId::Publication, key)),
        );
        if delete {
            in_step(StepId::Publication, async {
                futures::stream::iter(unpublish.iter().map(|(api, portal, _)| async move {
                    gone_ok(konnect.apis().unpublish(api, portal).await)
                        .map_err(WorkflowError::konnect(StepId::Publication))
                }))
                .buffer_unordered(konnect_api::CONCURRENCY)
                .try_collect::<()>()
                .await
            })
            .await?;
        }
        done.removed
            .extend(unpublish.into_iter().map(|(_, _, key)| (StepId::Publication, key)));
        // Owned duplicates that overlapping runs left, dependents first (the admin
        // applications go with the kept one, below).
        let konnect_duplicates = Duplicates {
            admins: Vec::new(),
            ..observed.duplicates.clone()
        };
        if delete {
            duplicates::remove(ctx, &konnect_duplicates).await?;
        }
        for d in duplicates::diff(&observed) {
            if d.step != StepId::AdminApp {
                done.removed.push((d.step, d.key));
            }
        }
        for product in &classic_products {
            if delete {
                gone_ok(konnect.api_products().delete(&product.id).await)
                    .map_err(WorkflowError::konnect(StepId::ApiProduct))?;
            }
            done.removed.push((StepId::ApiProduct, product.name.clone()));
        }
        for product in observed.classic.products.iter().filter_map(|p| p.found.as_ref()) {
            if !owner::owns_labels(&product.labels) {
                done.kept.push((StepId::ApiProduct, product.name.clone()));
            }
        }
        for api in observed.apis.iter().filter_map(|a| a.found.as_ref()) {
            if owned_api(api) {
                if delete {
                    gone_ok(konnect.apis().delete(&api.id).await)
                        .map_err(WorkflowError::konnect(StepId::KonnectApi))?;
                }
                done.removed.push((StepId::KonnectApi, api.name.clone()));
            } else {
                done.kept.push((StepId::KonnectApi, api.name.clone()));
            }
        }
        match (&observed.strategy, strategy) {
            (Some(s), Some(_)) => {
                if delete {
                    gone_ok(konnect.auth_strategies().delete(&s.id).await)
                        .map_err(WorkflowError::konnect(StepId::AuthStrategy))?;
                }
                done.removed.push((StepId::AuthStrategy, s.name.clone()));
            }
            (Some(s), None) => done.kept.push((StepId::AuthStrategy, s.name.clone())),
            _ => {}
        }
        if let Some(p) = &observed.provider {
            if owner::owns_labels(&p.labels) {
                if delete {
                    gone_ok(konnect.dcr_providers().delete(&p.id).await)
                        .map_err(WorkflowError::konnect(StepId::DcrProvider))?;
                }
                done.removed.push((StepId::DcrProvider, p.name.clone()));
            } else {
                done.kept.push((StepId::DcrProvider, p.name.clone()));
            }
        }

        // The naming Action before the admin application whose credentials it holds.
        if let Some(naming) = &observed.naming {
            let (removed, kept) = in_step(
                StepId::NamingAction,
                crate::naming::action::teardown(ctx, naming, delete),
            )
            .await?;
            done.removed.extend(removed);
            done.kept.extend(kept);
        }
        let auth0 = &self.auth0;
        let admin = observed.admin.as_ref().filter(|a| owner::owns_client(a));
        if let Some(server) = &observed.resource_server {
            if admin_app::claims_api(admin, &self.config.api.audience) {
                if delete {
                    gone_ok(auth0.resource_servers().delete(&server.id).await)
                        .map_err(WorkflowError::auth0(StepId::ApiAudience))?;
                }
                done.removed.push((StepId::ApiAudience, server.identifier.to_string()));
            } else {
                done.kept.push((StepId::ApiAudience, server.identifier.to_string()));
            }
        }
        match (&observed.admin, admin) {
            (Some(_), Some(admin)) => {
                if let Some(grant) = &observed.grant {
                    if delete {
                        gone_ok(auth0.client_grants().delete(&grant.id).await)
                            .map_err(WorkflowError::auth0(StepId::AdminGrant))?;
                    }
                    done.removed.push((StepId::AdminGrant, grant.audience.to_string()));
                }
                if delete {
                    gone_ok(auth0.clients().delete(&admin.client_id).await)
                        .map_err(WorkflowError::auth0(StepId::AdminApp))?;
                    duplicates::forget_secrets(ctx, admin.client_id.as_str()).await?;
                }
                done.removed.push((StepId::AdminApp, admin.name.clone()));
            }
            (Some(other), None) => done.kept.push((StepId::AdminApp, other.name.clone())),
            _ => {}
        }
        for admin in &observed.duplicates.admins {
            if delete {
                duplicates::remove_admin(ctx, admin).await?;
            }
            done.removed
                .push((StepId::AdminApp, format!("{} ({})", admin.name, admin.client_id)));
        }
        Ok(done)
    }
}

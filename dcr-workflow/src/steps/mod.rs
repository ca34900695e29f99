//! The steps: each finds its resource by a natural key (`observe`), compares it with
//! the configuration (`diff`, shared by `plan` and `apply` so both agree), and converges
//! it (`apply`).

pub(crate) mod admin_app;
pub(crate) mod admin_grant;
pub(crate) mod api_audience;
pub(crate) mod auth_strategy;
pub(crate) mod classic;
pub(crate) mod dcr_provider;
pub(crate) mod duplicates;
pub(crate) mod konnect_api;
pub(crate) mod publication;

use auth0_mgmt::Auth0Client;
use auth0_mgmt::resources::client_grants::ClientGrant;
use auth0_mgmt::resources::clients::Client;
use auth0_mgmt::resources::resource_servers::ResourceServer;
use konnect_appauth::KonnectClient;
use konnect_appauth::resources::auth_strategies::AuthStrategy;
use konnect_appauth::resources::dcr_providers::DcrProvider;
use secrecy::SecretString;
use tracing::Instrument;

use crate::plan::StepId;
use crate::store::SecretStore;
use crate::{DcrConfig, Result};

/// Everything a step needs.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) auth0: &'a Auth0Client,
    pub(crate) konnect: &'a KonnectClient,
    pub(crate) config: &'a DcrConfig,
    pub(crate) store: &'a dyn SecretStore,
    /// Unmarked resources matching the configuration are adopted, not refused.
    pub(crate) adopt: bool,
    /// Publications of the strategy that are not configured are removed.
    pub(crate) prune: bool,
}

/// What exists now, found by natural keys, whoever owns it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observed {
    pub(crate) admin: Option<Client>,
    /// Whether the store holds the admin application's secret.
    pub(crate) admin_secret_stored: bool,
    /// Whether the store holds a pending secret: a rotation was interrupted.
    pub(crate) admin_secret_pending: bool,
    /// The secret of an unmarked admin application being adopted, which the store does
    /// not hold, as Auth0 returned it (the bootstrap credentials hold `read:client_keys`):
    /// `apply` stores it and hands it to Konnect instead of rotating.
    pub(crate) admin_secret_read: Option<SecretString>,
    /// The observation was made to adopt unmarked resources.
    pub(crate) adopt: bool,
    /// Konnect's own check of the provider failed (`POST /v2/dcr-providers/{id}/verify`).
    pub(crate) provider_secret_rejected: bool,
    /// The stored secret was refused by Auth0's token endpoint (asked only when Konnect's
    /// check failed).
    pub(crate) stored_secret_dead: bool,
    pub(crate) grant: Option<ClientGrant>,
    pub(crate) resource_server: Option<ResourceServer>,
    pub(crate) provider: Option<DcrProvider>,
    pub(crate) strategy: Option<AuthStrategy>,
    /// One per distinct API of the publications.
    pub(crate) apis: Vec<konnect_api::ObservedApi>,
    /// One per configured publication.
    pub(crate) publications: Vec<publication::ObservedPublication>,
    /// Publications of the kept strategy that no entry configures.
    pub(crate) unconfigured: Vec<konnect_appauth::resources::apis::ListedPublication>,
    /// The observation was made to prune `unconfigured`.
    pub(crate) prune: bool,
    /// An earlier run began creating an admin application and never recorded the result
    /// (so this observation scanned the tenant by name).
    pub(crate) create_in_flight: bool,
    /// Client ids the store holds secrets for that Auth0 no longer knows.
    pub(crate) stale_secrets: Vec<String>,
    /// Configured portals that do not exist (their publication list answered 404).
    pub(crate) missing_portals: Vec<String>,
    /// The classic (v2) portals' products, versions and publications.
    pub(crate) classic: classic::ObservedClassic,
    /// Owned resources under the same natural keys beyond the ones above.
    pub(crate) duplicates: duplicates::Duplicates,
    /// The naming Action and the `credentials-exchange` bindings: read when
    /// `naming.action` is on, and by `destroy`.
    pub(crate) naming: Option<crate::naming::action::ObservedAction>,
}

impl Observed {
    /// Whether the workflow owns (or will create) the resource server: it was absent, or
    /// the admin application records that the workflow created it.
    pub(crate) fn owns_resource_server(&self, config: &DcrConfig) -> bool {
        self.resource_server.is_none() || self.adopt || admin_app::claims_api(self.admin.as_ref(), &config.api.audience)
    }
}

/// What an observation is for, which decides how much it asks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `plan`: also checks that DCR works with the secrets as they are (Konnect's provider
    /// check, one request).
    Plan,
    /// `rotate`: the chain only.
    Rotate,
    /// `destroy` and `audit`: no health check, and a scan of the tenant's applications by
    /// name even when the provider names the admin application, so that every owned
    /// duplicate is found.
    Sweep,
}

/// What the Auth0 side of an observation found (the chain from the provider down).
struct Chain {
    provider: Option<DcrProvider>,
    duplicate_providers: Vec<DcrProvider>,
    strategies: Vec<AuthStrategy>,
    admin: Option<Client>,
    duplicate_admins: Vec<Client>,
    grant: Option<ClientGrant>,
    secrets: admin_app::SecretsSummary,
    secret_read: Option<SecretString>,
    health: admin_app::SecretHealth,
    stale_secrets: Vec<String>,
    create_in_flight: bool,
}

/// Finds every resource, with independent lookups running concurrently.
pub(crate) async fn observe(ctx: Ctx<'_>, purpose: Purpose) -> Result<Observed> {
    let auth0_side = async {
        let (providers, strategies) =
            futures::future::try_join(dcr_provider::observe_all(ctx), auth_strategy::observe_all(ctx)).await?;
        let (mut provider, duplicate_providers) = duplicates::choose_provider(providers, &strategies, ctx.adopt)?;
        if ctx.adopt && provider.is_none() {
            // Links beat names: the provider a strategy of the configured name uses, even
            // under another name.
            provider = dcr_provider::referenced(ctx, &strategies).await?;
        }
        // An admin application create that never recorded its result: scan once.
        let create_in_flight = ctx.store.get(crate::store::ADMIN_CREATE_IN_FLIGHT).await?.is_some();
        let full_scan = purpose == Purpose::Sweep || create_in_flight;
        let found = admin_app::observe(ctx, provider.as_ref(), &duplicate_providers, full_scan).await?;
        let mut duplicate_admins = found.duplicates;
        let (grant, secrets, secret_read, health, stale_secrets) = match &found.kept {
            Some(admin) => {
                let check = async {
                    let secrets = admin_app::secrets_held(ctx, &admin.client_id).await?;
                    let health = match purpose {
                        Purpose::Plan => admin_app::secret_health(ctx, admin, provider.as_ref(), &secrets).await?,
                        Purpose::Rotate | Purpose::Sweep => Default::default(),
                    };
                    // Adopting an application whose secret this run does not hold: can the
                    // bootstrap credentials read it, or must it be rotated?
                    let read = if ctx.adopt
                        && secrets.stored.is_none()
                        && secrets.pending.is_none()
                        && !crate::owner::owns_client(admin)
                    {
                        admin_app::read_secret(ctx, &admin.client_id).await?
                    } else {
                        None
                    };
                    Ok::<_, crate::WorkflowError>((secrets.summary(), read, health))
                };
                let grant = async {
                    let (grant, candidates) = admin_grant::observe(ctx, &admin.client_id).await?;
                    let candidates: Vec<_> = candidates
                        .into_iter()
                        .filter(|id| !duplicate_admins.iter().any(|d| &d.client_id == id))
                        .collect();
                    let more = admin_app::confirm(ctx, &candidates, Some(&ctx.config.auth0.admin_app_name)).await?;
                    Ok::<_, crate::WorkflowError>((grant, more))
                };
                let recorded = async {
                    let known: Vec<&auth0_mgmt::ClientId> = std::iter::once(&admin.client_id)
                        .chain(duplicate_admins.iter().map(|d| &d.client_id))
                        .collect();
                    admin_app::recorded(ctx, &known).await
                };
                let ((grant, more), (secrets, read, health), (recorded, stale)) =
                    futures::future::try_join3(grant, check, recorded).await?;
                for client in more.into_iter().chain(recorded) {
                    if !duplicate_admins.iter().any(|d| d.client_id == client.client_id) {
                        duplicate_admins.push(client);
                    }
                }
                (grant, secrets, read, health, stale)
            }
            None => (None, Default::default(), None, Default::default(), Vec::new()),
        };
        Ok::<_, crate::WorkflowError>(Chain {
            provider,
            duplicate_providers,
            strategies,
            admin: found.kept,
            duplicate_admins,
            grant,
            secrets,
            secret_read,
            health,
            stale_secrets,
            create_in_flight,
        })
    };
    let konnect_side = async {
        futures::future::try_join3(
            konnect_api::observe_all(ctx),
            publication::observe_portals(ctx),
            classic::observe(ctx),
        )
        .await
    };
    let naming_side = async {
        match purpose {
            Purpose::Sweep => crate::naming::action::observe(ctx, true).await.map(Some),
            _ if ctx.config.naming.action => crate::naming::action::observe(ctx, false).await.map(Some),
            _ => Ok(None),
        }
    };
    let auth0_side = async { futures::future::try_join(auth0_side, naming_side).await };
    let ((chain, mut naming), resource_server, ((apis, duplicate_apis), portals, mut classic)) =
        futures::future::try_join3(auth0_side, api_audience::observe(ctx), konnect_side).await?;
    if let (Some(naming), Some(admin)) = (naming.as_mut(), chain.admin.as_ref()) {
        naming.admin_secret = ctx
            .store
            .get(&crate::store::admin_secret_key(admin.client_id.as_str()))
            .await?;
    }
    let publications = publication::match_configured(ctx, &portals, &apis);
    let published: Vec<_> = publications
        .iter()
        .filter_map(|p| p.current.as_ref())
        .flat_map(|p| p.auth_strategy_ids.clone().unwrap_or_default())
        .chain(classic.published_strategies())
        .collect();
    let (strategy, duplicate_strategies) = duplicates::choose_strategy(
        chain.strategies,
        &published,
        chain.provider.as_ref().map(|p| &p.id),
        ctx.adopt,
    )?;
    let unconfigured = match (&strategy, purpose) {
        (Some(s), Purpose::Plan) => publication::unconfigured(ctx, &portals, &apis, &s.id, ctx.prune).await?,
        // A strategy in use cannot be deleted: destroy finds its publications everywhere.
        (Some(s), Purpose::Sweep) => publication::unconfigured(ctx, &portals, &apis, &s.id, true).await?,
        _ => Vec::new(),
    };
    if let (Some(s), Purpose::Plan | Purpose::Sweep) = (&strategy, purpose) {
        classic::find_unconfigured(&mut classic, &s.id);
    }
    let missing_portals = portals
        .into_iter()
        .filter_map(|(portal, listed)| listed.is_none().then_some(portal))
        .collect();
    Ok(Observed {
        admin: chain.admin,
        admin_secret_stored: chain.secrets.stored,
        admin_secret_pending: chain.secrets.pending,
        admin_secret_read: chain.secret_read,
        adopt: ctx.adopt,
        provider_secret_rejected: chain.health.provider_rejected,
        stored_secret_dead: chain.health.stored_dead,
        grant: chain.grant,
        resource_server,
        provider: chain.provider,
        strategy,
        apis,
        publications,
        unconfigured,
        prune: ctx.prune,
        missing_portals,
        classic,
        stale_secrets: chain.stale_secrets,
        create_in_flight: chain.create_in_flight,
        duplicates: duplicates::Duplicates {
            admins: chain.duplicate_admins,
            providers: chain.duplicate_providers,
            strategies: duplicate_strategies,
            apis: duplicate_apis,
        },
        naming,
    })
}

/// The kept provider and strategy alone (two requests), for `verify`.
pub(crate) async fn provider_and_strategy(ctx: Ctx<'_>) -> Result<(Option<DcrProvider>, Option<AuthStrategy>)> {
    let (providers, strategies) =
        futures::future::try_join(dcr_provider::observe_all(ctx), auth_strategy::observe_all(ctx)).await?;
    let (provider, _) = duplicates::choose_provider(providers, &strategies, false)?;
    let (strategy, _) = duplicates::choose_strategy(strategies, &[], provider.as_ref().map(|p| &p.id), false)?;
    Ok((provider, strategy))
}

/// Runs `work` inside a span named after the step.
pub(crate) async fn in_step<T>(step: StepId, work: impl Future<Output = Result<T>>) -> Result<T> {
    work.instrument(tracing::info_span!("dcr_step", step = %step)).await
}

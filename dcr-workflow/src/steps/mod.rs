//! The steps: each finds its resource by a natural key (`observe`), compares it with
//! the configuration (`diff`, shared by `plan` and `apply` so both agree), and converges
//! it (`apply`).

pub(crate) mod admin_app;
pub(crate) mod admin_grant;
pub(crate) mod api_audience;
pub(crate) mod auth_strategy;
pub(crate) mod dcr_provider;
pub(crate) mod konnect_api;
pub(crate) mod publication;

use auth0_mgmt::Auth0Client;
use auth0_mgmt::resources::client_grants::ClientGrant;
use auth0_mgmt::resources::clients::Client;
use auth0_mgmt::resources::resource_servers::ResourceServer;
use konnect_appauth::KonnectClient;
use konnect_appauth::resources::apis::{Api, Publication};
use konnect_appauth::resources::auth_strategies::AuthStrategy;
use konnect_appauth::resources::dcr_providers::DcrProvider;
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
}

/// What exists now, found by natural keys, whoever owns it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observed {
    pub(crate) admin: Option<Client>,
    /// Whether the store holds the admin application's secret.
    pub(crate) admin_secret_stored: bool,
    /// Whether the store holds a pending secret: a rotation was interrupted.
    pub(crate) admin_secret_pending: bool,
    /// Konnect's own check of the provider failed (`POST /v2/dcr-providers/{id}/verify`).
    pub(crate) provider_secret_rejected: bool,
    /// The stored secret was refused by Auth0's token endpoint (asked only when Konnect's
    /// check failed).
    pub(crate) stored_secret_dead: bool,
    pub(crate) grant: Option<ClientGrant>,
    pub(crate) resource_server: Option<ResourceServer>,
    pub(crate) provider: Option<DcrProvider>,
    pub(crate) strategy: Option<AuthStrategy>,
    pub(crate) api: Option<Api>,
    pub(crate) publication: Option<Publication>,
}

impl Observed {
    /// Whether the workflow owns (or will create) the resource server: it was absent, or
    /// the admin application records that the workflow created it.
    pub(crate) fn owns_resource_server(&self, config: &DcrConfig) -> bool {
        self.resource_server.is_none() || admin_app::claims_api(self.admin.as_ref(), &config.api.audience)
    }
}

/// Whether `observe` also checks that DCR works with the secrets as they are (Konnect's
/// provider check, one request): `plan` needs it, `destroy` does not.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Health {
    Check,
    Skip,
}

/// Finds every resource, with independent lookups running concurrently.
pub(crate) async fn observe(ctx: Ctx<'_>, health: Health) -> Result<Observed> {
    let auth0_side = async {
        let provider = dcr_provider::observe(ctx).await?;
        let admin = admin_app::observe(ctx, provider.as_ref()).await?;
        let (grant, secrets, health) = match &admin {
            Some(admin) => {
                let check = async {
                    let secrets = admin_app::secrets_held(ctx, &admin.client_id).await?;
                    let health = match health {
                        Health::Check => admin_app::secret_health(ctx, admin, provider.as_ref(), &secrets).await?,
                        Health::Skip => Default::default(),
                    };
                    Ok::<_, crate::WorkflowError>((secrets.summary(), health))
                };
                let (grant, (secrets, health)) = tokio::try_join!(admin_grant::observe(ctx, &admin.client_id), check)?;
                (grant, secrets, health)
            }
            None => (None, Default::default(), Default::default()),
        };
        Ok::<_, crate::WorkflowError>((provider, admin, grant, secrets, health))
    };
    let konnect_side = async {
        let api = konnect_api::observe(ctx).await?;
        let publication = match &api {
            Some(api) => publication::observe(ctx, &api.id).await?,
            None => None,
        };
        Ok((api, publication))
    };
    let ((provider, admin, grant, secrets, health), resource_server, strategy, (api, publication)) = tokio::try_join!(
        auth0_side,
        api_audience::observe(ctx),
        auth_strategy::observe(ctx),
        konnect_side
    )?;
    Ok(Observed {
        admin,
        admin_secret_stored: secrets.stored,
        admin_secret_pending: secrets.pending,
        provider_secret_rejected: health.provider_rejected,
        stored_secret_dead: health.stored_dead,
        grant,
        resource_server,
        provider,
        strategy,
        api,
        publication,
    })
}

/// Runs `work` inside a span named after the step.
pub(crate) async fn in_step<T>(step: StepId, work: impl Future<Output = Result<T>>) -> Result<T> {
    work.instrument(tracing::info_span!("dcr_step", step = %step)).await
}

//! The workflow: plan, apply, destroy and rotate.

use std::sync::Arc;

use auth0_mgmt::{Auth0Client, ClientId, ClientSecret};
use konnect_appauth::resources::auth_strategies::AuthStrategy;
use konnect_appauth::resources::dcr_providers::DcrProvider;
use konnect_appauth::{ApiId, KonnectClient, Region};
use secrecy::{ExposeSecret, SecretString};

use crate::plan::{Plan, PlanOptions, StepId, StepPlan};
use crate::steps::admin_app::{self, AdminOutput};
use crate::steps::dcr_provider::AdminView;
use crate::steps::{
    Ctx, Observed, Purpose, admin_grant, api_audience, auth_strategy, classic, dcr_provider, duplicates, in_step,
    konnect_api, observe, publication,
};
use crate::store::SecretStore;
use crate::{DcrConfig, Result, WorkflowError};

/// Sets up and keeps up Konnect DCR with Auth0. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> dcr_workflow::Result<()> {
/// use dcr_workflow::{DcrConfig, Workflow, store::FileStore};
/// let config = DcrConfig::load(Some("dcr.toml".as_ref()))?;
/// let workflow = Workflow::new(config, FileStore::open("dcr-secrets.json")?)?;
/// let plan = workflow.plan().await?;
/// println!("{plan}");
/// workflow.apply(&plan).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Workflow {
    pub(crate) auth0: Auth0Client,
    pub(crate) konnect: KonnectClient,
    pub(crate) config: Arc<DcrConfig>,
    pub(crate) store: Arc<dyn SecretStore>,
    /// How long an operation waits for another run's lock on the store.
    pub(crate) lock_wait: std::time::Duration,
    /// For what neither client covers: the tenant's JWKS and the gateway check of `verify`.
    pub(crate) http: reqwest::Client,
}

/// What [`Workflow::apply`] did and the ids it converged on.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Applied {
    /// What each step did, recomputed with the real ids (no "known after apply").
    pub steps: Vec<StepPlan>,
    /// The DCR admin application.
    pub admin_client_id: ClientId,
    /// The Konnect DCR provider.
    pub provider: DcrProvider,
    /// The Konnect auth strategy.
    pub strategy: AuthStrategy,
    /// The first published Konnect API (`None` when every publication is on a classic
    /// portal).
    pub api_id: Option<ApiId>,
    /// Every published Konnect API, one per distinct API of the publications, in
    /// configuration order.
    pub api_ids: Vec<ApiId>,
    /// Every API product version published on a classic portal, in configuration order.
    pub product_version_ids: Vec<konnect_appauth::ProductVersionId>,
}

/// What [`Workflow::destroy`] removed and what it left alone.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Destroyed {
    /// Removed resources: step and natural key.
    pub removed: Vec<(StepId, String)>,
    /// Resources found but not owned by the workflow, left untouched.
    pub kept: Vec<(StepId, String)>,
}

/// What [`Workflow::rotate_secret`] did.
#[derive(Clone, Debug, serde::Serialize)]
#[non_exhaustive]
pub struct Rotated {
    /// The application whose secret changed.
    pub client_id: ClientId,
    /// Whether the Konnect provider was updated with the new secret.
    pub provider_updated: bool,
    /// Whether this finished an interrupted rotation (with its pending secret) instead of
    /// starting a new one.
    pub resumed: bool,
}

/// Builds a [`Workflow`] from clients you configured yourself.
#[derive(Debug)]
#[must_use]
pub struct WorkflowBuilder {
    config: DcrConfig,
    auth0: Option<Auth0Client>,
    konnect: Option<KonnectClient>,
    store: Option<Arc<dyn SecretStore>>,
    lock_wait: std::time::Duration,
}

/// How long `apply`, `destroy` and `rotate` wait for another run's lock by default.
pub const DEFAULT_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

impl WorkflowBuilder {
    /// How long `apply`, `converge`, `destroy` and `rotate_secret` wait for another run
    /// that holds the store's lock before failing with [`WorkflowError::StoreLocked`]
    /// (default [`DEFAULT_LOCK_WAIT`]).
    pub fn lock_wait(mut self, wait: std::time::Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The Auth0 client (bootstrap credentials); default: built from the configuration.
    pub fn auth0(mut self, client: Auth0Client) -> Self {
        self.auth0 = Some(client);
        self
    }

    /// The Konnect client; default: built from the configuration.
    pub fn konnect(mut self, client: KonnectClient) -> Self {
        self.konnect = Some(client);
        self
    }

    /// The secret store. Required.
    pub fn store(mut self, store: impl SecretStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// A shared secret store.
    pub fn shared_store(mut self, store: Arc<dyn SecretStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Validates the configuration (credentials only when a client is built from it) and
    /// builds the workflow. Nothing is sent.
    pub fn build(self) -> Result<Workflow> {
        let config = self.config;
        config.validate_with(self.auth0.is_none(), self.konnect.is_none())?;
        let store = self.store.ok_or_else(|| WorkflowError::Config {
            problems: crate::error::ConfigProblems(vec![crate::error::ConfigProblem {
                field: "store".into(),
                reason: "a secret store is required".into(),
            }]),
        })?;
        let auth0 = match self.auth0 {
            Some(client) => client,
            None => auth0_client(&config)?,
        };
        let konnect = match self.konnect {
            Some(client) => client,
            None => konnect_client(&config)?,
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| WorkflowError::Config {
                problems: crate::error::ConfigProblems(vec![crate::error::ConfigProblem {
                    field: "http".into(),
                    reason: format!("the HTTP client for JWKS and gateway checks cannot start: {e}"),
                }]),
            })?;
        Ok(Workflow {
            auth0,
            konnect,
            config: Arc::new(config),
            store,
            lock_wait: self.lock_wait,
            http,
        })
    }
}

fn copy(secret: &SecretString) -> SecretString {
    SecretString::from(secret.expose_secret().to_owned())
}

pub(crate) fn auth0_client(config: &DcrConfig) -> Result<Auth0Client> {
    let a = &config.auth0;
    let mut builder = Auth0Client::builder().domain(&a.domain);
    if let Some(rate) = config.auth0_refill_per_second() {
        builder = builder.retry(auth0_mgmt::RetryConfig::standard().refill_per_second(rate));
    }
    if let Some(url) = &a.base_url {
        builder = builder.base_url(url);
    }
    builder = match (&a.management_token, &a.client_id, &a.client_secret) {
        (Some(token), _, _) => builder.management_token(copy(token)),
        (None, Some(id), Some(secret)) => builder.client_credentials(id.clone(), ClientSecret::from(copy(secret))),
        _ => builder,
    };
    builder.build().map_err(WorkflowError::auth0(StepId::AdminApp))
}

pub(crate) fn konnect_client(config: &DcrConfig) -> Result<KonnectClient> {
    let k = &config.konnect;
    let mut builder = KonnectClient::builder();
    if let Some(token) = &k.token {
        builder = builder.token(copy(token));
    }
    if let Some(url) = &k.base_url {
        builder = builder.base_url(url);
    }
    if let Some(region) = &k.region {
        let region: Region = region.parse().map_err(WorkflowError::konnect(StepId::DcrProvider))?;
        builder = builder.region(region);
    }
    builder.build().map_err(WorkflowError::konnect(StepId::DcrProvider))
}

impl Workflow {
    /// Validates `config` and builds both clients from it.
    pub fn new(config: DcrConfig, store: impl SecretStore + 'static) -> Result<Self> {
        Self::builder(config).store(store).build()
    }

    /// A builder, to pass your own clients or a shared store.
    pub fn builder(config: DcrConfig) -> WorkflowBuilder {
        WorkflowBuilder {
            config,
            auth0: None,
            konnect: None,
            store: None,
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &DcrConfig {
        &self.config
    }

    /// The Auth0 client.
    pub fn auth0(&self) -> &Auth0Client {
        &self.auth0
    }

    /// The Konnect client.
    pub fn konnect(&self) -> &KonnectClient {
        &self.konnect
    }

    /// The secret store.
    pub fn store(&self) -> &dyn SecretStore {
        self.store.as_ref()
    }

    pub(crate) fn ctx(&self) -> Ctx<'_> {
        self.ctx_with(&PlanOptions::new())
    }

    fn ctx_with(&self, options: &PlanOptions) -> Ctx<'_> {
        Ctx {
            auth0: &self.auth0,
            konnect: &self.konnect,
            config: &self.config,
            store: self.store.as_ref(),
            adopt: options.adopts(),
            prune: options.prunes(),
        }
    }

    /// Reads the current state of both systems (read requests only) and returns what
    /// [`apply`](Self::apply) would change. Fails with [`WorkflowError::NotOwned`] when a
    /// resource with one of the configured names exists but was not created by dcr-rs
    /// (see [`plan_with`](Self::plan_with) to adopt it instead).
    pub async fn plan(&self) -> Result<Plan> {
        self.plan_with(&PlanOptions::new()).await
    }

    /// [`plan`](Self::plan) with options; [`PlanOptions::adopt`] takes over a setup made
    /// by hand:
    ///
    /// ```
    /// # #[cfg(not(feature = "sandbox"))] fn main() {}
    /// # #[cfg(feature = "sandbox")]
    /// # #[tokio::main] async fn main() -> dcr_workflow::Result<()> {
    /// use dcr_workflow::{PlanOptions, Workflow, sandbox::Sandboxes, store::MemoryStore};
    /// let sandboxes = Sandboxes::start().await?;
    /// let workflow = Workflow::new(sandboxes.config(), MemoryStore::new())?;
    /// let plan = workflow.plan_with(&PlanOptions::new().adopt(true)).await?;
    /// assert_eq!(plan.to_adopt(), 0); // nothing made by hand here: all is created
    /// workflow.apply(&plan).await?;
    /// # Ok(()) }
    /// ```
    pub async fn plan_with(&self, options: &PlanOptions) -> Result<Plan> {
        let ctx = self.ctx_with(options);
        let observed = in_step(StepId::Observe, observe(ctx, Purpose::Plan)).await?;
        admin_app::check_owned(ctx, &observed)?;
        dcr_provider::check_owned(ctx, &observed)?;
        auth_strategy::check_owned(ctx, &observed)?;
        konnect_api::check_exists(ctx, &observed)?;
        publication::check_portals(ctx, &observed)?;
        classic::check_portals(ctx, &observed.classic)?;
        let admin_id = observed.admin.as_ref().map(|a| &a.client_id);
        let admin_plan = admin_app::diff(ctx, &observed);
        let view = AdminView {
            client_id: admin_id,
            // The provider step's view of the secret at plan time; at apply time the
            // admin step's output says the same.
            secret_changed: matches!(admin_plan.action, crate::plan::Action::Create(_))
                || admin_app::secret_reaches_provider(&observed),
        };
        let mut steps = vec![
            admin_plan,
            admin_grant::diff(ctx, &observed, admin_id),
            api_audience::diff(ctx, &observed),
            dcr_provider::diff(ctx, &observed, &view),
            auth_strategy::diff(ctx, &observed, observed.provider.as_ref().map(|p| &p.id)),
        ];
        steps.extend(konnect_api::diff(ctx, &observed));
        steps.extend(classic::diff_products(ctx, &observed.classic));
        let strategy_id = observed.strategy.as_ref().map(|s| &s.id);
        steps.extend(publication::diff(&observed, strategy_id));
        steps.extend(classic::diff_publications(
            &observed.classic,
            strategy_id,
            observed.prune,
        ));
        steps.extend(duplicates::diff(&observed));
        steps.extend(classic::diff_duplicates(&observed.classic));
        if let Some(naming) = observed.naming.as_ref().filter(|_| self.config.naming.action) {
            crate::naming::action::check_owned(ctx, naming)?;
            steps.push(crate::naming::action::diff(ctx, naming, naming.admin_secret.as_ref())?);
            steps.push(crate::naming::action::diff_binding(ctx, naming));
            steps.extend(crate::naming::action::diff_duplicates(naming));
        }
        Ok(Plan {
            steps,
            observed,
            options: *options,
        })
    }

    /// Carries out a plan. Steps that do not depend on each other run concurrently:
    ///
    /// ```text
    /// admin app ─┬─ grant
    ///            ├─ API (resource server; after the app records that it owns it)
    ///            └─ DCR provider ── strategy ─┐
    /// Konnect API ─────────────────────────────┴─ publication
    /// ```
    ///
    /// Each step re-compares with the real ids, so a plan whose resources have not
    /// changed since it was made converges exactly as printed. Applying twice in a row
    /// sends no write the second time.
    ///
    /// Fails with [`WorkflowError::StalePlan`], before any write, when what the plan saw
    /// changed before this run got the store's lock (another run applied meanwhile): plan
    /// again. An empty plan is never stale, so a warm run costs no second observation.
    pub async fn apply(&self, plan: &Plan) -> Result<Applied> {
        let _lock = self.lock().await?;
        if plan.is_empty() {
            return self.apply_locked(plan).await;
        }
        // Observed again under the lock: a plan made before another run's writes would
        // create a second of everything that run created.
        let fresh = self.plan_with(&plan.options).await?;
        if fresh.to_string() != plan.to_string() {
            return Err(WorkflowError::StalePlan);
        }
        self.apply_locked(&fresh).await
    }

    /// Takes the store's lock for one operation (see [`SecretStore::lock`]).
    async fn lock(&self) -> Result<crate::store::StoreLock> {
        self.store.lock(self.lock_wait).await
    }

    pub(crate) async fn apply_locked(&self, plan: &Plan) -> Result<Applied> {
        let ctx = self.ctx_with(&plan.options);
        let observed = &plan.observed;
        // Secrets of applications that are gone: bookkeeping in the store only.
        for id in &observed.stale_secrets {
            duplicates::forget_secrets(ctx, id).await?;
        }
        let admin_needs_secret = observed.admin.is_none() || admin_app::secret_reaches_provider(observed);
        if admin_needs_secret && !self.store.is_writable() {
            return Err(WorkflowError::ReadOnlyStore {
                key: observed.admin.as_ref().map_or_else(
                    || "the new admin application's secret".to_owned(),
                    |a| crate::store::admin_secret_key(a.client_id.as_str()),
                ),
            });
        }
        let auth0_and_chain = async {
            let (admin_plan, admin) = in_step(StepId::AdminApp, admin_app::apply(ctx, observed)).await?;
            // `join`, not `try_join`: a failing sibling must not cancel the grant of an
            // application just created, or the application is left where only a scan of
            // the whole tenant finds it (with its grant, the next run finds it in one
            // request).
            let (grant_plan, api_plan, chain) = futures::future::join3(
                in_step(StepId::AdminGrant, admin_grant::apply(ctx, observed, &admin.client_id)),
                in_step(StepId::ApiAudience, api_audience::apply(ctx, observed)),
                self.provider_and_strategy(observed, &admin),
            )
            .await;
            let (grant_plan, api_plan, (provider_plan, provider, strategy_plan, strategy)) =
                (grant_plan?, api_plan?, chain?);
            if admin.pending {
                // Auth0 and Konnect both hold the new secret now.
                in_step(
                    StepId::Rotate,
                    crate::rotation::promote(ctx, &admin.client_id, &admin.secret),
                )
                .await?;
            }
            Ok::<_, WorkflowError>((
                [admin_plan, grant_plan, api_plan, provider_plan, strategy_plan],
                admin.client_id,
                admin.secret,
                provider,
                strategy,
            ))
        };
        let apis = in_step(StepId::KonnectApi, konnect_api::apply(ctx, observed));
        let products = in_step(StepId::ApiProduct, classic::apply_products(ctx, &observed.classic));
        let (chain, apis, products) = futures::future::join3(auth0_and_chain, apis, products).await;
        let ((done, admin_client_id, admin_secret, provider, strategy), apis, (product_plans, versions)) =
            (chain?, apis?, products?);
        let ids: Vec<(konnect_api::ApiRef, ApiId)> = observed
            .apis
            .iter()
            .zip(&apis)
            .map(|(o, (_, api))| (o.wanted.clone(), api.id.clone()))
            .collect();
        let naming = async {
            match observed.naming.as_ref().filter(|_| self.config.naming.action) {
                Some(naming) => in_step(
                    StepId::NamingAction,
                    crate::naming::action::apply(ctx, naming, &admin_client_id, &admin_secret),
                )
                .await
                .map(|plans| plans.to_vec()),
                None => Ok(Vec::new()),
            }
        };
        let (publication_plans, classic_plans, naming_plans) = futures::future::try_join3(
            in_step(
                StepId::Publication,
                publication::apply(ctx, observed, &ids, &strategy.id),
            ),
            in_step(
                StepId::Publication,
                classic::apply_publications(ctx, &observed.classic, &versions, &strategy.id, observed.prune),
            ),
            naming,
        )
        .await?;
        // Last: the kept chain no longer references any duplicate.
        if !observed.duplicates.is_empty() {
            duplicates::remove(ctx, &observed.duplicates).await?;
        }
        classic::remove_duplicates(ctx, &observed.classic).await?;
        if observed.create_in_flight && observed.admin.is_some() {
            // This run's scan found whatever that create made; it is kept or removed now.
            ctx.store.delete(crate::store::ADMIN_CREATE_IN_FLIGHT).await?;
        }
        let mut steps: Vec<StepPlan> = done.into_iter().collect();
        let api_ids: Vec<ApiId> = ids.into_iter().map(|(_, id)| id).collect();
        steps.extend(apis.into_iter().map(|(plan, _)| plan));
        steps.extend(product_plans);
        steps.extend(publication_plans);
        steps.extend(classic_plans);
        steps.extend(duplicates::diff(observed));
        steps.extend(classic::diff_duplicates(&observed.classic));
        steps.extend(naming_plans);
        if let Some(naming) = observed.naming.as_ref().filter(|_| self.config.naming.action) {
            steps.extend(crate::naming::action::diff_duplicates(naming));
        }
        Ok(Applied {
            steps,
            admin_client_id,
            provider,
            strategy,
            api_id: api_ids.first().cloned(),
            api_ids,
            product_version_ids: versions.into_iter().map(|(_, _, id)| id).collect(),
        })
    }

    async fn provider_and_strategy(
        &self,
        observed: &Observed,
        admin: &AdminOutput,
    ) -> Result<(StepPlan, DcrProvider, StepPlan, AuthStrategy)> {
        let ctx = self.ctx();
        let (provider_plan, provider) = in_step(StepId::DcrProvider, dcr_provider::apply(ctx, observed, admin)).await?;
        let (strategy_plan, strategy) =
            in_step(StepId::AuthStrategy, auth_strategy::apply(ctx, observed, &provider.id)).await?;
        Ok((provider_plan, provider, strategy_plan, strategy))
    }

    /// Plans and applies in one call.
    pub async fn converge(&self) -> Result<Applied> {
        self.converge_with(&PlanOptions::new()).await
    }

    /// [`converge`](Self::converge) with options (to adopt a setup made by hand).
    pub async fn converge_with(&self, options: &PlanOptions) -> Result<Applied> {
        // One lock over both: a run that planned while another applied would act on
        // what it saw before the other's writes.
        let _lock = self.lock().await?;
        let plan = self.plan_with(options).await?;
        self.apply_locked(&plan).await
    }

    /// Rotates the admin application's secret, crash-safely: a new secret is chosen
    /// locally and recorded in the store as pending, set in Auth0, set in the Konnect DCR
    /// provider, then promoted to the stored secret. When an earlier rotation was
    /// interrupted at any point, this finishes it with its pending secret instead of
    /// rotating again ([`Rotated::resumed`]). The old secret stops working once Auth0 has
    /// the new one.
    pub async fn rotate_secret(&self) -> Result<Rotated> {
        let _lock = self.lock().await?;
        let ctx = self.ctx();
        in_step(StepId::Rotate, async {
            let observed = observe(ctx, Purpose::Rotate).await?;
            let provider = observed.provider;
            let admin = observed
                .admin
                .filter(crate::owner::owns_client)
                .ok_or_else(|| WorkflowError::Missing {
                    resource: "Auth0 application",
                    name: self.config.auth0.admin_app_name.clone(),
                    hint: "nothing to rotate: run apply first",
                })?;
            if !self.store.is_writable() {
                return Err(WorkflowError::ReadOnlyStore {
                    key: crate::store::pending_secret_key(admin.client_id.as_str()),
                });
            }
            let resumed = crate::rotation::pending(ctx, &admin.client_id).await?.is_some();
            let secret = crate::rotation::begin(ctx, &admin.client_id).await?;
            let provider = provider.filter(|p| crate::owner::owns_labels(&p.labels));
            if let Some(provider) = &provider {
                let update = konnect_appauth::resources::dcr_providers::DcrProviderUpdate::new()
                    .for_auth0()
                    .dcr_config(
                        konnect_appauth::resources::dcr_providers::DcrConfigUpdate::new()
                            .initial_client_secret(copy(&secret)),
                    );
                self.konnect
                    .dcr_providers()
                    .update(&provider.id, &update)
                    .await
                    .map_err(WorkflowError::konnect(StepId::Rotate))?;
            }
            crate::rotation::promote(ctx, &admin.client_id, &secret).await?;
            // The Action calls the Management API as the admin application: it needs the
            // new secret too (a run killed before this is caught by the next apply).
            if self.config.naming.action {
                crate::naming::action::give_secret(ctx, &admin.client_id, &secret).await?;
            }
            Ok(Rotated {
                client_id: admin.client_id,
                provider_updated: provider.is_some(),
                resumed,
            })
        })
        .await
    }
}

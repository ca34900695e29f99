//! Support for the workspace's cross-crate tests: the Auth0 and Konnect sandboxes started
//! together and wired so that Konnect's DCR traffic reaches the Auth0 sandbox, plus the
//! Auth0 side of a DCR setup done by hand through `auth0-mgmt`.

// The README's examples are compiled as doc-tests so they cannot rot; the tests in
// `readme.rs` run the same code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub mod contract;

use auth0_mgmt::resources::client_grants::NewClientGrant;
use auth0_mgmt::resources::clients::NewClient;
use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope};
use auth0_mgmt::{Auth0Client, ClientId, ClientSecret};
use konnect_appauth::KonnectClient;
use konnect_appauth::resources::apis::{NewApi, PublicationRequest, Visibility};
use konnect_appauth::resources::auth_strategies::{AuthStrategy, NewAuthStrategy, OidcConfig};
use konnect_appauth::resources::dcr_providers::{DcrProvider, NewDcrProvider};

pub use dcr_workflow::sandbox::{API_AUDIENCE, API_NAME, API_SCOPE, Auth0SandboxClients, KonnectSandboxClients};

/// Both sandboxes (reachable as `.auth0` and `.konnect` through `Deref`) and a client
/// for each.
#[derive(Debug)]
pub struct Sandboxes {
    /// The wired pair.
    pub pair: dcr_workflow::sandbox::Sandboxes,
    /// Authenticated as the tenant's bootstrap M2M application.
    pub auth0_client: Auth0Client,
    /// Authenticated with the Konnect sandbox's token.
    pub konnect_client: KonnectClient,
}

impl std::ops::Deref for Sandboxes {
    type Target = dcr_workflow::sandbox::Sandboxes;

    fn deref(&self) -> &Self::Target {
        &self.pair
    }
}

/// The fields a plan changes in `step`, in the plan's order (none for a no-op, or when
/// the plan has no such step).
pub fn changed_fields(plan: &dcr_workflow::Plan, step: dcr_workflow::StepId) -> Vec<&str> {
    plan.step(step)
        .map(|s| s.fields().iter().map(|f| f.field.as_str()).collect())
        .unwrap_or_default()
}

/// The documents, loaded once per test binary.
pub fn contract() -> &'static contract::Contract {
    static CONTRACT: std::sync::OnceLock<contract::Contract> = std::sync::OnceLock::new();
    CONTRACT.get_or_init(contract::Contract::load)
}

impl Drop for Sandboxes {
    /// Every test that uses the sandboxes is also a contract test: each exchange it caused
    /// is checked against the documents when it ends (unless it already failed).
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mut report = contract::Report::default();
        report.add(contract(), contract::Service::Auth0, &self.pair.auth0.exchanges());
        report.add(contract(), contract::Service::Konnect, &self.pair.konnect.exchanges());
        let violations: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
        assert!(
            violations.is_empty(),
            "{} of {} exchanges break the documents:\n{}",
            violations.len(),
            report.exchanges,
            violations.join("\n")
        );
    }
}

impl Sandboxes {
    /// Starts both, recording every exchange for the contract check at the end.
    pub async fn start() -> anyhow::Result<Self> {
        let pair = dcr_workflow::sandbox::Sandboxes::start().await?;
        pair.auth0.record_exchanges();
        pair.konnect.record_exchanges();
        let auth0_client = pair.auth0.client()?;
        let konnect_client = pair.konnect.client()?;
        Ok(Sandboxes {
            pair,
            auth0_client,
            konnect_client,
        })
    }

    /// The issuer Konnect expects for this tenant: `https://{tenant}`, no trailing slash.
    pub fn issuer(&self) -> String {
        format!("https://{}", self.auth0.domain())
    }

    /// Creates the DCR admin M2M application with a Management API grant holding `scopes`,
    /// and the API (`API_AUDIENCE` with `API_SCOPE`). Returns the admin app's credentials.
    pub async fn auth0_dcr_setup(&self, scopes: &[&str]) -> anyhow::Result<(ClientId, ClientSecret)> {
        self.auth0_dcr_setup_named("Konnect Portal DCR Admin", scopes).await
    }

    /// [`auth0_dcr_setup`](Self::auth0_dcr_setup) with the admin application named `name`:
    /// Kong's guide, Auth0 part, by hand.
    pub async fn auth0_dcr_setup_named(&self, name: &str, scopes: &[&str]) -> anyhow::Result<(ClientId, ClientSecret)> {
        let admin = self
            .auth0_client
            .clients()
            .create(&NewClient::machine_to_machine(name))
            .await?;
        self.auth0_client
            .client_grants()
            .create(&NewClientGrant::new(
                admin.client_id.clone(),
                self.auth0.management_audience(),
                scopes.iter().copied(),
            ))
            .await?;
        self.auth0_client
            .resource_servers()
            .create(
                &NewResourceServer::new(API_AUDIENCE)
                    .name("Orders")
                    .scopes([ResourceServerScope::new(API_SCOPE, "Read orders")]),
            )
            .await?;
        let secret = admin
            .client_secret
            .ok_or_else(|| anyhow::anyhow!("the created admin app carries no secret"))?;
        Ok((admin.client_id, secret))
    }

    /// Kong's guide, Konnect part, by hand: a DCR provider of type auth0 named
    /// `provider_name` using the admin application, the openid_connect strategy
    /// `auth0-dcr` ("Auth0 DCR (by hand)") using it, and the API `API_NAME` published
    /// publicly on the portal with that strategy.
    pub async fn konnect_dcr_setup(
        &self,
        provider_name: &str,
        admin: &ClientId,
        secret: &ClientSecret,
    ) -> anyhow::Result<(DcrProvider, AuthStrategy)> {
        let konnect = &self.konnect_client;
        let provider = konnect
            .dcr_providers()
            .create(
                &NewDcrProvider::auth0(
                    provider_name,
                    self.issuer(),
                    admin.as_str(),
                    secret.expose_secret().to_owned(),
                )
                .display_name("Auth0 (by hand)"),
            )
            .await?;
        let strategy = konnect
            .auth_strategies()
            .create(
                &NewAuthStrategy::openid_connect(
                    "auth0-dcr",
                    "Auth0 DCR (by hand)",
                    OidcConfig::new(
                        self.issuer(),
                        ["azp"],
                        ["openid", API_SCOPE],
                        ["client_credentials", "bearer", "session"],
                    )
                    .audience(API_AUDIENCE),
                )
                .dcr_provider(provider.id.clone()),
            )
            .await?;
        let api = konnect.apis().create(&NewApi::new(API_NAME)).await?;
        konnect
            .apis()
            .publish(
                &api.id,
                &konnect_appauth::PortalId::new(self.konnect.portal_id()),
                // Public, as the workflow's default is.
                &PublicationRequest::new()
                    .auth_strategy(strategy.id.clone())
                    .visibility(Visibility::Public),
            )
            .await?;
        Ok((provider, strategy))
    }
}

impl Sandboxes {
    /// A complete workflow configuration for these sandboxes (see
    /// [`dcr_workflow::sandbox::Sandboxes::config`]).
    pub fn config(&self) -> dcr_workflow::DcrConfig {
        self.pair.config()
    }

    /// A workflow over these sandboxes with `store`.
    pub fn workflow(
        &self,
        store: std::sync::Arc<dyn dcr_workflow::store::SecretStore>,
    ) -> anyhow::Result<dcr_workflow::Workflow> {
        Ok(dcr_workflow::Workflow::builder(self.config())
            .shared_store(store)
            .build()?)
    }

    /// The admin application's Management API grant.
    pub async fn admin_grant(
        &self,
        admin: &ClientId,
    ) -> anyhow::Result<auth0_mgmt::resources::client_grants::ClientGrant> {
        self.auth0_client
            .client_grants()
            .find(admin, &auth0_mgmt::Audience::new(self.auth0.management_audience()))
            .await?
            .ok_or_else(|| anyhow::anyhow!("{admin} has no Management API grant"))
    }

    /// Write requests both sandboxes have seen.
    pub fn writes(&self) -> usize {
        self.pair.writes()
    }

    /// Forgets both request logs.
    pub fn clear_logs(&self) {
        self.pair.clear_logs();
    }
}

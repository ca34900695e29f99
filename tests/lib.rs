//! Support for the workspace's cross-crate tests: the Auth0 and Konnect sandboxes started
//! together and wired so that Konnect's DCR traffic reaches the Auth0 sandbox, plus the
//! Auth0 side of a DCR setup done by hand through `auth0-mgmt`.

// The README's examples are compiled as doc-tests so they cannot rot; the tests in
// `readme.rs` run the same code.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use auth0_mgmt::resources::client_grants::NewClientGrant;
use auth0_mgmt::resources::clients::NewClient;
use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope};
use auth0_mgmt::sandbox::Auth0Sandbox;
use auth0_mgmt::{Auth0Client, ClientId, ClientSecret};
use konnect_appauth::KonnectClient;
use konnect_appauth::sandbox::KonnectSandbox;

/// The audience portal applications get tokens for in these tests.
pub const API_AUDIENCE: &str = "https://api.example.com/orders";
/// The API's permission.
pub const API_SCOPE: &str = "read:orders";

/// Both sandboxes and a client for each.
#[derive(Debug)]
pub struct Sandboxes {
    /// The fake Auth0 tenant.
    pub auth0: Auth0Sandbox,
    /// The fake Konnect organization, routing `https://{tenant}` to `auth0`.
    pub konnect: KonnectSandbox,
    /// Authenticated as the tenant's bootstrap M2M application.
    pub auth0_client: Auth0Client,
    /// Authenticated with the Konnect sandbox's token.
    pub konnect_client: KonnectClient,
}

impl Sandboxes {
    /// Starts both.
    pub async fn start() -> anyhow::Result<Self> {
        let auth0 = Auth0Sandbox::start().await?;
        let konnect = KonnectSandbox::builder()
            .route_issuer(Self::issuer_of(&auth0), auth0.uri())
            .start()
            .await?;
        let auth0_client = auth0.client()?;
        let konnect_client = konnect.client()?;
        Ok(Sandboxes {
            auth0,
            konnect,
            auth0_client,
            konnect_client,
        })
    }

    fn issuer_of(auth0: &Auth0Sandbox) -> String {
        format!("https://{}", auth0.domain())
    }

    /// The issuer Konnect expects for this tenant: `https://{tenant}`, no trailing slash.
    pub fn issuer(&self) -> String {
        Self::issuer_of(&self.auth0)
    }

    /// Creates the DCR admin M2M application with a Management API grant holding `scopes`,
    /// and the API (`API_AUDIENCE` with `API_SCOPE`). Returns the admin app's credentials.
    pub async fn auth0_dcr_setup(&self, scopes: &[&str]) -> anyhow::Result<(ClientId, ClientSecret)> {
        let admin = self
            .auth0_client
            .clients()
            .create(&NewClient::machine_to_machine("Konnect Portal DCR Admin"))
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
}

/// Name of the Konnect API the workflow tests publish.
pub const API_NAME: &str = "Orders API";

impl Sandboxes {
    /// A complete workflow configuration for these sandboxes: bootstrap credentials,
    /// base URLs, the portal and its developer.
    pub fn config(&self) -> dcr_workflow::DcrConfig {
        let mut c = dcr_workflow::DcrConfig::default();
        c.auth0.domain = self.auth0.domain();
        c.auth0.base_url = Some(self.auth0.uri());
        c.auth0.client_id = Some(self.auth0.bootstrap_client_id().to_string());
        c.auth0.client_secret = Some(self.auth0.bootstrap_client_secret().into_secret_string());
        c.api.audience = API_AUDIENCE.to_owned();
        c.api.name = "Orders (Konnect portal)".to_owned();
        c.api.scopes = vec![dcr_workflow::ApiScope::new(API_SCOPE, "Read orders")];
        c.konnect.base_url = Some(self.konnect.uri());
        c.konnect.token = Some(self.konnect.token());
        c.konnect.portal_id = self.konnect.portal_id().to_string();
        c.konnect.api_name = Some(API_NAME.to_owned());
        c.konnect.developer_id = Some(self.konnect.developer_id());
        c
    }

    /// A workflow over these sandboxes with `store`.
    pub fn workflow(&self, store: std::sync::Arc<dyn dcr_workflow::store::SecretStore>) -> anyhow::Result<dcr_workflow::Workflow> {
        Ok(dcr_workflow::Workflow::builder(self.config()).shared_store(store).build()?)
    }

    /// Write requests both sandboxes have seen.
    pub fn writes(&self) -> usize {
        self.auth0.write_count() + self.konnect.write_count()
    }

    /// Forgets both request logs.
    pub fn clear_logs(&self) {
        self.auth0.clear_request_log();
        self.konnect.clear_request_log();
    }
}

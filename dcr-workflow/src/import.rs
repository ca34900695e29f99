//! `import`: reads a DCR setup that already exists (made by hand, following Kong's guide)
//! and returns the configuration that reproduces it, so that `plan --adopt` on it shows
//! only the ownership marks to add. Read requests only; secrets are never read.

use auth0_mgmt::{Audience, Auth0Client, ClientId};
use futures::TryStreamExt;
use konnect_appauth::resources::apis::{Api, ListedPublication, Publication};
use konnect_appauth::resources::auth_strategies::{AuthStrategy, OidcConfig};
use konnect_appauth::resources::dcr_providers::{Auth0Config, DcrConfig as ProviderConfig, DcrProvider};
use konnect_appauth::{ApiId, KonnectClient, MAX_PAGE_SIZE, PortalId};

use crate::config::{ApiScope, PublicationSettings};
use crate::plan::StepId;
use crate::{DcrConfig, Result, WorkflowError};

/// Which provider and strategy [`import`] reads when the organization holds several.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportOptions {
    provider: Option<String>,
    strategy: Option<String>,
}

impl ImportOptions {
    /// Import the only auth0 provider and the only strategy using it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The DCR provider to import, by name (`dcr import --provider NAME`).
    pub fn provider(mut self, name: impl Into<String>) -> Self {
        self.provider = Some(name.into());
        self
    }

    /// The strategy to import, by name (`dcr import --strategy NAME`).
    pub fn strategy(mut self, name: impl Into<String>) -> Self {
        self.strategy = Some(name.into());
        self
    }
}

/// What [`import`] read.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Imported {
    /// The configuration: the connection settings given, and everything else read from
    /// the setup. Write it with [`DcrConfig::to_toml`] (secrets are never written).
    pub config: DcrConfig,
    /// What was read, one line per resource (`Konnect DCR provider "auth0-dcr" (id)`).
    pub found: Vec<String>,
    /// What the configuration does not reproduce, said plainly (further publications).
    pub notes: Vec<String>,
}

/// Reads the setup that `connection`'s credentials reach: the Konnect DCR provider of type
/// auth0, the openid_connect strategy that uses it and the API published with that
/// strategy; in Auth0 the provider's initial client, its Management API grant and the
/// resource server named by the strategy's audience. Only `connection`'s `[auth0]`
/// connection settings and `[konnect]` region, base URL and token are used (and kept in
/// the result). Several candidates are refused with [`WorkflowError::ImportChoice`],
/// listing them; choose with [`ImportOptions`].
///
/// ```
/// # #[cfg(not(feature = "sandbox"))] fn main() {}
/// # #[cfg(feature = "sandbox")]
/// # #[tokio::main] async fn main() -> dcr_workflow::Result<()> {
/// use dcr_workflow::{ImportOptions, Workflow, import, sandbox::Sandboxes, store::MemoryStore};
/// let sandboxes = Sandboxes::start().await?;
/// Workflow::new(sandboxes.config(), MemoryStore::new())?.converge().await?;
/// let imported = import(&sandboxes.config(), &ImportOptions::new()).await?;
/// assert_eq!(imported.config.konnect.provider_name, "auth0-dcr");
/// let toml = imported.config.to_toml()?;
/// assert!(toml.contains("portal_id"));
/// # Ok(()) }
/// ```
pub async fn import(connection: &DcrConfig, options: &ImportOptions) -> Result<Imported> {
    connection.validate_connection()?;
    let auth0 = crate::workflow::auth0_client(connection)?;
    let konnect = crate::workflow::konnect_client(connection)?;
    import_with(&auth0, &konnect, connection, options).await
}

/// [`import`] with clients you built yourself.
pub async fn import_with(
    auth0: &Auth0Client,
    konnect: &KonnectClient,
    connection: &DcrConfig,
    options: &ImportOptions,
) -> Result<Imported> {
    let mut found = Vec::new();
    let mut notes = Vec::new();
    let (provider, dcr) = choose_provider(konnect, options).await?;
    found.push(format!("Konnect DCR provider {:?} ({})", provider.name, provider.id));
    let (strategy, oidc) = choose_strategy(konnect, &provider, options).await?;
    found.push(format!("Konnect auth strategy {:?} ({})", strategy.name, strategy.id));
    let audience = oidc.audience_value().ok_or_else(|| WorkflowError::Missing {
        resource: "audience of the Konnect auth strategy",
        name: strategy.name.clone(),
        hint: "the strategy sets no audience: set it to the Auth0 API's identifier (Kong's guide, step 2), then import again",
    })?;

    let admin_id = ClientId::new(dcr.initial_client_id.clone());
    let (admin, server, publications) = futures::future::try_join3(
        async {
            auth0
                .clients()
                .get_opt(&admin_id)
                .await
                .map_err(WorkflowError::auth0(StepId::AdminApp))
        },
        async {
            auth0
                .resource_servers()
                .get_opt(audience)
                .await
                .map_err(WorkflowError::auth0(StepId::ApiAudience))
        },
        publications_of(konnect, &strategy),
    )
    .await?;
    let admin = admin.ok_or_else(|| WorkflowError::Missing {
        resource: "Auth0 application",
        name: admin_id.to_string(),
        hint: "the DCR provider's initial client does not exist in this tenant: check auth0.domain, or fix the provider",
    })?;
    found.push(format!("Auth0 application {:?} ({})", admin.name, admin.client_id));
    let server = server.ok_or_else(|| WorkflowError::Missing {
        resource: "Auth0 API (resource server)",
        name: audience.to_owned(),
        hint: "the strategy's audience names no API in this tenant: check auth0.domain, or create the API",
    })?;
    found.push(format!(
        "Auth0 API {:?} ({})",
        server.name.as_deref().unwrap_or(""),
        server.identifier
    ));
    let management = Audience::new(connection.management_audience());
    let grant = auth0
        .client_grants()
        .find(&admin.client_id, &management)
        .await
        .map_err(WorkflowError::auth0(StepId::AdminGrant))?;
    match &grant {
        Some(g) => found.push(format!("its Management API grant ({} scopes)", g.scope.len())),
        None => notes.push("the admin application has no Management API grant: apply creates it".to_owned()),
    }
    if publications.is_empty() {
        return Err(WorkflowError::Missing {
            resource: "publication using the strategy",
            name: strategy.name.clone(),
            hint: "no API is published with this strategy: publish one (Kong's guide, step 4), then import again",
        });
    }
    for (api_name, portal, _) in &publications {
        found.push(format!("API {api_name:?} published on portal {portal}"));
    }
    let mut config = DcrConfig {
        auth0: connection.auth0.clone(),
        labels: connection.labels.clone(),
        ..DcrConfig::default()
    };
    config.konnect.region = connection.konnect.region.clone();
    config.konnect.base_url = connection.konnect.base_url.clone();
    config.konnect.token = connection.konnect.token.clone();
    config.auth0.admin_app_name = admin.name.clone();
    let issuer_host = provider.issuer.trim_start_matches("https://").trim_end_matches('/');
    if issuer_host != config.auth0.domain {
        config.auth0.custom_domain = Some(issuer_host.to_owned());
    }
    config.api.audience = audience.to_owned();
    config.api.name = server.name.clone().unwrap_or_default();
    config.api.scopes = server
        .scopes
        .iter()
        .flatten()
        .map(|s| ApiScope {
            value: s.value.clone(),
            description: s.description.clone().filter(|d| d != &s.value),
        })
        .collect();
    config.api.developer_managed_scopes = dcr.use_developer_managed_scopes;
    let k = &mut config.konnect;
    let entries: Vec<PublicationSettings> = publications
        .into_iter()
        .map(|(api_name, portal, publication)| PublicationSettings {
            portal_id: portal.to_string(),
            api_id: None,
            api_name: Some(api_name),
            visibility: Some(
                match publication.visibility {
                    konnect_appauth::resources::apis::Visibility::Private => "private",
                    _ => "public",
                }
                .to_owned(),
            ),
            auto_approve_registrations: Some(publication.auto_approve_registrations.unwrap_or(false)),
            ..PublicationSettings::default()
        })
        .collect();
    match <[PublicationSettings; 1]>::try_from(entries) {
        // One publication: the single keys, as Kong's guide sets up.
        Ok([one]) => {
            k.visibility = one.visibility().to_owned();
            k.auto_approve_registrations = one.auto_approve_registrations.unwrap_or(false);
            k.portal_id = one.portal_id;
            k.api_name = one.api_name;
        }
        Err(entries) => k.publications = entries,
    }
    k.provider_name = provider.name.clone();
    k.strategy_name = strategy.name.clone();
    k.strategy_display_name = strategy.display_name.clone();
    k.credential_claim = oidc.credential_claim.clone();
    k.auth_methods = oidc.auth_methods.clone();
    // Written only when they are not what the API's scopes imply.
    let implied = config.strategy_scopes();
    if crate::plan::sorted(&implied) != crate::plan::sorted(&oidc.scopes) {
        config.konnect.scopes = Some(oidc.scopes.clone());
    }
    Ok(Imported { config, found, notes })
}

/// The auth0 providers with their Auth0 settings, narrowed by name when asked; exactly
/// one must remain.
async fn choose_provider(konnect: &KonnectClient, options: &ImportOptions) -> Result<(DcrProvider, Auth0Config)> {
    let all: Vec<(DcrProvider, Auth0Config)> = konnect
        .dcr_providers()
        .list()
        .page_size(MAX_PAGE_SIZE)
        .stream()
        .try_filter_map(|p| {
            std::future::ready(Ok(match &p.config {
                ProviderConfig::Auth0(c) => Some((p.clone(), c.clone())),
                _ => None,
            }))
        })
        .try_collect()
        .await
        .map_err(WorkflowError::konnect(StepId::DcrProvider))?;
    one(
        all,
        options.provider.as_deref(),
        |(p, _)| (&p.name, p.id.as_str()),
        "Konnect DCR provider of type auth0",
        "--provider NAME (ImportOptions::provider)",
    )
}

/// The openid_connect strategies using `provider` with their settings, narrowed by name
/// when asked.
async fn choose_strategy(
    konnect: &KonnectClient,
    provider: &DcrProvider,
    options: &ImportOptions,
) -> Result<(AuthStrategy, OidcConfig)> {
    let all: Vec<(AuthStrategy, OidcConfig)> = konnect
        .auth_strategies()
        .list()
        .page_size(MAX_PAGE_SIZE)
        .stream()
        .try_filter_map(|s| {
            let uses = s.dcr_provider.as_ref().is_some_and(|d| d.id == provider.id);
            let oidc = s.config.as_openid_connect().filter(|_| uses).cloned();
            std::future::ready(Ok(oidc.map(|c| (s, c))))
        })
        .try_collect()
        .await
        .map_err(WorkflowError::konnect(StepId::AuthStrategy))?;
    one(
        all,
        options.strategy.as_deref(),
        |(s, _)| (&s.name, s.id.as_str()),
        "openid_connect auth strategy using the provider",
        "--strategy NAME (ImportOptions::strategy)",
    )
}

/// The one candidate (named `wanted`, when given), or an error listing the candidates:
/// those with that name when there are several, else every one.
fn one<T>(
    all: Vec<T>,
    wanted: Option<&str>,
    name_and_id: impl Fn(&T) -> (&String, &str),
    resource: &'static str,
    flag: &'static str,
) -> Result<T> {
    let describe = |c: &T| {
        let (name, id) = name_and_id(c);
        format!("{name} ({id})")
    };
    let every: Vec<String> = all.iter().map(describe).collect();
    let mut named: Vec<T> = all
        .into_iter()
        .filter(|c| wanted.is_none_or(|w| name_and_id(c).0 == w))
        .collect();
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => Err(WorkflowError::ImportChoice {
            resource,
            flag,
            candidates: every,
        }),
        _ => Err(WorkflowError::ImportChoice {
            resource,
            flag,
            candidates: named.iter().map(describe).collect(),
        }),
    }
}

/// `(API name, portal, publication)` of every publication that uses `strategy`, in the
/// order of APIs then portals: one walk of the organization's publications filtered by
/// the strategy, and one of the APIs they publish (for their names).
async fn publications_of(
    konnect: &KonnectClient,
    strategy: &AuthStrategy,
) -> Result<Vec<(String, PortalId, Publication)>> {
    let listed: Vec<ListedPublication> = konnect
        .apis()
        .publications()
        .auth_strategy_id(&strategy.id)
        .page_size(MAX_PAGE_SIZE)
        .stream()
        .try_filter(|p| std::future::ready(p.is_api()))
        .try_collect()
        .await
        .map_err(WorkflowError::konnect(StepId::Publication))?;
    if listed.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<ApiId> = listed.iter().map(|p| p.api_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let apis: Vec<Api> = konnect
        .apis()
        .list()
        .ids(&ids)
        .page_size(MAX_PAGE_SIZE)
        .stream()
        .try_collect()
        .await
        .map_err(WorkflowError::konnect(StepId::KonnectApi))?;
    let mut out: Vec<(String, PortalId, Publication)> = listed
        .iter()
        .filter_map(|p| {
            let api = apis.iter().find(|a| a.id == p.api_id)?;
            let portal = PortalId::new(crate::steps::publication::portal_of(p).to_owned());
            Some((api.name.clone(), portal, p.publication()))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(out)
}

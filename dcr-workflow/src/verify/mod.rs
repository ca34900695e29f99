//! Verification: do what Konnect does for a developer, then check the token link by link.

mod developer;

use std::fmt;

use auth0_mgmt::oauth::ClientCredentialsRequest;
use auth0_mgmt::resources::client_grants::NewClientGrant;
use auth0_mgmt::resources::clients::NewClient;
use auth0_mgmt::{Auth0Client, ClientId, ClientSecret};
use konnect_appauth::resources::auth_strategies::AuthStrategy;
use konnect_appauth::resources::dcr_providers::{DcrConfig as ProviderConfig, DcrProvider};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner, PortalApplications};
use konnect_appauth::{ApplicationId, PortalId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use crate::plan::StepId;
use crate::steps::in_step;
use crate::store::admin_secret_key;
use crate::{Result, Workflow};

/// Scopes that belong to OpenID Connect itself, not to the API: they are never granted on
/// the API's resource server, so they are not expected in a client_credentials token.
/// Management API requests Konnect's DCR makes for one registration (client, grant).
const KONNECT_DCR_REQUESTS: u64 = 2;
/// The longest verify waits for that room (a bucket refills within seconds).
const HEADROOM_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

const OIDC_SCOPES: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];

/// How verification stands in for a developer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyMode {
    /// As a developer when `konnect.developer_email` is set, else a portal application
    /// when `konnect.developer_id` is set, else an Auth0 client (the last when every
    /// publication is on a classic portal).
    #[default]
    Auto,
    /// Create a real portal application: Konnect registers the Auth0 client itself.
    PortalApplication,
    /// Do Konnect's part with the admin application's credentials: an Auth0 client with
    /// `konnect_*` metadata and a grant to the audience.
    Auth0Client,
    /// Do what the guide's developer does, through the portal's developer API: sign in
    /// (`konnect.developer_email`, `DCR_KONNECT_DEVELOPER_PASSWORD`), create an
    /// application for the strategy, register it for each API published on the first v3
    /// portal, approve a pending registration through the admin API, and call the
    /// gateway with Basic and Bearer credentials; first check that the gateway refuses
    /// the application before it is registered. [`VerifyMode::Auto`] picks it when the
    /// developer's credentials are configured.
    Developer,
}

/// Options of [`Workflow::verify`].
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct VerifyOptions {
    mode: VerifyMode,
    gateway_url: Option<Url>,
}

impl VerifyOptions {
    /// Default options: [`VerifyMode::Auto`], no gateway call.
    pub fn new() -> Self {
        Self::default()
    }

    /// How to stand in for a developer.
    pub fn mode(mut self, mode: VerifyMode) -> Self {
        self.mode = mode;
        self
    }

    /// Also call this URL (an API route on a Kong gateway) with the credentials; it wins
    /// over `konnect.gateway_url`.
    pub fn gateway_url(mut self, url: Url) -> Self {
        self.gateway_url = Some(url);
        self
    }
}

/// One link of the chain from configuration to an authorised request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Link {
    /// Konnect's own check that the provider can use the admin application.
    ProviderCheck,
    /// An application registered (an Auth0 client with a grant to the audience).
    Registration,
    /// A token from Auth0 with client_credentials for the audience.
    Token,
    /// The token's signature, against the issuer's JWKS.
    Signature,
    /// `iss` is the issuer.
    Issuer,
    /// `aud` holds the audience.
    Audience,
    /// `azp` is the registered client: how Konnect maps a token to an application.
    Azp,
    /// `scope` holds the strategy's API scopes.
    Scopes,
    /// The gateway accepted the token.
    Gateway,
    /// The developer signed in to the portal.
    SignIn,
    /// The developer created an application; Konnect registered its Auth0 client with
    /// `konnect_*` metadata.
    Application,
    /// Before any registration, the gateway refused the application (it enforces
    /// registrations).
    Unregistered,
    /// The application was registered for each published API.
    ApiRegistration,
    /// Each registration is approved (at once, or by the admin API).
    Approval,
    /// The gateway let `Authorization: Basic client_id:client_secret` through
    /// (`client_credentials`), or refused it when the strategy does not enable it.
    GatewayBasic,
    /// The gateway let `Authorization: Bearer <token>` through, or refused it when the
    /// strategy does not enable `bearer`.
    GatewayBearer,
    /// What verification created was removed.
    Cleanup,
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Link::ProviderCheck => "Konnect provider check",
            Link::Registration => "registration",
            Link::Token => "token",
            Link::Signature => "signature",
            Link::Issuer => "iss",
            Link::Audience => "aud",
            Link::Azp => "azp",
            Link::Scopes => "scope",
            Link::Gateway => "gateway",
            Link::SignIn => "sign-in",
            Link::Application => "application",
            Link::Unregistered => "negative check (unregistered application)",
            Link::ApiRegistration => "API registration",
            Link::Approval => "approval",
            Link::GatewayBasic => "gateway (Basic)",
            Link::GatewayBearer => "gateway (Bearer)",
            Link::Cleanup => "cleanup",
        })
    }
}

/// How a link fared.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// It holds; what was seen.
    Passed(String),
    /// It is broken; why.
    Failed(String),
    /// Not checked; why.
    Skipped(String),
}

/// One checked link.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// Which link.
    pub link: Link,
    /// How it fared.
    pub outcome: Outcome,
}

/// The result of [`Workflow::verify`]: every link, in order.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The links checked.
    pub checks: Vec<Check>,
}

impl VerifyReport {
    /// Whether no link failed (links are skipped only after a failure or when not asked for).
    pub fn is_success(&self) -> bool {
        self.first_failure().is_none()
    }

    /// The first broken link.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| matches!(c.outcome, Outcome::Failed(_)))
    }

    /// The outcome of one link.
    pub fn outcome(&self, link: Link) -> Option<&Outcome> {
        self.checks.iter().find(|c| c.link == link).map(|c| &c.outcome)
    }

    fn pass(&mut self, link: Link, detail: impl Into<String>) {
        self.checks.push(Check {
            link,
            outcome: Outcome::Passed(detail.into()),
        });
    }

    fn fail(&mut self, link: Link, reason: impl Into<String>) {
        self.checks.push(Check {
            link,
            outcome: Outcome::Failed(reason.into()),
        });
    }

    fn skip(&mut self, links: &[Link], reason: &str) {
        for link in links {
            self.checks.push(Check {
                link: *link,
                outcome: Outcome::Skipped(reason.to_owned()),
            });
        }
    }

    fn check(&mut self, link: Link, ok: bool, detail: String) {
        if ok {
            self.pass(link, detail)
        } else {
            self.fail(link, detail)
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for check in &self.checks {
            let (mark, text) = match &check.outcome {
                Outcome::Passed(t) => ("ok  ", t),
                Outcome::Failed(t) => ("FAIL", t),
                Outcome::Skipped(t) => ("skip", t),
            };
            writeln!(f, "  {mark} {}: {text}", check.link)?;
        }
        match self.first_failure() {
            None => write!(f, "Verification passed."),
            Some(c) => write!(f, "Verification failed at: {}.", c.link),
        }
    }
}

/// Hint for the known refusal by tenants with OIDC Dynamic Application Registration on.
fn with_hint(message: String) -> String {
    if message.to_ascii_lowercase().contains("dynamic") {
        format!(
            "{message} (if the tenant has \"OIDC Dynamic Application Registration\" enabled, \
             disable it: Konnect's DCR has been reported to fail with it on)"
        )
    } else {
        message
    }
}

/// What registration created, to remove afterwards.
enum Created {
    Application(PortalApplications, ApplicationId),
    Client(Box<Auth0Client>, ClientId),
}

struct Registered {
    client_id: String,
    secret: SecretString,
    created: Created,
}

const AFTER_REGISTRATION: [Link; 7] = [
    Link::Token,
    Link::Signature,
    Link::Issuer,
    Link::Audience,
    Link::Azp,
    Link::Scopes,
    Link::Gateway,
];

impl Workflow {
    /// Checks the whole chain as a developer would exercise it, and removes what it
    /// created. Broken links are reported in the [`VerifyReport`], not as errors; an
    /// error means verification itself could not run (e.g. Konnect unreachable).
    pub async fn verify(&self, options: &VerifyOptions) -> Result<VerifyReport> {
        in_step(StepId::Verify, self.verify_inner(options)).await
    }

    async fn verify_inner(&self, options: &VerifyOptions) -> Result<VerifyReport> {
        let ctx = self.ctx();
        let mut report = VerifyReport::default();
        let (provider, strategy) = crate::steps::provider_and_strategy(ctx).await?;
        let Some(provider) = provider else {
            report.fail(Link::ProviderCheck, "the DCR provider does not exist: run apply");
            report.skip(&[Link::Registration], "no provider");
            report.skip(&AFTER_REGISTRATION, "no provider");
            return Ok(report);
        };
        let mode = match options.mode {
            // Classic portals have no v3 developer API.
            VerifyMode::Auto
                if self.config.konnect.developer_email.is_some() && self.config.first_portal().is_some() =>
            {
                VerifyMode::Developer
            }
            // A classic portal's admin API cannot create applications.
            VerifyMode::Auto if self.config.konnect.developer_id.is_some() && self.config.first_portal().is_some() => {
                VerifyMode::PortalApplication
            }
            VerifyMode::Auto => VerifyMode::Auth0Client,
            other => other,
        };
        let providers = self.konnect.dcr_providers();
        let provider_check = providers.verify(&provider.id);
        if mode == VerifyMode::Developer {
            // Konnect's check, the sign-in and a first look at the tenant's bucket need
            // nothing from one another: they go together.
            let (check, signed_in) = futures::future::join(provider_check, async {
                futures::future::join(self.learn_auth0_bucket(&provider), self.sign_in())
                    .await
                    .1
            })
            .await;
            report_provider_check(check, &mut report);
            match &strategy {
                Some(strategy) => {
                    self.verify_as_developer(strategy, signed_in, options, &mut report)
                        .await
                }
                None => {
                    report.fail(Link::SignIn, "the auth strategy does not exist: run apply");
                    report.skip(&developer::AFTER_SIGN_IN, "no strategy");
                }
            }
            return Ok(report);
        }
        report_provider_check(provider_check.await, &mut report);
        let registered = match (mode, &strategy) {
            (_, None) => Err("the auth strategy does not exist: run apply".to_owned()),
            (VerifyMode::PortalApplication, Some(strategy)) => self.register_portal_app(&provider, strategy).await,
            (_, Some(_)) => self.register_auth0_client(&provider).await,
        };
        let registered = match registered {
            Ok(r) => {
                report.pass(Link::Registration, format!("Auth0 client {}", r.client_id));
                r
            }
            Err(reason) => {
                report.fail(Link::Registration, with_hint(reason));
                report.skip(&AFTER_REGISTRATION, "registration failed");
                return Ok(report);
            }
        };
        let token = self
            .check_token(&registered.client_id, &registered.secret, &mut report)
            .await;
        // The other modes register the client for no API, so a gateway enforcing
        // registrations refuses it: only a URL given for this run is called.
        match (token, options.gateway_url.clone()) {
            (None, _) => report.skip(&[Link::Gateway], "no token"),
            (Some(_), None) => report.skip(&[Link::Gateway], "no gateway URL given"),
            (Some(token), Some(url)) => match self
                .http
                .get(url.clone())
                .bearer_auth(token.expose_secret())
                .send()
                .await
            {
                Ok(r) => report.check(
                    Link::Gateway,
                    r.status().is_success(),
                    format!("{url} answered {}", r.status()),
                ),
                Err(e) => report.fail(Link::Gateway, format!("{url}: {e}")),
            },
        }
        let cleanup = self.clean_up(registered.created, &registered.client_id).await;
        match cleanup {
            Ok(how) => report.pass(Link::Cleanup, how),
            Err(e) => report.fail(Link::Cleanup, e),
        }
        Ok(report)
    }

    /// Removes what the registration created. A 404 is success: a DELETE whose answer was
    /// lost is repeated, and finds it gone. Konnect deletes a portal application's Auth0
    /// client itself; when it did not (its own call failed, a 429 on a busy tenant), verify
    /// deletes the client with the bootstrap credentials, so nothing is left either way.
    async fn clean_up(&self, created: Created, client_id: &str) -> std::result::Result<&'static str, String> {
        let gone = |r: std::result::Result<(), String>, not_found: bool| if not_found { Ok(()) } else { r };
        match created {
            Created::Application(apps, id) => {
                // Konnect deletes the application's Auth0 client: one request of its own.
                self.auth0.wait_for_headroom(1, HEADROOM_WAIT).await;
                let deleted = apps.delete(&id).await;
                let not_found = deleted.as_ref().is_err_and(konnect_appauth::KonnectError::is_not_found);
                gone(deleted.map_err(|e| e.to_string()), not_found)?;
                self.auth0.spent_elsewhere(1);
                let client_id = ClientId::new(client_id.to_owned());
                match self.auth0.clients().get_opt(&client_id).await {
                    Ok(None) => Ok("removed"),
                    Ok(Some(_)) => {
                        let deleted = self.auth0.clients().delete(&client_id).await;
                        let not_found = deleted.as_ref().is_err_and(auth0_mgmt::Auth0Error::is_not_found);
                        gone(deleted.map_err(|e| e.to_string()), not_found)?;
                        Ok("removed (Konnect left the Auth0 client behind; verify deleted it)")
                    }
                    Err(e) => Err(format!("the application is removed; whether its Auth0 client is: {e}")),
                }
            }
            Created::Client(client, id) => {
                let deleted = client.clients().delete(&id).await;
                let not_found = deleted.as_ref().is_err_and(auth0_mgmt::Auth0Error::is_not_found);
                gone(deleted.map_err(|e| e.to_string()), not_found).map(|()| "removed")
            }
        }
    }

    async fn register_portal_app(
        &self,
        provider: &DcrProvider,
        strategy: &AuthStrategy,
    ) -> std::result::Result<Registered, String> {
        let Some(developer) = &self.config.konnect.developer_id else {
            return Err("konnect.developer_id is required to create a portal application".into());
        };
        let Some(portal) = self.config.first_portal() else {
            return Err(
                "every publication is on a classic portal, whose admin API cannot create applications: \
                        verify with --mode auth0-client (VerifyMode::Auth0Client)"
                    .into(),
            );
        };
        let apps = self.konnect.portal_applications(PortalId::new(portal.clone()));
        // Konnect registers the application with two Management API requests on the
        // tenant: leave them room (a Free tenant allows 2 per second, and Konnect's DCR
        // fails on a 429). A process that has not asked Auth0 anything yet learns the
        // bucket with one read of the admin application (another run, `apply` just
        // before, may have spent it).
        self.learn_auth0_bucket(provider).await;
        self.auth0.wait_for_headroom(KONNECT_DCR_REQUESTS, HEADROOM_WAIT).await;
        let created = apps
            .create(
                &NewApplication::new(
                    format!("{}{}", crate::owner::VERIFY_NAME_PREFIX, unique_suffix()),
                    Owner::developer(developer),
                )
                .description(crate::owner::VERIFY_DESCRIPTION)
                .label(crate::owner::VERIFY_LABEL_KEY, crate::owner::VERIFY_VALUE)
                .auth_strategy(strategy.id.clone()),
            )
            .await
            .map_err(|e| format!("Konnect could not create the application: {e}"))?;
        // Konnect's registration spent the tenant's requests, not this client's.
        self.auth0.spent_elsewhere(KONNECT_DCR_REQUESTS);
        let id = created.application.id.clone();
        let (Some(client_id), Some(secret)) = (created.application.client_id, created.client_secret) else {
            let _ = apps.delete(&id).await;
            return Err("Konnect returned no client id or secret for the new application".into());
        };
        // The guide's check: the Auth0 client Konnect created carries the application's
        // konnect_* metadata.
        if let Err(reason) = self.check_konnect_metadata(&client_id, &id, portal.as_str()).await {
            let _ = self.clean_up(Created::Application(apps, id.clone()), &client_id).await;
            return Err(reason);
        }
        Ok(Registered {
            client_id,
            secret,
            created: Created::Application(apps, id),
        })
    }

    /// A process that has not asked Auth0 anything yet learns the tenant's bucket with
    /// one read of the admin application (another run, `apply` just before, may have
    /// spent it), so that waiting for headroom means something.
    async fn learn_auth0_bucket(&self, provider: &DcrProvider) {
        if let ProviderConfig::Auth0(config) = &provider.config
            && !self.auth0.rate_limits_known()
        {
            let _ = self
                .auth0
                .clients()
                .get_opt(&ClientId::new(config.initial_client_id.clone()))
                .await;
        }
    }

    /// The guide's check: the Auth0 client Konnect created for application `id` carries
    /// its `konnect_*` metadata.
    async fn check_konnect_metadata(
        &self,
        client_id: &str,
        id: &ApplicationId,
        portal: &str,
    ) -> std::result::Result<(), String> {
        let client = self.auth0.clients().get_opt(&ClientId::new(client_id.to_owned())).await;
        match client {
            Ok(Some(c))
                if c.metadata("konnect_application_id") == Some(id.as_str())
                    && c.metadata("konnect_portal_id") == Some(portal) =>
            {
                Ok(())
            }
            Err(e) => Err(format!(
                "the Auth0 client {client_id} Konnect created cannot be read: {e}"
            )),
            Ok(None) => Err(format!("Konnect named Auth0 client {client_id}, which does not exist")),
            Ok(Some(_)) => Err(format!(
                "the Auth0 client {client_id} lacks konnect_application_id={id} / konnect_portal_id metadata"
            )),
        }
    }

    async fn register_auth0_client(&self, provider: &DcrProvider) -> std::result::Result<Registered, String> {
        let ProviderConfig::Auth0(config) = &provider.config else {
            return Err("the DCR provider is not of type auth0".into());
        };
        let admin_id = config.initial_client_id.clone();
        let secret = self
            .store
            .get(&admin_secret_key(&admin_id))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the secret of {admin_id} is not in the secret store: run apply or rotate"))?;
        let as_konnect = Auth0Client::builder()
            .domain(self.auth0.domain())
            .base_url(self.auth0.base_url().as_str())
            .client_credentials(admin_id, ClientSecret::from(secret))
            .build()
            .map_err(|e| e.to_string())?;
        let suffix = unique_suffix();
        // The admin credentials' client shares the tenant's bucket but not this client's
        // view of it.
        self.auth0.wait_for_headroom(KONNECT_DCR_REQUESTS, HEADROOM_WAIT).await;
        let app = as_konnect
            .clients()
            .create(
                &NewClient::machine_to_machine(format!("dcr-rs verify {suffix}"))
                    .metadata("konnect_portal_id", self.config.any_portal())
                    .metadata("konnect_developer_id", "dcr-rs-verify")
                    .metadata("konnect_org_id", "dcr-rs-verify")
                    .metadata("konnect_application_id", format!("dcr-rs-verify-{suffix}"))
                    .metadata(crate::owner::VERIFY_METADATA_KEY, crate::owner::VERIFY_VALUE),
            )
            .await
            .map_err(|e| format!("the admin application could not create a client: {e}"))?;
        let grant = as_konnect
            .client_grants()
            .create(&NewClientGrant::new(
                app.client_id.clone(),
                self.config.api.audience.as_str(),
                self.expected_scopes(),
            ))
            .await;
        let secret = app.client_secret.clone().map(ClientSecret::into_secret_string);
        match (grant, secret) {
            (Ok(_), Some(secret)) => Ok(Registered {
                client_id: app.client_id.to_string(),
                secret,
                created: Created::Client(Box::new(as_konnect), app.client_id),
            }),
            (grant, _) => {
                let _ = as_konnect.clients().delete(&app.client_id).await;
                Err(match grant {
                    Err(e) => format!("the admin application could not grant the client to the audience: {e}"),
                    Ok(_) => "Auth0 returned no secret for the new client".into(),
                })
            }
        }
    }

    /// The strategy's API scopes: what a registered application's token should carry.
    fn expected_scopes(&self) -> Vec<String> {
        self.config
            .strategy_scopes()
            .into_iter()
            .filter(|s| !OIDC_SCOPES.contains(&s.as_str()))
            .collect()
    }

    /// The gateway URL: the option, else `konnect.gateway_url`.
    fn gateway_url(&self, options: &VerifyOptions) -> Option<Url> {
        options.gateway_url.clone().or_else(|| {
            self.config
                .konnect
                .gateway_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok())
        })
    }

    /// Gets a token for the client and checks it link by link (token to scopes); returns
    /// it when its signature holds, for the gateway checks.
    async fn check_token(
        &self,
        client_id: &str,
        secret: &SecretString,
        report: &mut VerifyReport,
    ) -> Option<SecretString> {
        let fetched = self.token_and_keys(client_id, secret).await;
        self.report_token(client_id, fetched, report)
    }

    /// The client's token and the tenant's JWKS, asked for at the same time.
    async fn token_and_keys(&self, client_id: &str, secret: &SecretString) -> Fetched {
        let audience = &self.config.api.audience;
        let request = ClientCredentialsRequest::new(
            client_id,
            ClientSecret::from(SecretString::from(secret.expose_secret().to_owned())),
            audience.as_str(),
        );
        let jwks = async {
            let url = self
                .auth0
                .base_url()
                .join(".well-known/jwks.json")
                .map_err(|e| e.to_string())?;
            self.fetch_jwks(&url).await
        };
        let (token, jwks) = futures::future::join(self.auth0.oauth().client_credentials(&request), jwks).await;
        Fetched { token, jwks }
    }

    /// Reports the links from the token to its scopes.
    fn report_token(&self, client_id: &str, fetched: Fetched, report: &mut VerifyReport) -> Option<SecretString> {
        let audience = &self.config.api.audience;
        let token = match fetched.token {
            Ok(t) => {
                report.pass(
                    Link::Token,
                    format!("{} token, expires in {} s", t.token_type, t.expires_in),
                );
                t.access_token
            }
            Err(e) => {
                report.fail(Link::Token, e.to_string());
                report.skip(&AFTER_REGISTRATION[1..6], "no token");
                return None;
            }
        };
        let claims = match fetched
            .jwks
            .and_then(|jwks| signed_claims(&jwks, token.expose_secret()))
        {
            Ok(claims) => {
                report.pass(Link::Signature, "RS256, key found in the JWKS");
                claims
            }
            Err(reason) => {
                report.fail(Link::Signature, reason);
                report.skip(&AFTER_REGISTRATION[2..6], "signature not trusted");
                return None;
            }
        };
        let iss = claims["iss"].as_str().unwrap_or_default();
        let want_iss = format!("{}/", self.config.issuer());
        report.check(Link::Issuer, iss == want_iss, format!("{iss} (want {want_iss})"));
        let aud_ok = match &claims["aud"] {
            Value::String(a) => a == audience,
            Value::Array(list) => list.iter().any(|a| a.as_str() == Some(audience.as_str())),
            _ => false,
        };
        report.check(Link::Audience, aud_ok, format!("{} (want {audience})", claims["aud"]));
        let azp = claims["azp"].as_str().unwrap_or_default();
        report.check(
            Link::Azp,
            azp == client_id,
            format!("{azp} (want the registered client {client_id})"),
        );
        let granted: Vec<&str> = claims["scope"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let missing: Vec<String> = self
            .expected_scopes()
            .into_iter()
            .filter(|s| !granted.contains(&s.as_str()))
            .collect();
        report.check(
            Link::Scopes,
            missing.is_empty(),
            if missing.is_empty() {
                format!("{:?}", granted)
            } else {
                format!("missing {missing:?} (granted {granted:?})")
            },
        );
        Some(token.into_secret_string())
    }

    /// The tenant's JWKS, retried like every other read: up to 4 attempts, 200 ms
    /// doubling between them, after a 429, a 5xx or a failed connection.
    async fn fetch_jwks(&self, url: &url::Url) -> std::result::Result<jsonwebtoken::jwk::JwkSet, String> {
        let mut delay = std::time::Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            let outcome = match self.http.get(url.clone()).send().await {
                Ok(r) if r.status().is_success() => {
                    return r.json().await.map_err(|e| format!("reading {url}: {e}"));
                }
                Ok(r) => {
                    let status = r.status();
                    let transient = status.as_u16() == 429 || status.is_server_error();
                    (transient, format!("fetching {url}: HTTP {status}"))
                }
                Err(e) => (true, format!("fetching {url}: {e}")),
            };
            match outcome {
                (true, reason) if attempt < 4 => {
                    tracing::debug!(attempt, reason, "retrying the JWKS fetch");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                (_, reason) => return Err(reason),
            }
        }
    }
}

/// Reports Konnect's own check of the provider.
fn report_provider_check(
    check: konnect_appauth::Result<konnect_appauth::resources::dcr_providers::Verification>,
    report: &mut VerifyReport,
) {
    match check {
        Ok(v) if v.is_success() => report.pass(Link::ProviderCheck, format!("status {}", v.status)),
        Ok(v) => report.fail(Link::ProviderCheck, with_hint(v.errors.join("; "))),
        Err(e) => report.fail(Link::ProviderCheck, e.to_string()),
    }
}

/// What [`Workflow::token_and_keys`] fetched.
struct Fetched {
    token: auth0_mgmt::Result<auth0_mgmt::oauth::TokenResponse>,
    jwks: std::result::Result<jsonwebtoken::jwk::JwkSet, String>,
}

/// Checks the signature against the tenant's JWKS; returns the claims (unchecked).
fn signed_claims(jwks: &jsonwebtoken::jwk::JwkSet, token: &str) -> std::result::Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
    let kid = header.kid.ok_or("the token header has no kid")?;
    let jwk = jwks.find(&kid).ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    // aud and iss are checked one by one so the report names the broken one.
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| format!("signature check failed: {e}"))
}

/// A short random suffix so concurrent verifications do not collide.
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
}

//! Verification as the guide's developer: sign in to the portal, create an application
//! for the strategy, check that the gateway refuses it while it is registered for
//! nothing, register it for each API published on the portal, approve what is pending
//! through the admin API, and call the gateway with Basic and Bearer credentials. What it
//! created is removed on every path.

use std::time::Duration;

use auth0_mgmt::ClientId;
use konnect_appauth::developer::{ApiRegistration, DeveloperClient, NewDeveloperApplication, RegistrationStatus};
use konnect_appauth::resources::auth_strategies::{AuthStrategy, StrategyConfig};
use konnect_appauth::{ApiId, ApplicationId, PortalId};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{HEADROOM_WAIT, KONNECT_DCR_REQUESTS, Link, VerifyOptions, VerifyReport, unique_suffix, with_hint};
use crate::Workflow;

/// The links after sign-in, in report order.
pub(super) const AFTER_SIGN_IN: [Link; 13] = [
    Link::Application,
    Link::Token,
    Link::Signature,
    Link::Issuer,
    Link::Audience,
    Link::Azp,
    Link::Scopes,
    Link::Unregistered,
    Link::ApiRegistration,
    Link::Approval,
    Link::GatewayBasic,
    Link::GatewayBearer,
    Link::Cleanup,
];

/// How long a gateway may take to learn of a new approval (Konnect pushes registrations
/// to the data planes within seconds); a 403 is asked again until then.
const GATEWAY_SETTLE: Duration = Duration::from_secs(15);

/// How a request through the gateway presents the application's credentials.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Basic,
    Bearer,
}

impl Method {
    fn link(self) -> Link {
        match self {
            Method::Basic => Link::GatewayBasic,
            Method::Bearer => Link::GatewayBearer,
        }
    }

    /// The strategy's auth method this one needs.
    fn auth_method(self) -> &'static str {
        match self {
            Method::Basic => "client_credentials",
            Method::Bearer => "bearer",
        }
    }
}

/// The application's credentials, for the gateway.
struct Credentials<'a> {
    client_id: &'a str,
    secret: &'a SecretString,
    token: &'a SecretString,
}

/// What the gateway said: status and body (its reason on a refusal).
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn describe(&self) -> String {
        let body: String = self.body.chars().take(300).collect();
        if body.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {}: {}", self.status, body.trim())
        }
    }
}

impl Workflow {
    pub(super) async fn verify_as_developer(
        &self,
        strategy: &AuthStrategy,
        signed_in: std::result::Result<Developer, String>,
        options: &VerifyOptions,
        report: &mut VerifyReport,
    ) {
        let developer = match signed_in {
            Ok(d) => d,
            Err(reason) => {
                report.fail(Link::SignIn, reason);
                report.skip(&AFTER_SIGN_IN, "not signed in");
                return;
            }
        };
        report.pass(
            Link::SignIn,
            format!("signed in to {} as {}", developer.client.portal_url(), developer.email),
        );
        let (id, client_id, secret) = match self.developer_application(&developer, strategy).await {
            Ok(created) => created,
            Err((reason, id, lost)) => {
                report.fail(Link::Application, with_hint(reason));
                report.skip(&AFTER_SIGN_IN[1..12], "no application");
                if lost {
                    let _ = developer.client.sign_out().await;
                    report.fail(
                        Link::Cleanup,
                        "the answer to the create was lost, so the application may exist: `dcr audit` \
                         reports it (by verify's name and description) and `dcr destroy` removes it",
                    );
                } else {
                    self.developer_cleanup(&developer, id.as_ref(), None, report).await;
                }
                return;
            }
        };
        // The guide's check of the Auth0 client, while the token and the keys are fetched.
        let (linked, fetched) = futures::future::join(
            self.check_konnect_metadata(&client_id, &id, developer.portal.as_str()),
            self.token_and_keys(&client_id, &secret),
        )
        .await;
        match linked {
            Ok(()) => report.pass(
                Link::Application,
                format!("{id}: Konnect registered Auth0 client {client_id} with konnect_* metadata"),
            ),
            Err(reason) => {
                report.fail(Link::Application, reason);
                report.skip(&AFTER_SIGN_IN[1..12], "the application's Auth0 client is not Konnect's");
                self.developer_cleanup(&developer, Some(&id), Some(&client_id), report)
                    .await;
                return;
            }
        }
        let token = self.report_token(&client_id, fetched, report);
        match token {
            Some(token) => {
                let credentials = Credentials {
                    client_id: &client_id,
                    secret: &secret,
                    token: &token,
                };
                self.gateway_links(&developer, strategy, options, &id, &credentials, report)
                    .await;
            }
            None => report.skip(&AFTER_SIGN_IN[7..12], "no trusted token"),
        }
        self.developer_cleanup(&developer, Some(&id), Some(&client_id), report)
            .await;
    }

    /// Negative check, registrations, approval and gateway calls.
    async fn gateway_links(
        &self,
        developer: &Developer,
        strategy: &AuthStrategy,
        options: &VerifyOptions,
        application: &ApplicationId,
        credentials: &Credentials<'_>,
        report: &mut VerifyReport,
    ) {
        let methods: Vec<String> = match &strategy.config {
            StrategyConfig::OpenIdConnect(c) => c.auth_methods.clone(),
            _ => Vec::new(),
        };
        let enabled = |m: Method| methods.iter().any(|x| x == m.auth_method());
        let gateway = self.gateway_url(options);
        // The negative check first, while the application is registered for nothing;
        // the APIs to register for are read meanwhile.
        let negative = async {
            match &gateway {
                None => None,
                Some(url) => {
                    let method = if enabled(Method::Bearer) {
                        Method::Bearer
                    } else {
                        Method::Basic
                    };
                    Some((url, self.through_gateway(url, method, credentials).await))
                }
            }
        };
        let (negative, apis) = futures::future::join(negative, self.published_apis(&developer.portal, strategy)).await;
        match negative {
            None => report.skip(&[Link::Unregistered], "no gateway URL given (konnect.gateway_url, --gateway-url)"),
            Some((_, Ok(a))) if a.status == 403 => report.pass(
                Link::Unregistered,
                format!("refused before registration ({})", a.describe()),
            ),
            Some((_, Ok(a))) if (200..300).contains(&a.status) => report.fail(
                Link::Unregistered,
                format!(
                    "the gateway let an application registered for no API through ({}): it does not enforce registrations",
                    a.describe()
                ),
            ),
            Some((_, Ok(a))) => report.fail(
                Link::Unregistered,
                format!("expected 403 for an unregistered application, got {}", a.describe()),
            ),
            Some((url, Err(e))) => report.fail(Link::Unregistered, format!("{url}: {e}")),
        }
        let Some(registrations) = self.register_for_apis(developer, apis, application, report).await else {
            report.skip(&AFTER_SIGN_IN[10..12], "not registered");
            return;
        };
        if !self
            .approve_pending(developer, application, &registrations, report)
            .await
        {
            report.skip(&AFTER_SIGN_IN[10..12], "registration not approved");
            return;
        }
        let Some(url) = gateway else {
            report.skip(
                &AFTER_SIGN_IN[10..12],
                "no gateway URL given (konnect.gateway_url, --gateway-url)",
            );
            return;
        };
        let (basic, bearer) = futures::future::join(
            self.settled_gateway_answer(&url, Method::Basic, credentials, enabled(Method::Basic)),
            self.settled_gateway_answer(&url, Method::Bearer, credentials, enabled(Method::Bearer)),
        )
        .await;
        for (method, answer) in [(Method::Basic, basic), (Method::Bearer, bearer)] {
            let link = method.link();
            let want = enabled(method);
            match answer {
                Err(e) => report.fail(link, format!("{url}: {e}")),
                Ok(a) if want && (200..300).contains(&a.status) => {
                    report.pass(link, format!("{url} answered {}", a.status))
                }
                Ok(a) if want => report.fail(link, a.describe()),
                Ok(a) if a.status == 401 => report.pass(
                    link,
                    format!(
                        "refused ({}), as the strategy does not enable {}",
                        a.describe(),
                        method.auth_method()
                    ),
                ),
                Ok(a) => report.fail(
                    link,
                    format!(
                        "the strategy does not enable {}, yet the gateway answered {}",
                        method.auth_method(),
                        a.describe()
                    ),
                ),
            }
        }
    }

    /// Builds the developer client and signs in.
    pub(super) async fn sign_in(&self) -> std::result::Result<Developer, String> {
        let k = &self.config.konnect;
        let (Some(email), Some(password)) = (&k.developer_email, &k.developer_password) else {
            return Err("konnect.developer_email and DCR_KONNECT_DEVELOPER_PASSWORD are required".into());
        };
        let Some(portal) = self.config.first_portal() else {
            return Err(
                "every publication is on a classic portal, whose developers have no v3 developer API: \
                 verify with --mode auth0-client"
                    .into(),
            );
        };
        let portal = PortalId::new(portal);
        let url = match &k.portal_url {
            Some(url) => url.clone(),
            None => match self.konnect.portals().get(&portal).await {
                Ok(p) => format!("https://{}", p.canonical_domain),
                Err(e) => return Err(format!("the portal's domain could not be read: {e}")),
            },
        };
        let client = DeveloperClient::builder()
            .portal_url(url.as_str())
            .credentials(email.as_str(), SecretString::from(password.expose_secret().to_owned()))
            .http_client(self.http.clone())
            .build()
            .map_err(|e| e.to_string())?;
        client.sign_in().await.map_err(|e| {
            if e.is_unauthorized() {
                format!(
                    "{e} (check konnect.developer_email and DCR_KONNECT_DEVELOPER_PASSWORD; \
                     the developer must be approved on the portal)"
                )
            } else {
                e.to_string()
            }
        })?;
        Ok(Developer {
            client,
            email: email.clone(),
            portal,
        })
    }

    /// Creates the application. On failure, the application's id if it was created (for
    /// the cleanup), and whether the answer was lost (it may exist, id unknown).
    async fn developer_application(
        &self,
        developer: &Developer,
        strategy: &AuthStrategy,
    ) -> std::result::Result<(ApplicationId, String, SecretString), (String, Option<ApplicationId>, bool)> {
        // Konnect registers the client with two Management API requests on the tenant:
        // leave them room, as for a portal application created by the admin API.
        self.auth0.wait_for_headroom(KONNECT_DCR_REQUESTS, HEADROOM_WAIT).await;
        let created = developer
            .client
            .applications()
            .create(
                &NewDeveloperApplication::new(format!("{}{}", crate::owner::VERIFY_NAME_PREFIX, unique_suffix()))
                    .description(crate::owner::VERIFY_DESCRIPTION)
                    .auth_strategy(strategy.id.clone()),
            )
            .await
            .map_err(|e| {
                // A transport failure after sending: Konnect may have created it.
                let lost = matches!(e, konnect_appauth::KonnectError::Transport(_));
                (format!("the portal could not create the application: {e}"), None, lost)
            })?;
        self.auth0.spent_elsewhere(KONNECT_DCR_REQUESTS);
        let id = created.application.id.clone();
        let (Some(client_id), Some(secret)) = (created.application.client_id, created.client_secret) else {
            return Err((
                "the portal returned no client id or secret for the new application".into(),
                Some(id),
                false,
            ));
        };
        Ok((id, client_id, secret))
    }

    /// Registers the application for every API published on the portal with the
    /// strategy (read while the negative check ran); reports the statuses.
    async fn register_for_apis(
        &self,
        developer: &Developer,
        apis: konnect_appauth::Result<Vec<ApiId>>,
        application: &ApplicationId,
        report: &mut VerifyReport,
    ) -> Option<Vec<ApiRegistration>> {
        let apis = match apis {
            Ok(apis) if apis.is_empty() => {
                report.fail(
                    Link::ApiRegistration,
                    "no API is published on the portal with the strategy: run apply",
                );
                return None;
            }
            Ok(apis) => apis,
            Err(e) => {
                report.fail(
                    Link::ApiRegistration,
                    format!("the portal's publications could not be read: {e}"),
                );
                return None;
            }
        };
        let registrations = developer.client.registrations(application);
        let created = futures::future::join_all(apis.iter().map(|api| registrations.create(api))).await;
        let mut done = Vec::new();
        for (api, result) in apis.iter().zip(created) {
            match result {
                Ok(r) => done.push(r),
                Err(e) => {
                    report.fail(Link::ApiRegistration, format!("registering for API {api}: {e}"));
                    return None;
                }
            }
        }
        let statuses: Vec<String> = done.iter().map(|r| format!("{} {}", r.api_name, r.status)).collect();
        report.pass(Link::ApiRegistration, statuses.join(", "));
        Some(done)
    }

    /// The APIs published on `portal` with the workflow's strategy.
    async fn published_apis(&self, portal: &PortalId, strategy: &AuthStrategy) -> konnect_appauth::Result<Vec<ApiId>> {
        use futures::TryStreamExt;
        let listed: Vec<_> = self
            .konnect
            .apis()
            .portal_publications(portal)
            .stream()
            .try_collect()
            .await?;
        Ok(listed
            .into_iter()
            .filter(|p| p.auth_strategy_ids.iter().flatten().any(|id| *id == strategy.id))
            .map(|p| p.api_id)
            .collect())
    }

    /// Approves every pending registration through the admin API (the registration is
    /// the same resource on both sides), and says so.
    async fn approve_pending(
        &self,
        developer: &Developer,
        application: &ApplicationId,
        registrations: &[ApiRegistration],
        report: &mut VerifyReport,
    ) -> bool {
        if let Some(r) = registrations
            .iter()
            .find(|r| !matches!(r.status, RegistrationStatus::Approved | RegistrationStatus::Pending))
        {
            report.fail(
                Link::Approval,
                format!("the registration for {} is {}", r.api_name, r.status),
            );
            return false;
        }
        let admin = self
            .konnect
            .portal_applications(developer.portal.clone())
            .registrations(application);
        let pending: Vec<&ApiRegistration> = registrations
            .iter()
            .filter(|r| r.status == RegistrationStatus::Pending)
            .collect();
        let approved = futures::future::join_all(pending.iter().map(|r| admin.approve(&r.id))).await;
        for (registration, result) in pending.iter().zip(approved) {
            if let Err(e) = result {
                report.fail(
                    Link::Approval,
                    format!(
                        "the registration for {} is pending and the admin API refused to approve it: {e}",
                        registration.api_name
                    ),
                );
                return false;
            }
        }
        report.pass(
            Link::Approval,
            if pending.is_empty() {
                "approved at once (the publication auto-approves)".to_owned()
            } else {
                format!("{} pending; approved through the admin API", pending.len())
            },
        );
        true
    }

    /// One request through the gateway.
    async fn through_gateway(&self, url: &Url, method: Method, c: &Credentials<'_>) -> reqwest::Result<Answer> {
        let request = self.http.get(url.clone());
        let request = match method {
            Method::Basic => request.basic_auth(c.client_id, Some(c.secret.expose_secret())),
            Method::Bearer => request.bearer_auth(c.token.expose_secret()),
        };
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        Ok(Answer { status, body })
    }

    /// A gateway answer once a new approval had time to reach it: a 403 where a success is
    /// expected is asked again, for up to [`GATEWAY_SETTLE`].
    async fn settled_gateway_answer(
        &self,
        url: &Url,
        method: Method,
        c: &Credentials<'_>,
        want_success: bool,
    ) -> reqwest::Result<Answer> {
        let deadline = tokio::time::Instant::now() + GATEWAY_SETTLE;
        loop {
            let answer = self.through_gateway(url, method, c).await?;
            if !want_success || answer.status != 403 || tokio::time::Instant::now() >= deadline {
                return Ok(answer);
            }
            tracing::debug!(status = answer.status, "the gateway does not know of the approval yet");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Deletes the application (a 404 is success: a lost answer's retry finds it gone),
    /// makes sure its Auth0 client went with it, and signs out.
    async fn developer_cleanup(
        &self,
        developer: &Developer,
        application: Option<&ApplicationId>,
        client_id: Option<&str>,
        report: &mut VerifyReport,
    ) {
        let Some(id) = application else {
            let _ = developer.client.sign_out().await;
            report.pass(Link::Cleanup, "nothing was created");
            return;
        };
        // Konnect deletes the application's Auth0 client: one request of its own.
        self.auth0.wait_for_headroom(1, HEADROOM_WAIT).await;
        let deleted = developer.client.applications().delete(id).await;
        let outcome = match deleted {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(format!("the application {id} could not be deleted: {e}")),
        };
        self.auth0.spent_elsewhere(1);
        let confirmed = async {
            match (outcome, client_id) {
                (Err(e), _) => Err(e),
                (Ok(()), None) => Ok("removed"),
                (Ok(()), Some(client_id)) => self.remove_left_client(client_id).await,
            }
        };
        let (outcome, signed_out) = futures::future::join(confirmed, developer.client.sign_out()).await;
        if let Err(e) = signed_out {
            tracing::debug!(error = %e, "signing out failed; the session expires by itself");
        }
        match outcome {
            Ok(how) => report.pass(Link::Cleanup, how),
            Err(e) => report.fail(Link::Cleanup, e),
        }
    }

    /// Deletes the Auth0 client of a deleted application if Konnect left it behind.
    pub(super) async fn remove_left_client(&self, client_id: &str) -> std::result::Result<&'static str, String> {
        let client_id = ClientId::new(client_id.to_owned());
        match self.auth0.clients().get_opt(&client_id).await {
            Ok(None) => Ok("removed"),
            Ok(Some(_)) => match self.auth0.clients().delete(&client_id).await {
                Ok(()) => Ok("removed (Konnect left the Auth0 client behind; verify deleted it)"),
                Err(e) if e.is_not_found() => Ok("removed"),
                Err(e) => Err(format!("the application is removed; its Auth0 client is not: {e}")),
            },
            Err(e) => Err(format!("the application is removed; whether its Auth0 client is: {e}")),
        }
    }
}

/// The signed-in developer.
pub(super) struct Developer {
    client: DeveloperClient,
    email: String,
    portal: PortalId,
}

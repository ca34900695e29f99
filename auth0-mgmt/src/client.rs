//! [`Auth0Client`] and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::header::{ACCEPT, HeaderValue, USER_AGENT};
use reqwest::{Method, RequestBuilder};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use url::Url;

use crate::TokenEndpointAuthMethod;
use crate::error::{Auth0Error, Result};
use crate::ids::{Audience, ClientId};
use crate::oauth::{ClientCredentialsRequest, OAuth, TOKEN, TokenResponse};
use crate::resources::actions::Actions;
use crate::resources::client_grants::ClientGrants;
use crate::resources::clients::Clients;
use crate::resources::resource_servers::ResourceServers;
use crate::secret::{AccessToken, ClientSecret};
use crate::token_cache::{Slot, TokenCache};
use dcr_client_core::{Authorizer, BearerToken, HttpSettings, Operation, RetryConfig, Success, Transport};

const DEFAULT_TOKEN_SKEW: Duration = Duration::from_secs(60);

/// How the client authenticates to the Management API.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credentials {
    /// An M2M application's id and secret; tokens are fetched with client_credentials,
    /// cached and refreshed automatically.
    ClientCredentials {
        /// The application's client id.
        client_id: ClientId,
        /// The application's client secret.
        client_secret: ClientSecret,
    },
    /// A ready Management API token (for example from the dashboard). Never refreshed.
    Token(AccessToken),
}

/// A typed Auth0 Management API v2 client. Cheap to clone; clones share the HTTP
/// connection pool, the token cache and the rate-limit state.
#[derive(Clone)]
pub struct Auth0Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    domain: String,
    base_url: Url,
    audience: Audience,
    auth: Auth,
    tokens: TokenCache,
    timeout: Duration,
    user_agent: HeaderValue,
}

impl fmt::Debug for Auth0Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth0Client")
            .field("domain", &self.inner.domain)
            .field("base_url", &self.inner.base_url.as_str())
            .field("audience", &self.inner.audience)
            .finish_non_exhaustive()
    }
}

impl Auth0Client {
    /// Waits (at most `limit`) until the tenant's rate-limit buckets, as this client's
    /// last answers described them, have room for `requests` requests someone else makes:
    /// Konnect's DCR creates a client and a grant on the same tenant for each developer
    /// application, and on a Free tenant (2 per second) it fails with a 429 when this
    /// client has just spent the bucket.
    pub async fn wait_for_headroom(&self, requests: u64, limit: std::time::Duration) {
        self.inner.transport.wait_for_headroom(requests, limit).await;
    }

    /// Tells the client that someone else sent `requests` Management API requests on the
    /// tenant (Konnect's DCR creates a client and a grant per developer application), so
    /// that it waits for the buckets to refill instead of earning a 429.
    pub fn spent_elsewhere(&self, requests: u64) {
        self.inner.transport.spent_elsewhere(requests);
    }

    /// Whether any answer so far described a rate-limit bucket (a new client knows none).
    pub fn rate_limits_known(&self) -> bool {
        self.inner.transport.rate_limits_known()
    }

    /// Starts building a client.
    ///
    /// ```no_run
    /// # fn run() -> auth0_mgmt::Result<()> {
    /// use auth0_mgmt::{Auth0Client, ClientSecret};
    /// let auth0 = Auth0Client::builder()
    ///     .domain("acme.us.auth0.com")
    ///     .client_credentials("AaiyAPdpYdesoKnqjj8HJqRn4T5titww", ClientSecret::new("…"))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> Auth0ClientBuilder {
        Auth0ClientBuilder::default()
    }

    /// The tenant domain, e.g. `acme.us.auth0.com`.
    pub fn domain(&self) -> &str {
        &self.inner.domain
    }

    /// Where requests go: `https://{domain}/` unless a base URL was set.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The Management API audience tokens are requested for.
    pub fn audience(&self) -> &Audience {
        &self.inner.audience
    }

    /// Applications (`/api/v2/clients`).
    pub fn clients(&self) -> Clients {
        Clients::new(self.clone())
    }

    /// Client grants (`/api/v2/client-grants`).
    pub fn client_grants(&self) -> ClientGrants {
        ClientGrants::new(self.clone())
    }

    /// APIs (`/api/v2/resource-servers`).
    pub fn resource_servers(&self) -> ResourceServers {
        ResourceServers::new(self.clone())
    }

    /// Actions, triggers and their bindings (`/api/v2/actions`).
    pub fn actions(&self) -> Actions {
        Actions::new(self.clone())
    }

    /// The token endpoint (`/oauth/token`).
    pub fn oauth(&self) -> OAuth {
        OAuth::new(self.clone())
    }

    /// `{base}/api/v2/{segments…}`, each segment percent-encoded.
    pub(crate) fn api_url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v2"]).extend(segments);
        }
        url
    }

    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.inner
            .transport
            .http()
            .request(method, url)
            .timeout(self.inner.timeout)
            .header(USER_AGENT, self.inner.user_agent.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
    }

    async fn send(&self, op: &Operation, builder: RequestBuilder) -> Result<Success> {
        let request = builder
            .build()
            .map_err(|e| Auth0Error::invalid("request", e.to_string()))?;
        let auth = ManagementAuth(&self.inner);
        self.inner.transport.send(op, request, Some(&auth)).await
    }

    /// Sends a Management API request and decodes the JSON body.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, op: &Operation, builder: RequestBuilder) -> Result<T> {
        self.send(op, builder).await?.json::<T, Auth0Error>(op)
    }

    /// Sends a Management API request whose success has no useful body.
    pub(crate) async fn send_empty(&self, op: &Operation, builder: RequestBuilder) -> Result<()> {
        self.send(op, builder).await.map(|_| ())
    }

    /// Sends a request to the token endpoint (no bearer token, no caching).
    pub(crate) async fn fetch_token(&self, request: &ClientCredentialsRequest) -> Result<TokenResponse> {
        let mut url = self.inner.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["oauth", "token"]);
        }
        let builder = match request.method() {
            TokenEndpointAuthMethod::ClientSecretPost => self.request(Method::POST, url).json(request),
            TokenEndpointAuthMethod::ClientSecretBasic => {
                let (body, id, secret) = request.basic_parts();
                // reqwest marks the Authorization header sensitive: it is never logged.
                self.request(Method::POST, url).json(&body).basic_auth(id, Some(secret))
            }
            other => {
                return Err(Auth0Error::invalid(
                    "token_endpoint_auth_method",
                    format!(
                        "{other} cannot be used for a client_credentials request: use client_secret_post or client_secret_basic"
                    ),
                ));
            }
        };
        let built = builder
            .build()
            .map_err(|e| Auth0Error::invalid("request", e.to_string()))?;
        let success = self.inner.transport.send::<Auth0Error>(&TOKEN, built, None).await?;
        tracing::debug!(status = success.status.as_u16(), "token fetched");
        success.json::<_, Auth0Error>(&TOKEN)
    }

    /// A cached token for the request's (client, audience).
    pub(crate) async fn cached_token(
        &self,
        request: &ClientCredentialsRequest,
        rejected: Option<&BearerToken>,
    ) -> Result<(BearerToken, bool)> {
        let tokens = &self.inner.tokens;
        let slot = tokens.slot(request.client_id().as_str(), request.audience().as_str());
        tokens.get_or_fetch(&slot, rejected, || self.fetch_token(request)).await
    }
}

/// [`Credentials`] made ready once, at build time, for every request to use.
enum Auth {
    /// A fixed token.
    Static(BearerToken),
    /// The token request for the client's own credentials and its cache slot.
    Fetch {
        request: ClientCredentialsRequest,
        slot: Slot,
    },
}

/// Supplies Management API tokens from the client's credentials.
struct ManagementAuth<'a>(&'a Arc<Inner>);

impl Authorizer<Auth0Error> for ManagementAuth<'_> {
    fn token<'a>(&'a self, rejected: Option<&'a BearerToken>) -> BoxFuture<'a, Result<(BearerToken, bool)>> {
        match &self.0.auth {
            Auth::Static(token) => futures::future::ready(Ok((token.clone(), true))).boxed(),
            Auth::Fetch { request, slot } => async move {
                let client = Auth0Client { inner: self.0.clone() };
                self.0
                    .tokens
                    .get_or_fetch(slot, rejected, || client.fetch_token(request))
                    .await
            }
            .boxed(),
        }
    }

    fn can_refresh(&self) -> bool {
        matches!(self.0.auth, Auth::Fetch { .. })
    }
}

/// Builder for [`Auth0Client`]; every setting is checked in [`Auth0ClientBuilder::build`].
#[derive(Default)]
#[must_use]
pub struct Auth0ClientBuilder {
    domain: Option<String>,
    base_url: Option<String>,
    credentials: Option<Credentials>,
    audience: Option<String>,
    http: HttpSettings,
    token_skew: Option<Duration>,
    token_auth_method: Option<TokenEndpointAuthMethod>,
}

impl fmt::Debug for Auth0ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth0ClientBuilder")
            .field("domain", &self.domain)
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Auth0ClientBuilder {
    /// The tenant domain, e.g. `acme.us.auth0.com` (no scheme, no path). Required.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Send requests here instead of `https://{domain}/`: a proxy, a test server, the
    /// sandbox. Plain `http` is accepted for such uses.
    pub fn base_url(mut self, url: impl AsRef<str>) -> Self {
        self.base_url = Some(url.as_ref().to_owned());
        self
    }

    /// How the client credentials authenticate at the token endpoint: as the application's
    /// `token_endpoint_auth_method` says, `client_secret_post` (default) or
    /// `client_secret_basic`.
    pub fn token_auth_method(mut self, method: TokenEndpointAuthMethod) -> Self {
        self.token_auth_method = Some(method);
        self
    }

    /// Authenticate with an M2M application's client id and secret (client_credentials).
    pub fn client_credentials(
        mut self,
        client_id: impl Into<ClientId>,
        client_secret: impl Into<ClientSecret>,
    ) -> Self {
        self.credentials = Some(Credentials::ClientCredentials {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        });
        self
    }

    /// Authenticate with a ready Management API token.
    pub fn management_token(mut self, token: impl Into<SecretString>) -> Self {
        self.credentials = Some(Credentials::Token(AccessToken::from(token.into())));
        self
    }

    /// Set the credentials from a [`Credentials`] value.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The Management API audience; defaults to `https://{domain}/api/v2/`, which stays
    /// right even when a custom domain serves the token endpoint.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Timeout for each attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = Some(timeout);
        self
    }

    /// Connect timeout for the default HTTP client (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = Some(timeout);
        self
    }

    /// Retry policy (default [`RetryConfig::standard`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.http.retry = Some(retry);
        self
    }

    /// `User-Agent` header (default `auth0-mgmt/{version}`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.http.user_agent = Some(user_agent.into());
        self
    }

    /// Use this `reqwest::Client` (its own TLS, proxy, pool settings). Redirects should be
    /// disabled on it, as they are on the default one.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http.http_client = Some(client);
        self
    }

    /// Refresh a cached token this long before it expires (default 60 s).
    pub fn token_expiry_skew(mut self, skew: Duration) -> Self {
        self.token_skew = Some(skew);
        self
    }

    /// Checks every setting and builds the client. Errors name the setting at fault.
    pub fn build(self) -> Result<Auth0Client> {
        let domain = validate_domain(self.domain.as_deref())?;
        let base_url = match &self.base_url {
            Some(raw) => validate_base_url(raw)?,
            None => {
                Url::parse(&format!("https://{domain}/")).map_err(|e| Auth0Error::config("domain", e.to_string()))?
            }
        };
        let credentials = match self.credentials {
            None => {
                return Err(Auth0Error::config(
                    "credentials",
                    "set client_credentials(..) or management_token(..)",
                ));
            }
            Some(Credentials::ClientCredentials {
                client_id,
                client_secret,
            }) => {
                if client_id.as_str().trim().is_empty() {
                    return Err(Auth0Error::config("client_id", "must not be empty"));
                }
                if client_secret.expose_secret().is_empty() {
                    return Err(Auth0Error::config("client_secret", "must not be empty"));
                }
                Credentials::ClientCredentials {
                    client_id,
                    client_secret,
                }
            }
            Some(Credentials::Token(token)) => {
                if token.expose_secret().trim().is_empty() {
                    return Err(Auth0Error::config("management_token", "must not be empty"));
                }
                Credentials::Token(token)
            }
        };
        let audience = match self.audience {
            Some(a) if a.trim().is_empty() => {
                return Err(Auth0Error::config("audience", "must not be empty"));
            }
            Some(a) => Audience::new(a),
            None => Audience::new(format!("https://{domain}/api/v2/")),
        };
        let http = self
            .http
            .build(concat!("auth0-mgmt/", env!("CARGO_PKG_VERSION")))
            .map_err(|(field, reason)| Auth0Error::config(field, reason))?;
        let tokens = TokenCache::new(self.token_skew.unwrap_or(DEFAULT_TOKEN_SKEW));
        let auth = match credentials {
            Credentials::Token(token) => {
                Auth::Static(BearerToken::new(token.into_secret_string()).ok_or_else(|| {
                    Auth0Error::config("management_token", "contains characters not allowed in a header")
                })?)
            }
            Credentials::ClientCredentials {
                client_id,
                client_secret,
            } => Auth::Fetch {
                slot: tokens.slot(client_id.as_str(), audience.as_str()),
                request: ClientCredentialsRequest::new(client_id, client_secret, audience.clone()).auth_method(
                    self.token_auth_method
                        .unwrap_or(TokenEndpointAuthMethod::ClientSecretPost),
                ),
            },
        };
        Ok(Auth0Client {
            inner: Arc::new(Inner {
                transport: http.transport,
                domain,
                base_url,
                audience,
                auth,
                tokens,
                timeout: http.timeout,
                user_agent: http.user_agent,
            }),
        })
    }
}

fn validate_domain(domain: Option<&str>) -> Result<String> {
    let domain = domain.map(str::trim).unwrap_or_default();
    if domain.is_empty() {
        return Err(Auth0Error::config("domain", "required, e.g. `acme.us.auth0.com`"));
    }
    if domain.contains("://") {
        return Err(Auth0Error::config("domain", "give the host only, without `https://`"));
    }
    if domain.contains('/') {
        return Err(Auth0Error::config(
            "domain",
            "give the host only, without a path or trailing slash",
        ));
    }
    let parsed = Url::parse(&format!("https://{domain}/"))
        .map_err(|e| Auth0Error::config("domain", format!("not a valid host: {e}")))?;
    if parsed.host_str().is_none() || parsed.query().is_some() || !parsed.username().is_empty() {
        return Err(Auth0Error::config("domain", "not a valid host"));
    }
    Ok(domain.to_ascii_lowercase())
}

fn validate_base_url(raw: &str) -> Result<Url> {
    let mut url = Url::parse(raw.trim()).map_err(|e| Auth0Error::config("base_url", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Auth0Error::config(
            "base_url",
            "scheme must be https (or http for local tests)",
        ));
    }
    if url.host_str().is_none() {
        return Err(Auth0Error::config("base_url", "must have a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Auth0Error::config("base_url", "must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Auth0ClientBuilder {
        Auth0Client::builder()
            .domain("acme.us.auth0.com")
            .client_credentials("abc", ClientSecret::new("shh"))
    }

    fn field_of(result: Result<Auth0Client>) -> &'static str {
        match result {
            Err(Auth0Error::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_follow_the_domain() {
        let client = base().build().unwrap();
        assert_eq!(client.base_url().as_str(), "https://acme.us.auth0.com/");
        assert_eq!(client.audience().as_str(), "https://acme.us.auth0.com/api/v2/");
        assert_eq!(
            client.api_url(&["clients", "a/b"]).as_str(),
            "https://acme.us.auth0.com/api/v2/clients/a%2Fb"
        );
    }

    #[test]
    fn a_base_url_path_prefix_is_kept() {
        let client = base().base_url("https://proxy.internal/auth0").build().unwrap();
        assert_eq!(
            client.api_url(&["clients"]).as_str(),
            "https://proxy.internal/auth0/api/v2/clients"
        );
        assert_eq!(
            client.audience().as_str(),
            "https://acme.us.auth0.com/api/v2/",
            "the tenant's audience"
        );
    }

    #[test]
    fn every_bad_setting_names_its_field() {
        assert_eq!(
            field_of(
                Auth0Client::builder()
                    .client_credentials("a", ClientSecret::new("b"))
                    .build()
            ),
            "domain"
        );
        assert_eq!(field_of(base().domain("https://acme.auth0.com").build()), "domain");
        assert_eq!(field_of(base().domain("acme.auth0.com/").build()), "domain");
        assert_eq!(field_of(base().domain("bad host").build()), "domain");
        assert_eq!(
            field_of(Auth0Client::builder().domain("a.auth0.com").build()),
            "credentials"
        );
        assert_eq!(
            field_of(base().client_credentials("", ClientSecret::new("x")).build()),
            "client_id"
        );
        assert_eq!(
            field_of(base().client_credentials("id", ClientSecret::new("")).build()),
            "client_secret"
        );
        assert_eq!(
            field_of(base().management_token(SecretString::from(" ")).build()),
            "management_token"
        );
        assert_eq!(field_of(base().base_url("ftp://x").build()), "base_url");
        assert_eq!(field_of(base().base_url("not a url").build()), "base_url");
        assert_eq!(field_of(base().audience("").build()), "audience");
        assert_eq!(field_of(base().timeout(Duration::ZERO).build()), "timeout");
        assert_eq!(field_of(base().user_agent("bad\nagent").build()), "user_agent");
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let builder = Auth0Client::builder()
            .domain("acme.us.auth0.com")
            .client_credentials("abc", ClientSecret::new("very-secret-value"));
        let text = format!("{builder:?}");
        assert!(!text.contains("very-secret-value"), "{text}");
        let client = builder.build().unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("very-secret-value"), "{text}");
        let token = Credentials::Token(AccessToken::new("tok-value"));
        assert!(!format!("{token:?}").contains("tok-value"));
    }
}

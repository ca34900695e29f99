//! The client, its builder, and the glue from handlers to the shared transport.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dcr_client_core::{Authorizer, BearerToken, HttpSettings, Operation, RetryConfig, Success, Transport};
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::header::{ACCEPT, HeaderValue, USER_AGENT};
use reqwest::{Method, RequestBuilder};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{KonnectError, Result};
use crate::ids::PortalId;
use crate::region::Region;
use crate::resources::apis::Apis;
use crate::resources::auth_strategies::AuthStrategies;
use crate::resources::dcr_providers::DcrProviders;
use crate::resources::portal_applications::PortalApplications;

/// A typed Konnect client for DCR providers, application auth strategies, API publication
/// and portal applications. Cheap to clone; clones share the connection pool and the
/// rate-limit state.
#[derive(Clone)]
pub struct KonnectClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    base_url: Url,
    auth: Auth,
    timeout: Duration,
    user_agent: HeaderValue,
}

/// How requests are authorized: the organization's token (admin API), or a developer's
/// portal session (the developer API on a portal's own domain).
pub(crate) enum Auth {
    Token(BearerToken),
    Developer(Arc<crate::developer::session::Session>),
}

impl fmt::Debug for KonnectClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonnectClient")
            .field("base_url", &self.inner.base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// The personal or system-account token, sent as `Authorization: Bearer`.
struct StaticToken<'a>(&'a BearerToken);

impl Authorizer<KonnectError> for StaticToken<'_> {
    fn token<'a>(&'a self, _rejected: Option<&'a BearerToken>) -> BoxFuture<'a, Result<(BearerToken, bool)>> {
        futures::future::ready(Ok((self.0.clone(), true))).boxed()
    }

    fn can_refresh(&self) -> bool {
        false
    }
}

impl KonnectClient {
    /// Starts building a client.
    ///
    /// ```no_run
    /// # fn run() -> konnect_appauth::Result<()> {
    /// use konnect_appauth::{KonnectClient, Region};
    /// let konnect = KonnectClient::builder()
    ///     .region(Region::Eu)
    ///     .token(std::env::var("KONNECT_TOKEN").unwrap_or_default())
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> KonnectClientBuilder {
        KonnectClientBuilder::default()
    }

    /// Where requests go, e.g. `https://eu.api.konghq.com/`.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// DCR providers (`/v2/dcr-providers`).
    pub fn dcr_providers(&self) -> DcrProviders {
        DcrProviders::new(self.clone())
    }

    /// Application auth strategies (`/v2/application-auth-strategies`).
    pub fn auth_strategies(&self) -> AuthStrategies {
        AuthStrategies::new(self.clone())
    }

    /// APIs and their portal publications (`/v3/apis`).
    pub fn apis(&self) -> Apis {
        Apis::new(self.clone())
    }

    /// Classic (v2) portals: API products, their versions, and their publication as
    /// portal product versions (`/v2/api-products`, `/v2/portals/{portalId}/product-versions`).
    pub fn api_products(&self) -> crate::resources::api_products::ApiProducts {
        crate::resources::api_products::ApiProducts::new(self.clone())
    }

    /// Portals (`/v3/portals/{portalId}`).
    pub fn portals(&self) -> crate::resources::portals::Portals {
        crate::resources::portals::Portals::new(self.clone())
    }

    /// Applications of one portal (`/v3/portals/{portalId}/applications`).
    pub fn portal_applications(&self, portal: impl Into<PortalId>) -> PortalApplications {
        PortalApplications::new(self.clone(), portal.into())
    }

    /// `{base}/{segments…}`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    pub(crate) fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.inner
            .transport
            .http()
            .request(method, self.url(segments))
            .timeout(self.inner.timeout)
            .header(USER_AGENT, self.inner.user_agent.clone())
            .header(
                ACCEPT,
                HeaderValue::from_static("application/json, application/problem+json"),
            )
    }

    async fn send(&self, op: &Operation, builder: RequestBuilder) -> Result<Success> {
        let request = builder
            .build()
            .map_err(|e| KonnectError::invalid("request", e.to_string()))?;
        match &self.inner.auth {
            Auth::Token(token) => self.inner.transport.send(op, request, Some(&StaticToken(token))).await,
            Auth::Developer(session) => {
                let auth = session.authorizer(self);
                self.inner.transport.send(op, request, Some(&auth)).await
            }
        }
    }

    /// Sends a request without authorization (signing in), keeping what the transport
    /// returns, headers included when `op` keeps them.
    pub(crate) async fn send_anonymous(&self, op: &Operation, builder: RequestBuilder) -> Result<Success> {
        let request = builder
            .build()
            .map_err(|e| KonnectError::invalid("request", e.to_string()))?;
        self.inner.transport.send(op, request, None).await
    }

    /// A client for `base_url` with `auth` and the checked HTTP settings.
    pub(crate) fn assemble(base: &str, auth: Auth, http: HttpSettings, field: &'static str) -> Result<Self> {
        let base_url = Url::parse(base).map_err(|e| KonnectError::config(field, format!("not a URL: {e}")))?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(KonnectError::config(field, "must be an http(s) URL"));
        }
        let http = http
            .build(concat!("konnect-appauth/", env!("CARGO_PKG_VERSION")))
            .map_err(|(field, reason)| KonnectError::config(field, reason))?;
        Ok(KonnectClient {
            inner: Arc::new(Inner {
                transport: http.transport,
                base_url,
                auth,
                timeout: http.timeout,
                user_agent: http.user_agent,
            }),
        })
    }

    /// Sends `op` to the path made of `segments` (with `body` as JSON, if any) and decodes
    /// the answer: what every handler method does.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        op: &Operation,
        segments: &[&str],
        body: Option<&(dyn erased::Body + Sync)>,
    ) -> Result<T> {
        let builder = self.with_body(self.request(op.method.clone(), segments), body)?;
        self.send_json(op, builder).await
    }

    /// The same for an answer without a useful body (204).
    pub(crate) async fn call_empty(&self, op: &Operation, segments: &[&str]) -> Result<()> {
        let builder = self.request(op.method.clone(), segments);
        self.send_empty(op, builder).await
    }

    fn with_body(&self, builder: RequestBuilder, body: Option<&(dyn erased::Body + Sync)>) -> Result<RequestBuilder> {
        let Some(body) = body else { return Ok(builder) };
        let bytes = body
            .to_json()
            .map_err(|e| KonnectError::invalid("body", format!("cannot be encoded: {e}")))?;
        Ok(builder
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(bytes))
    }

    /// Sends a request and decodes the JSON body.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, op: &Operation, builder: RequestBuilder) -> Result<T> {
        self.send(op, builder).await?.json::<T, KonnectError>(op)
    }

    /// Sends a request whose success has no useful body.
    pub(crate) async fn send_empty(&self, op: &Operation, builder: RequestBuilder) -> Result<()> {
        self.send(op, builder).await.map(|_| ())
    }
}

/// Request bodies behind one object-safe trait, so `call` need not be generic over them.
pub(crate) mod erased {
    /// A request body that encodes itself as JSON.
    pub(crate) trait Body {
        fn to_json(&self) -> serde_json::Result<Vec<u8>>;
    }

    impl<T: serde::Serialize> Body for T {
        fn to_json(&self) -> serde_json::Result<Vec<u8>> {
            serde_json::to_vec(self)
        }
    }
}

/// Builder for [`KonnectClient`]; every setting is checked in [`KonnectClientBuilder::build`].
#[derive(Default)]
#[must_use]
pub struct KonnectClientBuilder {
    region: Option<Region>,
    base_url: Option<String>,
    token: Option<SecretString>,
    http: HttpSettings,
}

impl fmt::Debug for KonnectClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonnectClientBuilder")
            .field("region", &self.region)
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl KonnectClientBuilder {
    /// The Konnect region (default `us`): `https://{region}.api.konghq.com`.
    pub fn region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// A base URL instead of a region (a proxy, a sandbox); it wins over [`Self::region`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// A personal access token (`kpat_…`) or a system account token (`spat_…`).
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Timeout of each attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = Some(timeout);
        self
    }

    /// Connect timeout (default 10 s); ignored with [`Self::http_client`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.http.connect_timeout = Some(timeout);
        self
    }

    /// Retry policy (default [`RetryConfig::standard`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.http.retry = Some(retry);
        self
    }

    /// `User-Agent` header (default `konnect-appauth/{version}`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.http.user_agent = Some(agent.into());
        self
    }

    /// A preconfigured reqwest client (proxies, custom roots).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http.http_client = Some(client);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<KonnectClient> {
        let token = self
            .token
            .ok_or_else(|| KonnectError::config("token", "a Konnect token (kpat_… or spat_…) is required"))?;
        let raw = token.expose_secret();
        if raw.trim().is_empty() {
            return Err(KonnectError::config("token", "must not be empty"));
        }
        let bearer = BearerToken::new(token.clone()).filter(|_| raw.trim() == raw);
        let Some(token) = bearer else {
            return Err(KonnectError::config(
                "token",
                "contains whitespace or characters not allowed in a header",
            ));
        };
        let base = match self.base_url {
            Some(url) => url,
            None => self.region.unwrap_or(Region::Us).base_url(),
        };
        KonnectClient::assemble(&base, Auth::Token(token), self.http, "base_url")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_field(result: Result<KonnectClient>) -> String {
        match result {
            Err(KonnectError::Config { field, reason }) => format!("{field}: {reason}"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn both_token_kinds_are_accepted_and_bad_ones_named() {
        for token in ["kpat_abc123", "spat_abc123"] {
            let client = KonnectClient::builder().region(Region::Eu).token(token).build();
            assert_eq!(
                client.map(|c| c.base_url().to_string()).ok().as_deref(),
                Some("https://eu.api.konghq.com/")
            );
        }
        assert!(config_field(KonnectClient::builder().build()).starts_with("token:"));
        assert!(config_field(KonnectClient::builder().token("").build()).starts_with("token: must not be empty"));
        assert!(config_field(KonnectClient::builder().token("kpat_a b\n").build()).starts_with("token:"));
        assert!(
            config_field(KonnectClient::builder().token("kpat_x").base_url("ftp://x").build()).starts_with("base_url")
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let builder = KonnectClient::builder().token("kpat_supersecret");
        let client = KonnectClient::builder().token("kpat_supersecret").build();
        let text = format!("{builder:?} {client:?}");
        assert!(!text.contains("supersecret"), "{text}");
    }

    #[test]
    fn urls_keep_a_base_path_and_encode_segments() {
        let client = KonnectClient::builder()
            .base_url("http://127.0.0.1:9/proxy/")
            .token("kpat_x")
            .build();
        let url = client.map(|c| c.url(&["v2", "dcr-providers", "a/b"]).to_string());
        assert_eq!(
            url.ok().as_deref(),
            Some("http://127.0.0.1:9/proxy/v2/dcr-providers/a%2Fb")
        );
    }
}

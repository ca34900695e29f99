//! The Authentication API's token endpoint (`POST /oauth/token`, client_credentials grant).

use serde::{Deserialize, Serialize};

use crate::TokenEndpointAuthMethod;
use crate::client::Auth0Client;
use crate::error::Result;
use crate::ids::{Audience, ClientId};
use crate::secret::{AccessToken, ClientSecret};
use dcr_client_core::Operation;

/// The token endpoint (Authentication API, not the Management API document).
pub static TOKEN: Operation = Operation::new(reqwest::Method::POST, "/oauth/token");

/// A client_credentials token request.
#[derive(Clone, Debug, Serialize)]
pub struct ClientCredentialsRequest {
    grant_type: &'static str,
    client_id: ClientId,
    client_secret: ClientSecret,
    audience: Audience,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    /// How the client authenticates: in the body (default) or with HTTP Basic.
    #[serde(skip)]
    auth_method: TokenEndpointAuthMethod,
}

/// The body of a token request whose client authenticates with HTTP Basic: no
/// credentials in it (RFC 6749 §2.3.1 forbids using two methods at once).
#[derive(Serialize)]
pub(crate) struct BasicBody<'a> {
    grant_type: &'static str,
    audience: &'a Audience,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

impl ClientCredentialsRequest {
    /// Asks for a token for `audience` on behalf of `client_id`.
    pub fn new(client_id: impl Into<ClientId>, client_secret: ClientSecret, audience: impl Into<Audience>) -> Self {
        ClientCredentialsRequest {
            grant_type: "client_credentials",
            client_id: client_id.into(),
            client_secret,
            audience: audience.into(),
            scope: None,
            auth_method: TokenEndpointAuthMethod::ClientSecretPost,
        }
    }

    /// How the client authenticates at the token endpoint, as its
    /// `token_endpoint_auth_method` says: `client_secret_post` (the default) or
    /// `client_secret_basic` (`Authorization: Basic`, RFC 6749 §2.3.1). Any other method is
    /// refused when the request is sent.
    pub fn auth_method(mut self, method: TokenEndpointAuthMethod) -> Self {
        self.auth_method = method;
        self
    }

    /// The authentication method this request uses.
    pub fn method(&self) -> &TokenEndpointAuthMethod {
        &self.auth_method
    }

    /// The parts a Basic-authenticated request sends: the body without credentials, and
    /// the id and secret, form-encoded as RFC 6749 §2.3.1 asks before base64.
    pub(crate) fn basic_parts(&self) -> (BasicBody<'_>, String, String) {
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        (
            BasicBody {
                grant_type: self.grant_type,
                audience: &self.audience,
                scope: self.scope.as_deref(),
            },
            encode(self.client_id.as_str()),
            encode(self.client_secret.expose_secret()),
        )
    }

    /// Restricts the token to these scopes (by default: every scope the client's grant has).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = scopes
            .into_iter()
            .map(|s| s.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(" ");
        self.scope = Some(joined);
        self
    }

    /// The client the token is for.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The audience the token is for.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }
}

/// What `/oauth/token` returns.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The token; redacted in `Debug`.
    pub access_token: AccessToken,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// Always `Bearer` for client_credentials.
    pub token_type: String,
    /// Space-separated scopes the token carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl TokenResponse {
    /// The scopes as a list.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope
            .as_deref()
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default()
    }
}

/// Handler for the token endpoint. Obtain it with [`Auth0Client::oauth`].
#[derive(Clone, Debug)]
pub struct OAuth {
    client: Auth0Client,
}

impl OAuth {
    pub(crate) fn new(client: Auth0Client) -> Self {
        OAuth { client }
    }

    /// Fetches a new token with the client_credentials grant. Every call costs one M2M
    /// token on the tenant's monthly quota: prefer [`OAuth::client_credentials_cached`].
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client, secret: auth0_mgmt::ClientSecret) -> auth0_mgmt::Result<()> {
    /// use auth0_mgmt::oauth::ClientCredentialsRequest;
    /// let req = ClientCredentialsRequest::new("AaiyAPdpYdesoKnqjj8HJqRn4T5titww", secret, "https://api.example.com");
    /// let token = auth0.oauth().client_credentials(&req).await?;
    /// println!("expires in {} s, scopes {:?}", token.expires_in, token.scopes());
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all, fields(client_id = %request.client_id, audience = %request.audience))]
    pub async fn client_credentials(&self, request: &ClientCredentialsRequest) -> Result<TokenResponse> {
        self.client.fetch_token(request).await
    }

    /// Like [`OAuth::client_credentials`], but reuses a cached token for the same
    /// (client, audience) until shortly before it expires; concurrent callers share one fetch.
    pub async fn client_credentials_cached(&self, request: &ClientCredentialsRequest) -> Result<AccessToken> {
        self.client
            .cached_token(request, None)
            .await
            .map(|(token, _)| AccessToken::from(token.secret().clone()))
    }
}

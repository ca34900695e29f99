//! The HTTP settings every client builder takes, checked once and turned into a transport.

use std::time::Duration;

use reqwest::header::HeaderValue;

use crate::retry::RetryConfig;
use crate::transport::Transport;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Timeouts, retry policy, user agent and an optional preconfigured reqwest client.
#[derive(Clone, Debug, Default)]
pub struct HttpSettings {
    /// Timeout of each attempt (default 30 s).
    pub timeout: Option<Duration>,
    /// Connect timeout of the default HTTP client (default 10 s).
    pub connect_timeout: Option<Duration>,
    /// Retry policy (default [`RetryConfig::standard`]).
    pub retry: Option<RetryConfig>,
    /// `User-Agent` header (default: the crate's name and version).
    pub user_agent: Option<String>,
    /// A preconfigured client (proxies, roots, pool); redirects should be off on it.
    pub http_client: Option<reqwest::Client>,
}

/// What [`HttpSettings::build`] makes.
#[derive(Debug)]
pub struct HttpParts {
    /// The transport to send through.
    pub transport: Transport,
    /// Timeout of each attempt.
    pub timeout: Duration,
    /// The `User-Agent` value.
    pub user_agent: HeaderValue,
}

impl HttpSettings {
    /// Checks the settings; an error names the setting at fault and why.
    pub fn build(self, default_user_agent: &str) -> Result<HttpParts, (&'static str, String)> {
        let timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        if timeout.is_zero() {
            return Err(("timeout", "must be greater than zero".to_owned()));
        }
        let connect_timeout = self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        if connect_timeout.is_zero() {
            return Err(("connect_timeout", "must be greater than zero".to_owned()));
        }
        let user_agent = self.user_agent.unwrap_or_else(|| default_user_agent.to_owned());
        let user_agent =
            HeaderValue::try_from(user_agent).map_err(|_| ("user_agent", "not a valid header value".to_owned()))?;
        let http = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(connect_timeout)
                .build()
                .map_err(|e| ("http_client", e.to_string()))?,
        };
        Ok(HttpParts {
            transport: Transport::new(http, self.retry.unwrap_or_default()),
            timeout,
            user_agent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let zero = HttpSettings {
            timeout: Some(Duration::ZERO),
            ..HttpSettings::default()
        };
        assert_eq!(zero.build("x/1").err().map(|e| e.0), Some("timeout"));
        let agent = HttpSettings {
            user_agent: Some("bad\nagent".into()),
            ..HttpSettings::default()
        };
        assert_eq!(agent.build("x/1").err().map(|e| e.0), Some("user_agent"));
        let parts = HttpSettings::default().build("x/1").ok();
        assert_eq!(parts.map(|p| p.timeout), Some(DEFAULT_TIMEOUT));
    }
}

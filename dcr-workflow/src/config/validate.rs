//! Every rule the configuration must meet, checked before any request.

use std::collections::BTreeSet;

use konnect_appauth::{KonnectError, Region};
use secrecy::ExposeSecret;

use super::{DcrConfig, KNOWN_AUTH_METHODS};
use crate::error::{ConfigProblem, ConfigProblems};
use crate::{Result, WorkflowError, owner};

/// Longest audience: it is recorded as a `client_metadata` value (Auth0 allows 255).
const MAX_AUDIENCE: usize = 255;
/// Labels per Konnect resource (`Labels.maxProperties`), the workflow's mark included.
const MAX_LABELS: usize = 50;
/// `DcrProviderName`, `AuthStrategyName` and `AuthStrategyDisplayName` (`maxLength`).
const MAX_KONNECT_NAME: usize = 256;
/// `ResourceServerScope.value` and `.description` (`maxLength`).
const MAX_SCOPE_VALUE: usize = 280;
const MAX_SCOPE_DESCRIPTION: usize = 500;
/// An API Builder API's `name` (`CreateApiRequest`, `maxLength`).
const MAX_KONNECT_API_NAME: usize = 255;
/// A classic API product's `name` (`CreateAPIProductDTO`, `maxLength`).
const MAX_PRODUCT_NAME: usize = 100;
/// The resource server's `name` (`CreateResourceServerRequestContent`, `maxLength`).
const MAX_API_NAME: usize = 200;

#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(ConfigProblem {
            field: field.into(),
            reason: reason.into(),
        });
    }

    fn required(&mut self, field: &str, value: &str) -> bool {
        if value.trim().is_empty() {
            self.add(field, "is required");
            return false;
        }
        true
    }

    /// Takes a Konnect client rule's verdict, keeping our field name.
    fn konnect(&mut self, field: &str, verdict: konnect_appauth::Result<()>) {
        if let Err(KonnectError::InvalidInput { reason, .. }) = verdict {
            self.add(field, reason);
        } else if let Err(other) = verdict {
            self.add(field, other.to_string());
        }
    }

    fn at_most(&mut self, field: &str, value: &str, max: usize) {
        let chars = value.chars().count();
        if chars > max {
            self.add(field, format!("at most {max} characters (it has {chars})"));
        }
    }

    fn host(&mut self, field: &str, value: &str) {
        if value.contains("://") {
            self.add(field, "a host name without a scheme, e.g. acme.eu.auth0.com");
        } else if value.ends_with('/') {
            self.add(
                field,
                "must not end with `/`: the issuer Konnect compares is https://{domain} without a trailing slash",
            );
        } else if value.contains('/') || value.contains(char::is_whitespace) {
            self.add(field, "a host name only (no path, no spaces)");
        }
    }
}

impl DcrConfig {
    /// Checks everything that can be checked without a request. Every problem is
    /// reported at once ([`WorkflowError::Config`]), each naming its field.
    pub fn validate(&self) -> Result<()> {
        self.validate_with(true, true)
    }

    /// The checks of what connects to the services (`auth0.*` and `konnect.region`,
    /// `base_url`, `token`) alone: what [`import`](crate::import) needs.
    pub(crate) fn validate_connection(&self) -> Result<()> {
        match self.validate() {
            Err(WorkflowError::Config { problems }) => {
                let connection: Vec<ConfigProblem> = problems
                    .0
                    .into_iter()
                    .filter(|p| {
                        p.field.starts_with("auth0.")
                            || ["konnect.region", "konnect.base_url", "konnect.token"].contains(&p.field.as_str())
                    })
                    .collect();
                if connection.is_empty() {
                    Ok(())
                } else {
                    Err(WorkflowError::Config {
                        problems: ConfigProblems(connection),
                    })
                }
            }
            other => other,
        }
    }

    /// [`validate`](Self::validate), skipping the credential checks of a service whose
    /// client the caller builds itself.
    pub(crate) fn validate_with(&self, auth0_credentials: bool, konnect_credentials: bool) -> Result<()> {
        let mut p = Problems::default();
        self.check_auth0(&mut p, auth0_credentials);
        self.check_api(&mut p);
        self.check_konnect(&mut p, konnect_credentials);
        self.check_naming(&mut p);
        if self.labels.len() >= MAX_LABELS {
            p.add(
                "labels",
                format!(
                    "at most {} labels: Konnect allows {MAX_LABELS} per resource and the workflow adds its own {} mark",
                    MAX_LABELS - 1,
                    owner::LABEL_KEY
                ),
            );
        }
        for (key, value) in &self.labels {
            if key == owner::LABEL_KEY {
                p.add(format!("labels.{key}"), "is reserved for the workflow's ownership mark");
            } else {
                p.konnect(&format!("labels.{key}"), konnect_appauth::check_label(key, value));
            }
        }
        if p.0.is_empty() {
            Ok(())
        } else {
            Err(WorkflowError::Config {
                problems: ConfigProblems(p.0),
            })
        }
    }

    fn check_naming(&self, p: &mut Problems) {
        let n = &self.naming;
        let template = match n.template.as_deref() {
            Some(text) => match crate::naming::NameTemplate::parse(text) {
                Ok(t) => Some(t),
                Err(reason) => {
                    p.add("naming.template", reason);
                    None
                }
            },
            None => None,
        };
        if !n.action {
            return;
        }
        match &template {
            None if n.template.is_none() => p.add("naming.action", "needs naming.template: the name the Action gives"),
            Some(t) if t.uses_application_name() => p.add(
                "naming.template",
                "uses {application_name}, which the Action cannot know (Auth0 has only the name it renames): \
                 use ids only, or leave naming.action off and run dcr rename",
            ),
            _ => {}
        }
        p.required("naming.action_name", &n.action_name);
    }

    fn check_auth0(&self, p: &mut Problems, credentials: bool) {
        let a = &self.auth0;
        if p.required("auth0.domain", &a.domain) {
            p.host("auth0.domain", &a.domain);
        }
        if let Some(custom) = &a.custom_domain {
            p.host("auth0.custom_domain", custom);
        }
        if p.0.is_empty() {
            p.konnect(
                "auth0.domain",
                konnect_appauth::check_auth0_issuer("auth0.domain", &self.issuer()),
            );
        }
        if let Some(url) = &a.base_url {
            p.konnect("auth0.base_url", konnect_appauth::check_url("auth0.base_url", url));
        }
        let has_secret = a.client_secret.as_ref().is_some_and(|s| !s.expose_secret().is_empty());
        let has_token = a
            .management_token
            .as_ref()
            .is_some_and(|s| !s.expose_secret().is_empty());
        match (a.client_id.as_deref(), has_secret, has_token) {
            _ if !credentials => {}
            (Some(_), true, false) | (None, false, true) => {}
            (Some(_), false, false) => p.add("auth0.client_secret", "is required with auth0.client_id"),
            (None, true, false) => p.add("auth0.client_id", "is required with auth0.client_secret"),
            (None, false, false) => p.add(
                "auth0.client_id",
                "bootstrap credentials are required: auth0.client_id + auth0.client_secret, or auth0.management_token",
            ),
            (_, _, true) => p.add(
                "auth0.management_token",
                "set either a management token or bootstrap client credentials, not both",
            ),
        }
        if let Some(plan) = &a.plan
            && !["free", "essentials", "professional", "enterprise"].contains(&plan.as_str())
        {
            p.add("auth0.plan", "one of free, essentials, professional, enterprise");
        }
        if p.required("auth0.admin_app_name", &a.admin_app_name) && a.admin_app_name.contains(['<', '>']) {
            // `CreateClientRequestContent.name`: pattern ^[^<>]+$.
            p.add("auth0.admin_app_name", "must not contain < or >");
        }
    }

    fn check_api(&self, p: &mut Problems) {
        let api = &self.api;
        if p.required("api.audience", &api.audience) && api.audience.len() > MAX_AUDIENCE {
            p.add(
                "api.audience",
                format!("at most {MAX_AUDIENCE} characters (it is recorded in the admin application's metadata)"),
            );
        }
        p.required("api.name", &api.name);
        p.at_most("api.name", &api.name, MAX_API_NAME);
        let mut seen = BTreeSet::new();
        for (i, scope) in api.scopes.iter().enumerate() {
            let field = format!("api.scopes[{i}].value");
            if scope.value.is_empty() || scope.value.contains(char::is_whitespace) {
                p.add(field, "a scope is one word without spaces, e.g. read:orders");
            } else if !seen.insert(scope.value.as_str()) {
                p.add(field, format!("{:?} appears twice", scope.value));
            } else {
                p.at_most(&field, &scope.value, MAX_SCOPE_VALUE);
            }
            if let Some(description) = &scope.description {
                p.at_most(
                    &format!("api.scopes[{i}].description"),
                    description,
                    MAX_SCOPE_DESCRIPTION,
                );
            }
        }
    }

    fn check_konnect(&self, p: &mut Problems, credentials: bool) {
        let k = &self.konnect;
        match (&k.region, &k.base_url) {
            (Some(_), Some(_)) => p.add("konnect.base_url", "set konnect.region or konnect.base_url, not both"),
            (Some(region), None) => {
                if let Err(e) = region.parse::<Region>() {
                    p.konnect("konnect.region", Err(e));
                }
            }
            (None, Some(url)) => p.konnect("konnect.base_url", konnect_appauth::check_url("konnect.base_url", url)),
            (None, None) => {}
        }
        if credentials && k.token.as_ref().is_none_or(|t| t.expose_secret().is_empty()) {
            p.add("konnect.token", "is required (a kpat_… or spat_… token)");
        }
        if !k.publications.is_empty() && (!k.portal_id.is_empty() || k.api_id.is_some() || k.api_name.is_some()) {
            p.add(
                "konnect.publications",
                "set either [[konnect.publications]] or konnect.portal_id with api_id/api_name, not both \
                 (the single keys are one entry of the list)",
            );
        }
        if !["public", "private"].contains(&k.visibility.as_str()) {
            p.add("konnect.visibility", "public or private");
        }
        match (&k.developer_email, &k.developer_password) {
            (Some(email), _) if !email.contains('@') || email.trim() != email => {
                p.add("konnect.developer_email", "must be an email address");
            }
            (Some(_), None) => p.add(
                "konnect.developer_password",
                "is required with konnect.developer_email (set DCR_KONNECT_DEVELOPER_PASSWORD)",
            ),
            (None, Some(_)) => p.add(
                "konnect.developer_email",
                "is required with konnect.developer_password (whose account is it?)",
            ),
            (Some(_), Some(password)) if password.expose_secret().is_empty() => {
                p.add("konnect.developer_password", "must not be empty");
            }
            _ => {}
        }
        for (field, url) in [
            ("konnect.portal_url", &k.portal_url),
            ("konnect.gateway_url", &k.gateway_url),
        ] {
            if let Some(url) = url {
                p.konnect(field, konnect_appauth::check_url(field, url));
            }
        }
        let mut seen: Vec<(String, String, usize)> = Vec::new();
        for (i, entry) in self.publications().iter().enumerate() {
            let field = |name: &str| self.publication_field(i, name);
            p.required(&field("portal_id"), &entry.portal_id);
            if entry.is_classic() {
                if entry.visibility.is_some() {
                    p.add(
                        field("visibility"),
                        "a classic portal has no per-API visibility: remove it from this entry",
                    );
                }
                if entry.product_version().trim().is_empty() {
                    p.add(field("product_version"), "must not be empty");
                }
            } else if !k.publications.is_empty() && !["public", "private"].contains(&entry.visibility()) {
                p.add(field("visibility"), "public or private");
            }
            if entry.product_version.is_some() && !entry.is_classic() {
                p.add(
                    field("product_version"),
                    "only with api_product_name or api_product_id (a classic portal)",
                );
            }
            let named: Vec<(&str, &String)> = [
                ("api_id", &entry.api_id),
                ("api_name", &entry.api_name),
                ("api_product_id", &entry.api_product_id),
                ("api_product_name", &entry.api_product_name),
            ]
            .into_iter()
            .filter_map(|(f, v)| v.as_ref().map(|v| (f, v)))
            .collect();
            match named.as_slice() {
                [] => p.add(
                    field("api_name"),
                    "the API to publish is required: api_id or api_name (api_product_id or api_product_name on a \
                     classic portal)",
                ),
                [(f, value)] => {
                    if p.required(&field(f), value) {
                        let max = if f.starts_with("api_product") {
                            MAX_PRODUCT_NAME
                        } else {
                            MAX_KONNECT_API_NAME
                        };
                        p.at_most(&field(f), value, max);
                    }
                }
                [_, (second, _), ..] => p.add(
                    field(second),
                    format!(
                        "set one of {}, not several",
                        named.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
                    ),
                ),
            }
            let pair = (entry.portal_id.clone(), entry.api_key().to_owned());
            if let Some((_, _, first)) = seen.iter().find(|(portal, api, _)| (portal, api) == (&pair.0, &pair.1)) {
                p.add(
                    format!("konnect.publications[{i}]"),
                    format!(
                        "publishes {:?} on portal {} again (konnect.publications[{first}] does already)",
                        pair.1, pair.0
                    ),
                );
            } else {
                seen.push((pair.0, pair.1, i));
            }
        }
        for (field, value) in [
            ("konnect.provider_name", &k.provider_name),
            ("konnect.strategy_name", &k.strategy_name),
            ("konnect.strategy_display_name", &k.strategy_display_name),
        ] {
            if p.required(field, value) {
                p.at_most(field, value, MAX_KONNECT_NAME);
            }
        }
        if !self.strategy_scopes().iter().any(|s| s == "openid") {
            p.add("konnect.scopes", "must include `openid`");
        }
        if k.credential_claim.is_empty() {
            p.add(
                "konnect.credential_claim",
                "at least one claim (Auth0 puts the client id in `azp`)",
            );
        }
        if k.auth_methods.is_empty() {
            p.add("konnect.auth_methods", "at least one auth method");
        }
        for (i, method) in k.auth_methods.iter().enumerate() {
            if !KNOWN_AUTH_METHODS.contains(&method.as_str()) {
                p.add(
                    format!("konnect.auth_methods[{i}]"),
                    format!(
                        "unknown auth method {method:?}; known: {}",
                        KNOWN_AUTH_METHODS.join(", ")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    pub(crate) fn good() -> DcrConfig {
        let mut c = DcrConfig::default();
        c.auth0.domain = "acme.eu.auth0.com".into();
        c.auth0.client_id = Some("bootstrap".into());
        c.auth0.client_secret = Some(SecretString::from("s"));
        c.api.audience = "https://api.acme.com/orders".into();
        c.api.name = "Orders".into();
        c.konnect.token = Some(SecretString::from("kpat_x"));
        c.konnect.portal_id = "p".into();
        c.konnect.api_name = Some("Orders".into());
        c
    }

    #[test]
    fn naming_problems_name_their_field() {
        let problems = |c: &DcrConfig| match c.validate() {
            Err(WorkflowError::Config { problems }) => problems
                .0
                .into_iter()
                .map(|p| format!("{}: {}", p.field, p.reason))
                .collect::<Vec<_>>(),
            other => panic!("expected problems, got {other:?}"),
        };
        let mut c = good();
        c.naming.template = Some("{app_name}".into());
        assert!(problems(&c)[0].starts_with("naming.template: unknown placeholder {app_name}"));
        c.naming.template = None;
        c.naming.action = true;
        assert_eq!(
            problems(&c),
            ["naming.action: needs naming.template: the name the Action gives"]
        );
        c.naming.template = Some("{application_name} ({developer_id})".into());
        c.naming.action_name = " ".into();
        let found = problems(&c);
        assert!(
            found[0].starts_with("naming.template: uses {application_name}"),
            "{found:?}"
        );
        assert_eq!(found[1], "naming.action_name: is required");
        c.naming.template = Some("{developer_id}/{application_id}".into());
        c.naming.action_name = "naming".into();
        assert!(c.validate().is_ok());
    }

    #[test]
    fn a_good_config_passes() {
        good().validate().unwrap();
    }

    #[test]
    fn every_problem_is_reported_at_once_naming_its_field() {
        let mut c = good();
        c.auth0.domain = "acme.eu.auth0.com/".into();
        c.auth0.base_url = Some("http://auth0.example.com".into());
        c.konnect.scopes = Some(vec!["read:orders".into()]);
        c.konnect.auth_methods.push("magic".into());
        c.labels.insert("kong-team".into(), "x".into());
        c.labels.insert(owner::LABEL_KEY.into(), "me".into());
        c.konnect.token = None;
        let err = c.validate().unwrap_err();
        let problems = err.config_problems().unwrap();
        for field in [
            "auth0.domain",
            "auth0.base_url",
            "konnect.scopes",
            "konnect.auth_methods[3]",
            "labels.kong-team",
            "labels.managed-by",
            "konnect.token",
        ] {
            assert!(problems.names(field), "{field} missing from {problems}");
        }
        assert_eq!(problems.0.len(), 7, "{problems}");
        let text = err.to_string();
        assert!(text.contains("trailing slash"), "{text}");
        assert!(text.contains("https"), "{text}");
        assert!(text.contains("openid"), "{text}");
    }

    #[test]
    fn the_documents_limits_are_checked_naming_the_config_field() {
        let mut c = good();
        for i in 0..49 {
            c.labels.insert(format!("team-{i}"), "x".into());
        }
        c.validate().unwrap();
        c.labels.insert("one-too-many".into(), "x".into());
        c.konnect.provider_name = "p".repeat(300);
        c.konnect.strategy_name = "s".repeat(257);
        c.api.name = "n".repeat(201);
        c.konnect.api_name = Some("a".repeat(256));
        c.auth0.admin_app_name = "<script>".into();
        c.auth0.plan = Some("gold".into());
        c.api.scopes = vec![crate::config::ApiScope {
            value: "s".repeat(281),
            description: Some("d".repeat(501)),
        }];
        let err = c.validate().unwrap_err();
        let problems = err.config_problems().unwrap();
        for field in [
            "labels",
            "konnect.provider_name",
            "konnect.strategy_name",
            "api.name",
            "konnect.api_name",
            "auth0.admin_app_name",
            "auth0.plan",
            "api.scopes[0].value",
            "api.scopes[0].description",
        ] {
            assert!(problems.names(field), "{field} missing from {problems}");
        }
        assert!(
            !problems.names("name"),
            "the service's field name is not the config's: {problems}"
        );
        assert!(err.to_string().contains("at most 49 labels"), "{err}");
    }

    #[test]
    fn loopback_http_is_accepted_for_sandboxes() {
        let mut c = good();
        c.auth0.base_url = Some("http://127.0.0.1:8080".into());
        c.konnect.base_url = Some("http://127.0.0.1:8081".into());
        c.validate().unwrap();
    }

    #[test]
    fn custom_domain_sets_issuer_and_client_audience() {
        let mut c = good();
        assert_eq!(c.issuer(), "https://acme.eu.auth0.com");
        assert_eq!(c.client_audience(), None);
        c.auth0.custom_domain = Some("login.acme.com".into());
        assert_eq!(c.issuer(), "https://login.acme.com");
        assert_eq!(
            c.client_audience().as_deref(),
            Some("https://acme.eu.auth0.com/api/v2/")
        );
    }

    #[test]
    fn developer_managed_scopes_add_read_resource_servers() {
        let mut c = good();
        assert_eq!(c.admin_scopes().len(), 9);
        c.api.developer_managed_scopes = true;
        assert!(c.admin_scopes().contains(&"read:resource_servers".to_owned()));
        assert_eq!(c.admin_scopes().len(), 10);
    }
}

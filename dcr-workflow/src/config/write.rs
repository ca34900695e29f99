//! Writing a configuration back as TOML (what `dcr import` saves): every setting that
//! reproduces the setup, and never a secret.

use toml::{Table, Value};

use super::DcrConfig;
use crate::{Result, WorkflowError};

fn text(table: &mut Table, key: &str, value: &str) {
    table.insert(key.to_owned(), Value::String(value.to_owned()));
}

fn optional(table: &mut Table, key: &str, value: Option<&String>) {
    if let Some(value) = value {
        text(table, key, value);
    }
}

fn list(table: &mut Table, key: &str, values: &[String]) {
    table.insert(
        key.to_owned(),
        Value::Array(values.iter().cloned().map(Value::String).collect()),
    );
}

/// What heads a written file: where the secrets go instead.
const HEADER: &str = "\
# Written by dcr import. Secrets are never written here: set DCR_AUTH0_CLIENT_SECRET
# (or DCR_AUTH0_MANAGEMENT_TOKEN) and DCR_KONNECT_TOKEN in the environment.
# `dcr plan --adopt --config <this file>` shows the ownership marks to add.
";

impl DcrConfig {
    /// The configuration as a TOML document that [`DcrConfig::from_toml_str`] reads back
    /// to the same settings, without any secret (`auth0.client_secret`,
    /// `auth0.management_token` and `konnect.token` are left out, and said so in a
    /// comment at the top).
    ///
    /// ```
    /// use dcr_workflow::DcrConfig;
    /// let mut config = DcrConfig::default();
    /// config.auth0.domain = "acme.eu.auth0.com".into();
    /// config.auth0.client_secret = Some("s3cr3t".into());
    /// let text = config.to_toml()?;
    /// assert!(text.contains("domain = \"acme.eu.auth0.com\"") && !text.contains("s3cr3t"));
    /// assert_eq!(DcrConfig::from_toml_str(&text)?.auth0.domain, "acme.eu.auth0.com");
    /// # Ok::<_, dcr_workflow::WorkflowError>(())
    /// ```
    pub fn to_toml(&self) -> Result<String> {
        let a = &self.auth0;
        let mut auth0 = Table::new();
        text(&mut auth0, "domain", &a.domain);
        optional(&mut auth0, "custom_domain", a.custom_domain.as_ref());
        optional(&mut auth0, "base_url", a.base_url.as_ref());
        optional(&mut auth0, "client_id", a.client_id.as_ref());
        text(&mut auth0, "admin_app_name", &a.admin_app_name);
        optional(&mut auth0, "plan", a.plan.as_ref());

        let api_settings = &self.api;
        let mut api = Table::new();
        text(&mut api, "audience", &api_settings.audience);
        text(&mut api, "name", &api_settings.name);
        let scopes = api_settings
            .scopes
            .iter()
            .map(|s| {
                let mut scope = Table::new();
                text(&mut scope, "value", &s.value);
                optional(&mut scope, "description", s.description.as_ref());
                Value::Table(scope)
            })
            .collect();
        api.insert("scopes".into(), Value::Array(scopes));
        api.insert(
            "developer_managed_scopes".into(),
            Value::Boolean(api_settings.developer_managed_scopes),
        );

        let k = &self.konnect;
        let mut konnect = Table::new();
        optional(&mut konnect, "region", k.region.as_ref());
        optional(&mut konnect, "base_url", k.base_url.as_ref());
        if !k.portal_id.is_empty() {
            text(&mut konnect, "portal_id", &k.portal_id);
        }
        optional(&mut konnect, "api_id", k.api_id.as_ref());
        optional(&mut konnect, "api_name", k.api_name.as_ref());
        text(&mut konnect, "visibility", &k.visibility);
        konnect.insert(
            "auto_approve_registrations".into(),
            Value::Boolean(k.auto_approve_registrations),
        );
        text(&mut konnect, "provider_name", &k.provider_name);
        text(&mut konnect, "strategy_name", &k.strategy_name);
        text(&mut konnect, "strategy_display_name", &k.strategy_display_name);
        if let Some(scopes) = &k.scopes {
            list(&mut konnect, "scopes", scopes);
        }
        list(&mut konnect, "credential_claim", &k.credential_claim);
        list(&mut konnect, "auth_methods", &k.auth_methods);
        optional(&mut konnect, "developer_id", k.developer_id.as_ref());
        optional(&mut konnect, "developer_email", k.developer_email.as_ref());
        optional(&mut konnect, "portal_url", k.portal_url.as_ref());
        optional(&mut konnect, "gateway_url", k.gateway_url.as_ref());
        if !k.publications.is_empty() {
            let entries = k
                .publications
                .iter()
                .map(|p| {
                    let mut entry = Table::new();
                    text(&mut entry, "portal_id", &p.portal_id);
                    optional(&mut entry, "api_id", p.api_id.as_ref());
                    optional(&mut entry, "api_name", p.api_name.as_ref());
                    optional(&mut entry, "visibility", p.visibility.as_ref());
                    if let Some(auto) = p.auto_approve_registrations {
                        entry.insert("auto_approve_registrations".into(), Value::Boolean(auto));
                    }
                    Value::Table(entry)
                })
                .collect();
            konnect.insert("publications".into(), Value::Array(entries));
        }

        let mut root = Table::new();
        root.insert("auth0".into(), Value::Table(auth0));
        root.insert("api".into(), Value::Table(api));
        root.insert("konnect".into(), Value::Table(konnect));
        if !self.labels.is_empty() {
            let labels = self
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            root.insert("labels".into(), Value::Table(labels));
        }
        let n = &self.naming;
        if n.template.is_some() || n.action {
            let mut naming = Table::new();
            optional(&mut naming, "template", n.template.as_ref());
            naming.insert("action".into(), Value::Boolean(n.action));
            text(&mut naming, "action_name", &n.action_name);
            root.insert("naming".into(), Value::Table(naming));
        }
        let body = toml::to_string(&root).map_err(|e| WorkflowError::ConfigFile {
            path: "<toml>".into(),
            reason: format!("cannot be written as TOML: {e}"),
        })?;
        Ok(format!("{HEADER}\n{body}"))
    }
}

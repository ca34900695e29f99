//! Loading: a TOML file, then environment variables on top, then one deserialisation.

use std::path::Path;

use toml::{Table, Value};

use super::DcrConfig;
use crate::{Result, WorkflowError};

/// How an environment variable's text becomes a TOML value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    /// Comma-separated.
    List,
    /// `true`/`false`/`1`/`0`.
    Flag,
    /// `value[=description],…`.
    Scopes,
    /// `key=value,…`.
    Labels,
}

/// Every variable [`DcrConfig::load`] reads, after its prefix (`DCR_` by default),
/// with the field it sets.
pub const ENV_VARIABLES: [(&str, &str); 35] = [
    ("AUTH0_DOMAIN", "auth0.domain"),
    ("AUTH0_CUSTOM_DOMAIN", "auth0.custom_domain"),
    ("AUTH0_BASE_URL", "auth0.base_url"),
    ("AUTH0_CLIENT_ID", "auth0.client_id"),
    ("AUTH0_CLIENT_SECRET", "auth0.client_secret"),
    ("AUTH0_MANAGEMENT_TOKEN", "auth0.management_token"),
    ("AUTH0_ADMIN_APP_NAME", "auth0.admin_app_name"),
    ("AUTH0_PLAN", "auth0.plan"),
    ("API_AUDIENCE", "api.audience"),
    ("API_NAME", "api.name"),
    ("API_SCOPES", "api.scopes"),
    ("API_DEVELOPER_MANAGED_SCOPES", "api.developer_managed_scopes"),
    ("KONNECT_REGION", "konnect.region"),
    ("KONNECT_BASE_URL", "konnect.base_url"),
    ("KONNECT_TOKEN", "konnect.token"),
    ("KONNECT_PORTAL_ID", "konnect.portal_id"),
    ("KONNECT_API_ID", "konnect.api_id"),
    ("KONNECT_API_NAME", "konnect.api_name"),
    ("KONNECT_VISIBILITY", "konnect.visibility"),
    (
        "KONNECT_AUTO_APPROVE_REGISTRATIONS",
        "konnect.auto_approve_registrations",
    ),
    ("KONNECT_PROVIDER_NAME", "konnect.provider_name"),
    ("KONNECT_STRATEGY_NAME", "konnect.strategy_name"),
    ("KONNECT_STRATEGY_DISPLAY_NAME", "konnect.strategy_display_name"),
    ("KONNECT_SCOPES", "konnect.scopes"),
    ("KONNECT_CREDENTIAL_CLAIM", "konnect.credential_claim"),
    ("KONNECT_AUTH_METHODS", "konnect.auth_methods"),
    ("KONNECT_DEVELOPER_ID", "konnect.developer_id"),
    ("KONNECT_DEVELOPER_EMAIL", "konnect.developer_email"),
    ("KONNECT_DEVELOPER_PASSWORD", "konnect.developer_password"),
    ("KONNECT_PORTAL_URL", "konnect.portal_url"),
    ("KONNECT_GATEWAY_URL", "konnect.gateway_url"),
    ("LABELS", "labels"),
    ("NAMING_TEMPLATE", "naming.template"),
    ("NAMING_ACTION", "naming.action"),
    ("NAMING_ACTION_NAME", "naming.action_name"),
];

fn kind_of(field: &str) -> Kind {
    match field {
        "api.scopes" => Kind::Scopes,
        "labels" => Kind::Labels,
        "api.developer_managed_scopes" | "konnect.auto_approve_registrations" | "naming.action" => Kind::Flag,
        "konnect.scopes" | "konnect.credential_claim" | "konnect.auth_methods" => Kind::List,
        _ => Kind::Text,
    }
}

/// Where a piece of configuration came from, for error messages.
const ENV_SOURCE: &str = "<environment>";

impl DcrConfig {
    /// Parses a TOML document. Unknown keys are refused, naming the key.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let mut table: Table = text.parse().map_err(|e: toml::de::Error| WorkflowError::ConfigFile {
            path: "<toml>".into(),
            reason: syntax_error(text, &e),
        })?;
        apply_older_names(&mut table, Path::new("<toml>"))?;
        refuse_file_only_secrets(&table, Path::new("<toml>"))?;
        from_table(table, Path::new("<toml>"))
    }

    /// Reads a TOML file, then applies the `DCR_*` environment variables on top.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        Self::load_with(path, "DCR_", std::env::vars())
    }

    /// [`load`](Self::load) with an explicit prefix and variables (tests, embedding).
    pub fn load_with(
        path: Option<&Path>,
        prefix: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self> {
        let (mut table, source) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| WorkflowError::ConfigFile {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
                let table = text.parse::<Table>().map_err(|e| WorkflowError::ConfigFile {
                    path: path.to_owned(),
                    reason: syntax_error(&text, &e),
                })?;
                (table, path)
            }
            None => (Table::new(), Path::new(ENV_SOURCE)),
        };
        apply_older_names(&mut table, source)?;
        refuse_file_only_secrets(&table, source)?;
        apply_env(&mut table, prefix, vars)?;
        from_table(table, source)
    }
}

/// A TOML syntax error with its line and column (1-based), and without the source line
/// the full rendering would quote (it may be a secret's).
fn syntax_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("{message} (line {line}, column {column})")
        }
        None => message.to_owned(),
    }
}

/// serde names a mistyped value in backticks (``invalid type: integer `12345678`, expected
/// a string``): a value in a secret field would be echoed, so every value is dropped from
/// such messages; unknown keys and expected types stay.
fn without_values(message: &str) -> String {
    let is_value_error = ["invalid type", "invalid value", "invalid length"]
        .iter()
        .any(|p| message.starts_with(p));
    if !is_value_error {
        return message.to_owned();
    }
    match message.split_once(", expected") {
        Some((found, expected)) => {
            let kind = found.split('`').next().unwrap_or(found).trim_end();
            format!("{kind}, expected{expected}")
        }
        None => message.split('`').next().unwrap_or(message).trim_end().to_owned(),
    }
}

/// A developer's password is a person's credential, not a deployment's: it is read from
/// the environment only, so that no configuration file (which `dcr import` writes and
/// people commit) ever holds one.
fn refuse_file_only_secrets(table: &Table, source: &Path) -> Result<()> {
    let in_file = table
        .get("konnect")
        .and_then(Value::as_table)
        .is_some_and(|k| k.contains_key("developer_password"));
    if in_file {
        return Err(WorkflowError::ConfigFile {
            path: source.to_owned(),
            reason: "konnect.developer_password: not allowed in a file; set DCR_KONNECT_DEVELOPER_PASSWORD instead"
                .to_owned(),
        });
    }
    Ok(())
}

fn from_table(table: Table, source: &Path) -> Result<DcrConfig> {
    serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| {
        let field = e.path().to_string();
        WorkflowError::ConfigFile {
            path: source.to_owned(),
            reason: format!("{field}: {}", without_values(e.into_inner().message())),
        }
    })
}

/// Field names of the older (classic portal) guide's console that map one to one onto a
/// configuration key: `(section, old name, section, key)`.
pub(crate) const OLDER_GUIDE_NAMES: [(&str, &str, &str, &str); 3] = [
    ("api", "client_token_audience", "api", "audience"),
    ("konnect", "client_token_audience", "api", "audience"),
    ("konnect", "consumer_claims", "konnect", "credential_claim"),
];

/// Moves values written under the older guide's names to their keys; the same setting
/// under both names is refused (which one wins would be a guess).
fn apply_older_names(table: &mut Table, source: &Path) -> Result<()> {
    for (section, old, target_section, key) in OLDER_GUIDE_NAMES {
        let Some(value) = table
            .get_mut(section)
            .and_then(Value::as_table_mut)
            .and_then(|t| t.remove(old))
        else {
            continue;
        };
        let target = table
            .entry(target_section)
            .or_insert_with(|| Value::Table(Table::new()));
        let Some(target) = target.as_table_mut() else {
            continue;
        };
        if target.contains_key(key) {
            return Err(WorkflowError::ConfigFile {
                path: source.to_owned(),
                reason: format!(
                    "{section}.{old} (the older guide's name) and {target_section}.{key} set the same thing: keep one"
                ),
            });
        }
        target.insert(key.to_owned(), value);
    }
    Ok(())
}

fn apply_env(table: &mut Table, prefix: &str, vars: impl IntoIterator<Item = (String, String)>) -> Result<()> {
    for (name, text) in vars {
        let Some(suffix) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some((_, field)) = ENV_VARIABLES.iter().find(|(s, _)| *s == suffix) else {
            continue;
        };
        let value = parse(kind_of(field), &text).map_err(|reason| WorkflowError::ConfigFile {
            path: ENV_SOURCE.into(),
            reason: format!("{name} ({field}): {reason}"),
        })?;
        set(table, field, value);
    }
    Ok(())
}

fn parse(kind: Kind, text: &str) -> Result<Value, String> {
    let items = || text.split(',').map(str::trim).filter(|s| !s.is_empty());
    Ok(match kind {
        Kind::Text => Value::String(text.to_owned()),
        Kind::List => Value::Array(items().map(|s| Value::String(s.to_owned())).collect()),
        Kind::Flag => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Value::Boolean(true),
            "false" | "0" | "no" | "" => Value::Boolean(false),
            _ => return Err("expected true or false".to_owned()),
        },
        Kind::Scopes => Value::Array(
            items()
                .map(|item| {
                    let mut scope = Table::new();
                    let (value, description) = match item.split_once('=') {
                        Some((v, d)) => (v.trim(), Some(d.trim())),
                        None => (item, None),
                    };
                    scope.insert("value".into(), Value::String(value.to_owned()));
                    if let Some(d) = description {
                        scope.insert("description".into(), Value::String(d.to_owned()));
                    }
                    Value::Table(scope)
                })
                .collect(),
        ),
        Kind::Labels => {
            let mut labels = Table::new();
            for item in items() {
                let (k, v) = item
                    .split_once('=')
                    .ok_or_else(|| format!("expected key=value, got {item:?}"))?;
                labels.insert(k.trim().to_owned(), Value::String(v.trim().to_owned()));
            }
            Value::Table(labels)
        }
    })
}

fn set(table: &mut Table, field: &str, value: Value) {
    match field.split_once('.') {
        None => {
            table.insert(field.to_owned(), value);
        }
        Some((section, key)) => {
            let entry = table
                .entry(section.to_owned())
                .or_insert_with(|| Value::Table(Table::new()));
            if !entry.is_table() {
                *entry = Value::Table(Table::new());
            }
            if let Value::Table(inner) = entry {
                inner.insert(key.to_owned(), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_mistyped_secret_is_never_echoed_and_a_syntax_error_names_line_and_column() {
        let err = DcrConfig::from_toml_str("[auth0]\nclient_secret = 12345678\n").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("12345678"), "{text}");
        assert!(
            text.contains("auth0.client_secret") && text.contains("expected"),
            "{text}"
        );
        let err = DcrConfig::from_toml_str("[auth0]\ndomain = \"a\"\nclient_secret = \"hunter2\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 3, column"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn the_older_guides_names_map_to_their_keys_and_both_at_once_are_refused() {
        let config = DcrConfig::from_toml_str(
            "[konnect]\nclient_token_audience = \"https://api.acme.com\"\nconsumer_claims = [\"azp\", \"sub\"]\n",
        )
        .unwrap();
        assert_eq!(config.api.audience, "https://api.acme.com");
        assert_eq!(config.konnect.credential_claim, ["azp", "sub"]);
        let config = DcrConfig::from_toml_str("[api]\nclient_token_audience = \"https://b\"\n").unwrap();
        assert_eq!(config.api.audience, "https://b");
        let err = DcrConfig::from_toml_str("[api]\naudience = \"https://a\"\nclient_token_audience = \"https://b\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("api.client_token_audience") && err.contains("api.audience"),
            "{err}"
        );
        // The environment's key still wins over the file's older name.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dcr.toml");
        std::fs::write(&path, "[konnect]\nconsumer_claims = [\"sub\"]\n").unwrap();
        let config =
            DcrConfig::load_with(Some(&path), "DCR_", vars(&[("DCR_KONNECT_CREDENTIAL_CLAIM", "azp")])).unwrap();
        assert_eq!(config.konnect.credential_claim, ["azp"]);
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn environment_overrides_the_file_and_fills_lists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dcr.toml");
        std::fs::write(
            &path,
            "[auth0]\ndomain = \"file.eu.auth0.com\"\n[api]\naudience = \"https://a\"\nname = \"A\"\n",
        )
        .unwrap();
        let config = DcrConfig::load_with(
            Some(&path),
            "T_",
            vars(&[
                ("T_AUTH0_DOMAIN", "env.eu.auth0.com"),
                ("T_AUTH0_CLIENT_SECRET", "s3cret"),
                ("T_API_SCOPES", "read:orders=Read orders, write:orders"),
                ("T_API_DEVELOPER_MANAGED_SCOPES", "true"),
                ("T_KONNECT_AUTH_METHODS", "bearer,session"),
                ("T_LABELS", "team=platform"),
                ("OTHER_AUTH0_DOMAIN", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(config.auth0.domain, "env.eu.auth0.com");
        assert_eq!(config.api.audience, "https://a");
        assert_eq!(config.auth0.client_secret.unwrap().expose_secret(), "s3cret");
        assert_eq!(
            config.api.scopes,
            [
                crate::ApiScope::new("read:orders", "Read orders"),
                crate::ApiScope {
                    value: "write:orders".into(),
                    description: None
                }
            ]
        );
        assert!(config.api.developer_managed_scopes);
        assert_eq!(config.konnect.auth_methods, ["bearer", "session"]);
        assert_eq!(config.labels["team"], "platform");
        assert_eq!(config.auth0.admin_app_name, super::super::DEFAULT_ADMIN_APP_NAME);
    }

    #[test]
    fn unknown_keys_and_wrong_types_name_the_field() {
        let err = DcrConfig::from_toml_str("[auth0]\ndomian = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("domian"), "{err}");
        let err = DcrConfig::from_toml_str("[api]\ndeveloper_managed_scopes = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("api.developer_managed_scopes"), "{err}");
        let err = DcrConfig::load_with(None, "T_", vars(&[("T_API_DEVELOPER_MANAGED_SCOPES", "maybe")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("T_API_DEVELOPER_MANAGED_SCOPES"), "{err}");
    }

    #[test]
    fn every_variable_maps_to_a_field_that_exists() {
        for (suffix, field) in ENV_VARIABLES {
            let value = match kind_of(field) {
                Kind::Flag => "true",
                Kind::Labels => "a=b",
                _ => "x",
            };
            let name = format!("T_{suffix}");
            DcrConfig::load_with(None, "T_", vars(&[(&name, value)])).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

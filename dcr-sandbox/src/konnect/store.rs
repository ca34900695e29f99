//! The organization's data and Konnect's rules for it: ids, defaults, validation,
//! write-only secrets, references and conflicts. No HTTP here, and no DCR: `server.rs`
//! maps requests onto these operations and `dcr.rs` talks to the identity provider.

use std::collections::HashMap;

use dcr_client_core::sandbox::Table;
use serde_json::{Map, Value, json};

use super::check::{Check, is_uuid, object};
use super::problem::{Outcome, SandboxProblem, param};
use crate::shapes::{rfc3339, uuid};

pub(crate) const PROVIDER_TYPES: [&str; 6] = ["auth0", "azureAd", "curity", "okta", "kongIdentity", "http"];
/// Write-only `dcr_config` fields: stored, never returned.
pub(crate) const WRITE_ONLY: [&str; 3] = ["initial_client_secret", "dcr_token", "api_key"];
/// OpenID Connect plugin settings Konnect accepts inline in `configs.openid-connect`
/// besides the four documented ones; anything else is an `unknown_property`.
const OIDC_EXTRA_KEYS: [&str; 16] = [
    "token_post_args_names",
    "token_post_args_values",
    "audience_claim",
    "audience_required",
    "scopes_claim",
    "scopes_required",
    "roles_claim",
    "roles_required",
    "groups_claim",
    "groups_required",
    "authenticated_groups_claim",
    "consumer_claim",
    "consumer_by",
    "leeway",
    "verify_claims",
    "display_name",
];

/// A Konnect organization's DCR providers, strategies, APIs, publications and portal
/// applications.
pub(crate) struct Store {
    pub(crate) org_id: String,
    pub(crate) providers: Table,
    pub(crate) strategies: Table,
    pub(crate) apis: Table,
    /// Keyed by `{api_id}/{portal_id}`.
    pub(crate) publications: Table,
    pub(crate) portals: Table,
    /// Keyed by application id; each row has a hidden `_portal_id`.
    pub(crate) applications: Table,
    /// Classic (v2) portals: only their id and name.
    pub(crate) classic_portals: Table,
    /// API products (v2), keyed by id.
    pub(crate) products: Table,
    /// Their versions, keyed by id; each row has a hidden `_product_id`.
    pub(crate) product_versions: Table,
    /// Versions published on classic portals, keyed by id; hidden `_portal_id` and
    /// `_auth_strategy_ids`.
    pub(crate) portal_product_versions: Table,
    /// Applications' registrations for APIs, keyed by id; hidden `_application_id`,
    /// `_api_id`, `_portal_id`.
    pub(crate) registrations: Table,
    clock: u64,
    rng: fastrand::Rng,
}

pub(crate) fn str_of<'a>(row: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    row.get(key).and_then(Value::as_str)
}

impl Store {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let mut rng = seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        let org_id = uuid(&mut rng);
        Store {
            org_id,
            providers: Table::default(),
            strategies: Table::default(),
            apis: Table::default(),
            publications: Table::default(),
            portals: Table::default(),
            applications: Table::default(),
            classic_portals: Table::default(),
            products: Table::default(),
            product_versions: Table::default(),
            portal_product_versions: Table::default(),
            registrations: Table::default(),
            clock: 0,
            rng,
        }
    }

    pub(crate) fn new_id(&mut self) -> String {
        uuid(&mut self.rng)
    }

    /// RFC 3339 timestamps that strictly increase, so ordering tests are stable.
    pub(crate) fn now(&mut self) -> String {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        self.clock = self.clock.max(secs * 1000).saturating_add(1);
        rfc3339(self.clock)
    }

    pub(crate) fn add_portal(&mut self, name: &str) -> String {
        let id = self.new_id();
        let now = self.now();
        // Every field PortalResponse requires, with the document's defaults.
        let domain = format!("{}.us.kongportals.com", &id[..8]);
        let row = json!({
            "id": id, "name": name, "display_name": name, "description": null,
            "authentication_enabled": true, "rbac_enabled": false, "sipr_enabled": false,
            "default_api_visibility": "private", "default_page_visibility": "private",
            "default_application_auth_strategy_id": null,
            "auto_approve_applications": false, "auto_approve_developers": false,
            "default_domain": domain, "canonical_domain": domain, "labels": {},
            "created_at": now, "updated_at": now
        });
        if let Value::Object(row) = row {
            self.portals.insert(id.clone(), row);
        }
        id
    }

    /// `GET /v3/portals/{portalId}`.
    pub(crate) fn portal_view(&self, id: &str) -> Outcome<Value> {
        self.portals
            .get(id)
            .map(|row| Value::Object(row.clone()))
            .ok_or_else(|| SandboxProblem::not_found("portal"))
    }

    // ---- DCR providers -------------------------------------------------------------

    pub(crate) fn create_provider(&mut self, body: &Value) -> Outcome<Value> {
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&[
            "name",
            "display_name",
            "provider_type",
            "issuer",
            "dcr_config",
            "labels",
        ]);
        check.string("name", true, 1, 256);
        check.string("display_name", false, 1, 256);
        check.url("issuer", true);
        check.labels(false);
        let provider_type = check.choice("provider_type", true, &PROVIDER_TYPES);
        let config = check.nested_object("dcr_config", true);
        if let (Some(kind), Some(config)) = (provider_type, config) {
            check.merge(check_dcr_config(kind, config, true));
        }
        // No uniqueness rule on names: the document lists no 409 for this operation and
        // states none, so two providers may share a name (as two overlapping runs make).
        check.finish()?;
        let id = self.new_id();
        let now = self.now();
        let mut row = body.clone();
        row.insert("id".into(), json!(id));
        row.entry("labels").or_insert_with(|| json!({}));
        row.insert("created_at".into(), json!(now));
        row.insert("updated_at".into(), json!(now));
        self.providers.insert(id.clone(), row);
        self.provider_view(&id)
    }

    pub(crate) fn provider(&self, id: &str) -> Outcome<&Map<String, Value>> {
        self.providers
            .get(id)
            .ok_or_else(|| SandboxProblem::not_found("DCR provider"))
    }

    /// What a caller sees: no write-only secrets, documented defaults filled in, `active`.
    pub(crate) fn provider_view(&self, id: &str) -> Outcome<Value> {
        let row = self.provider(id)?;
        let mut out = row.clone();
        let kind = str_of(row, "provider_type").unwrap_or_default().to_owned();
        if let Some(Value::Object(config)) = out.get_mut("dcr_config") {
            for key in WRITE_ONLY {
                config.remove(key);
            }
            match kind.as_str() {
                "auth0" => {
                    config.entry("initial_client_audience").or_insert(Value::Null);
                    config.entry("use_developer_managed_scopes").or_insert(json!(false));
                }
                "http" => {
                    for flag in [
                        "disable_event_hooks",
                        "disable_refresh_secret",
                        "allow_multiple_credentials",
                    ] {
                        config.entry(flag).or_insert(json!(false));
                    }
                }
                _ => {}
            }
        }
        let active = self
            .strategies
            .iter_from(0)
            .any(|(_, s)| str_of(s, "dcr_provider_id") == Some(id));
        out.insert("active".into(), json!(active));
        Ok(Value::Object(out))
    }

    pub(crate) fn update_provider(&mut self, id: &str, body: &Value) -> Outcome<Value> {
        let kind = str_of(self.provider(id)?, "provider_type")
            .unwrap_or_default()
            .to_owned();
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&["name", "display_name", "issuer", "labels", "dcr_config"]);
        check.string("name", false, 1, 256);
        check.string("display_name", false, 1, 256);
        check.url("issuer", false);
        check.labels(true);
        if let Some(config) = check.nested_object("dcr_config", false) {
            check.merge(check_dcr_config(&kind, config, false));
        }
        check.finish()?;
        let now = self.now();
        let row = self
            .providers
            .get_mut(id)
            .ok_or_else(|| SandboxProblem::not_found("DCR provider"))?;
        for (key, value) in body {
            match key.as_str() {
                "labels" => merge_labels(row, value),
                "dcr_config" => {
                    if let (Some(Value::Object(current)), Some(changes)) =
                        (row.get_mut("dcr_config"), value.as_object())
                    {
                        for (k, v) in changes {
                            current.insert(k.clone(), v.clone());
                        }
                    }
                }
                _ => {
                    row.insert(key.clone(), value.clone());
                }
            }
        }
        row.insert("updated_at".into(), json!(now));
        self.provider_view(id)
    }

    pub(crate) fn delete_provider(&mut self, id: &str) -> Outcome<()> {
        self.provider(id)?;
        if self
            .strategies
            .iter_from(0)
            .any(|(_, s)| str_of(s, "dcr_provider_id") == Some(id))
        {
            return Err(SandboxProblem::new(
                409,
                "the DCR provider is used by an application auth strategy",
            ));
        }
        self.providers.remove(id);
        Ok(())
    }

    // ---- Application auth strategies --------------------------------------------------

    fn check_strategy(&self, body: &Map<String, Value>) -> Outcome<()> {
        let mut check = Check::new(body);
        check.allowed(&[
            "name",
            "display_name",
            "strategy_type",
            "configs",
            "dcr_provider_id",
            "labels",
            "principals",
        ]);
        check.string("name", true, 1, 256);
        check.string("display_name", true, 0, 256);
        check.labels(false);
        let kind = check.choice("strategy_type", true, &["key_auth", "openid_connect"]);
        let configs = check.nested_object("configs", true);
        if let (Some(kind), Some(configs)) = (kind, configs) {
            check.merge(check_configs(kind, configs, true));
        }
        let provider = if body.get("dcr_provider_id").is_some_and(|v| !v.is_null()) {
            check.uuid("dcr_provider_id", false)
        } else {
            None
        };
        check.finish()?;
        if kind_is(body, "key_auth") && provider.is_some() {
            return Err(SandboxProblem::field(
                "dcr_provider_id",
                "invalid",
                "key_auth strategies do not use a DCR provider",
            ));
        }
        if let Some(provider) = provider
            && self.providers.get(provider).is_none()
        {
            return Err(SandboxProblem::field(
                "dcr_provider_id",
                "missing_reference",
                "DCR provider not found",
            ));
        }
        Ok(())
    }

    pub(crate) fn create_strategy(&mut self, body: &Value) -> Outcome<Value> {
        let body = object(body)?;
        self.check_strategy(body)?;
        let id = self.new_id();
        let now = self.now();
        let row = strategy_row(&id, body, &now, &now);
        self.strategies.insert(id.clone(), row);
        self.strategy_view(&id)
    }

    pub(crate) fn replace_strategy(&mut self, id: &str, body: &Value) -> Outcome<Value> {
        let created = str_of(self.strategy(id)?, "created_at").unwrap_or_default().to_owned();
        let body = object(body)?;
        self.check_strategy(body)?;
        let now = self.now();
        let row = strategy_row(id, body, &created, &now);
        if let Some(current) = self.strategies.get_mut(id) {
            *current = row;
        }
        self.strategy_view(id)
    }

    pub(crate) fn strategy(&self, id: &str) -> Outcome<&Map<String, Value>> {
        self.strategies
            .get(id)
            .ok_or_else(|| SandboxProblem::not_found("application auth strategy"))
    }

    pub(crate) fn strategy_in_use(&self, id: &str) -> bool {
        self.publications.iter_from(0).any(|(_, p)| {
            p.get("auth_strategy_ids")
                .and_then(Value::as_array)
                .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(id)))
        })
    }

    /// What a caller sees: `dcr_provider` summary instead of `dcr_provider_id`, `active`.
    pub(crate) fn strategy_view(&self, id: &str) -> Outcome<Value> {
        let row = self.strategy(id)?;
        let mut out = row.clone();
        let provider_id = out.remove("dcr_provider_id");
        let summary = provider_id
            .as_ref()
            .and_then(Value::as_str)
            .and_then(|pid| self.providers.get(pid))
            .map(|p| {
                let mut s = json!({
                    "id": p.get("id"),
                    "name": p.get("name"),
                    "provider_type": p.get("provider_type"),
                });
                if let Some(d) = p.get("display_name") {
                    s["display_name"] = d.clone();
                }
                s
            })
            .unwrap_or(Value::Null);
        out.insert("dcr_provider".into(), summary);
        out.insert("active".into(), json!(self.strategy_in_use(id)));
        Ok(Value::Object(out))
    }

    pub(crate) fn update_strategy(&mut self, id: &str, body: &Value) -> Outcome<Value> {
        let kind = str_of(self.strategy(id)?, "strategy_type")
            .unwrap_or_default()
            .to_owned();
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&[
            "name",
            "display_name",
            "labels",
            "dcr_provider_id",
            "configs",
            "principals",
        ]);
        check.string("name", false, 1, 256);
        check.string("display_name", false, 0, 256);
        check.labels(true);
        if body.get("dcr_provider_id").is_some_and(|v| !v.is_null()) {
            check.uuid("dcr_provider_id", false);
        }
        if let Some(configs) = check.nested_object("configs", false) {
            check.merge(check_configs(&kind, configs, false));
        }
        check.finish()?;
        if let Some(pid) = body.get("dcr_provider_id").and_then(Value::as_str)
            && self.providers.get(pid).is_none()
        {
            return Err(SandboxProblem::field(
                "dcr_provider_id",
                "missing_reference",
                "DCR provider not found",
            ));
        }
        let now = self.now();
        let row = self
            .strategies
            .get_mut(id)
            .ok_or_else(|| SandboxProblem::not_found("application auth strategy"))?;
        for (key, value) in body {
            match key.as_str() {
                "labels" => merge_labels(row, value),
                "configs" => {
                    let config_key = if kind == "key_auth" {
                        "key-auth"
                    } else {
                        "openid-connect"
                    };
                    let changes = value
                        .get(config_key)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    if let Some(Value::Object(configs)) = row.get_mut("configs")
                        && let Some(Value::Object(current)) = configs.get_mut(config_key)
                    {
                        for (k, v) in changes {
                            current.insert(k, v);
                        }
                    }
                }
                _ => {
                    row.insert(key.clone(), value.clone());
                }
            }
        }
        row.insert("updated_at".into(), json!(now));
        self.strategy_view(id)
    }

    pub(crate) fn delete_strategy(&mut self, id: &str) -> Outcome<()> {
        self.strategy(id)?;
        if self.strategy_in_use(id) {
            return Err(SandboxProblem::new(
                409,
                "the application auth strategy is used by an API publication",
            ));
        }
        if self.strategy_on_classic_portal(id) {
            return Err(SandboxProblem::new(
                409,
                "the application auth strategy is used by a portal product version",
            ));
        }
        self.strategies.remove(id);
        Ok(())
    }

    // ---- APIs and publications -------------------------------------------------------

    pub(crate) fn create_api(&mut self, body: &Value) -> Outcome<Value> {
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&["name", "version", "slug", "labels", "attributes", "spec_content"]);
        let name = check.string("name", true, 1, 255);
        let version = check.string("version", false, 1, 255);
        let slug = check.string("slug", false, 1, 255);
        check.labels(false);
        if let Some(slug) = slug
            && !slug.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            check
                .problems
                .push(param("slug", "matches_regex", "must match ^[\\w-]+$"));
        }
        check.finish()?;
        let name = name.unwrap_or_default().to_owned();
        if self
            .apis
            .iter_from(0)
            .any(|(_, a)| str_of(a, "name") == Some(&name) && a.get("version").and_then(Value::as_str) == version)
        {
            return Err(SandboxProblem::new(
                409,
                "an API with this name and version already exists",
            ));
        }
        let id = self.new_id();
        let now = self.now();
        let slug = slug.map(str::to_owned).unwrap_or_else(|| slugify(&name, version));
        let row = json!({
            "id": id, "name": name, "version": version, "slug": slug,
            "labels": body.get("labels").cloned().unwrap_or_else(|| json!({})),
            "portals": [], "api_spec_ids": [], "current_version_summary": null,
            "created_at": now, "updated_at": now,
        });
        if let Value::Object(row) = row {
            self.apis.insert(id.clone(), row);
        }
        self.api_view(&id)
    }

    pub(crate) fn api_view(&self, id: &str) -> Outcome<Value> {
        let mut row = self
            .apis
            .get(id)
            .ok_or_else(|| SandboxProblem::not_found("API"))?
            .clone();
        let portals: Vec<Value> = self
            .publications
            .iter_from(0)
            .filter(|(_, p)| str_of(p, "_api_id") == Some(id))
            .filter_map(|(_, p)| str_of(p, "_portal_id").and_then(|pid| self.portals.get(pid)))
            .map(|portal| json!({"id": portal.get("id"), "name": portal.get("name"), "display_name": portal.get("display_name")}))
            .collect();
        row.insert("portals".into(), Value::Array(portals));
        Ok(Value::Object(row))
    }

    pub(crate) fn delete_api(&mut self, id: &str) -> Outcome<()> {
        self.apis.remove(id).ok_or_else(|| SandboxProblem::not_found("API"))?;
        let keys: Vec<String> = self
            .publications
            .iter_from(0)
            .filter(|(_, p)| str_of(p, "_api_id") == Some(id))
            .filter_map(|(_, p)| str_of(p, "_key").map(str::to_owned))
            .collect();
        for key in keys {
            self.publications.remove(&key);
        }
        Ok(())
    }

    pub(crate) fn publish(&mut self, api: &str, portal: &str, body: &Value) -> Outcome<Value> {
        if self.apis.get(api).is_none() {
            return Err(SandboxProblem::not_found("API"));
        }
        if self.portals.get(portal).is_none() {
            return Err(SandboxProblem::not_found("portal"));
        }
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&["auth_strategy_ids", "auto_approve_registrations", "visibility"]);
        check.boolean("auto_approve_registrations");
        check.choice("visibility", false, &["public", "private"]);
        let ids = match body.get("auth_strategy_ids") {
            None | Some(Value::Null) => None,
            Some(_) => check.strings("auth_strategy_ids", false, 1, 1, 64),
        };
        check.finish()?;
        for id in ids.iter().flatten() {
            if !is_uuid(id) || self.strategies.get(id).is_none() {
                return Err(SandboxProblem::field(
                    "auth_strategy_ids",
                    "missing_reference",
                    "application auth strategy not found",
                ));
            }
        }
        let key = format!("{api}/{portal}");
        let now = self.now();
        let created = self
            .publications
            .get(&key)
            .and_then(|p| str_of(p, "created_at").map(str::to_owned))
            .unwrap_or_else(|| now.clone());
        let row = json!({
            "_key": key, "_api_id": api, "_portal_id": portal,
            "auth_strategy_ids": ids,
            "visibility": body.get("visibility").cloned().unwrap_or_else(|| json!("private")),
            "created_at": created, "updated_at": now,
        });
        let Value::Object(mut row) = row else {
            return Err(SandboxProblem::new(500, "internal error"));
        };
        if let Some(auto) = body.get("auto_approve_registrations") {
            row.insert("auto_approve_registrations".into(), auto.clone());
        }
        self.publications.remove(&key);
        self.publications.insert(key.clone(), row);
        self.publication_view(&key)
    }

    pub(crate) fn publication_view(&self, key: &str) -> Outcome<Value> {
        let mut row = self
            .publications
            .get(key)
            .ok_or_else(|| SandboxProblem::not_found("API publication"))?
            .clone();
        row.retain(|k, _| !k.starts_with('_'));
        Ok(Value::Object(row))
    }

    /// A publication as the lists show it: `ApiPublicationListItem` (organization-wide,
    /// `portal_id`) or, for a portal's own list, `PublicationListItem` (`portal_ids`).
    pub(crate) fn listed_publication(&self, row: &Map<String, Value>, in_portal: bool) -> Value {
        let api = str_of(row, "_api_id").unwrap_or_default();
        let portal = str_of(row, "_portal_id").unwrap_or_default();
        let mut view = row.clone();
        view.retain(|k, _| !k.starts_with('_'));
        view.insert("api_id".into(), json!(api));
        if in_portal {
            view.insert("portal_ids".into(), json!([portal]));
        } else {
            view.insert("portal_id".into(), json!(portal));
        }
        view.insert("entity_type".into(), json!("api"));
        // Required in the list item: absent means false ("fallbacks on the portal's value").
        view.entry("auto_approve_registrations").or_insert(json!(false));
        Value::Object(view)
    }

    pub(crate) fn unpublish(&mut self, key: &str) -> Outcome<()> {
        self.publications
            .remove(key)
            .map(|_| ())
            .ok_or_else(|| SandboxProblem::not_found("API publication"))
    }

    // ---- Portal applications ---------------------------------------------------------

    /// Checks a create-application body; returns (name, strategy id).
    pub(crate) fn check_application(&self, portal: &str, body: &Value) -> Outcome<(String, String)> {
        if self.portals.get(portal).is_none() {
            return Err(SandboxProblem::not_found("portal"));
        }
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&[
            "name",
            "description",
            "labels",
            "dcr_client_id",
            "client_id",
            "auth_strategy_id",
            "owner",
        ]);
        let name = check.string("name", true, 1, 255);
        check.labels(true);
        check.string("description", false, 0, 1024);
        check.string("dcr_client_id", false, 1, 255);
        check.string("client_id", false, 1, 255);
        let strategy = check.uuid("auth_strategy_id", false);
        if let Some(owner) = check.nested_object("owner", true) {
            let mut inner = Check::nested(owner, "owner");
            inner.allowed(&["type", "id"]);
            inner.choice("type", true, &["developer", "team"]);
            inner.uuid("id", true);
            check.merge(inner);
        }
        if body.get("auth_strategy_id").is_none() {
            check.problems.push(param(
                "auth_strategy_id",
                "required",
                "the sandbox portal has no default application auth strategy",
            ));
        }
        check.finish()?;
        let strategy = strategy.unwrap_or_default();
        if self.strategies.get(strategy).is_none() {
            return Err(SandboxProblem::field(
                "auth_strategy_id",
                "missing_reference",
                "application auth strategy not found",
            ));
        }
        Ok((name.unwrap_or_default().to_owned(), strategy.to_owned()))
    }

    /// Stores an application row (DCR, if any, already done).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_application(
        &mut self,
        id: String,
        portal: &str,
        strategy_id: &str,
        body: &Map<String, Value>,
        client_id: Option<&str>,
        granted_scopes: Option<Vec<String>>,
        dcr_created: bool,
    ) -> Outcome<String> {
        let strategy = self.strategy(strategy_id)?.clone();
        let now = self.now();
        let kind = str_of(&strategy, "strategy_type").unwrap_or_default();
        let oidc = strategy
            .get("configs")
            .and_then(|c| c.get("openid-connect"))
            .cloned()
            .unwrap_or(Value::Null);
        let auth_strategy = if kind == "key_auth" {
            json!({
                "id": strategy_id, "name": strategy.get("name"), "credential_type": "key_auth",
                "key_names": strategy.get("configs").and_then(|c| c.get("key-auth")).and_then(|k| k.get("key_names")).cloned().unwrap_or_else(|| json!(["apikey"])),
            })
        } else {
            let credential_type = if strategy.get("dcr_provider_id").is_some_and(|v| !v.is_null()) {
                "client_credentials"
            } else {
                "self_managed_client_credentials"
            };
            json!({
                "id": strategy_id, "name": strategy.get("name"), "credential_type": credential_type,
                "auth_methods": oidc.get("auth_methods").cloned().unwrap_or_else(|| json!([])),
            })
        };
        let mut row = json!({
            "id": id,
            "name": body.get("name"),
            "labels": body.get("labels").cloned().filter(|l| !l.is_null()).unwrap_or_else(|| json!({})),
            "registration_count": 0,
            "portal": {"id": portal},
            "auth_strategy": auth_strategy,
            "owner": body.get("owner"),
            "created_at": now, "updated_at": now,
            "_portal_id": portal,
            "_dcr_created": dcr_created,
        });
        if kind != "key_auth" {
            row["client_id"] = json!(client_id);
            row["granted_scopes"] = json!(granted_scopes);
            row["dcr_provider"] = strategy
                .get("dcr_provider_id")
                .and_then(Value::as_str)
                .map_or(Value::Null, |pid| json!({"id": pid}));
        }
        // `description` is required in the document's application schemas (nullable).
        row["description"] = body
            .get("description")
            .filter(|d| d.is_string())
            .cloned()
            .unwrap_or(Value::Null);
        if let Value::Object(row) = row {
            self.applications.insert(id.clone(), row);
        }
        Ok(id)
    }

    pub(crate) fn application(&self, portal: &str, id: &str) -> Outcome<&Map<String, Value>> {
        self.applications
            .get(id)
            .filter(|a| str_of(a, "_portal_id") == Some(portal))
            .ok_or_else(|| SandboxProblem::not_found("application"))
    }

    pub(crate) fn application_view(&self, portal: &str, id: &str) -> Outcome<Value> {
        Ok(public(self.application(portal, id)?))
    }
}

/// A row without the sandbox's hidden `_` fields.
pub(crate) fn public(row: &Map<String, Value>) -> Value {
    let mut out = row.clone();
    out.retain(|k, _| !k.starts_with('_'));
    Value::Object(out)
}

fn kind_is(body: &Map<String, Value>, kind: &str) -> bool {
    str_of(body, "strategy_type") == Some(kind)
}

fn strategy_row(id: &str, body: &Map<String, Value>, created: &str, updated: &str) -> Map<String, Value> {
    let mut row = body.clone();
    row.insert("id".into(), json!(id));
    row.entry("labels").or_insert_with(|| json!({}));
    if row.get("dcr_provider_id").is_some_and(Value::is_null) {
        row.remove("dcr_provider_id");
    }
    row.insert("created_at".into(), json!(created));
    row.insert("updated_at".into(), json!(updated));
    row
}

/// Applies a sparse label update: `null` deletes.
fn merge_labels(row: &mut Map<String, Value>, changes: &Value) {
    let labels = row.entry("labels").or_insert_with(|| json!({}));
    match (labels.as_object_mut(), changes.as_object()) {
        (Some(current), Some(changes)) => {
            for (k, v) in changes {
                if v.is_null() {
                    current.remove(k);
                } else {
                    current.insert(k.clone(), v.clone());
                }
            }
        }
        _ if changes.is_null() => *labels = json!({}),
        _ => {}
    }
}

fn check_dcr_config<'a>(kind: &str, config: &'a Map<String, Value>, create: bool) -> Check<'a> {
    let mut check = Check::nested(config, "dcr_config");
    match kind {
        "auth0" => {
            check.allowed(&[
                "initial_client_id",
                "initial_client_secret",
                "initial_client_audience",
                "use_developer_managed_scopes",
            ]);
            check.string("initial_client_id", create, 1, 256);
            check.string("initial_client_secret", create, 1, 256);
            check.string("initial_client_audience", false, 0, 256);
            check.boolean("use_developer_managed_scopes");
        }
        "azureAd" | "curity" => {
            check.allowed(&["initial_client_id", "initial_client_secret"]);
            check.string("initial_client_id", create, 1, 256);
            check.string("initial_client_secret", create, 1, 256);
        }
        "okta" => {
            check.allowed(&["dcr_token"]);
            check.string("dcr_token", create, 1, 256);
        }
        "kongIdentity" => check.allowed(&[]),
        "http" => {
            check.allowed(&[
                "dcr_base_url",
                "api_key",
                "disable_event_hooks",
                "disable_refresh_secret",
                "allow_multiple_credentials",
            ]);
            check.url("dcr_base_url", create);
            if let Some(key) = check.string("api_key", create, 12, 256)
                && !super::rules::api_key_chars(key)
            {
                check.problems.push(param(
                    "dcr_config.api_key",
                    "matches_regex",
                    "must match ^[a-zA-Z0-9_]+$",
                ));
            }
            for flag in [
                "disable_event_hooks",
                "disable_refresh_secret",
                "allow_multiple_credentials",
            ] {
                check.boolean(flag);
            }
        }
        _ => {}
    }
    check
}

fn check_configs<'a>(kind: &str, configs: &'a Map<String, Value>, create: bool) -> Check<'a> {
    let mut outer = Check::nested(configs, "configs");
    let key = if kind == "key_auth" {
        "key-auth"
    } else {
        "openid-connect"
    };
    outer.allowed(&[key]);
    let Some(config) = outer.nested_object(key, true) else {
        return outer;
    };
    let mut check = Check::nested(config, &format!("configs.{key}"));
    if kind == "key_auth" {
        check.allowed(&["key_names", "ttl"]);
        check.strings("key_names", false, 1, 10, 256);
        if let Some(ttl) = check.nested_object("ttl", false) {
            let mut t = Check::nested(ttl, "configs.key-auth.ttl");
            t.allowed(&["value", "unit"]);
            t.choice("unit", true, &["days", "weeks", "years"]);
            if ttl.get("value").and_then(Value::as_u64).is_none_or(|v| v < 1) {
                t.problems.push(param(
                    "configs.key-auth.ttl.value",
                    "min",
                    "must be an integer of at least 1",
                ));
            }
            check.merge(t);
        }
    } else {
        let mut allowed = vec!["issuer", "credential_claim", "scopes", "auth_methods"];
        allowed.extend(OIDC_EXTRA_KEYS);
        check.allowed(&allowed);
        check.url("issuer", create);
        check.strings("credential_claim", create, 0, 10, 128);
        check.strings("scopes", create, 0, 50, 128);
        check.strings("auth_methods", create, 0, 10, 64);
        check.strings("token_post_args_names", false, 0, 10, 256);
        check.strings("token_post_args_values", false, 0, 10, 256);
    }
    outer.merge(check);
    outer
}

fn slugify(name: &str, version: Option<&str>) -> String {
    let base: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    match version {
        Some(v) => format!("{base}-{}", v.replace(|c: char| !c.is_ascii_alphanumeric(), "-")),
        None => base,
    }
}

/// Filters rows by `filter[field][op]` query parameters (`eq`, `contains`, `neq`, `oeq`,
/// `ocontains`, and the short form `filter[field]` meaning `eq`).
pub(crate) fn matches_filters(row: &Value, filters: &HashMap<String, Vec<(String, String)>>) -> bool {
    filters.iter().all(|(field, conditions)| {
        let value = lookup(row, field);
        conditions.iter().all(|(op, wanted)| {
            let value = value.as_deref().unwrap_or_default();
            match op.as_str() {
                "eq" => value == wanted,
                "neq" => value != wanted,
                "contains" => value.contains(wanted.as_str()),
                "oeq" => wanted.split(',').any(|w| value == w),
                "ocontains" => wanted.split(',').any(|w| value.contains(w)),
                _ => false,
            }
        })
    })
}

/// The string value of a filterable field; nested `dcr_config` fields and the strategy's
/// provider are reachable by their filter names.
fn lookup(row: &Value, field: &str) -> Option<String> {
    let direct = row
        .get(field)
        .or_else(|| row.get("dcr_config").and_then(|c| c.get(field)));
    let value = match field {
        "dcr_provider_id" => row.get("dcr_provider").and_then(|p| p.get("id")),
        "dcr_provider_name" => row.get("dcr_provider").and_then(|p| p.get("name")),
        "dcr_provider_type" => row.get("dcr_provider").and_then(|p| p.get("provider_type")),
        "developer_id" => row.get("owner").and_then(|o| o.get("id")),
        // A publication's strategy and portal (Konnect allows one strategy per publication);
        // an application's strategy.
        "auth_strategy_id" => row
            .get("auth_strategy_ids")
            .and_then(|ids| ids.get(0))
            .or_else(|| row.get("auth_strategy").and_then(|s| s.get("id"))),
        "portal_id" => direct.or_else(|| row.get("portal_ids").and_then(|ids| ids.get(0))),
        _ => direct,
    }?;
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

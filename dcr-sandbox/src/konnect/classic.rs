//! Classic (v2) Dev Portals: API products and their versions (`/v2/api-products`), and
//! their publication on a classic portal as portal product versions
//! (`/v2/portals/{portalId}/product-versions`), with the rules of the documents
//! `konnect-api-products-v2` and `konnect-portal-management-v2`. A classic portal is not
//! a v3 portal: each family of endpoints answers 404 for the other's portals.

use serde_json::{Map, Value, json};

use super::check::{Check, is_uuid, object};
use super::problem::{Outcome, SandboxProblem, param};
use super::store::{Store, str_of};

/// `PortalProductVersionPublishStatus`.
const PUBLISH_STATUSES: [&str; 2] = ["published", "unpublished"];

impl Store {
    /// Adds a classic portal.
    pub(crate) fn add_classic_portal(&mut self, name: &str) -> String {
        let id = self.new_id();
        let mut row = Map::new();
        row.insert("id".into(), json!(id));
        row.insert("name".into(), json!(name));
        self.classic_portals.insert(id.clone(), row);
        id
    }

    fn classic_portal(&self, id: &str) -> Outcome<&Map<String, Value>> {
        self.classic_portals
            .get(id)
            .ok_or_else(|| SandboxProblem::not_found("portal"))
    }

    // ---- API products ----------------------------------------------------------------

    /// `POST /v2/api-products` (`CreateAPIProductDTO`; names are not unique: the
    /// document lists no 409).
    pub(crate) fn create_product(&mut self, body: &Value) -> Outcome<Value> {
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&["name", "description", "labels", "public_labels", "portal_ids"]);
        let name = check.string("name", true, 1, 100);
        check.string("description", false, 0, usize::MAX);
        check.labels(false);
        if body.contains_key("portal_ids") {
            check.problems.push(param(
                "portal_ids",
                "unsupported",
                "the sandbox publishes through portal product versions only",
            ));
        }
        check.finish()?;
        let id = self.new_id();
        let now = self.now();
        let row = json!({
            "id": id, "name": name.unwrap_or_default(),
            "description": body.get("description").cloned().unwrap_or(Value::Null),
            "labels": body.get("labels").cloned().unwrap_or_else(|| json!({})),
            "public_labels": body.get("public_labels").cloned().unwrap_or_else(|| json!({})),
            "created_at": now, "updated_at": now,
        });
        if let Value::Object(row) = row {
            self.products.insert(id.clone(), row);
        }
        self.product_view(&id)
    }

    /// `APIProduct`: the portals it is published on come from its versions.
    pub(crate) fn product_view(&self, id: &str) -> Outcome<Value> {
        let mut row = self
            .products
            .get(id)
            .ok_or_else(|| SandboxProblem::not_found("API product"))?
            .clone();
        let versions: Vec<&str> = self
            .product_versions
            .iter_from(0)
            .filter(|(_, v)| str_of(v, "_product_id") == Some(id))
            .filter_map(|(_, v)| str_of(v, "id"))
            .collect();
        let mut portals: Vec<String> = Vec::new();
        for (_, ppv) in self.portal_product_versions.iter_from(0) {
            let on = str_of(ppv, "product_version_id").is_some_and(|v| versions.contains(&v));
            if let Some(portal) = str_of(ppv, "_portal_id").filter(|_| on)
                && !portals.iter().any(|p| p == portal)
            {
                portals.push(portal.to_owned());
            }
        }
        let named: Vec<Value> = portals
            .iter()
            .map(|p| {
                let name = self
                    .classic_portals
                    .get(p)
                    .and_then(|r| str_of(r, "name"))
                    .unwrap_or_default();
                json!({"portal_id": p, "portal_name": name})
            })
            .collect();
        row.insert("portal_ids".into(), json!(portals));
        row.insert("portals".into(), Value::Array(named));
        row.insert("version_count".into(), json!(versions.len()));
        Ok(Value::Object(row))
    }

    /// `DELETE /v2/api-products/{id}`: its versions and their publications go with it.
    pub(crate) fn delete_product(&mut self, id: &str) -> Outcome<()> {
        self.products
            .remove(id)
            .ok_or_else(|| SandboxProblem::not_found("API product"))?;
        let versions: Vec<String> = self
            .product_versions
            .iter_from(0)
            .filter(|(_, v)| str_of(v, "_product_id") == Some(id))
            .filter_map(|(_, v)| str_of(v, "id").map(str::to_owned))
            .collect();
        for version in versions {
            self.remove_version(&version);
        }
        Ok(())
    }

    // ---- Versions ----------------------------------------------------------------------

    /// `POST /v2/api-products/{id}/product-versions` (`CreateAPIProductVersionDTO`).
    pub(crate) fn create_version(&mut self, product: &str, body: &Value) -> Outcome<Value> {
        if self.products.get(product).is_none() {
            return Err(SandboxProblem::not_found("API product"));
        }
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&["name", "publish_status", "deprecated", "labels", "gateway_service"]);
        let name = check.string("name", true, 1, usize::MAX);
        check.choice("publish_status", false, &PUBLISH_STATUSES);
        check.boolean("deprecated");
        check.labels(false);
        if body.get("gateway_service").is_some_and(|g| !g.is_null()) {
            check.problems.push(param(
                "gateway_service",
                "unsupported",
                "the sandbox runs no gateway services",
            ));
        }
        check.finish()?;
        let id = self.new_id();
        let now = self.now();
        let row = json!({
            "_product_id": product,
            "id": id, "name": name.unwrap_or_default(), "gateway_service": null,
            "labels": body.get("labels").cloned().unwrap_or_else(|| json!({})),
            "created_at": now, "updated_at": now,
        });
        if let Value::Object(row) = row {
            self.product_versions.insert(id.clone(), row);
        }
        self.version_view(&id)
    }

    /// `APIProductVersion`, with the portals it is configured for.
    pub(crate) fn version_view(&self, id: &str) -> Outcome<Value> {
        let mut row = self
            .product_versions
            .get(id)
            .ok_or_else(|| SandboxProblem::not_found("API product version"))?
            .clone();
        row.retain(|k, _| !k.starts_with('_'));
        let portals: Vec<Value> = self
            .portal_product_versions
            .iter_from(0)
            .filter(|(_, p)| str_of(p, "product_version_id") == Some(id))
            .map(|(_, p)| {
                let ppv_id = str_of(p, "id").unwrap_or_default();
                let portal = str_of(p, "_portal_id").unwrap_or_default();
                let name = self
                    .classic_portals
                    .get(portal)
                    .and_then(|r| str_of(r, "name"))
                    .unwrap_or_default();
                let strategies: Vec<Value> = self
                    .ppv_strategies(p)
                    .iter()
                    .map(|s| json!({"id": s["id"], "name": s["name"]}))
                    .collect();
                json!({
                    "portal_id": portal, "portal_name": name, "portal_product_version_id": ppv_id,
                    "publish_status": p["publish_status"], "deprecated": p["deprecated"],
                    "application_registration_enabled": p["application_registration_enabled"],
                    "auto_approve_registration": p["auto_approve_registration"],
                    "auth_strategies": strategies,
                })
            })
            .collect();
        let published = portals.iter().any(|p| p["publish_status"] == "published");
        let deprecated = portals.iter().any(|p| p["deprecated"] == true);
        row.insert(
            "publish_status".into(),
            json!(if published { "published" } else { "unpublished" }),
        );
        row.insert("deprecated".into(), json!(deprecated));
        row.insert("portals".into(), Value::Array(portals));
        Ok(Value::Object(row))
    }

    /// Whether a version row belongs to `product`.
    pub(crate) fn version_of(&self, product: &str, version: &str) -> bool {
        self.product_versions
            .get(version)
            .is_some_and(|v| str_of(v, "_product_id") == Some(product))
    }

    /// `DELETE /v2/api-products/{id}/product-versions/{versionId}`.
    pub(crate) fn delete_version(&mut self, product: &str, version: &str) -> Outcome<()> {
        if !self.version_of(product, version) {
            return Err(SandboxProblem::not_found("API product version"));
        }
        self.remove_version(version);
        Ok(())
    }

    fn remove_version(&mut self, version: &str) {
        self.product_versions.remove(version);
        let published: Vec<String> = self
            .portal_product_versions
            .iter_from(0)
            .filter(|(_, p)| str_of(p, "product_version_id") == Some(version))
            .filter_map(|(_, p)| str_of(p, "id").map(str::to_owned))
            .collect();
        for key in published {
            self.portal_product_versions.remove(&key);
        }
    }

    // ---- Portal product versions -----------------------------------------------------

    /// The strategies a portal product version uses, as `AuthStrategyClientCredentials`
    /// (openid_connect) or `AuthStrategyKeyAuth` (key_auth) objects.
    fn ppv_strategies(&self, ppv: &Map<String, Value>) -> Vec<Value> {
        ppv.get("_auth_strategy_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|id| self.strategies.get(id))
            .map(|s| {
                let kind = str_of(s, "strategy_type").unwrap_or_default();
                let config = s
                    .get("configs")
                    .and_then(|c| c.get(kind))
                    .cloned()
                    .unwrap_or(Value::Null);
                if kind == "key_auth" {
                    json!({"id": s["id"], "name": s["name"], "credential_type": "key_auth",
                           "key_names": config.get("key_names").cloned().unwrap_or_else(|| json!([]))})
                } else {
                    json!({"id": s["id"], "name": s["name"], "credential_type": "client_credentials",
                           "auth_methods": config.get("auth_methods").cloned().unwrap_or_else(|| json!([]))})
                }
            })
            .collect()
    }

    /// `PortalProductVersion`.
    pub(crate) fn ppv_view(&self, portal: &str, id: &str) -> Outcome<Value> {
        let row = self
            .portal_product_versions
            .get(id)
            .filter(|p| str_of(p, "_portal_id") == Some(portal))
            .ok_or_else(|| SandboxProblem::not_found("portal product version"))?;
        Ok(self.ppv_public(row))
    }

    pub(crate) fn ppv_public(&self, row: &Map<String, Value>) -> Value {
        let mut view = row.clone();
        let strategies = self.ppv_strategies(row);
        view.retain(|k, _| !k.starts_with('_'));
        view.insert("auth_strategies".into(), Value::Array(strategies));
        Value::Object(view)
    }

    /// Checks `auth_strategy_ids` (at most one, each an existing strategy).
    fn check_strategy_ids(
        &self,
        check: &mut Check<'_>,
        body: &Map<String, Value>,
        required: bool,
    ) -> Option<Vec<String>> {
        let ids = match body.get("auth_strategy_ids") {
            None if !required => return None,
            None => {
                check
                    .problems
                    .push(param("auth_strategy_ids", "required", "is a required field"));
                return None;
            }
            Some(_) => check.strings("auth_strategy_ids", true, 0, 1, 64)?,
        };
        let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
        if ids.iter().any(|id| !is_uuid(id) || self.strategies.get(id).is_none()) {
            check.problems.push(param(
                "auth_strategy_ids",
                "missing_reference",
                "application auth strategy not found",
            ));
            return None;
        }
        Some(ids)
    }

    fn check_flags(check: &mut Check<'_>, body: &Map<String, Value>, required: bool) {
        for field in [
            "application_registration_enabled",
            "auto_approve_registration",
            "deprecated",
        ] {
            if required && !body.contains_key(field) {
                check.problems.push(param(field, "required", "is a required field"));
            }
            check.boolean(field);
        }
        check.choice("publish_status", required, &PUBLISH_STATUSES);
    }

    /// `POST /v2/portals/{portalId}/product-versions` (`CreatePortalProductVersionPayload`:
    /// every field required). A version already on the portal is refused (400: the
    /// document lists no 409).
    pub(crate) fn create_ppv(&mut self, portal: &str, body: &Value) -> Outcome<Value> {
        self.classic_portal(portal)?;
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&[
            "publish_status",
            "product_version_id",
            "auth_strategy_ids",
            "application_registration_enabled",
            "auto_approve_registration",
            "deprecated",
        ]);
        let version = check.uuid("product_version_id", true).map(str::to_owned);
        Self::check_flags(&mut check, body, true);
        let ids = self.check_strategy_ids(&mut check, body, true);
        check.finish()?;
        let version = version.unwrap_or_default();
        if self.product_versions.get(&version).is_none() {
            return Err(SandboxProblem::field(
                "product_version_id",
                "missing_reference",
                "API product version not found",
            ));
        }
        if self
            .portal_product_versions
            .iter_from(0)
            .any(|(_, p)| str_of(p, "_portal_id") == Some(portal) && str_of(p, "product_version_id") == Some(&version))
        {
            return Err(SandboxProblem::field(
                "product_version_id",
                "unique",
                "the product version is already on this portal",
            ));
        }
        let id = self.new_id();
        let now = self.now();
        let row = json!({
            "_portal_id": portal, "_auth_strategy_ids": ids.unwrap_or_default(),
            "id": id, "product_version_id": version,
            "publish_status": body["publish_status"],
            "application_registration_enabled": body["application_registration_enabled"],
            "auto_approve_registration": body["auto_approve_registration"],
            "deprecated": body["deprecated"],
            "created_at": now, "updated_at": now,
        });
        if let Value::Object(row) = row {
            self.portal_product_versions.insert(id.clone(), row);
        }
        self.ppv_view(portal, &id)
    }

    /// `PATCH /v2/portals/{portalId}/product-versions/{id}` (`UpdatePortalProductVersionPayload`).
    pub(crate) fn update_ppv(&mut self, portal: &str, id: &str, body: &Value) -> Outcome<Value> {
        self.classic_portal(portal)?;
        self.ppv_view(portal, id)?;
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&[
            "publish_status",
            "auth_strategy_ids",
            "application_registration_enabled",
            "auto_approve_registration",
            "deprecated",
            "notify_developers",
        ]);
        Self::check_flags(&mut check, body, false);
        check.boolean("notify_developers");
        let ids = self.check_strategy_ids(&mut check, body, false);
        check.finish()?;
        let now = self.now();
        let row = self
            .portal_product_versions
            .get_mut(id)
            .ok_or_else(|| SandboxProblem::not_found("portal product version"))?;
        for field in [
            "publish_status",
            "application_registration_enabled",
            "auto_approve_registration",
            "deprecated",
        ] {
            if let Some(v) = body.get(field) {
                row.insert(field.into(), v.clone());
            }
        }
        if let Some(ids) = ids {
            row.insert("_auth_strategy_ids".into(), json!(ids));
        }
        row.insert("updated_at".into(), json!(now));
        self.ppv_view(portal, id)
    }

    /// `DELETE /v2/portals/{portalId}/product-versions/{id}`.
    pub(crate) fn delete_ppv(&mut self, portal: &str, id: &str) -> Outcome<()> {
        self.classic_portal(portal)?;
        self.ppv_view(portal, id)?;
        self.portal_product_versions.remove(id);
        Ok(())
    }

    /// Whether the list's parent portal is a classic one.
    pub(crate) fn check_classic_portal(&self, portal: &str) -> Outcome<()> {
        self.classic_portal(portal).map(|_| ())
    }

    /// Whether a strategy is used by a portal product version.
    pub(crate) fn strategy_on_classic_portal(&self, strategy: &str) -> bool {
        self.portal_product_versions.iter_from(0).any(|(_, p)| {
            p.get("_auth_strategy_ids")
                .and_then(Value::as_array)
                .is_some_and(|ids| ids.iter().any(|i| i == strategy))
        })
    }
}

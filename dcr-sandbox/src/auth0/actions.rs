//! Actions as the Management API document describes them: drafts, deploys that make
//! immutable versions, and each trigger's ordered bindings, replaced as a whole. The
//! sandbox stores the code; it never runs it.
//!
//! Rules (from `auth0-management-api.openapi.json` and the Management API reference):
//! `name` and `supported_triggers` (at least one, of the `ActionTriggerTypeEnum`) are
//! required on create, no other property than the document's; secrets are write-only
//! (answers carry their names and `updated_at`); an action is bound only once deployed and
//! only to a trigger it supports; it cannot be deleted while bound unless `force=true`.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::failure::{Outcome, SandboxError};
use super::store::Table;

/// The triggers the sandbox offers, with the version each binds at.
pub(crate) const TRIGGERS: &[(&str, &str)] = &[
    ("post-login", "v3"),
    ("credentials-exchange", "v2"),
    ("pre-user-registration", "v2"),
    ("post-user-registration", "v2"),
    ("post-change-password", "v2"),
    ("send-phone-message", "v2"),
];
const RUNTIMES: &[&str] = &["node18", "node22"];
const DEFAULT_RUNTIME: &str = "node22";
const ACTION_PROPS: &[&str] = &[
    "name",
    "supported_triggers",
    "code",
    "dependencies",
    "runtime",
    "secrets",
    "deploy",
    "modules",
];

/// The tenant's actions, versions and bindings.
pub(crate) struct ActionStore {
    pub(crate) actions: Table,
    /// Every version ever deployed, by action id, oldest first.
    versions: HashMap<String, Vec<Map<String, Value>>>,
    /// Secret values, by action id then name: never answered, read by the test accessor.
    secrets: HashMap<String, HashMap<String, String>>,
    /// Each trigger's bindings, in execution order.
    bindings: HashMap<String, Vec<Map<String, Value>>>,
    rng: fastrand::Rng,
}

fn bad(message: impl Into<String>) -> SandboxError {
    SandboxError::bad_body(message)
}

fn not_found(what: &str, id: &str) -> SandboxError {
    SandboxError::mgmt(404, "not_found", format!("The {what} {id} does not exist."))
}

fn now() -> String {
    crate::shapes::rfc3339(super::tokens::now_secs() * 1000)
}

impl ActionStore {
    /// An empty store; `seed` makes its ids repeatable.
    pub(crate) fn new(seed: Option<u64>) -> Self {
        ActionStore {
            actions: Table::default(),
            versions: HashMap::new(),
            secrets: HashMap::new(),
            bindings: HashMap::new(),
            rng: seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
        }
    }

    /// Actions, versions and bindings have UUIDs (the document's examples).
    fn new_id(&mut self) -> String {
        crate::shapes::uuid(&mut self.rng)
    }

    /// Replaces a row in place (an insert would move it to the end of the list).
    fn replace(&mut self, id: &str, row: Map<String, Value>) {
        if let Some(existing) = self.actions.get_mut(id) {
            *existing = row;
        }
    }

    fn triggers(body: &Map<String, Value>) -> Outcome<Option<Vec<Value>>> {
        let Some(value) = body.get("supported_triggers") else {
            return Ok(None);
        };
        let items = value
            .as_array()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| bad("'Array is too short (0), minimum 1' on property supported_triggers"))?;
        items
            .iter()
            .map(|t| {
                let id = t.get("id").and_then(Value::as_str).unwrap_or_default();
                let Some((_, version)) = TRIGGERS.iter().find(|(known, _)| *known == id) else {
                    return Err(bad(format!(
                        "'No enum match for: \"{id}\"' on property supported_triggers[].id"
                    )));
                };
                Ok(json!({
                    "id": id,
                    "version": t.get("version").and_then(Value::as_str).unwrap_or(version),
                }))
            })
            .collect::<Outcome<Vec<_>>>()
            .map(Some)
    }

    /// Checks a create or update body and returns the secrets it sets (name, value).
    fn check(body: &Map<String, Value>) -> Outcome<Option<Vec<(String, String)>>> {
        if let Some(extra) = body.keys().find(|k| !ACTION_PROPS.contains(&k.as_str())) {
            return Err(bad(format!("'Additional properties not allowed: {extra}'")));
        }
        for key in ["name", "code", "runtime"] {
            if body.get(key).is_some_and(|v| !v.is_string()) {
                return Err(bad(format!(
                    "'Expected type string but found another type' on property {key}"
                )));
            }
        }
        if body.get("name").and_then(Value::as_str).is_some_and(str::is_empty) {
            return Err(bad("'String is too short (0 chars), minimum 1' on property name"));
        }
        if let Some(runtime) = body.get("runtime").and_then(Value::as_str)
            && !RUNTIMES.contains(&runtime)
        {
            return Err(bad(format!("'Invalid runtime {runtime}' on property runtime")));
        }
        let Some(secrets) = body.get("secrets") else {
            return Ok(None);
        };
        let items = secrets
            .as_array()
            .ok_or_else(|| bad("'Expected type array but found another type' on property secrets"))?;
        items
            .iter()
            .map(|s| {
                match (
                    s.get("name").and_then(Value::as_str),
                    s.get("value").and_then(Value::as_str),
                ) {
                    (Some(name), Some(value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
                    _ => Err(bad("'Each secret needs a name and a value' on property secrets")),
                }
            })
            .collect::<Outcome<Vec<_>>>()
            .map(Some)
    }

    fn set_secrets(&mut self, id: &str, row: &mut Map<String, Value>, secrets: Vec<(String, String)>) {
        let stamp = now();
        let values = self.secrets.entry(id.to_owned()).or_default();
        values.clear();
        let names: Vec<Value> = secrets
            .into_iter()
            .map(|(name, value)| {
                values.insert(name.clone(), value);
                json!({"name": name, "updated_at": stamp})
            })
            .collect();
        row.insert("secrets".into(), Value::Array(names));
    }

    /// `POST /actions/actions`.
    pub(crate) fn create(&mut self, body: &Value) -> Outcome<Value> {
        let body = body.as_object().ok_or_else(|| bad("'Expected type object'"))?;
        let secrets = Self::check(body)?;
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("'Missing required property: name'"))?;
        let triggers = Self::triggers(body)?.ok_or_else(|| bad("'Missing required property: supported_triggers'"))?;
        let id = self.new_id();
        let stamp = now();
        let mut row = Map::new();
        row.insert("id".into(), json!(id));
        row.insert("name".into(), json!(name));
        row.insert("supported_triggers".into(), Value::Array(triggers));
        row.insert(
            "code".into(),
            body.get("code")
                .cloned()
                .unwrap_or_else(|| json!("module.exports = () => {}")),
        );
        row.insert(
            "runtime".into(),
            body.get("runtime").cloned().unwrap_or_else(|| json!(DEFAULT_RUNTIME)),
        );
        row.insert(
            "dependencies".into(),
            body.get("dependencies").cloned().unwrap_or_else(|| json!([])),
        );
        row.insert("secrets".into(), json!([]));
        row.insert("status".into(), json!("built"));
        row.insert("all_changes_deployed".into(), json!(false));
        row.insert("created_at".into(), json!(stamp));
        row.insert("updated_at".into(), json!(stamp));
        if let Some(secrets) = secrets {
            self.set_secrets(&id, &mut row, secrets);
        }
        self.actions.insert(id.clone(), row);
        if body.get("deploy").and_then(Value::as_bool) == Some(true) {
            self.deploy(&id)?;
        }
        self.get(&id)
    }

    /// `GET /actions/actions/{id}`.
    pub(crate) fn get(&self, id: &str) -> Outcome<Value> {
        self.actions
            .get(id)
            .map(|row| Value::Object(row.clone()))
            .ok_or_else(|| not_found("action", id))
    }

    /// `PATCH /actions/actions/{id}`: a change to the draft; the deployed version stays.
    pub(crate) fn update(&mut self, id: &str, body: &Value) -> Outcome<Value> {
        let body = body.as_object().ok_or_else(|| bad("'Expected type object'"))?;
        let secrets = Self::check(body)?;
        let triggers = Self::triggers(body)?;
        let mut row = self.actions.get(id).cloned().ok_or_else(|| not_found("action", id))?;
        for key in ["name", "code", "runtime", "dependencies"] {
            if let Some(value) = body.get(key) {
                row.insert(key.into(), value.clone());
            }
        }
        if let Some(triggers) = triggers {
            row.insert("supported_triggers".into(), Value::Array(triggers));
        }
        if let Some(secrets) = secrets {
            self.set_secrets(id, &mut row, secrets);
        }
        row.insert("all_changes_deployed".into(), json!(false));
        row.insert("updated_at".into(), json!(now()));
        self.replace(id, row);
        self.get(id)
    }

    /// `POST /actions/actions/{id}/deploy`: the draft becomes a new version that runs.
    pub(crate) fn deploy(&mut self, id: &str) -> Outcome<Value> {
        let mut row = self.actions.get(id).cloned().ok_or_else(|| not_found("action", id))?;
        let versions = self.versions.entry(id.to_owned()).or_default();
        for v in versions.iter_mut() {
            v.insert("deployed".into(), json!(false));
        }
        let stamp = now();
        let number = versions.len() + 1;
        let version_id = crate::shapes::uuid(&mut self.rng);
        let mut version = Map::new();
        version.insert("id".into(), json!(version_id));
        version.insert("action_id".into(), json!(id));
        for key in ["code", "runtime", "dependencies", "secrets", "supported_triggers"] {
            if let Some(value) = row.get(key) {
                version.insert(key.into(), value.clone());
            }
        }
        version.insert("number".into(), json!(number));
        version.insert("deployed".into(), json!(true));
        version.insert("status".into(), json!("built"));
        version.insert("created_at".into(), json!(stamp));
        version.insert("updated_at".into(), json!(stamp));
        version.insert("built_at".into(), json!(stamp));
        versions.push(version.clone());
        row.insert("deployed_version".into(), Value::Object(version.clone()));
        row.insert("all_changes_deployed".into(), json!(true));
        self.replace(id, row);
        Ok(Value::Object(version))
    }

    fn bound_triggers(&self, id: &str) -> Vec<&str> {
        self.bindings
            .iter()
            .filter(|(_, list)| list.iter().any(|b| b["action"]["id"] == id))
            .map(|(t, _)| t.as_str())
            .collect()
    }

    /// `DELETE /actions/actions/{id}`: refused while bound, unless forced.
    pub(crate) fn delete(&mut self, id: &str, force: bool) -> Outcome<()> {
        if self.actions.get(id).is_none() {
            return Err(not_found("action", id));
        }
        let bound = self.bound_triggers(id);
        if !bound.is_empty() && !force {
            return Err(SandboxError::mgmt(
                400,
                "invalid_request",
                format!(
                    "The action is bound to {}: unbind it first, or delete with force=true",
                    bound.join(", ")
                ),
            ));
        }
        for list in self.bindings.values_mut() {
            list.retain(|b| b["action"]["id"] != id);
        }
        self.actions.remove(id);
        self.versions.remove(id);
        self.secrets.remove(id);
        Ok(())
    }

    /// `GET /actions/triggers`.
    pub(crate) fn triggers_view() -> Value {
        let triggers: Vec<Value> = TRIGGERS
            .iter()
            .map(|(id, version)| {
                json!({
                    "id": id,
                    "version": version,
                    "status": "CURRENT",
                    "runtimes": RUNTIMES,
                    "default_runtime": DEFAULT_RUNTIME,
                })
            })
            .collect();
        json!({ "triggers": triggers })
    }

    fn known_trigger(trigger: &str) -> Outcome<()> {
        if TRIGGERS.iter().any(|(t, _)| *t == trigger) {
            Ok(())
        } else {
            Err(SandboxError::bad_query(format!(
                "'No enum match for: \"{trigger}\"' on property triggerId"
            )))
        }
    }

    /// A binding as answered: with the bound action as it is now.
    fn binding_view(&self, binding: &Map<String, Value>) -> Value {
        let mut out = binding.clone();
        if let Some(id) = binding["action"]["id"].as_str()
            && let Some(action) = self.actions.get(id)
        {
            out.insert("action".into(), Value::Object(action.clone()));
        }
        Value::Object(out)
    }

    /// `GET /actions/triggers/{triggerId}/bindings` as one table, for the pager.
    pub(crate) fn bindings_table(&self, trigger: &str) -> Outcome<Table> {
        Self::known_trigger(trigger)?;
        let mut table = Table::default();
        for binding in self.bindings.get(trigger).into_iter().flatten() {
            if let Value::Object(row) = self.binding_view(binding) {
                table.insert(row["id"].as_str().unwrap_or_default().to_owned(), row);
            }
        }
        Ok(table)
    }

    /// `PATCH /actions/triggers/{triggerId}/bindings`: the new list, in order.
    pub(crate) fn update_bindings(&mut self, trigger: &str, body: &Value) -> Outcome<Value> {
        Self::known_trigger(trigger)?;
        let body = body.as_object().ok_or_else(|| bad("'Expected type object'"))?;
        if let Some(extra) = body.keys().find(|k| k.as_str() != "bindings") {
            return Err(bad(format!("'Additional properties not allowed: {extra}'")));
        }
        let items = match body.get("bindings") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(_) => return Err(bad("'Expected type array but found another type' on property bindings")),
        };
        let current = self.bindings.get(trigger).cloned().unwrap_or_default();
        let mut next = Vec::with_capacity(items.len());
        for item in &items {
            let kind = item["ref"]["type"].as_str().unwrap_or("action_name");
            let value = item["ref"]["value"]
                .as_str()
                .ok_or_else(|| bad("'Missing required property: ref.value' on property bindings[]"))?;
            let display_name = item.get("display_name").and_then(Value::as_str);
            if kind == "binding_id" {
                let existing = current
                    .iter()
                    .find(|b| b["id"] == value)
                    .ok_or_else(|| bad(format!("binding {value} is not bound to {trigger}")))?;
                let mut kept = existing.clone();
                if let Some(name) = display_name {
                    kept.insert("display_name".into(), json!(name));
                }
                next.push(kept);
                continue;
            }
            let action = match kind {
                "action_id" => self.actions.get(value),
                "action_name" => self
                    .actions
                    .iter_from(0)
                    .map(|(_, row)| row)
                    .find(|row| row["name"] == value),
                other => return Err(bad(format!("'No enum match for: \"{other}\"' on property ref.type"))),
            }
            .cloned()
            .ok_or_else(|| bad(format!("action {value} does not exist")))?;
            let supported = action["supported_triggers"]
                .as_array()
                .is_some_and(|ts| ts.iter().any(|t| t["id"] == trigger));
            if !supported {
                return Err(bad(format!("action {value} does not support the {trigger} trigger")));
            }
            if action.get("deployed_version").is_none() {
                return Err(bad(format!("action {value} must be deployed before it is bound")));
            }
            let stamp = now();
            let id = self.new_id();
            let action_name = action["name"].clone();
            let action_id = action["id"].clone();
            next.push(
                json!({
                    "id": id,
                    "trigger_id": trigger,
                    "display_name": display_name.map_or(action_name, |n| json!(n)),
                    "action": {"id": action_id},
                    "created_at": stamp,
                    "updated_at": stamp,
                })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            );
        }
        self.bindings.insert(trigger.to_owned(), next);
        let views: Vec<Value> = self
            .bindings
            .get(trigger)
            .into_iter()
            .flatten()
            .map(|b| self.binding_view(b))
            .collect();
        Ok(json!({ "bindings": views }))
    }

    /// A secret's value, for tests.
    pub(crate) fn secret(&self, id: &str, name: &str) -> Option<String> {
        self.secrets.get(id)?.get(name).cloned()
    }

    /// The ids of the actions bound to a trigger, in order.
    pub(crate) fn bound(&self, trigger: &str) -> Vec<String> {
        self.bindings
            .get(trigger)
            .into_iter()
            .flatten()
            .filter_map(|b| b["action"]["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// Every version of an action, oldest first.
    pub(crate) fn versions(&self, id: &str) -> Vec<Value> {
        self.versions
            .get(id)
            .into_iter()
            .flatten()
            .map(|v| Value::Object(v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_binds_once_deployed_and_is_deleted_once_unbound() {
        let mut s = ActionStore::new(Some(1));
        let a = s
            .create(
                &json!({"name": "n", "supported_triggers": [{"id": "credentials-exchange"}],
                "secrets": [{"name": "S", "value": "v"}]}),
            )
            .unwrap();
        let id = a["id"].as_str().unwrap().to_owned();
        assert_eq!(a["secrets"][0]["name"], "S");
        assert!(a["secrets"][0].get("value").is_none(), "values are never answered");
        let bind = json!({"bindings": [{"ref": {"type": "action_id", "value": id}, "display_name": "n"}]});
        let e = s.update_bindings("credentials-exchange", &bind).unwrap_err();
        assert!(e.message.contains("must be deployed"), "{e}");
        s.deploy(&id).unwrap();
        assert!(
            s.update_bindings("post-login", &bind)
                .unwrap_err()
                .message
                .contains("does not support")
        );
        s.update_bindings("credentials-exchange", &bind).unwrap();
        assert_eq!(s.bound("credentials-exchange"), std::slice::from_ref(&id));
        assert_eq!(s.delete(&id, false).unwrap_err().status, 400);
        s.update_bindings("credentials-exchange", &json!({"bindings": []}))
            .unwrap();
        s.delete(&id, false).unwrap();
        assert_eq!(s.get(&id).unwrap_err().status, 404);
    }
}

//! OpenAPI documents as JSON Schema 2020-12, so a standard validator can check bodies:
//! OpenAPI 3.0's `nullable` and boolean `exclusiveMinimum`/`exclusiveMaximum` become their
//! JSON Schema forms, and a `oneOf`/`anyOf` with a `discriminator` becomes a choice on the
//! discriminator's value (as OpenAPI defines it) instead of "exactly one branch matches"
//! (which fails whenever two branches overlap).

use serde_json::{Map, Value, json};

/// Rewrites `doc` in place. `openapi30` enables the 3.0-only rewrites.
pub(crate) fn to_json_schema(doc: &mut Value, openapi30: bool) {
    walk(doc, openapi30);
    if let Some(root) = doc.as_object_mut() {
        root.insert(
            "$schema".to_owned(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
    }
}

fn walk(node: &mut Value, openapi30: bool) {
    match node {
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, openapi30)),
        Value::Object(map) => {
            for value in map.values_mut() {
                walk(value, openapi30);
            }
            discriminator(map);
            if openapi30 {
                exclusive_bounds(map);
                if map.remove("nullable") == Some(Value::Bool(true)) {
                    nullable(node);
                }
            }
        }
        _ => {}
    }
}

fn exclusive_bounds(map: &mut Map<String, Value>) {
    for (flag, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        match map.get(flag) {
            Some(Value::Bool(true)) => {
                if let Some(limit) = map.remove(bound) {
                    map.insert(flag.to_owned(), limit);
                }
            }
            Some(Value::Bool(false)) => {
                map.remove(flag);
            }
            _ => {}
        }
    }
}

/// `nullable: true` admits `null`: added to `type` (and `enum`) when there is one,
/// otherwise the schema becomes `anyOf: [schema, {type: null}]`.
fn nullable(node: &mut Value) {
    let Value::Object(map) = node else { return };
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.push(Value::Null);
    }
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            map.insert("type".to_owned(), json!([t, "null"]));
        }
        Some(Value::Array(types)) => types.push(json!("null")),
        _ => {
            let inner = std::mem::take(map);
            *node = json!({ "anyOf": [Value::Object(inner), { "type": "null" }] });
        }
    }
}

/// `oneOf` + `discriminator` → for each discriminator value, `if` the property has it
/// `then` the mapped schema must hold; and the property must hold one of the values.
fn discriminator(map: &mut Map<String, Value>) {
    let Some(Value::Object(disc)) = map.get("discriminator").cloned() else {
        return;
    };
    let Some(property) = disc.get("propertyName").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let key = if map.contains_key("oneOf") { "oneOf" } else { "anyOf" };
    let Some(Value::Array(branches)) = map.get(key).cloned() else {
        return;
    };
    // Explicit mapping, else the implicit one: each branch's schema name.
    let mut choices: Vec<(String, Value)> = match disc.get("mapping").and_then(Value::as_object) {
        Some(mapping) => mapping
            .iter()
            .map(|(value, target)| (value.clone(), json!({ "$ref": target })))
            .collect(),
        None => Vec::new(),
    };
    if choices.is_empty() {
        for branch in &branches {
            if let Some(target) = branch.get("$ref").and_then(Value::as_str) {
                let name = target.rsplit('/').next().unwrap_or(target).to_owned();
                choices.push((name, branch.clone()));
            }
        }
    }
    if choices.is_empty() {
        return;
    }
    map.remove(key);
    map.remove("discriminator");
    let values: Vec<Value> = choices.iter().map(|(v, _)| json!(v)).collect();
    let mut all_of = match map.remove("allOf") {
        Some(Value::Array(existing)) => existing,
        _ => Vec::new(),
    };
    all_of.push(json!({
        "required": [property],
        "properties": { property.clone(): { "enum": values } }
    }));
    for (value, target) in choices {
        all_of.push(json!({
            "if": { "properties": { property.clone(): { "const": value } }, "required": [property] },
            "then": target
        }));
    }
    map.insert("allOf".to_owned(), Value::Array(all_of));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_and_discriminators_become_json_schema() {
        let mut doc = json!({
            "a": { "type": "string", "nullable": true },
            "b": { "$ref": "#/x", "nullable": true },
            "c": { "oneOf": [{ "$ref": "#/A" }, { "$ref": "#/B" }],
                   "discriminator": { "propertyName": "kind", "mapping": { "a": "#/A", "b": "#/B" } } }
        });
        to_json_schema(&mut doc, true);
        assert_eq!(doc["a"]["type"], json!(["string", "null"]));
        assert_eq!(doc["b"]["anyOf"][1], json!({ "type": "null" }));
        assert!(doc["c"].get("oneOf").is_none());
        assert_eq!(doc["c"]["allOf"][0]["properties"]["kind"]["enum"], json!(["a", "b"]));
        assert_eq!(doc["c"]["allOf"][1]["then"], json!({ "$ref": "#/A" }));
    }
}

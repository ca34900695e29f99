//! Every response the clients decode, built from the documents themselves: for each
//! operation and status, an instance with only the required fields (nullable ones
//! `null`), one with every field and every nullable one `null`, and one with every field
//! set (numbers declared `number` with a fraction). Each must decode into the typed model. What the documents allow, the clients
//! accept, without waiting for a server to send it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use dcr_tests::contract::load_document as load;

fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        node = doc
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {reference}"));
    }
    node
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Required fields only; nullable ones `null`.
    Minimal,
    /// Every field; nullable ones `null`.
    Nulls,
    /// Every field, with a value.
    Full,
}

fn nullable(schema: &Value) -> bool {
    schema["nullable"] == true || schema["type"].as_array().is_some_and(|t| t.iter().any(|v| v == "null"))
}

/// An instance of `schema` as a server may send it in `mode`; `depth` stops recursion.
fn instance(doc: &Value, schema: &Value, mode: Mode, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    if depth > 12 {
        return Value::Null;
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(map) = instance(doc, part, mode, depth + 1) {
                merged.extend(map);
            }
        }
        if let Value::Object(own) = object(doc, schema, mode, depth) {
            merged.extend(own);
        }
        return Value::Object(merged);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = schema.get(key).and_then(Value::as_array).and_then(|v| v.first()) {
            return instance(doc, first, mode, depth + 1);
        }
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        return choices.iter().find(|c| !c.is_null()).cloned().unwrap_or(Value::Null);
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "",
    };
    match kind {
        "object" => object(doc, schema, mode, depth),
        "array" => match mode {
            Mode::Minimal => json!([]),
            Mode::Nulls | Mode::Full => json!([instance(doc, &schema["items"], mode, depth + 1)]),
        },
        "string" => Value::String(string(schema)),
        "integer" => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
        "number" => json!(1.5),
        "boolean" => json!(true),
        _ => json!({}),
    }
}

fn string(schema: &Value) -> String {
    match schema["format"].as_str().unwrap_or_default() {
        "date-time" => "2026-01-01T00:00:00Z".into(),
        "uuid" => "11111111-1111-4111-8111-111111111111".into(),
        "uri" | "url" => "https://example.com/x".into(),
        "hostname" => "example.com".into(),
        "email" => "dev@example.com".into(),
        _ => {
            let min = schema["minLength"].as_u64().unwrap_or(1) as usize;
            "x".repeat(min.max(1))
        }
    }
}

fn object(doc: &Value, schema: &Value, mode: Mode, depth: usize) -> Value {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    if let Some(properties) = schema["properties"].as_object() {
        for (name, property) in properties {
            let property_schema = resolve(doc, property);
            // writeOnly in a response: the server may leave it out, or (Konnect's labels,
            // whose schema is marked writeOnly) send it anyway, null included.
            let optional = !required.contains(&name.as_str()) || property_schema["writeOnly"] == true;
            match mode {
                Mode::Minimal if optional => {}
                Mode::Minimal | Mode::Nulls if nullable(property_schema) => {
                    out.insert(name.clone(), Value::Null);
                }
                _ => {
                    out.insert(name.clone(), instance(doc, property, mode, depth + 1));
                }
            }
        }
    } else if mode != Mode::Minimal
        && let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object())
    {
        out.insert("key".into(), instance(doc, extra, mode, depth + 1));
    }
    Value::Object(out)
}

/// The JSON schema of an operation's response.
fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not in the document");
    let response = resolve(doc, &op["responses"][status]);
    let schema = &response["content"]["application/json"]["schema"];
    assert!(!schema.is_null(), "{method} {path} {status} has no JSON body");
    schema
}

/// Fields the Auth0 document marks optional (it marks no response field required) that
/// the typed models require: a resource's own identifiers, without which nothing can be
/// done with it, and which every Auth0 answer carries. The one exception to "optional
/// means may be absent" in this test.
const AUTH0_IDENTIFIERS: &[&str] = &["client_id", "name", "id", "audience", "scope", "identifier"];

/// Builds both instances of the response and decodes them into `T`; `items` takes the
/// element of a list (`data` in Konnect's pages).
fn check<T: DeserializeOwned>(doc: &Value, path: &str, method: &str, status: &str, list: bool) -> Vec<String> {
    check_with::<T>(doc, path, method, status, list, &[])
}

fn check_with<T: DeserializeOwned>(
    doc: &Value,
    path: &str,
    method: &str,
    status: &str,
    list: bool,
    identifiers: &[&str],
) -> Vec<String> {
    let mut schema = response_schema(doc, path, method, status);
    if list {
        schema = &resolve(doc, schema)["properties"]["data"]["items"];
    }
    // Each variant of a top-level oneOf (a portal lists DCR and key-auth applications
    // alike; a provider is one of several types).
    let resolved = resolve(doc, schema);
    let variants: Vec<&Value> = ["oneOf", "anyOf"]
        .iter()
        .find_map(|k| resolved.get(*k).and_then(Value::as_array))
        .map_or_else(|| vec![schema], |v| v.iter().collect());
    let mut failures = Vec::new();
    for (variant, mode) in variants
        .iter()
        .flat_map(|v| [Mode::Minimal, Mode::Nulls, Mode::Full].map(|m| (*v, m)))
    {
        let mut value = instance(doc, variant, mode, 0);
        let properties = &resolve(doc, variant)["properties"];
        for name in identifiers {
            if let (Some(map), Some(property)) = (value.as_object_mut(), properties.get(*name))
                && !map.contains_key(*name)
            {
                map.insert((*name).to_owned(), instance(doc, property, Mode::Full, 1));
            }
        }
        if let Err(e) = serde_json::from_value::<T>(value.clone()) {
            failures.push(format!(
                "{method} {path} {status} ({mode:?}) into {}: {e}\n    {value}",
                std::any::type_name::<T>()
            ));
        }
    }
    failures
}

/// [`check_with`] for an Auth0 response (never a list page here), with the identifiers
/// the Auth0 document does not mark required.
fn check_auth0<T: DeserializeOwned>(doc: &Value, path: &str, method: &str, status: &str) -> Vec<String> {
    check_with::<T>(doc, path, method, status, false, AUTH0_IDENTIFIERS)
}

#[test]
fn every_response_the_documents_allow_decodes() {
    use auth0_mgmt::resources::client_grants::ClientGrant;
    use auth0_mgmt::resources::clients::Client;
    use auth0_mgmt::resources::resource_servers::ResourceServer;
    use konnect_appauth::resources::apis::{Api, Publication};
    use konnect_appauth::resources::auth_strategies::AuthStrategy;
    use konnect_appauth::resources::dcr_providers::{DcrProvider, Verification};
    use konnect_appauth::resources::portal_applications::{CreatedApplication, PortalApplication};
    use konnect_appauth::resources::portals::Portal;

    let auth0 = load("auth0-management-api.openapi.json");
    let strategies = load("konnect-application-auth-strategies-v2.openapi.yaml");
    let apis = load("konnect-api-builder-v3.openapi.yaml");
    let portals = load("konnect-portal-management-v3.openapi.yaml");
    let mut failures = Vec::new();
    for (path, method, status) in [
        ("/clients", "post", "201"),
        ("/clients/{id}", "get", "200"),
        ("/clients/{id}", "patch", "200"),
        ("/clients/{id}/rotate-secret", "post", "200"),
    ] {
        failures.extend(check_auth0::<Client>(&auth0, path, method, status));
    }
    for (path, method, status) in [
        ("/client-grants", "post", "201"),
        ("/client-grants/{id}", "patch", "200"),
    ] {
        failures.extend(check_auth0::<ClientGrant>(&auth0, path, method, status));
    }
    for (path, method, status) in [
        ("/resource-servers", "post", "201"),
        ("/resource-servers/{id}", "get", "200"),
        ("/resource-servers/{id}", "patch", "201"),
    ] {
        failures.extend(check_auth0::<ResourceServer>(&auth0, path, method, status));
    }
    for (path, method, status, list) in [
        ("/dcr-providers", "post", "201", false),
        ("/dcr-providers/{dcrProviderId}", "get", "200", false),
        ("/dcr-providers/{dcrProviderId}", "patch", "200", false),
        ("/dcr-providers", "get", "200", true),
    ] {
        failures.extend(check::<DcrProvider>(&strategies, path, method, status, list));
    }
    failures.extend(check::<Verification>(
        &strategies,
        "/dcr-providers/{dcrProviderId}/verify",
        "post",
        "200",
        false,
    ));
    for (path, method, status, list) in [
        ("/application-auth-strategies", "post", "201", false),
        ("/application-auth-strategies/{authStrategyId}", "get", "200", false),
        ("/application-auth-strategies/{authStrategyId}", "patch", "200", false),
        ("/application-auth-strategies", "get", "200", true),
    ] {
        failures.extend(check::<AuthStrategy>(&strategies, path, method, status, list));
    }
    for (path, method, status, list) in [
        ("/apis", "post", "201", false),
        ("/apis/{apiId}", "get", "200", false),
        ("/apis", "get", "200", true),
    ] {
        failures.extend(check::<Api>(&apis, path, method, status, list));
    }
    for (method, status) in [("put", "200"), ("get", "200")] {
        failures.extend(check::<Publication>(
            &apis,
            "/apis/{apiId}/publications/{portalId}",
            method,
            status,
            false,
        ));
    }
    failures.extend(check::<PortalApplication>(
        &portals,
        "/portals/{portalId}/applications/{applicationId}",
        "get",
        "200",
        false,
    ));
    failures.extend(check::<PortalApplication>(
        &portals,
        "/portals/{portalId}/applications",
        "get",
        "200",
        true,
    ));
    failures.extend(check::<CreatedApplication>(
        &portals,
        "/portals/{portalId}/applications",
        "post",
        "201",
        false,
    ));
    failures.extend(check::<Portal>(&portals, "/portals/{portalId}", "get", "200", false));
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

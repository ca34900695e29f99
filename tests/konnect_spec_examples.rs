//! Every request and response example in the Konnect documents, for every operation
//! `konnect-appauth` exposes, decodes into the typed model and re-encodes without losing a field.
//!
//! "Without losing a field": every key of the example is present in the re-encoding with
//! the same value; numbers compare by value (`1` = `1.0`) and an explicit `null` counts
//! as equal to an absent key (the typed model has one `None` for both). The re-encoding
//! may add documented defaults (e.g. `use_developer_managed_scopes: false`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use konnect_appauth::Problem;
use konnect_appauth::resources::apis::{Api, NewApi, Publication, PublicationRequest};
use konnect_appauth::resources::auth_strategies::{AuthStrategy, AuthStrategyUpdate, NewAuthStrategy};
use konnect_appauth::resources::dcr_providers::{DcrProvider, DcrProviderUpdate, NewDcrProvider, Verification};
use konnect_appauth::resources::portal_applications::{CreatedApplication, NewApplication, PortalApplication};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Here, beside the contract suite, rather than in `konnect-appauth`: the documents live
/// in the workspace's `specs/`, which the published crate does not ship.
const SPECS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");

fn load(file: &str) -> Value {
    let path = format!("{SPECS}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::from_str(&text).unwrap()
}

/// Follows `$ref`s within the document.
fn resolve<'a>(doc: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        node = doc
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {reference}"));
    }
    node
}

/// The examples of one media-type object: `example`, `examples.*.value`, and the schema's
/// own `example`.
fn examples(doc: &Value, media: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(e) = media.get("example") {
        out.push(("example".to_owned(), e.clone()));
    }
    if let Some(map) = media.get("examples").and_then(Value::as_object) {
        for (name, e) in map {
            let e = resolve(doc, e);
            if let Some(v) = e.get("value") {
                out.push((name.clone(), v.clone()));
            }
        }
    }
    if let Some(schema) = media.get("schema") {
        let schema = resolve(doc, schema);
        if let Some(e) = schema.get("example") {
            out.push(("schema.example".to_owned(), e.clone()));
        }
    }
    out
}

fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => false,
    }
}

/// Checks that `original` survives in `again`.
fn assert_kept(original: &Value, again: &Value, at: &str) {
    match (original, again) {
        (Value::Object(o), Value::Object(a)) => {
            for (k, v) in o {
                let path = format!("{at}/{k}");
                match a.get(k) {
                    Some(w) => assert_kept(v, w, &path),
                    None if v.is_null() => {}
                    None => panic!("field lost at {path}: {v}"),
                }
            }
        }
        (Value::Array(o), Value::Array(a)) => {
            assert_eq!(o.len(), a.len(), "array length at {at}");
            for (i, (v, w)) in o.iter().zip(a).enumerate() {
                assert_kept(v, w, &format!("{at}/{i}"));
            }
        }
        (Value::Number(_), Value::Number(_)) => assert!(numbers_equal(original, again), "{at}: {original} vs {again}"),
        _ => assert_eq!(original, again, "value changed at {at}"),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(label: &str, example: &Value) {
    let typed: T = serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{label}: does not decode: {e}"));
    let again = serde_json::to_value(&typed).unwrap();
    assert_kept(example, &again, label);
}

/// Decode-only models (responses holding a secret are not re-encoded with it).
fn decodes<T: DeserializeOwned>(label: &str, example: &Value) {
    serde_json::from_value::<T>(example.clone()).unwrap_or_else(|e| panic!("{label}: does not decode: {e}"));
}

type Check = fn(&str, &Value);

/// (document, method, path, "request" or status, how to check its examples)
const CASES: &[(&str, &str, &str, &str, Check)] = &[
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "post",
        "/dcr-providers",
        "request",
        round_trip::<NewDcrProvider>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "post",
        "/dcr-providers",
        "201",
        round_trip::<DcrProvider>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "get",
        "/dcr-providers",
        "200",
        list::<DcrProvider>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "get",
        "/dcr-providers/{dcrProviderId}",
        "200",
        round_trip::<DcrProvider>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "patch",
        "/dcr-providers/{dcrProviderId}",
        "request",
        round_trip::<DcrProviderUpdate>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "patch",
        "/dcr-providers/{dcrProviderId}",
        "200",
        round_trip::<DcrProvider>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "post",
        "/dcr-providers/{dcrProviderId}/verify",
        "200",
        round_trip::<Verification>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "post",
        "/application-auth-strategies",
        "request",
        round_trip::<NewAuthStrategy>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "post",
        "/application-auth-strategies",
        "201",
        round_trip::<AuthStrategy>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "get",
        "/application-auth-strategies",
        "200",
        list::<AuthStrategy>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "get",
        "/application-auth-strategies/{authStrategyId}",
        "200",
        round_trip::<AuthStrategy>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "put",
        "/application-auth-strategies/{authStrategyId}",
        "request",
        round_trip::<NewAuthStrategy>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "put",
        "/application-auth-strategies/{authStrategyId}",
        "201",
        round_trip::<AuthStrategy>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "patch",
        "/application-auth-strategies/{authStrategyId}",
        "request",
        round_trip::<AuthStrategyUpdate>,
    ),
    (
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "patch",
        "/application-auth-strategies/{authStrategyId}",
        "200",
        round_trip::<AuthStrategy>,
    ),
    (
        "konnect-api-builder-v3.openapi.yaml",
        "post",
        "/apis",
        "request",
        round_trip::<NewApi>,
    ),
    (
        "konnect-api-builder-v3.openapi.yaml",
        "post",
        "/apis",
        "201",
        round_trip::<Api>,
    ),
    (
        "konnect-api-builder-v3.openapi.yaml",
        "get",
        "/apis",
        "200",
        list::<Api>,
    ),
    (
        "konnect-api-builder-v3.openapi.yaml",
        "get",
        "/apis/{apiId}",
        "200",
        round_trip::<Api>,
    ),
    (
        "konnect-api-builder-v3.openapi.yaml",
        "put",
        "/apis/{apiId}/publications/{portalId}",
        "request",
        round_trip::<PublicationRequest>,
    ),
    (
        "konnect-api-builder-v3.openapi.yaml",
        "put",
        "/apis/{apiId}/publications/{portalId}",
        "200",
        round_trip::<Publication>,
    ),
    (
        "konnect-api-builder-v3.openapi.yaml",
        "get",
        "/apis/{apiId}/publications/{portalId}",
        "200",
        round_trip::<Publication>,
    ),
    (
        "konnect-portal-management-v3.openapi.yaml",
        "post",
        "/portals/{portalId}/applications",
        "request",
        round_trip::<NewApplication>,
    ),
    (
        "konnect-portal-management-v3.openapi.yaml",
        "post",
        "/portals/{portalId}/applications",
        "201",
        decodes::<CreatedApplication>,
    ),
    (
        "konnect-portal-management-v3.openapi.yaml",
        "post",
        "/portals/{portalId}/applications",
        "201",
        round_trip::<PortalApplication>,
    ),
    (
        "konnect-portal-management-v3.openapi.yaml",
        "get",
        "/portals/{portalId}/applications",
        "200",
        list::<PortalApplication>,
    ),
    (
        "konnect-portal-management-v3.openapi.yaml",
        "get",
        "/portals/{portalId}/applications/{applicationId}",
        "200",
        round_trip::<PortalApplication>,
    ),
];

/// A list response: `meta.page` decodes leniently and every item round-trips.
fn list<T: DeserializeOwned + Serialize>(label: &str, example: &Value) {
    let data = example
        .get("data")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{label}: no data"));
    for key in ["number", "size", "total"] {
        assert!(
            example
                .pointer(&format!("/meta/page/{key}"))
                .is_some_and(Value::is_number),
            "{label}: meta.page.{key}"
        );
    }
    for (i, item) in data.iter().enumerate() {
        round_trip::<T>(&format!("{label}/data/{i}"), item);
    }
}

#[test]
fn every_documented_example_round_trips_through_the_typed_models() {
    let mut checked = 0;
    let mut silent = Vec::new();
    for (file, method, path, which, check) in CASES {
        let doc = load(file);
        let op = doc
            .get("paths")
            .and_then(|p| p.get(*path))
            .and_then(|p| p.get(*method))
            .unwrap_or_else(|| panic!("{file}: no {method} {path}"));
        let media = if *which == "request" {
            resolve(&doc, op.get("requestBody").unwrap_or(&Value::Null)).pointer("/content/application~1json")
        } else {
            op.get("responses")
                .and_then(|r| r.get(*which))
                .map(|r| resolve(&doc, r))
                .and_then(|r| r.pointer("/content/application~1json"))
        };
        let found = media.map(|m| examples(&doc, m)).unwrap_or_default();
        if found.is_empty() {
            silent.push(format!("{method} {path} {which}"));
        }
        for (name, example) in found {
            check(&format!("{method} {path} {which} [{name}]"), &example);
            checked += 1;
        }
    }
    // The API Builder document gives no example for publications; if one appears, it is
    // checked from then on and this list must shrink.
    assert_eq!(
        silent,
        [
            "put /apis/{apiId}/publications/{portalId} request",
            "put /apis/{apiId}/publications/{portalId} 200",
            "get /apis/{apiId}/publications/{portalId} 200",
        ]
    );
    assert!(checked >= 60, "only {checked} examples found: the walk is broken");
}

#[test]
fn every_documented_error_example_decodes_into_problem() {
    let mut checked = 0;
    for file in [
        "konnect-application-auth-strategies-v2.openapi.yaml",
        "konnect-api-builder-v3.openapi.yaml",
        "konnect-portal-management-v3.openapi.yaml",
    ] {
        let doc = load(file);
        let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
            continue;
        };
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                    continue;
                };
                for (status, response) in responses {
                    let Some(media) = resolve(&doc, response).pointer("/content/application~1problem+json") else {
                        continue;
                    };
                    for (name, example) in examples(&doc, media) {
                        let label = format!("{method} {path} {status} [{name}]");
                        let problem: Problem =
                            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{label}: {e}"));
                        assert_eq!(problem.status.to_string(), *status, "{label}");
                        round_trip::<Problem>(&label, &example);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked >= 50, "only {checked} error examples found");
}

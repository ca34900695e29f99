//! Contract checks: every exchange between a client and a sandbox is checked against the
//! services' official OpenAPI documents (`specs/`): the operation exists for the method
//! and path, the query parameters are documented and well-typed, the required headers are
//! there, the request body matches the operation's request schema, the status is one the
//! operation lists, and the response body matches that status's schema. Documented
//! exceptions live in [`exceptions`].

pub mod exceptions;
mod openapi;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use dcr_client_core::sandbox::Exchange;
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Value, json};

pub use exceptions::{Exception, Rule, Service};

const SPECS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");

/// One document.
struct Document {
    /// File name.
    file: &'static str,
    /// URI the document is registered under for `$ref` resolution.
    uri: String,
    /// What the server URL adds in front of the document's paths.
    prefix: &'static str,
    service: Service,
    /// The document, as JSON Schema 2020-12.
    value: Value,
}

/// A contract violation: which operation, where in the exchange, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The document's `operationId`, or `METHOD path` when there is none.
    pub operation: String,
    /// JSON pointer into the exchange: `/request/body/name`, `/response/status`, …
    pub pointer: String,
    /// What is wrong.
    pub reason: String,
}

impl Violation {
    fn new(operation: &str, pointer: &str, reason: impl Into<String>) -> Self {
        Violation {
            operation: operation.to_owned(),
            pointer: pointer.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.operation, self.pointer, self.reason)
    }
}

/// The result of checking one exchange.
#[derive(Clone, Debug, Default)]
pub struct Checked {
    /// `METHOD /full/template` of the operation, when one was found.
    pub operation: Option<String>,
    /// Every violation.
    pub violations: Vec<Violation>,
}

/// An operation found for a method and a concrete path.
struct Found<'a> {
    doc: &'a Document,
    /// `/paths/<template>/<method>` as a JSON pointer.
    pointer: String,
    op: &'a Value,
    path_item: &'a Value,
    /// The document's `operationId`, or `METHOD template`: how violations name it.
    name: String,
    /// `METHOD /full/template`: how exceptions and coverage name it.
    key: String,
}

/// The documents, ready to check exchanges.
pub struct Contract {
    docs: Vec<Document>,
    registry: Registry<'static>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
    exceptions: Vec<Exception>,
    /// Which exceptions an exchange needed, so that one nothing needs any more fails the
    /// suite instead of going stale.
    used: Vec<std::sync::atomic::AtomicBool>,
}

/// One of the documents in `specs/`, as JSON (YAML documents converted).
pub fn load_document(file: &str) -> Value {
    let path = format!("{SPECS}/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    if file.ends_with(".json") {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    } else {
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Makes every local `$ref` absolute, so a schema cut out of a document still resolves
/// against the whole document in the registry.
fn absolute_refs(node: &mut Value, uri: &str) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && reference.starts_with('#')
            {
                *reference = format!("{uri}{reference}");
            }
            map.values_mut().for_each(|v| absolute_refs(v, uri));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| absolute_refs(v, uri)),
        _ => {}
    }
}

/// Drops the query string, the status's content-type parameters, etc.
fn media_type(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or(content_type).trim()
}

/// Applies a [`Rule::OverlappingOneOf`]: that response schema's `oneOf` becomes `anyOf`.
fn overlapping_one_of(docs: &mut [Document], operation: &str, status: u16) {
    let (method, template) = operation.split_once(' ').unwrap_or_default();
    let doc = docs
        .iter_mut()
        .find(|d| {
            template
                .strip_prefix(d.prefix)
                .is_some_and(|rest| d.value["paths"].get(rest).is_some())
        })
        .unwrap_or_else(|| panic!("exception names an unknown operation {operation}"));
    let rest = template.strip_prefix(doc.prefix).unwrap_or(template);
    let mut pointer = format!(
        "/paths/{}/{}/responses/{status}/content/application~1json/schema",
        escape(rest),
        method.to_ascii_lowercase()
    );
    // The schema may sit behind `$ref`s to a component.
    while let Some(reference) = doc
        .value
        .pointer(&pointer)
        .and_then(|s| s.get("$ref"))
        .and_then(Value::as_str)
    {
        pointer = reference.trim_start_matches('#').to_owned();
    }
    let schema = doc
        .value
        .pointer_mut(&pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("exception names no schema at {pointer}"));
    let branches = schema
        .remove("oneOf")
        .unwrap_or_else(|| panic!("exception: no oneOf at {pointer}; is the document fixed?"));
    schema.insert("anyOf".to_owned(), branches);
}

/// The developer API path of a Konnect sandbox exchange below `/portal/{portalId}`.
fn portal_path(service: Service, path: &str) -> Option<String> {
    if service != Service::Konnect {
        return None;
    }
    let rest = path.strip_prefix("/portal/")?;
    let (_, tail) = rest.split_once('/')?;
    Some(format!("/{tail}"))
}

/// Whether `path` matches `template`: `{name}` matches one segment, a final `**` the rest.
fn template_matches(template: &str, path: &str) -> bool {
    if let Some(prefix) = template.strip_suffix("/**") {
        return path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1);
    }
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

impl Contract {
    /// Loads and converts the six documents the clients use.
    pub fn load() -> Self {
        let specs: [(&'static str, &'static str, Service); 7] = [
            ("auth0-management-api.openapi.json", "/api/v2", Service::Auth0),
            (
                "konnect-application-auth-strategies-v2.openapi.yaml",
                "/v2",
                Service::Konnect,
            ),
            ("konnect-api-builder-v3.openapi.yaml", "/v3", Service::Konnect),
            ("konnect-portal-management-v3.openapi.yaml", "/v3", Service::Konnect),
            // Classic (v2) portals.
            ("konnect-api-products-v2.openapi.yaml", "/v2", Service::Konnect),
            ("konnect-portal-management-v2.openapi.yaml", "/v2", Service::Konnect),
            // A portal's developer API, on the portal's own domain.
            ("konnect-dev-portal-v3.openapi.yaml", "", Service::KonnectPortal),
        ];
        let exceptions = exceptions::all();
        let mut docs: Vec<Document> = specs
            .into_iter()
            .map(|(file, prefix, service)| {
                let mut value = load_document(file);
                for e in &exceptions {
                    if let Rule::EnumDiscriminator {
                        file: f,
                        schema,
                        mapping,
                        ..
                    } = e.rule
                        && f == file
                    {
                        let discriminator = value
                            .pointer_mut(&format!("/components/schemas/{schema}/discriminator"))
                            .and_then(Value::as_object_mut)
                            .unwrap_or_else(|| {
                                panic!("exception: no discriminator on {schema}; is the document fixed?")
                            });
                        let mapping: serde_json::Map<String, Value> = mapping
                            .iter()
                            .map(|(v, target)| ((*v).to_owned(), json!(format!("#/components/schemas/{target}"))))
                            .collect();
                        discriminator.insert("mapping".to_owned(), Value::Object(mapping));
                    }
                }
                let openapi30 = value["openapi"].as_str().is_some_and(|v| v.starts_with("3.0"));
                openapi::to_json_schema(&mut value, openapi30);
                Document {
                    file,
                    uri: format!("https://specs.dcr-rs.test/{file}"),
                    prefix,
                    service,
                    value,
                }
            })
            .collect();
        for e in &exceptions {
            if let Rule::OverlappingOneOf { operation, status } = e.rule {
                overlapping_one_of(&mut docs, operation, status);
            }
        }
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .extend(docs.iter().map(|d| (d.uri.clone(), d.value.clone())))
            .and_then(|b| b.prepare())
            .unwrap_or_else(|e| panic!("registry: {e}"));
        Contract {
            docs,
            registry,
            validators: Mutex::new(HashMap::new()),
            used: exceptions
                .iter()
                .map(|_| std::sync::atomic::AtomicBool::new(false))
                .collect(),
            exceptions,
        }
    }

    /// Records that an exchange needed `exception`.
    fn mark(&self, exception: &Exception) {
        if let Some(i) = self.exceptions.iter().position(|e| std::ptr::eq(e, exception)) {
            self.used[i].store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The exceptions no exchange checked so far needed.
    pub fn unused(&self) -> Vec<&Exception> {
        self.exceptions
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !used.load(std::sync::atomic::Ordering::Relaxed))
            .map(|(e, _)| e)
            .collect()
    }

    /// The documented exceptions.
    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    /// Whether a document has this operation (`template` with its server prefix, as the
    /// clients spell it).
    pub fn has_operation(&self, method: &str, template: &str) -> bool {
        self.docs.iter().any(|doc| {
            template.strip_prefix(doc.prefix).is_some_and(|rest| {
                doc.value["paths"]
                    .get(rest)
                    .and_then(|item| item.get(method.to_ascii_lowercase()))
                    .is_some()
            })
        })
    }

    fn find(&self, service: Service, method: &str, path: &str) -> Option<Found<'_>> {
        let method = method.to_ascii_lowercase();
        let mut best: Option<(usize, Found<'_>)> = None;
        for doc in self.docs.iter().filter(|d| d.service == service) {
            let Some(rest) = path.strip_prefix(doc.prefix) else {
                continue;
            };
            let segments: Vec<&str> = rest.split('/').collect();
            let Some(paths) = doc.value["paths"].as_object() else {
                continue;
            };
            for (template, item) in paths {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    continue;
                }
                let literal = parts.iter().filter(|p| !p.starts_with('{')).count();
                let matches = parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| (p.starts_with('{') && !s.is_empty()) || p == s);
                let Some(op) = item.get(&method) else { continue };
                if matches && best.as_ref().is_none_or(|(score, _)| literal > *score) {
                    let full = format!("{}{template}", doc.prefix);
                    let key = format!("{} {full}", method.to_ascii_uppercase());
                    let name = op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .map_or_else(|| key.clone(), str::to_owned);
                    best = Some((
                        literal,
                        Found {
                            doc,
                            pointer: format!("/paths/{}/{method}", escape(template)),
                            op,
                            path_item: item,
                            name,
                            key,
                        },
                    ));
                }
            }
        }
        best.map(|(_, f)| f)
    }

    /// A validator for `schema`, a part of `doc` found at `pointer` (cached by pointer).
    fn validator(&self, doc_uri: &str, pointer: &str, schema: &Value) -> Arc<Validator> {
        let key = format!("{doc_uri}#{pointer}");
        if let Some(v) = self.validators.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return v.clone();
        }
        let mut schema = schema.clone();
        absolute_refs(&mut schema, doc_uri);
        let validator = Arc::new(
            jsonschema::options()
                .with_draft(Draft::Draft202012)
                .with_registry(&self.registry)
                .build(&schema)
                .unwrap_or_else(|e| panic!("schema at {key}: {e}")),
        );
        self.validators
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, validator.clone());
        validator
    }

    fn resolve<'a>(&'a self, doc: &'a Document, node: &'a Value) -> (&'a Value, Option<String>) {
        let mut node = node;
        let mut pointer = None;
        while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let fragment = reference.trim_start_matches('#');
            pointer = Some(fragment.to_owned());
            node = doc
                .value
                .pointer(fragment)
                .unwrap_or_else(|| panic!("dangling {reference} in {}", doc.file));
        }
        (node, pointer)
    }

    fn validate(&self, out: &mut Vec<Violation>, operation: &str, at: &str, validator: &Validator, instance: &Value) {
        for error in validator.iter_errors(instance) {
            out.push(Violation {
                operation: operation.to_owned(),
                pointer: format!("{at}{}", error.instance_path()),
                reason: error.to_string(),
            });
        }
    }

    /// A body with the exception's extra fields for this operation and status removed.
    /// Only when the body fails its schema as it is: an exception that a valid body does not
    /// need is not applied (and so not counted as needed).
    fn without_extras(&self, template_key: &str, status: Option<u16>, body: &Value, validator: &Validator) -> Value {
        if validator.is_valid(body) {
            return body.clone();
        }
        let mut body = body.clone();
        for e in &self.exceptions {
            if let Rule::ExtraField {
                operation,
                status: s,
                field,
            } = &e.rule
                && *operation == template_key
                && *s == status
                && let Some(map) = body.as_object_mut()
                && map.remove(*field).is_some()
            {
                self.mark(e);
            }
        }
        body
    }

    fn local_schema_violations(
        &self,
        out: &mut Vec<Violation>,
        operation: &str,
        at: &str,
        name: &str,
        schema: Value,
        instance: &Value,
    ) {
        let validator = {
            let key = format!("local:{name}");
            let cached = self
                .validators
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned();
            match cached {
                Some(v) => v,
                None => {
                    let v = Arc::new(
                        jsonschema::options()
                            .with_draft(Draft::Draft202012)
                            .build(&schema)
                            .unwrap_or_else(|e| panic!("{name}: {e}")),
                    );
                    self.validators
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key, v.clone());
                    v
                }
            }
        };
        self.validate(out, operation, at, &validator, instance);
    }

    /// Checks one exchange with `service`. The Konnect sandbox serves each portal's
    /// developer API below `/portal/{portalId}` (standing in for the portal's domain):
    /// those exchanges are checked against the developer API's document.
    pub fn check(&self, service: Service, exchange: &Exchange) -> Checked {
        let mut out = Vec::new();
        let method = exchange.method.as_str();
        let (service, path) = match portal_path(service, &exchange.path) {
            Some(rest) => (Service::KonnectPortal, rest),
            None => (service, exchange.path.clone()),
        };
        // Endpoints outside the documents, with hand-written schemas.
        for e in &self.exceptions {
            if let Rule::Undocumented {
                operation,
                request,
                response,
                error,
            } = &e.rule
                && operation
                    .split_once(' ')
                    .is_some_and(|(m, template)| m == method && template_matches(template, &path))
            {
                self.mark(e);
                if let (Some(schema), Some(body)) = (request, &exchange.request_body) {
                    self.local_schema_violations(&mut out, operation, "/request/body", operation, schema(), body);
                }
                if (200..300).contains(&exchange.status)
                    && let Some(body) = &exchange.response_body
                {
                    let name = format!("{operation} response");
                    self.local_schema_violations(&mut out, operation, "/response/body", &name, response(), body);
                } else if let Some(body) = &exchange.response_body {
                    let name = format!("{operation} error");
                    self.local_schema_violations(&mut out, operation, "/response/body", &name, error(), body);
                }
                return Checked {
                    operation: Some((*operation).to_owned()),
                    violations: out,
                };
            }
        }
        let Some(found) = self.find(service, method, &path) else {
            out.push(Violation {
                operation: format!("{method} {}", exchange.path),
                pointer: "/request/path".into(),
                reason: "no operation in the documents for this method and path".into(),
            });
            return Checked {
                operation: None,
                violations: out,
            };
        };
        self.check_query(&mut out, &found, exchange);
        self.check_request(&mut out, &found, service, exchange);
        self.check_response(&mut out, &found, service, exchange);
        Checked {
            operation: Some(found.key),
            violations: out,
        }
    }

    /// Checks a request body as `method path` would send it (for models built in tests).
    pub fn check_request_body(&self, service: Service, method: &str, path: &str, body: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        let Some(found) = self.find(service, method, path) else {
            return vec![Violation {
                operation: format!("{method} {path}"),
                pointer: "/request/path".into(),
                reason: "no operation in the documents for this method and path".into(),
            }];
        };
        let (name, key) = (&found.name, &found.key);
        let (b, p) = self.resolve(found.doc, &found.op["requestBody"]);
        let pointer = p.unwrap_or_else(|| format!("{}/requestBody", found.pointer));
        let validator = self.validator(
            &found.doc.uri,
            &format!("{pointer}/content/application~1json/schema"),
            &b["content"]["application/json"]["schema"],
        );
        let body = self.without_extras(key, None, body, &validator);
        self.validate(&mut out, name, "/request/body", &validator, &body);
        out
    }

    fn parameters<'a>(&'a self, found: &Found<'a>) -> Vec<(&'a Value, Option<String>)> {
        let mut params = Vec::new();
        for (source, base) in [(found.path_item, "parameters"), (found.op, "parameters")] {
            if let Some(list) = source.get(base).and_then(Value::as_array) {
                for p in list {
                    params.push(self.resolve(found.doc, p));
                }
            }
        }
        params
    }

    fn check_query(&self, out: &mut Vec<Violation>, found: &Found<'_>, exchange: &Exchange) {
        let name = found.name.as_str();
        let Some(query) = &exchange.query else { return };
        let params = self.parameters(found);
        let Ok(url) = reqwest::Url::parse(&format!("http://x/?{query}")) else {
            return;
        };
        for (key, value) in url.query_pairs() {
            let documented = params.iter().find(|(p, _)| {
                p["in"] == "query"
                    && (p["name"] == key.as_ref()
                        || (p["style"] == "deepObject" && key.split('[').next() == p["name"].as_str()))
            });
            let Some((param, pointer)) = documented else {
                out.push(Violation {
                    operation: name.to_owned(),
                    pointer: format!("/request/query/{key}"),
                    reason: "query parameter not documented for this operation".into(),
                });
                continue;
            };
            if param["style"] == "deepObject" && param["name"] != key.as_ref() {
                continue; // a member of a deep object: its schema is the object's
            }
            let schema = &param["schema"];
            let typed = match schema["type"].as_str() {
                Some("integer") => value
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::String(value.to_string())),
                Some("number") => value
                    .parse::<f64>()
                    .map(Value::from)
                    .unwrap_or(Value::String(value.to_string())),
                Some("boolean") => value
                    .parse::<bool>()
                    .map(Value::from)
                    .unwrap_or(Value::String(value.to_string())),
                _ => Value::String(value.to_string()),
            };
            let at = pointer
                .clone()
                .unwrap_or_else(|| format!("{}/parameters/{key}", found.pointer));
            let validator = self.validator(&found.doc.uri, &format!("{at}/schema"), schema);
            self.validate(out, name, &format!("/request/query/{key}"), &validator, &typed);
        }
    }

    fn requires_auth(&self, found: &Found<'_>, service: Service) -> bool {
        let declared = found
            .op
            .get("security")
            .or_else(|| found.doc.value.get("security"))
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        declared
            || self.exceptions.iter().any(|e| {
                let applies = matches!(e.rule, Rule::RequiredHeader { service: s, request: true, header: "authorization" } if s == service);
                if applies {
                    self.mark(e);
                }
                applies
            })
    }

    fn check_request(&self, out: &mut Vec<Violation>, found: &Found<'_>, service: Service, exchange: &Exchange) {
        let (name, key) = (found.name.as_str(), found.key.as_str());
        let violation = |pointer: &str, reason: String| Violation::new(name, pointer, reason);
        if service == Service::KonnectPortal {
            // The developer API's security is the `portalaccesstoken` cookie, where an
            // operation declares it (`security: [{}]` and none mean anonymous).
            let declared = found.op.get("security").and_then(Value::as_array).is_some_and(|s| {
                s.iter()
                    .any(|r| r.as_object().is_some_and(|r| r.contains_key("portalAccessToken")))
            });
            let sent = exchange
                .request_header("cookie")
                .is_some_and(|c| c.split(';').any(|p| p.trim().starts_with("portalaccesstoken=")));
            if declared && !sent {
                out.push(violation(
                    "/request/headers/cookie",
                    "the portalaccesstoken cookie is required".into(),
                ));
            }
        } else if self.requires_auth(found, service)
            && !exchange
                .request_header("authorization")
                .is_some_and(|a| a.starts_with("Bearer "))
        {
            out.push(violation(
                "/request/headers/authorization",
                "a bearer token is required".into(),
            ));
        }
        for (param, _) in self.parameters(found) {
            if param["in"] == "header"
                && param["required"] == true
                && let Some(header) = param["name"].as_str()
                && exchange.request_header(header).is_none()
            {
                out.push(violation(
                    &format!("/request/headers/{}", header.to_ascii_lowercase()),
                    "required header missing".into(),
                ));
            }
        }
        let (body_doc, body_pointer) = match found.op.get("requestBody") {
            Some(b) => {
                let (b, p) = self.resolve(found.doc, b);
                (Some(b), p.unwrap_or_else(|| format!("{}/requestBody", found.pointer)))
            }
            None => (None, String::new()),
        };
        match (&exchange.request_body, body_doc) {
            (None, Some(b)) if b["required"] == true => {
                out.push(violation("/request/body", "the operation requires a body".into()));
            }
            (Some(_), None) => out.push(violation("/request/body", "the operation takes no body".into())),
            (Some(body), Some(b)) => {
                let content_type = exchange.request_header("content-type").map(media_type).unwrap_or("");
                match b["content"].get(content_type) {
                    None => out.push(violation(
                        "/request/headers/content-type",
                        format!("{content_type:?} is not a documented request media type"),
                    )),
                    Some(media) => {
                        let pointer = format!("{body_pointer}/content/{}/schema", escape(content_type));
                        let validator = self.validator(&found.doc.uri, &pointer, &media["schema"]);
                        let body = self.without_extras(key, None, body, &validator);
                        self.validate(out, name, "/request/body", &validator, &body);
                    }
                }
            }
            (None, _) => {}
        }
    }

    fn check_response(&self, out: &mut Vec<Violation>, found: &Found<'_>, service: Service, exchange: &Exchange) {
        let (name, key) = (found.name.as_str(), found.key.as_str());
        let status = exchange.status;
        let violation = |pointer: &str, reason: String| Violation::new(name, pointer, reason);
        for e in &self.exceptions {
            // Applied to the document when it was loaded; needed by every answer it covers.
            if let Rule::OverlappingOneOf { operation, status: st } = e.rule
                && operation == key
                && st == status
            {
                self.mark(e);
            }
            if let Rule::EnumDiscriminator { operations, .. } = e.rule
                && operations.contains(&key)
                && status < 300
            {
                self.mark(e);
            }
        }
        let responses = &found.op["responses"];
        let code = status.to_string();
        let class = format!("{}XX", status / 100);
        let documented = responses
            .get(&code)
            .map(|r| (r, code.clone()))
            .or_else(|| responses.get(&class).map(|r| (r, class.clone())))
            .or_else(|| responses.get("default").map(|r| (r, "default".to_owned())));
        let Some((response, response_key)) = documented else {
            let excepted = self.exceptions.iter().find_map(|e| match &e.rule {
                Rule::UnlistedStatus {
                    service: s,
                    status: st,
                    operation,
                    schema,
                } if *s == service && *st == status && operation.is_none_or(|o| o == key) => {
                    self.mark(e);
                    Some(schema)
                }
                _ => None,
            });
            match (excepted, &exchange.response_body) {
                (Some(schema), Some(body)) => {
                    let label = format!("{service:?} {status}");
                    self.local_schema_violations(out, name, "/response/body", &label, schema(), body);
                }
                (Some(_), None) => {}
                (None, _) => {
                    let listed: Vec<&String> = responses.as_object().map(|m| m.keys().collect()).unwrap_or_default();
                    out.push(violation(
                        "/response/status",
                        format!("status {status} is not documented for this operation (listed: {listed:?})"),
                    ));
                }
            }
            return;
        };
        let (response, response_pointer) = self.resolve(found.doc, response);
        let response_pointer =
            response_pointer.unwrap_or_else(|| format!("{}/responses/{}", found.pointer, escape(&response_key)));
        // Headers the document marks required, and those the service always sends.
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for (header, spec) in headers {
                let (spec, _) = self.resolve(found.doc, spec);
                if spec["required"] == true && exchange.response_header(header).is_none() {
                    out.push(violation(
                        &format!("/response/headers/{}", header.to_ascii_lowercase()),
                        "required header missing".into(),
                    ));
                }
            }
        }
        for e in &self.exceptions {
            if let Rule::RequiredHeader {
                service: s,
                request: false,
                ..
            } = e.rule
                && s == service
            {
                self.mark(e);
            }
            if let Rule::RequiredHeader {
                service: s,
                request: false,
                header,
            } = e.rule
                && s == service
                && exchange.response_header(header).is_none()
            {
                out.push(violation(
                    &format!("/response/headers/{header}"),
                    "header the service always sends is missing".into(),
                ));
            }
        }
        let content = response.get("content").and_then(Value::as_object);
        match (&exchange.response_body, content) {
            (Some(body), Some(content)) => {
                let media = exchange.response_header("content-type").map(media_type).unwrap_or("");
                match content.get(media) {
                    None => out.push(violation(
                        "/response/headers/content-type",
                        format!(
                            "{media:?} is not documented for status {status} (documented: {:?})",
                            content.keys().collect::<Vec<_>>()
                        ),
                    )),
                    Some(m) => {
                        let pointer = format!("{response_pointer}/content/{}/schema", escape(media));
                        let validator = self.validator(&found.doc.uri, &pointer, &m["schema"]);
                        let body = self.without_extras(key, Some(status), body, &validator);
                        self.validate(out, name, "/response/body", &validator, &body);
                    }
                }
            }
            (Some(body), None) => self.error_body(out, service, name, status, body),
            (None, Some(content)) if status != 204 && !content.is_empty() => {
                out.push(violation(
                    "/response/body",
                    format!("status {status} documents a body; none was sent"),
                ));
            }
            (None, _) => {}
        }
    }

    /// A body where the document has no schema: only an error body with a documented
    /// exception is accepted.
    fn error_body(&self, out: &mut Vec<Violation>, service: Service, name: &str, status: u16, body: &Value) {
        let schema = self.exceptions.iter().find_map(|e| match &e.rule {
            Rule::ErrorBody { service: s, schema } if *s == service => {
                self.mark(e);
                Some(schema)
            }
            _ => None,
        });
        match schema {
            Some(schema) if status >= 400 => {
                let label = format!("{service:?} error body");
                self.local_schema_violations(out, name, "/response/body", &label, schema(), body);
            }
            _ => out.push(Violation {
                operation: name.to_owned(),
                pointer: "/response/body".into(),
                reason: format!("status {status} documents no body, but one was sent"),
            }),
        }
    }
}

/// Checks exchanges in bulk, collecting violations and which operations were exercised.
#[derive(Default)]
pub struct Report {
    /// Every violation.
    pub violations: Vec<Violation>,
    /// `METHOD /full/template` of every operation seen.
    pub exercised: BTreeSet<String>,
    /// Exchanges checked.
    pub exchanges: usize,
}

impl Report {
    /// Checks `exchanges` sent to `service`.
    pub fn add(&mut self, contract: &Contract, service: Service, exchanges: &[Exchange]) {
        for exchange in exchanges {
            let checked = contract.check(service, exchange);
            self.exchanges += 1;
            if let Some(op) = checked.operation {
                self.exercised.insert(op);
            }
            self.violations.extend(checked.violations);
        }
    }
}

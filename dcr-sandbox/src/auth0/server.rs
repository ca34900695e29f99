//! HTTP glue: routes requests onto the store, checks bearer tokens and scopes,
//! applies the rate limit and injected faults, paginates, and logs every exchange.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dcr_client_core::sandbox::Request;
use serde_json::{Map, Value, json};

use super::bucket::{Admission, Limiter};
use super::failure::{Outcome, SandboxError};
use super::schema::REQUIRED_SCOPES;
use super::store::{Store, Table};
use super::tokens::{self, Issuer};
use dcr_client_core::sandbox::{Controls, FaultKind, Reply, Service};

/// Everything the sandbox knows, behind one lock (the server answers one request at a time).
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) issuer: Issuer,
    pub(crate) limiter: Limiter,
    pub(crate) controls: Controls,
}

pub(crate) type State = Arc<Mutex<Shared>>;

pub(crate) use dcr_client_core::sandbox::lock;

fn error_reply(error: &SandboxError) -> Reply {
    Reply::json(error.status, error.body())
}

/// Which endpoint a path is, and its template for logs and scope checks.
enum Route {
    Jwks,
    OpenIdConfiguration,
    Token,
    Clients,
    Client(String),
    RotateSecret(String),
    Grants,
    Grant(String),
    ResourceServers,
    ResourceServer(String),
    Actions,
    Action(String),
    DeployAction(String),
    Triggers,
    Bindings(String),
    Unknown,
}

fn route(path: &str) -> (Route, &'static str) {
    let segments: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    match s.as_slice() {
        [".well-known", "jwks.json"] => (Route::Jwks, "/.well-known/jwks.json"),
        [".well-known", "openid-configuration"] => (Route::OpenIdConfiguration, "/.well-known/openid-configuration"),
        ["oauth", "token"] => (Route::Token, "/oauth/token"),
        ["api", "v2", "clients"] => (Route::Clients, "/api/v2/clients"),
        ["api", "v2", "clients", id] => (Route::Client((*id).to_owned()), "/api/v2/clients/{id}"),
        ["api", "v2", "clients", id, "rotate-secret"] => (
            Route::RotateSecret((*id).to_owned()),
            "/api/v2/clients/{id}/rotate-secret",
        ),
        ["api", "v2", "client-grants"] => (Route::Grants, "/api/v2/client-grants"),
        ["api", "v2", "client-grants", id] => (Route::Grant((*id).to_owned()), "/api/v2/client-grants/{id}"),
        ["api", "v2", "resource-servers"] => (Route::ResourceServers, "/api/v2/resource-servers"),
        ["api", "v2", "resource-servers", id] => {
            (Route::ResourceServer((*id).to_owned()), "/api/v2/resource-servers/{id}")
        }
        ["api", "v2", "actions", "actions"] => (Route::Actions, "/api/v2/actions/actions"),
        ["api", "v2", "actions", "actions", id] => (Route::Action((*id).to_owned()), "/api/v2/actions/actions/{id}"),
        ["api", "v2", "actions", "actions", id, "deploy"] => (
            Route::DeployAction((*id).to_owned()),
            "/api/v2/actions/actions/{id}/deploy",
        ),
        ["api", "v2", "actions", "triggers"] => (Route::Triggers, "/api/v2/actions/triggers"),
        ["api", "v2", "actions", "triggers", trigger, "bindings"] => (
            Route::Bindings((*trigger).to_owned()),
            "/api/v2/actions/triggers/{triggerId}/bindings",
        ),
        _ => (Route::Unknown, "unknown"),
    }
}

/// Query parameters, repeated keys kept.
struct Query(HashMap<String, Vec<String>>);

impl Query {
    fn parse(request: &Request) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in request.url.query_pairs() {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Query(map)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    fn all(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    fn number(&self, key: &str, min: u64, max: u64) -> Outcome<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(SandboxError::bad_query(format!(
                    "'Expected an integer between {min} and {max}' on property {key}"
                ))),
            },
        }
    }

    fn boolean(&self, key: &str) -> Outcome<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(SandboxError::bad_query(format!(
                "'Expected type boolean' on property {key}"
            ))),
        }
    }
}

fn checkpoint(seq: u64) -> String {
    format!("cp{seq:x}")
}

fn parse_checkpoint(raw: &str) -> Outcome<u64> {
    raw.strip_prefix("cp")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .ok_or_else(|| SandboxError::bad_query("'Invalid checkpoint' on property from"))
}

/// Paginates like Auth0: checkpoint (`from`/`take` → `{key, next}`) where supported,
/// else offset (`page`/`per_page`, `include_totals` → `{start, limit, total, key}` or a
/// bare array).
fn paginate(
    table: &Table,
    key: &str,
    query: &Query,
    checkpoint_supported: bool,
    per_page_min: u64,
    keep: impl Fn(&Map<String, Value>) -> bool,
    view: impl Fn(&Map<String, Value>) -> Value,
) -> Outcome<Value> {
    if checkpoint_supported && (query.has("from") || query.has("take")) {
        let take = query.number("take", 1, 100)?.unwrap_or(50) as usize;
        let from = query.get("from").map(parse_checkpoint).transpose()?.unwrap_or(0);
        let mut rows = table.iter_from(from).filter(|(_, row)| keep(row));
        let items: Vec<Value> = rows.by_ref().take(take).map(|(_, row)| view(row)).collect();
        let mut body = Map::new();
        body.insert(key.to_owned(), Value::Array(items));
        if let Some((seq, _)) = rows.next() {
            body.insert("next".into(), Value::String(checkpoint(seq)));
        }
        return Ok(Value::Object(body));
    }
    let page = query.number("page", 0, u64::from(u32::MAX))?.unwrap_or(0);
    let per_page = query.number("per_page", per_page_min, 100)?.unwrap_or(50);
    let include_totals = query.boolean("include_totals")?.unwrap_or(false);
    let start = page * per_page;
    let mut total = 0u64;
    let mut items = Vec::new();
    for (_, row) in table.iter_from(0) {
        if !keep(row) {
            continue;
        }
        if total >= start && total < start + per_page {
            items.push(view(row));
        }
        total += 1;
    }
    if !include_totals {
        return Ok(Value::Array(items));
    }
    let mut body = Map::new();
    body.insert("start".into(), json!(start));
    body.insert("limit".into(), json!(per_page));
    body.insert("total".into(), json!(total));
    body.insert(key.to_owned(), Value::Array(items));
    Ok(Value::Object(body))
}

fn parse_body(request: &Request) -> Outcome<Value> {
    if request.body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let is_form = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let map: Map<String, Value> = url::form_urlencoded::parse(&request.body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        return Ok(Value::Object(map));
    }
    serde_json::from_slice(&request.body).map_err(|_| SandboxError::bad_body("Invalid request payload JSON format"))
}

/// `client_secret_basic` (RFC 6749 §2.3.1): the id and secret, each form-encoded, joined
/// by a colon and base64-encoded in `Authorization: Basic`. They join the body's
/// parameters; a request that also sends a secret in the body uses two methods at once,
/// which the RFC forbids.
fn with_basic_credentials(request: &Request, mut params: Map<String, Value>) -> Outcome<Map<String, Value>> {
    use base64::Engine;
    let Some(header) = request.headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Ok(params);
    };
    let Some(encoded) = header.strip_prefix("Basic ") else {
        return Ok(params);
    };
    let invalid = |why: &str| SandboxError::oauth(400, "invalid_request", why.to_owned());
    if params.contains_key("client_secret") {
        return Err(invalid(
            "Client authentication must use one method: not both Basic and the body",
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid("Invalid Basic authorization header"))?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid("Invalid Basic authorization header"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| invalid("Invalid Basic authorization header"))?;
    let form = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let id = form(id);
    if params
        .get("client_id")
        .and_then(Value::as_str)
        .is_some_and(|body_id| body_id != id)
    {
        return Err(invalid("The client_id in the body differs from the Basic credentials"));
    }
    params.insert("client_id".into(), Value::String(id));
    params.insert("client_secret".into(), Value::String(form(secret)));
    Ok(params)
}

fn bearer(request: &Request) -> Option<&str> {
    let value = request.headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// Projects a client row to what a caller may see.
fn client_view(row: &Map<String, Value>, with_secret: bool, fields: Option<(&[String], bool)>) -> Value {
    let mut out = row.clone();
    if !with_secret {
        out.remove("client_secret");
    }
    if let Some((fields, include)) = fields {
        out.retain(|k, _| fields.iter().any(|f| f == k) == include);
    }
    Value::Object(out)
}

impl Shared {
    /// Answers one request and logs it.
    fn handle(&mut self, request: &Request, dropped: bool) -> Reply {
        let (route, template) = route(request.url.path());
        let reply = self.dispatch(request, route, template);
        self.record(request, template, reply.status, dropped);
        reply
    }

    fn dispatch(&mut self, request: &Request, route: Route, template: &'static str) -> Reply {
        let method = request.method.as_str().to_owned();
        match route {
            Route::Jwks if method == "GET" => {
                if let Some(FaultKind::Status(status)) = self
                    .controls
                    .faults
                    .take(&method, request.url.path(), |k| matches!(k, FaultKind::Status(_)))
                {
                    return error_reply(&injected(status, false));
                }
                return Reply::json(200, self.issuer.jwks());
            }
            Route::OpenIdConfiguration if method == "GET" => {
                return Reply::json(200, tokens::openid_configuration(&self.store.domain));
            }
            Route::Token if method == "POST" => {
                let admission = self.limiter.token();
                if let Some(a) = admission.as_ref().filter(|a| !a.allowed) {
                    // Auth0's Authentication API: an OAuth error body, the bucket's headers.
                    let mut reply = error_reply(&SandboxError::oauth(
                        429,
                        "too_many_requests",
                        "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and \
                         X-RateLimit-Reset headers.",
                    ));
                    add_limit_headers(&mut reply, a);
                    return reply;
                }
                let mut reply = self.token(request, &method);
                if let Some(a) = &admission {
                    add_limit_headers(&mut reply, a);
                }
                return reply;
            }
            Route::Unknown | Route::Jwks | Route::OpenIdConfiguration | Route::Token => {
                return error_reply(&SandboxError::mgmt(404, "not_found", "Not Found"));
            }
            _ => {}
        }

        // Management API: rate limit, injected faults, token, scope, then the operation.
        let admission = self.limiter.management(&method, template);
        let mut reply = if admission.as_ref().is_some_and(|a| !a.allowed) {
            error_reply(&SandboxError::mgmt(
                429,
                "too_many_requests",
                "Global limit has been reached",
            ))
        } else if let Some(FaultKind::Status(status)) = self
            .controls
            .faults
            .take(&method, request.url.path(), |k| matches!(k, FaultKind::Status(_)))
        {
            let mut reply = error_reply(&injected(status, false));
            if status == 429 {
                reply.headers.push(("x-ratelimit-remaining", "0".into()));
                reply
                    .headers
                    .push(("x-ratelimit-reset", (tokens::now_secs() + 1).to_string()));
            }
            reply
        } else {
            match self.authorize(request, &method, template) {
                Err(e) => error_reply(&e),
                Ok(scopes) => match self.operate(request, &method, route, &scopes) {
                    Ok(reply) => reply,
                    Err(e) => error_reply(&e),
                },
            }
        };
        if let Some(a) = &admission {
            add_limit_headers(&mut reply, a);
        }
        reply
    }

    /// `POST /oauth/token` once admitted: injected faults, then the grant.
    fn token(&mut self, request: &Request, method: &str) -> Reply {
        if let Some(FaultKind::Status(status)) = self
            .controls
            .faults
            .take(method, request.url.path(), |k| matches!(k, FaultKind::Status(_)))
        {
            let mut reply = error_reply(&injected(status, true));
            if status == 429 {
                // The Authentication API reports its own spent bucket the same way.
                reply.headers.push(("x-ratelimit-limit", "30".into()));
                reply.headers.push(("x-ratelimit-remaining", "0".into()));
                reply
                    .headers
                    .push(("x-ratelimit-reset", (tokens::now_secs() + 1).to_string()));
            }
            return reply;
        }
        let result = parse_body(request)
            .map_err(|e| SandboxError::oauth(400, "invalid_request", e.message))
            .and_then(|body| match body {
                Value::Object(params) => with_basic_credentials(request, params),
                _ => Err(SandboxError::oauth(400, "invalid_request", "Invalid request body")),
            })
            .and_then(|params| self.issuer.client_credentials(&self.store, &params));
        match result {
            Ok(body) => Reply::json(200, body),
            Err(e) => error_reply(&e),
        }
    }

    /// Checks the bearer token and the scope the operation needs; returns the token's scopes.
    fn authorize(&self, request: &Request, method: &str, template: &str) -> Outcome<Vec<String>> {
        let token = bearer(request)
            .ok_or_else(|| SandboxError::mgmt(401, "missing_authentication", "Missing authentication"))?;
        let issued = self.issuer.check(token, &self.store.management_audience())?;
        let required = REQUIRED_SCOPES
            .iter()
            .find(|(m, t, _)| *m == method && *t == template)
            .map(|(_, _, scopes)| *scopes)
            .ok_or_else(|| SandboxError::mgmt(404, "not_found", "Not Found"))?;
        if !required.iter().any(|s| issued.scopes.iter().any(|have| have == s)) {
            return Err(SandboxError::mgmt(
                403,
                "insufficient_scope",
                format!("Insufficient scope, expected any of: {}", required.join(",")),
            ));
        }
        Ok(issued.scopes.clone())
    }

    fn operate(&mut self, request: &Request, method: &str, route: Route, scopes: &[String]) -> Outcome<Reply> {
        let query = Query::parse(request);
        let can_read_secret = scopes.iter().any(|s| s == "read:client_keys");
        let store = &mut self.store;
        Ok(match (method, route) {
            ("GET", Route::Clients) => {
                let app_types: Option<Vec<String>> =
                    query.get("app_type").map(|t| t.split(',').map(str::to_owned).collect());
                let first_party = query.boolean("is_first_party")?;
                let global = query.boolean("is_global")?;
                let fields: Option<Vec<String>> =
                    query.get("fields").map(|f| f.split(',').map(str::to_owned).collect());
                let include = query.boolean("include_fields")?.unwrap_or(true);
                if query.has("q") {
                    return Err(SandboxError::bad_query("'q' is not supported by the sandbox"));
                }
                let keep = |row: &Map<String, Value>| {
                    app_types.as_ref().is_none_or(|types| {
                        row.get("app_type")
                            .and_then(Value::as_str)
                            .is_some_and(|t| types.iter().any(|x| x == t))
                    }) && first_party.is_none_or(|fp| row.get("is_first_party").and_then(Value::as_bool) == Some(fp))
                        && global.is_none_or(|g| row.get("global").and_then(Value::as_bool) == Some(g))
                };
                let view = |row: &Map<String, Value>| {
                    client_view(row, can_read_secret, fields.as_deref().map(|f| (f, include)))
                };
                Reply::json(200, paginate(&store.clients, "clients", &query, true, 0, keep, view)?)
            }
            ("POST", Route::Clients) => Reply::json(201, store.create_client(&parse_body(request)?)?),
            ("GET", Route::Client(id)) => {
                let fields: Option<Vec<String>> =
                    query.get("fields").map(|f| f.split(',').map(str::to_owned).collect());
                let include = query.boolean("include_fields")?.unwrap_or(true);
                let row = store.client(&id)?;
                Reply::json(
                    200,
                    client_view(row, can_read_secret, fields.as_deref().map(|f| (f, include))),
                )
            }
            ("PATCH", Route::Client(id)) => Reply::json(200, store.update_client(&id, &parse_body(request)?)?),
            ("DELETE", Route::Client(id)) => {
                store.delete_client(&id);
                Reply::empty(204)
            }
            ("POST", Route::RotateSecret(id)) => Reply::json(200, store.rotate_secret(&id)?),
            ("GET", Route::Grants) => {
                let audience = query.get("audience").map(str::to_owned);
                let client_id = query.get("client_id").map(str::to_owned);
                let any_org = query.boolean("allow_any_organization")?;
                let subject_type = query.get("subject_type").map(str::to_owned);
                let keep = |row: &Map<String, Value>| {
                    let field = |k: &str| row.get(k).and_then(Value::as_str);
                    audience.as_deref().is_none_or(|a| field("audience") == Some(a))
                        && client_id.as_deref().is_none_or(|c| field("client_id") == Some(c))
                        && subject_type.as_deref().is_none_or(|s| field("subject_type") == Some(s))
                        && any_org.is_none_or(|v| row.get("allow_any_organization").and_then(Value::as_bool) == Some(v))
                };
                Reply::json(
                    200,
                    paginate(&store.grants, "client_grants", &query, true, 1, keep, |r| {
                        Value::Object(r.clone())
                    })?,
                )
            }
            ("POST", Route::Grants) => Reply::json(201, store.create_grant(&parse_body(request)?)?),
            ("GET", Route::Grant(id)) => Reply::json(200, Value::Object(store.grant(&id)?.clone())),
            ("PATCH", Route::Grant(id)) => Reply::json(200, store.update_grant(&id, &parse_body(request)?)?),
            ("DELETE", Route::Grant(id)) => {
                store.delete_grant(&id);
                Reply::empty(204)
            }
            ("GET", Route::ResourceServers) => {
                let identifiers = query.all("identifiers").to_vec();
                let keep = |row: &Map<String, Value>| {
                    identifiers.is_empty()
                        || row
                            .get("identifier")
                            .and_then(Value::as_str)
                            .is_some_and(|i| identifiers.iter().any(|x| x == i))
                };
                Reply::json(
                    200,
                    paginate(
                        &store.resource_servers,
                        "resource_servers",
                        &query,
                        false,
                        1,
                        keep,
                        |r| Value::Object(r.clone()),
                    )?,
                )
            }
            ("POST", Route::ResourceServers) => Reply::json(201, store.create_resource_server(&parse_body(request)?)?),
            ("GET", Route::ResourceServer(id)) => Reply::json(200, Value::Object(store.resource_server(&id)?.clone())),
            // The document lists 201 (not 200) as this operation's success status.
            ("PATCH", Route::ResourceServer(id)) => {
                Reply::json(201, store.update_resource_server(&id, &parse_body(request)?)?)
            }
            ("DELETE", Route::ResourceServer(id)) => {
                store.delete_resource_server(&id)?;
                Reply::empty(204)
            }
            ("GET", Route::Actions) => {
                let name = query.get("actionName").map(str::to_owned);
                let trigger = query.get("triggerId").map(str::to_owned);
                let deployed = query.boolean("deployed")?;
                let keep = |row: &Map<String, Value>| {
                    name.as_deref().is_none_or(|n| row["name"] == n)
                        && trigger.as_deref().is_none_or(|t| {
                            row["supported_triggers"]
                                .as_array()
                                .is_some_and(|ts| ts.iter().any(|x| x["id"] == t))
                        })
                        && deployed.is_none_or(|d| row.contains_key("deployed_version") == d)
                };
                Reply::json(200, page_numbered(&store.actions.actions, "actions", &query, keep)?)
            }
            ("POST", Route::Actions) => Reply::json(201, store.actions.create(&parse_body(request)?)?),
            ("GET", Route::Action(id)) => Reply::json(200, store.actions.get(&id)?),
            ("PATCH", Route::Action(id)) => Reply::json(200, store.actions.update(&id, &parse_body(request)?)?),
            ("DELETE", Route::Action(id)) => {
                store.actions.delete(&id, query.boolean("force")?.unwrap_or(false))?;
                Reply::empty(204)
            }
            // The document lists 202 as this operation's success status.
            ("POST", Route::DeployAction(id)) => Reply::json(202, store.actions.deploy(&id)?),
            ("GET", Route::Triggers) => Reply::json(200, super::actions::ActionStore::triggers_view()),
            ("GET", Route::Bindings(trigger)) => {
                let table = store.actions.bindings_table(&trigger)?;
                Reply::json(200, page_numbered(&table, "bindings", &query, |_| true)?)
            }
            ("PATCH", Route::Bindings(trigger)) => {
                Reply::json(200, store.actions.update_bindings(&trigger, &parse_body(request)?)?)
            }
            _ => error_reply(&SandboxError::mgmt(404, "not_found", "Not Found")),
        })
    }
}

/// The Actions endpoints' paging: `page` and `per_page` (default 20, at most 100), always
/// answered as `{total, page, per_page, <items>}`.
fn page_numbered(
    table: &Table,
    key: &str,
    query: &Query,
    keep: impl Fn(&Map<String, Value>) -> bool,
) -> Outcome<Value> {
    let page = query.number("page", 0, u64::from(u32::MAX))?.unwrap_or(0);
    let per_page = query.number("per_page", 1, 100)?.unwrap_or(20);
    let rows: Vec<Value> = table
        .iter_from(0)
        .filter(|(_, row)| keep(row))
        .map(|(_, row)| Value::Object(row.clone()))
        .collect();
    let total = rows.len();
    let items: Vec<Value> = rows
        .into_iter()
        .skip((page * per_page) as usize)
        .take(per_page as usize)
        .collect();
    let mut body = Map::new();
    body.insert("total".into(), json!(total));
    body.insert("page".into(), json!(page));
    body.insert("per_page".into(), json!(per_page));
    body.insert(key.to_owned(), Value::Array(items));
    Ok(Value::Object(body))
}

/// The headers of the bucket that decided a request; an injected 429 keeps its own.
fn add_limit_headers(reply: &mut Reply, admission: &Admission) {
    reply.header_if_absent("x-ratelimit-limit", admission.limit.to_string());
    reply.header_if_absent("x-ratelimit-remaining", admission.remaining.to_string());
    reply.header_if_absent("x-ratelimit-reset", admission.reset_epoch.to_string());
}

fn injected(status: u16, oauth: bool) -> SandboxError {
    let message = format!("Injected fault: HTTP {status}");
    if oauth {
        SandboxError::oauth(status, "server_error", message)
    } else {
        let code = if status == 429 {
            "too_many_requests"
        } else {
            "injected_fault"
        };
        SandboxError::mgmt(status, code, message)
    }
}

impl Service for Shared {
    fn handle(&mut self, request: &Request, dropped: bool) -> Reply {
        Shared::handle(self, request, dropped)
    }

    fn controls(&mut self) -> &mut Controls {
        &mut self.controls
    }

    fn route_of(&self, path: &str) -> &'static str {
        route(path).1
    }

    fn is_api_route(&self, route: &'static str) -> bool {
        route.starts_with("/api/v2/")
    }
}

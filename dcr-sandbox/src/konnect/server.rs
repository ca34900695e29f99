//! HTTP glue: routes requests onto the store, checks the bearer token, applies
//! injected faults, paginates and filters like Konnect, performs DCR, logs every exchange.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dcr_client_core::sandbox::Request;
use dcr_client_core::sandbox::{Controls, FaultKind, Reply, Service, Table};
use serde_json::{Map, Value, json};

use super::dcr::{self, Auth0Link, CachedToken, Registration};
use super::developer::{DevRoute, Developers, dev_route};
use super::gateway::GatewayCache;
use super::problem::{Outcome, SandboxProblem, param};
use super::store::{Store, matches_filters, public, str_of};

/// Everything the sandbox knows, behind one lock (the server answers one request at a time).
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) token: String,
    /// A token that may read but not write (403 on writes), like a Konnect viewer role.
    pub(crate) read_only_token: Option<String>,
    pub(crate) controls: Controls,
    /// Issuer origin (no trailing slash) → base URL that serves it.
    pub(crate) issuer_routes: HashMap<String, String>,
    /// DCR clients that could not be deleted with their application.
    pub(crate) dcr_failures: Vec<String>,
    /// Management API tokens kept per DCR provider.
    tokens: HashMap<String, CachedToken>,
    /// The seeded developer and their portal sessions.
    pub(crate) developers: Developers,
    /// The gateway's JWKS and Basic-credential tokens.
    pub(crate) gateway_cache: GatewayCache,
    trace: u64,
}

pub(crate) type State = Arc<Mutex<Shared>>;

pub(crate) use dcr_client_core::sandbox::lock;

enum Route {
    Providers,
    Provider(String),
    VerifyProvider(String),
    Strategies,
    Strategy(String),
    Apis,
    Api(String),
    Publication(String, String),
    Publications,
    PortalPublications(String),
    Products,
    Product(String),
    Versions(String),
    Version(String, String),
    PortalVersions(String),
    PortalVersion(String, String),
    Portal(String),
    Applications(String),
    Application(String, String),
    PortalRegistrations(String),
    Registrations(String, String),
    Registration(String, String, String),
    /// The developer API of a portal.
    Developer(String, DevRoute),
    /// The gateway in front of an API.
    Gateway(String),
    Unknown,
}

fn route(path: &str) -> (Route, &'static str) {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let owned = |s: &str| s.to_owned();
    match segments.as_slice() {
        ["v2", "dcr-providers"] => (Route::Providers, "/v2/dcr-providers"),
        ["v2", "dcr-providers", id] => (Route::Provider(owned(id)), "/v2/dcr-providers/{dcrProviderId}"),
        ["v2", "dcr-providers", id, "verify"] => (
            Route::VerifyProvider(owned(id)),
            "/v2/dcr-providers/{dcrProviderId}/verify",
        ),
        ["v2", "application-auth-strategies"] => (Route::Strategies, "/v2/application-auth-strategies"),
        ["v2", "application-auth-strategies", id] => (
            Route::Strategy(owned(id)),
            "/v2/application-auth-strategies/{authStrategyId}",
        ),
        ["v3", "apis"] => (Route::Apis, "/v3/apis"),
        ["v3", "apis", id] => (Route::Api(owned(id)), "/v3/apis/{apiId}"),
        ["v3", "apis", api, "publications", portal] => (
            Route::Publication(owned(api), owned(portal)),
            "/v3/apis/{apiId}/publications/{portalId}",
        ),
        ["v2", "api-products"] => (Route::Products, "/v2/api-products"),
        ["v2", "api-products", id] => (Route::Product(owned(id)), "/v2/api-products/{id}"),
        ["v2", "api-products", id, "product-versions"] => (
            Route::Versions(owned(id)),
            "/v2/api-products/{apiProductId}/product-versions",
        ),
        ["v2", "api-products", id, "product-versions", version] => (
            Route::Version(owned(id), owned(version)),
            "/v2/api-products/{apiProductId}/product-versions/{id}",
        ),
        ["v2", "portals", portal, "product-versions"] => (
            Route::PortalVersions(owned(portal)),
            "/v2/portals/{portalId}/product-versions",
        ),
        ["v2", "portals", portal, "product-versions", id] => (
            Route::PortalVersion(owned(portal), owned(id)),
            "/v2/portals/{portalId}/product-versions/{productVersionId}",
        ),
        ["v3", "api-publications"] => (Route::Publications, "/v3/api-publications"),
        ["v3", "portals", portal, "api-publications"] => (
            Route::PortalPublications(owned(portal)),
            "/v3/portals/{portalId}/api-publications",
        ),
        ["v3", "portals", portal] => (Route::Portal(owned(portal)), "/v3/portals/{portalId}"),
        ["v3", "portals", portal, "applications"] => (
            Route::Applications(owned(portal)),
            "/v3/portals/{portalId}/applications",
        ),
        ["v3", "portals", portal, "applications", id] => (
            Route::Application(owned(portal), owned(id)),
            "/v3/portals/{portalId}/applications/{applicationId}",
        ),
        ["v3", "portals", portal, "application-registrations"] => (
            Route::PortalRegistrations(owned(portal)),
            "/v3/portals/{portalId}/application-registrations",
        ),
        ["v3", "portals", portal, "applications", app, "registrations"] => (
            Route::Registrations(owned(portal), owned(app)),
            "/v3/portals/{portalId}/applications/{applicationId}/registrations",
        ),
        ["v3", "portals", portal, "applications", app, "registrations", id] => (
            Route::Registration(owned(portal), owned(app), owned(id)),
            "/v3/portals/{portalId}/applications/{applicationId}/registrations/{registrationId}",
        ),
        ["portal", portal, rest @ ..] => {
            let (dev, template) = dev_route(rest);
            (Route::Developer(owned(portal), dev), template)
        }
        ["gateway", api, ..] => (Route::Gateway(owned(api)), "gateway"),
        _ => (Route::Unknown, "unknown"),
    }
}

/// `page[size]`, `page[number]` and `filter[field][op]` of a list request.
pub(crate) struct ListQuery {
    size: usize,
    number: usize,
    filters: HashMap<String, Vec<(String, String)>>,
}

pub(crate) fn list_query(request: &Request, filterable: &[&str]) -> Outcome<ListQuery> {
    let mut query = ListQuery {
        size: 10,
        number: 1,
        filters: HashMap::new(),
    };
    for (key, value) in request.url.query_pairs() {
        let number = |max: usize| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    let mut p = param(&key, "min", format!("must be an integer between 1 and {max}"));
                    p["source"] = json!("query");
                    SandboxProblem::invalid(vec![p])
                })
        };
        match key.as_ref() {
            "page[size]" => query.size = number(100)?,
            "page[number]" => query.number = number(usize::MAX)?,
            "sort" => {}
            other => {
                let Some(inner) = other.strip_prefix("filter[") else {
                    let mut p = param(other, "unknown_property", "unknown query parameter");
                    p["source"] = json!("query");
                    return Err(SandboxProblem::invalid(vec![p]));
                };
                let (field, op) = match inner.split_once("][") {
                    Some((field, op)) => (field, op.trim_end_matches(']')),
                    None => (inner.trim_end_matches(']'), "eq"),
                };
                if !filterable.contains(&field) || !["eq", "neq", "contains", "oeq", "ocontains"].contains(&op) {
                    let mut p = param(other, "invalid", "unsupported filter");
                    p["source"] = json!("query");
                    return Err(SandboxProblem::invalid(vec![p]));
                }
                query
                    .filters
                    .entry(field.to_owned())
                    .or_default()
                    .push((op.to_owned(), value.into_owned()));
            }
        }
    }
    Ok(query)
}

/// One page of views, filtered, in creation order, as `{data, meta: {page}}`.
pub(crate) fn paginate(
    table: &Table,
    query: &ListQuery,
    keep: impl Fn(&Map<String, Value>) -> bool,
    view: impl Fn(&Map<String, Value>) -> Value,
) -> Value {
    let start = (query.number - 1).saturating_mul(query.size);
    let mut total = 0usize;
    let mut data = Vec::new();
    for (_, row) in table.iter_from(0) {
        if !keep(row) {
            continue;
        }
        let on_page = total >= start && data.len() < query.size;
        // Filters apply to what a caller sees; without filters only the page's rows are
        // projected, so counting 10,000 rows does not copy 10,000 of them.
        if query.filters.is_empty() {
            if on_page {
                data.push(view(row));
            }
        } else {
            let viewed = view(row);
            if !matches_filters(&viewed, &query.filters) {
                continue;
            }
            if on_page {
                data.push(viewed);
            }
        }
        total += 1;
    }
    json!({"data": data, "meta": {"page": {"number": query.number, "size": query.size, "total": total}}})
}

pub(crate) fn parse_body(request: &Request) -> Outcome<Value> {
    if request.body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(&request.body)
        .map_err(|_| SandboxProblem::field("body", "is_object", "the body is not valid JSON"))
}

impl Shared {
    pub(crate) fn new(
        store: Store,
        token: String,
        read_only_token: Option<String>,
        issuer_routes: HashMap<String, String>,
        developers: Developers,
    ) -> Self {
        Shared {
            store,
            token,
            read_only_token,
            controls: Controls::default(),
            issuer_routes,
            dcr_failures: Vec::new(),
            tokens: HashMap::new(),
            developers,
            gateway_cache: GatewayCache::default(),
            trace: 0,
        }
    }

    /// The Management API token kept for a provider, taken out for an operation.
    pub(crate) fn take_token(&mut self, provider: &str) -> Option<CachedToken> {
        self.tokens.remove(provider)
    }

    /// Keeps the token an operation ended with.
    pub(crate) fn keep_token(&mut self, provider: &str, kept: Option<CachedToken>) {
        if let Some(kept) = kept {
            self.tokens.insert(provider.to_owned(), kept);
        }
    }

    fn problem(&mut self, problem: &SandboxProblem) -> Reply {
        self.trace += 1;
        let mut reply = Reply::json(problem.status, problem.body(self.trace));
        reply.content_type = "application/problem+json";
        reply
    }

    fn handle(&mut self, request: &Request, dropped: bool) -> Reply {
        let (route, template) = route(request.url.path());
        let method = request.method.as_str().to_owned();
        let reply = if let Some(FaultKind::Status(status)) =
            self.controls
                .faults
                .take(&method, request.url.path(), |k| matches!(k, FaultKind::Status(_)))
        {
            let mut problem = SandboxProblem::new(status, format!("Injected fault: HTTP {status}"));
            if status == 429 {
                // Konnect's documented 429 body; the document names no Retry-After, but the
                // gateway in front of Konnect sends one, so the sandbox does too.
                problem.title = "Rate Limited".to_owned();
                problem.detail = "Too many requests".to_owned();
            }
            let mut reply = self.problem(&problem);
            if status == 429 {
                reply.headers.push(("retry-after", "1".to_owned()));
            }
            reply
        } else if let Route::Gateway(api) = &route {
            // The gateway knows nothing of Konnect's tokens: the caller's credentials are
            // the application's.
            let api = api.clone();
            self.gateway(request, &api)
        } else if let Route::Developer(portal, dev) = route {
            // The developer API authenticates with the portal's session cookie.
            match self.developer_api(request, &method, &portal, dev) {
                Ok(reply) => reply,
                Err(problem) => self.problem(&problem),
            }
        } else if !self.authorized(request) {
            self.problem(&SandboxProblem::new(401, "Invalid credentials"))
        } else if self.read_only(request) && !matches!(method.as_str(), "GET" | "HEAD") {
            self.problem(&SandboxProblem::new(
                403,
                "You do not have permission to perform this action",
            ))
        } else {
            match self.operate(request, &method, route) {
                Ok(reply) => reply,
                Err(problem) => self.problem(&problem),
            }
        };
        self.record(request, template, reply.status, dropped);
        reply
    }

    fn bearer(request: &Request) -> Option<&str> {
        request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
    }

    fn authorized(&self, request: &Request) -> bool {
        Self::bearer(request).is_some_and(|t| t == self.token || self.read_only_token.as_deref() == Some(t))
    }

    fn read_only(&self, request: &Request) -> bool {
        Self::bearer(request).is_some_and(|t| self.read_only_token.as_deref() == Some(t))
    }

    fn operate(&mut self, request: &Request, method: &str, route: Route) -> Outcome<Reply> {
        let store = &mut self.store;
        Ok(match (method, route) {
            ("GET", Route::Providers) => {
                let q = list_query(
                    request,
                    &[
                        "id",
                        "name",
                        "issuer",
                        "provider_type",
                        "initial_client_id",
                        "initial_client_audience",
                    ],
                )?;
                let page = paginate(
                    &store.providers,
                    &q,
                    |_| true,
                    |row| {
                        store
                            .provider_view(str_of(row, "id").unwrap_or_default())
                            .unwrap_or(Value::Null)
                    },
                );
                Reply::json(200, page)
            }
            ("POST", Route::Providers) => Reply::json(201, store.create_provider(&parse_body(request)?)?),
            ("GET", Route::Provider(id)) => Reply::json(200, store.provider_view(&id)?),
            ("PATCH", Route::Provider(id)) => Reply::json(200, store.update_provider(&id, &parse_body(request)?)?),
            ("DELETE", Route::Provider(id)) => {
                store.delete_provider(&id)?;
                Reply::empty(204)
            }
            ("POST", Route::VerifyProvider(id)) => Reply::json(200, self.verify(&id)?),
            ("GET", Route::Strategies) => {
                let q = list_query(
                    request,
                    &[
                        "strategy_type",
                        "name",
                        "display_name",
                        "dcr_provider_id",
                        "dcr_provider_name",
                        "dcr_provider_type",
                    ],
                )?;
                let page = paginate(
                    &store.strategies,
                    &q,
                    |_| true,
                    |row| {
                        store
                            .strategy_view(str_of(row, "id").unwrap_or_default())
                            .unwrap_or(Value::Null)
                    },
                );
                Reply::json(200, page)
            }
            ("POST", Route::Strategies) => Reply::json(201, store.create_strategy(&parse_body(request)?)?),
            ("GET", Route::Strategy(id)) => Reply::json(200, store.strategy_view(&id)?),
            // The document lists 201 (not 200) as the replace operation's success status.
            ("PUT", Route::Strategy(id)) => Reply::json(201, store.replace_strategy(&id, &parse_body(request)?)?),
            ("PATCH", Route::Strategy(id)) => Reply::json(200, store.update_strategy(&id, &parse_body(request)?)?),
            ("DELETE", Route::Strategy(id)) => {
                store.delete_strategy(&id)?;
                Reply::empty(204)
            }
            ("GET", Route::Apis) => {
                let q = list_query(request, &["id", "name", "version"])?;
                let page = paginate(
                    &store.apis,
                    &q,
                    |_| true,
                    |row| {
                        store
                            .api_view(str_of(row, "id").unwrap_or_default())
                            .unwrap_or(Value::Null)
                    },
                );
                Reply::json(200, page)
            }
            ("POST", Route::Apis) => Reply::json(201, store.create_api(&parse_body(request)?)?),
            ("GET", Route::Api(id)) => Reply::json(200, store.api_view(&id)?),
            ("DELETE", Route::Api(id)) => {
                store.delete_api(&id)?;
                Reply::empty(204)
            }
            ("PUT", Route::Publication(api, portal)) => {
                Reply::json(200, store.publish(&api, &portal, &parse_body(request)?)?)
            }
            ("GET", Route::Publication(api, portal)) => {
                Reply::json(200, store.publication_view(&format!("{api}/{portal}"))?)
            }
            ("DELETE", Route::Publication(api, portal)) => {
                store.unpublish(&format!("{api}/{portal}"))?;
                Reply::empty(204)
            }
            ("GET", Route::Products) => {
                let q = list_query(request, &["name"])?;
                let page = paginate(
                    &store.products,
                    &q,
                    |_| true,
                    |row| {
                        store
                            .product_view(str_of(row, "id").unwrap_or_default())
                            .unwrap_or(Value::Null)
                    },
                );
                Reply::json(200, page)
            }
            ("POST", Route::Products) => Reply::json(201, store.create_product(&parse_body(request)?)?),
            ("GET", Route::Product(id)) => Reply::json(200, store.product_view(&id)?),
            ("DELETE", Route::Product(id)) => {
                store.delete_product(&id)?;
                Reply::empty(204)
            }
            ("GET", Route::Versions(product)) => {
                if store.products.get(&product).is_none() {
                    return Err(SandboxProblem::not_found("API product"));
                }
                let q = list_query(request, &["name", "publish_status"])?;
                let page = paginate(
                    &store.product_versions,
                    &q,
                    |row| str_of(row, "_product_id") == Some(product.as_str()),
                    |row| {
                        store
                            .version_view(str_of(row, "id").unwrap_or_default())
                            .unwrap_or(Value::Null)
                    },
                );
                Reply::json(200, page)
            }
            ("POST", Route::Versions(product)) => {
                Reply::json(201, store.create_version(&product, &parse_body(request)?)?)
            }
            ("DELETE", Route::Version(product, version)) => {
                store.delete_version(&product, &version)?;
                Reply::empty(204)
            }
            ("GET", Route::PortalVersions(portal)) => {
                store.check_classic_portal(&portal)?;
                let q = list_query(request, &["id", "product_version_id", "publish_status"])?;
                let page = paginate(
                    &store.portal_product_versions,
                    &q,
                    |row| str_of(row, "_portal_id") == Some(portal.as_str()),
                    |row| store.ppv_public(row),
                );
                Reply::json(200, page)
            }
            ("POST", Route::PortalVersions(portal)) => {
                Reply::json(201, store.create_ppv(&portal, &parse_body(request)?)?)
            }
            ("GET", Route::PortalVersion(portal, id)) => Reply::json(200, store.ppv_view(&portal, &id)?),
            ("PATCH", Route::PortalVersion(portal, id)) => {
                Reply::json(200, store.update_ppv(&portal, &id, &parse_body(request)?)?)
            }
            ("DELETE", Route::PortalVersion(portal, id)) => {
                store.delete_ppv(&portal, &id)?;
                Reply::empty(204)
            }
            ("GET", Route::Publications) => {
                let q = list_query(
                    request,
                    // The names (`api_name`, `portal_name`) are not served: refused as unsupported.
                    &["portal_id", "api_id", "auth_strategy_id", "entity_type"],
                )?;
                let page = paginate(
                    &store.publications,
                    &q,
                    |_| true,
                    |row| store.listed_publication(row, false),
                );
                Reply::json(200, page)
            }
            ("GET", Route::PortalPublications(portal)) => {
                if store.portals.get(&portal).is_none() {
                    return Err(SandboxProblem::not_found("portal"));
                }
                let q = list_query(request, &["api_id", "auth_strategy_id", "entity_type"])?;
                let page = paginate(
                    &store.publications,
                    &q,
                    |row| str_of(row, "_portal_id") == Some(portal.as_str()),
                    |row| store.listed_publication(row, true),
                );
                Reply::json(200, page)
            }
            ("GET", Route::Portal(portal)) => Reply::json(200, store.portal_view(&portal)?),
            ("GET", Route::Applications(portal)) => {
                if store.portals.get(&portal).is_none() {
                    return Err(SandboxProblem::not_found("portal"));
                }
                let q = list_query(request, &["name", "developer_id", "team_id"])?;
                let page = paginate(
                    &store.applications,
                    &q,
                    |row| str_of(row, "_portal_id") == Some(portal.as_str()),
                    public,
                );
                Reply::json(200, page)
            }
            ("POST", Route::Applications(portal)) => {
                Reply::json(201, self.create_application(&portal, &parse_body(request)?)?)
            }
            ("GET", Route::Application(portal, id)) => Reply::json(200, store.application_view(&portal, &id)?),
            ("DELETE", Route::Application(portal, id)) => {
                self.delete_application(&portal, &id)?;
                Reply::empty(204)
            }
            ("GET", Route::PortalRegistrations(portal)) => {
                if store.portals.get(&portal).is_none() {
                    return Err(SandboxProblem::not_found("portal"));
                }
                let q = list_query(request, &["developer_id", "application_name", "status"])?;
                let page = paginate(
                    &store.registrations,
                    &q,
                    |row| str_of(row, "_portal_id") == Some(portal.as_str()),
                    |row| {
                        let mut view = store.admin_registration_view(row);
                        // Filterable fields the view does not show are matched on the side.
                        let app = store
                            .applications
                            .get(str_of(row, "_application_id").unwrap_or_default());
                        view["developer_id"] = app
                            .and_then(|a| a.get("owner"))
                            .and_then(|o| o.get("id"))
                            .cloned()
                            .unwrap_or(Value::Null);
                        view["application_name"] = view["application"]["name"].clone();
                        view
                    },
                );
                Reply::json(200, strip_side_fields(page, &["developer_id", "application_name"]))
            }
            ("GET", Route::Registrations(portal, app)) => {
                store.application(&portal, &app)?;
                let q = list_query(request, &["status"])?;
                let page = paginate(
                    &store.registrations,
                    &q,
                    |row| str_of(row, "_application_id") == Some(app.as_str()),
                    |row| store.admin_registration_view(row),
                );
                Reply::json(200, page)
            }
            ("POST", Route::Registrations(portal, app)) => {
                let body = parse_body(request)?;
                let map = super::check::object(&body)?;
                let mut check = super::check::Check::new(map);
                check.allowed(&["api_id", "status"]);
                let api = check.uuid("api_id", true).map(str::to_owned);
                let status = check
                    .choice("status", false, &["approved", "pending"])
                    .map(str::to_owned);
                check.finish()?;
                let created = store.register(&portal, &app, &api.unwrap_or_default(), status.as_deref())?;
                let id = created.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                Reply::json(
                    201,
                    store.admin_registration_view(store.registration(&portal, &app, &id)?),
                )
            }
            ("GET", Route::Registration(portal, app, id)) => Reply::json(
                200,
                store.admin_registration_view(store.registration(&portal, &app, &id)?),
            ),
            ("PATCH", Route::Registration(portal, app, id)) => Reply::json(
                200,
                store.update_registration(&portal, &app, &id, &parse_body(request)?)?,
            ),
            ("DELETE", Route::Registration(portal, app, id)) => {
                store.delete_registration(&portal, &app, &id)?;
                Reply::empty(204)
            }
            _ => return Err(SandboxProblem::new(404, "Not Found")),
        })
    }

    /// The Auth0 tenant behind a provider, as the provider's initial client.
    pub(crate) fn auth0_link(&self, provider_id: &str) -> Outcome<Auth0Link> {
        let provider = self.store.provider(provider_id)?;
        let issuer = str_of(provider, "issuer")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        let config = provider.get("dcr_config").cloned().unwrap_or(Value::Null);
        let field = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let audience = config
            .get("initial_client_audience")
            .and_then(Value::as_str)
            .filter(|a| !a.is_empty())
            .map_or_else(|| format!("{issuer}/api/v2/"), str::to_owned);
        Ok(Auth0Link {
            base_url: self
                .issuer_routes
                .get(&issuer)
                .cloned()
                .unwrap_or_else(|| issuer.clone()),
            client_id: field("initial_client_id"),
            client_secret: field("initial_client_secret"),
            audience,
            developer_managed_scopes: config
                .get("use_developer_managed_scopes")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    fn verify(&mut self, id: &str) -> Outcome<Value> {
        let provider = self.store.provider(id)?;
        let kind = str_of(provider, "provider_type").unwrap_or_default().to_owned();
        if kind != "auth0" {
            return Ok(json!({
                "status": "failed",
                "errors": [format!("the sandbox can only verify auth0 providers, not {kind}")],
            }));
        }
        let (kept, errors) = dcr::verify(self.auth0_link(id)?);
        match kept {
            Some(kept) => self.tokens.insert(id.to_owned(), kept),
            None => self.tokens.remove(id),
        };
        let status = if errors.is_empty() { "success" } else { "failed" };
        Ok(json!({"status": status, "errors": errors}))
    }

    pub(crate) fn create_application(&mut self, portal: &str, body: &Value) -> Outcome<Value> {
        let (name, strategy_id) = self.store.check_application(portal, body)?;
        let body = body.as_object().cloned().unwrap_or_default();
        let strategy = self.store.strategy(&strategy_id)?.clone();
        let id = self.store.new_id();
        let is_oidc = str_of(&strategy, "strategy_type") == Some("openid_connect");
        let provider_id = strategy
            .get("dcr_provider_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let (client_id, secret, granted, created) = match (is_oidc, provider_id) {
            (false, _) => (None, None, None, false),
            (true, None) => {
                let client_id = str_of(&body, "client_id").map(str::to_owned).ok_or_else(|| {
                    SandboxProblem::field(
                        "client_id",
                        "required",
                        "a strategy without a DCR provider needs the application's client_id",
                    )
                })?;
                (Some(client_id), None, None, false)
            }
            (true, Some(provider_id)) => {
                let kind = str_of(self.store.provider(&provider_id)?, "provider_type")
                    .unwrap_or_default()
                    .to_owned();
                if let Some(existing) = str_of(&body, "dcr_client_id") {
                    (Some(existing.to_owned()), None, None, false)
                } else if kind != "auth0" {
                    return Err(SandboxProblem::field(
                        "auth_strategy_id",
                        "invalid",
                        format!("the sandbox performs DCR with auth0 providers only, not {kind}"),
                    ));
                } else {
                    let oidc = strategy
                        .get("configs")
                        .and_then(|c| c.get("openid-connect"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    let audience = oidc
                        .as_object()
                        .and_then(super::rules::audience_in)
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            SandboxProblem::field(
                                "auth_strategy_id",
                                "invalid",
                                "the strategy sets no audience (token_post_args_names/values)",
                            )
                        })?;
                    let scopes: Vec<String> = oidc
                        .get("scopes")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                        .unwrap_or_default();
                    let developer = body
                        .get("owner")
                        .and_then(|o| o.get("id"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let registration = Registration {
                        name: name.clone(),
                        audience,
                        scopes,
                        metadata: json!({
                            "konnect_portal_id": portal,
                            "konnect_developer_id": developer,
                            "konnect_org_id": self.store.org_id,
                            "konnect_application_id": id,
                        }),
                    };
                    let link = self.auth0_link(&provider_id)?;
                    let (kept, registered) = dcr::register(link, self.tokens.remove(&provider_id), registration);
                    if let Some(kept) = kept {
                        self.tokens.insert(provider_id.clone(), kept);
                    }
                    let registered = registered.map_err(|e| {
                        SandboxProblem::field(
                            "auth_strategy_id",
                            "invalid",
                            format!("dynamic client registration failed: {e}"),
                        )
                    })?;
                    (
                        Some(registered.client_id),
                        Some(registered.client_secret),
                        Some(registered.granted_scopes),
                        true,
                    )
                }
            }
        };
        let id =
            self.store
                .insert_application(id, portal, &strategy_id, &body, client_id.as_deref(), granted, created)?;
        let mut view = self.store.application_view(portal, &id)?;
        // Shown once, like the portal shows a new application's credentials once.
        if let (Some(secret), Some(map)) = (secret, view.as_object_mut()) {
            map.insert("client_secret".into(), json!(secret));
        }
        Ok(view)
    }

    pub(crate) fn delete_application(&mut self, portal: &str, id: &str) -> Outcome<()> {
        let app = self.store.application(portal, id)?.clone();
        let created = app.get("_dcr_created").and_then(Value::as_bool).unwrap_or(false);
        let provider = app
            .get("dcr_provider")
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str);
        if let (true, Some(provider), Some(client_id)) = (created, provider, str_of(&app, "client_id")) {
            // Like Konnect, the application goes even when its client cannot be deleted;
            // the failure is kept for inspection (an orphan an audit should find).
            let result = if self.store.provider(provider).is_ok() {
                let link = self.auth0_link(provider)?;
                let (kept, result) = dcr::unregister(link, self.tokens.remove(provider), client_id.to_owned());
                if let Some(kept) = kept {
                    self.tokens.insert(provider.to_owned(), kept);
                }
                result
            } else {
                Err("its DCR provider no longer exists".to_owned())
            };
            if let Err(e) = result {
                self.dcr_failures.push(format!("{client_id}: {e}"));
            }
        }
        self.store.applications.remove(id);
        self.store.drop_registrations(id);
        Ok(())
    }
}

/// Drops the `fields` a list view carried only to be filtered on.
pub(crate) fn strip_side_fields(mut page: Value, fields: &[&str]) -> Value {
    if let Some(items) = page.get_mut("data").and_then(Value::as_array_mut) {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            for field in fields {
                item.remove(*field);
            }
        }
    }
    page
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
        // A provider check is a POST that changes nothing: not a write; nor are a
        // sign-in and the gateway's requests.
        !matches!(
            route,
            "unknown"
                | "/v2/dcr-providers/{dcrProviderId}/verify"
                | "/api/v3/developer/authenticate"
                | "/api/v3/developer/refresh"
                | "/api/v3/developer/logout"
                | "gateway"
        )
    }
}

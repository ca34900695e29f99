//! The developer API of each portal (`{sandbox}/portal/{portalId}/api/v3/…`, standing in
//! for the portal's own domain), as the Dev Portal v3 document describes it: sign in with
//! the seeded developer's email and password (cookies `portalaccesstoken` and
//! `portalrefreshtoken`), manage the developer's own applications (another developer's
//! are 404), register them for APIs published on the portal with the application's
//! strategy.

use std::collections::HashMap;

use dcr_client_core::sandbox::{Reply, Request};
use serde_json::{Map, Value, json};

use super::check::{Check, object};
use super::dcr;
use super::problem::{Outcome, SandboxProblem};
use super::server::{Shared, list_query, paginate, parse_body};
use super::store::str_of;

/// Developer API routes, below `/portal/{portalId}`.
pub(crate) enum DevRoute {
    Authenticate,
    Refresh,
    Logout,
    Me,
    Applications,
    Application(String),
    RegenerateSecret(String),
    GrantedScopes(String),
    Registrations(String),
    Registration(String, String),
    Unknown,
}

/// Route and template (as the document spells it) of a path below `/portal/{portalId}`.
pub(crate) fn dev_route(segments: &[&str]) -> (DevRoute, &'static str) {
    let owned = |s: &str| s.to_owned();
    match segments {
        ["api", "v3", "developer", "authenticate"] => (DevRoute::Authenticate, "/api/v3/developer/authenticate"),
        ["api", "v3", "developer", "refresh"] => (DevRoute::Refresh, "/api/v3/developer/refresh"),
        ["api", "v3", "developer", "logout"] => (DevRoute::Logout, "/api/v3/developer/logout"),
        ["api", "v3", "developer", "me"] => (DevRoute::Me, "/api/v3/developer/me"),
        ["api", "v3", "applications"] => (DevRoute::Applications, "/api/v3/applications"),
        ["api", "v3", "applications", id] => (DevRoute::Application(owned(id)), "/api/v3/applications/{applicationId}"),
        ["api", "v3", "applications", id, "regenerate-secret"] => (
            DevRoute::RegenerateSecret(owned(id)),
            "/api/v3/applications/{applicationId}/regenerate-secret",
        ),
        ["api", "v3", "applications", id, "granted-scopes"] => (
            DevRoute::GrantedScopes(owned(id)),
            "/api/v3/applications/{applicationId}/granted-scopes",
        ),
        ["api", "v3", "applications", id, "registrations"] => (
            DevRoute::Registrations(owned(id)),
            "/api/v3/applications/{applicationId}/registrations",
        ),
        ["api", "v3", "applications", id, "registrations", reg] => (
            DevRoute::Registration(owned(id), owned(reg)),
            "/api/v3/applications/{applicationId}/registrations/{registrationId}",
        ),
        _ => (DevRoute::Unknown, "unknown"),
    }
}

/// The seeded developer and the sessions handed out.
pub(crate) struct Developers {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) full_name: String,
    /// Access token → portal it was issued on.
    access: HashMap<String, String>,
    /// Refresh token → portal.
    refresh: HashMap<String, String>,
    counter: u64,
}

impl Developers {
    pub(crate) fn new(id: String, email: String, password: String) -> Self {
        Developers {
            id,
            email,
            password,
            full_name: "Sandbox Developer".to_owned(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            counter: 0,
        }
    }

    /// Makes every access token expire; refresh tokens stay valid.
    pub(crate) fn expire_access(&mut self) {
        self.access.clear();
    }

    /// Ends every session.
    pub(crate) fn revoke_all(&mut self) {
        self.access.clear();
        self.refresh.clear();
    }

    fn issue(&mut self, portal: &str) -> Vec<(&'static str, String)> {
        self.counter += 1;
        let n = self.counter;
        let nonce = fastrand::u64(..);
        let access = format!("pat{n}{nonce:016x}");
        let refresh = format!("prt{n}{nonce:016x}");
        self.access.insert(access.clone(), portal.to_owned());
        self.refresh.insert(refresh.clone(), portal.to_owned());
        vec![
            (
                "set-cookie",
                format!("portalaccesstoken={access}; Path=/; HttpOnly; Secure; SameSite=None"),
            ),
            (
                "set-cookie",
                format!(
                    "portalrefreshtoken={refresh}; Path=/api/v3/developer/refresh; HttpOnly; Secure; SameSite=None"
                ),
            ),
        ]
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

fn unauthorized() -> SandboxProblem {
    SandboxProblem::new(401, "Invalid credentials")
}

impl Shared {
    /// Answers a developer API request for `portal`.
    pub(crate) fn developer_api(
        &mut self,
        request: &Request,
        method: &str,
        portal: &str,
        route: DevRoute,
    ) -> Outcome<Reply> {
        if self.store.portals.get(portal).is_none() {
            return Err(SandboxProblem::not_found("portal"));
        }
        match (method, &route) {
            ("POST", DevRoute::Authenticate) => return self.authenticate(request, portal),
            ("POST", DevRoute::Refresh) => {
                let portal_of = cookie(request, "portalrefreshtoken")
                    .and_then(|t| self.developers.refresh.remove(t).map(|p| (t, p)));
                return match portal_of {
                    Some((_, p)) if p == portal => {
                        let mut reply = Reply::empty(204);
                        reply.headers = self.developers.issue(portal);
                        Ok(reply)
                    }
                    _ => Err(unauthorized()),
                };
            }
            ("POST", DevRoute::Logout) => {
                if let Some(token) = cookie(request, "portalaccesstoken") {
                    self.developers.access.remove(token);
                }
                let mut reply = Reply::empty(204);
                reply.headers = vec![
                    ("set-cookie", "portalaccesstoken=; Path=/; Max-Age=0".to_owned()),
                    (
                        "set-cookie",
                        "portalrefreshtoken=; Path=/api/v3/developer/refresh; Max-Age=0".to_owned(),
                    ),
                ];
                return Ok(reply);
            }
            _ => {}
        }
        let signed_in = cookie(request, "portalaccesstoken")
            .and_then(|t| self.developers.access.get(t))
            .is_some_and(|p| p == portal);
        if !signed_in {
            return Err(unauthorized());
        }
        Ok(match (method, route) {
            ("GET", DevRoute::Me) => Reply::json(
                200,
                json!({
                    "id": self.developers.id, "email": self.developers.email,
                    "full_name": self.developers.full_name,
                    "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
                }),
            ),
            ("GET", DevRoute::Applications) => {
                // The document's filters: name, auth strategy, team.
                let q = list_query(request, &["name", "auth_strategy_id", "team_id"])?;
                let developer = self.developers.id.as_str();
                let page = paginate(
                    &self.store.applications,
                    &q,
                    |a| owned_by(a, portal, developer),
                    developer_view,
                );
                Reply::json(200, page)
            }
            ("POST", DevRoute::Applications) => Reply::json(201, self.developer_create(portal, &parse_body(request)?)?),
            ("GET", DevRoute::Application(id)) => Reply::json(200, developer_view(self.own_application(portal, &id)?)),
            ("DELETE", DevRoute::Application(id)) => {
                self.own_application(portal, &id)?;
                self.delete_application(portal, &id)?;
                Reply::empty(204)
            }
            ("POST", DevRoute::RegenerateSecret(id)) => Reply::json(201, self.regenerate_secret(portal, &id)?),
            ("GET", DevRoute::GrantedScopes(id)) => {
                let app = self.own_application(portal, &id)?;
                match app.get("granted_scopes").and_then(Value::as_array) {
                    Some(scopes) => Reply::json(200, json!({"scopes": scopes})),
                    None => {
                        return Err(SandboxProblem::new(
                            422,
                            "Granted scopes are not supported by this application",
                        ));
                    }
                }
            }
            ("GET", DevRoute::Registrations(app)) => {
                self.own_application(portal, &app)?;
                // The document's filters: id, status, API name.
                let q = list_query(request, &["id", "status", "api_name"])?;
                let store = &self.store;
                let page = paginate(
                    &store.registrations,
                    &q,
                    |r| str_of(r, "_application_id") == Some(app.as_str()),
                    |r| store.developer_registration_view(r),
                );
                Reply::json(200, page)
            }
            ("POST", DevRoute::Registrations(app)) => {
                self.own_application(portal, &app)?;
                let body = parse_body(request)?;
                let map = object(&body)?;
                let mut check = Check::new(map);
                check.allowed(&["api_id"]);
                let api = check.uuid("api_id", true).map(str::to_owned);
                check.finish()?;
                let created = self.store.register(portal, &app, &api.unwrap_or_default(), None)?;
                let id = created.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
                let row = self.store.registration(portal, &app, &id)?;
                Reply::json(201, self.store.developer_registration_view(row))
            }
            ("GET", DevRoute::Registration(app, id)) => {
                self.own_application(portal, &app)?;
                Reply::json(
                    200,
                    self.store
                        .developer_registration_view(self.store.registration(portal, &app, &id)?),
                )
            }
            ("DELETE", DevRoute::Registration(app, id)) => {
                self.own_application(portal, &app)?;
                self.store.delete_registration(portal, &app, &id)?;
                Reply::empty(204)
            }
            _ => return Err(SandboxProblem::new(404, "Not Found")),
        })
    }

    fn authenticate(&mut self, request: &Request, portal: &str) -> Outcome<Reply> {
        let body = parse_body(request)?;
        let map = object(&body)?;
        let mut check = Check::new(map);
        check.allowed(&["username", "password"]);
        let username = check.string("username", true, 1, 255).map(str::to_owned);
        let password = check.string("password", true, 1, 1024).map(str::to_owned);
        check.finish()?;
        if username.as_deref() != Some(self.developers.email.as_str())
            || password.as_deref() != Some(self.developers.password.as_str())
        {
            return Err(unauthorized());
        }
        let mut reply = Reply::empty(204);
        reply.headers = self.developers.issue(portal);
        Ok(reply)
    }

    fn own_application(&self, portal: &str, id: &str) -> Outcome<&Map<String, Value>> {
        self.store
            .application(portal, id)
            .ok()
            .filter(|a| owned_by(a, portal, &self.developers.id))
            .ok_or_else(|| SandboxProblem::not_found("application"))
    }

    /// `POST /api/v3/applications` (`CreateApplicationPayload`): the strategy must be one
    /// the portal offers (used by one of its publications); DCR as for the admin API.
    fn developer_create(&mut self, portal: &str, body: &Value) -> Outcome<Value> {
        let map = object(body)?;
        let mut check = Check::new(map);
        check.allowed(&[
            "name",
            "client_id",
            "redirect_uri",
            "description",
            "auth_strategy_id",
            "scopes",
            "team_id",
        ]);
        check.string("name", true, 1, 255);
        check.string("description", false, 0, 255);
        check.string("client_id", false, 1, 255);
        let strategy = check.uuid("auth_strategy_id", false).map(str::to_owned);
        check.finish()?;
        let strategy = strategy
            .or_else(|| {
                self.store
                    .portals
                    .get(portal)
                    .and_then(|p| str_of(p, "default_application_auth_strategy_id"))
                    .map(str::to_owned)
            })
            .ok_or_else(|| {
                SandboxProblem::field(
                    "auth_strategy_id",
                    "required",
                    "the portal has no default application auth strategy",
                )
            })?;
        let offered = self.store.publications.iter_from(0).any(|(_, p)| {
            str_of(p, "_portal_id") == Some(portal)
                && p.get("auth_strategy_ids")
                    .and_then(Value::as_array)
                    .is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(strategy.as_str())))
        });
        if !offered {
            return Err(SandboxProblem::field(
                "auth_strategy_id",
                "invalid",
                "the auth strategy is not available on this portal",
            ));
        }
        let mut admin = json!({
            "name": map.get("name"),
            "auth_strategy_id": strategy,
            "owner": {"type": "developer", "id": self.developers.id},
        });
        if let Some(d) = map.get("description").filter(|d| d.is_string()) {
            admin["description"] = d.clone();
        }
        if let Some(c) = map.get("client_id").filter(|c| c.is_string()) {
            admin["client_id"] = c.clone();
        }
        let created = self.create_application(portal, &admin)?;
        let id = created.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
        let mut view = developer_view(self.store.application(portal, &id)?);
        if let (Some(secret), Some(out)) = (created.get("client_secret"), view.as_object_mut()) {
            out.insert("client_secret".into(), secret.clone());
        }
        Ok(view)
    }

    fn regenerate_secret(&mut self, portal: &str, id: &str) -> Outcome<Value> {
        let app = self.own_application(portal, id)?.clone();
        let client_id = str_of(&app, "client_id").unwrap_or_default().to_owned();
        let provider = app
            .get("dcr_provider")
            .and_then(|p| p.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let Some(provider) = provider.filter(|_| !client_id.is_empty()) else {
            return Err(SandboxProblem::new(
                400,
                "Only applications with a DCR client can regenerate their secret",
            ));
        };
        let link = self.auth0_link(&provider)?;
        let (kept, result) = dcr::rotate(link, self.take_token(&provider), client_id.clone());
        self.keep_token(&provider, kept);
        let secret = result.map_err(|e| SandboxProblem::new(400, format!("the identity provider refused: {e}")))?;
        Ok(json!({"client_id": client_id, "client_secret": secret}))
    }
}

fn owned_by(app: &Map<String, Value>, portal: &str, developer: &str) -> bool {
    str_of(app, "_portal_id") == Some(portal)
        && app.get("owner").and_then(|o| o.get("id")).and_then(Value::as_str) == Some(developer)
}

/// `GetApplicationResponse`: exactly its properties.
fn developer_view(app: &Map<String, Value>) -> Value {
    let mut view = Map::new();
    for key in [
        "id",
        "name",
        "description",
        "client_id",
        "auth_strategy",
        "created_at",
        "updated_at",
    ] {
        view.insert(key.into(), app.get(key).cloned().unwrap_or(Value::Null));
    }
    if let Some(scopes) = app.get("granted_scopes").filter(|s| s.is_array()) {
        view.insert("scopes".into(), scopes.clone());
    }
    Value::Object(view)
}

//! The tenant's data and Auth0's rules for it: ids, defaults, validation, uniqueness,
//! cascades. No HTTP here; `server.rs` maps requests onto these operations.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::failure::{Outcome, SandboxError};
use super::schema;
pub(crate) use dcr_client_core::sandbox::Table;

const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const SECRET_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// An Auth0 tenant's applications, grants and APIs.
pub(crate) struct Store {
    pub(crate) domain: String,
    pub(crate) clients: Table,
    pub(crate) grants: Table,
    pub(crate) resource_servers: Table,
    pub(crate) actions: super::actions::ActionStore,
    identifiers: HashMap<String, String>,
    grant_keys: HashMap<(String, String), String>,
    rng: fastrand::Rng,
}

fn obj(body: &Value) -> Outcome<&Map<String, Value>> {
    body.as_object()
        .ok_or_else(|| SandboxError::bad_body("'Expected type object but found another type'"))
}

fn check_props(body: &Map<String, Value>, allowed: &[&str]) -> Outcome<()> {
    let extra: Vec<&str> = body
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    if extra.is_empty() {
        Ok(())
    } else {
        Err(SandboxError::bad_body(format!(
            "'Additional properties not allowed: {}'",
            extra.join(",")
        )))
    }
}

fn type_error(property: &str, expected: &str) -> SandboxError {
    SandboxError::bad_body(format!(
        "'Expected type {expected} but found another type' on property {property}"
    ))
}

fn opt_str<'a>(body: &'a Map<String, Value>, key: &str) -> Outcome<Option<&'a str>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(type_error(key, "string")),
    }
}

fn opt_bool(body: &Map<String, Value>, key: &str) -> Outcome<Option<bool>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(type_error(key, "boolean")),
    }
}

fn check_name(key: &str, value: &str, max: usize) -> Outcome<()> {
    if value.is_empty() || value.contains(['<', '>']) {
        return Err(SandboxError::bad_body(format!(
            "'String does not match pattern ^[^<>]+$: {value}' on property {key}"
        )));
    }
    if value.chars().count() > max {
        return Err(SandboxError::bad_body(format!(
            "'String is too long (maximum {max})' on property {key}"
        )));
    }
    Ok(())
}

fn check_enum(body: &Map<String, Value>, key: &str, allowed: &[&str]) -> Outcome<()> {
    if let Some(value) = opt_str(body, key)?
        && !allowed.contains(&value)
    {
        return Err(SandboxError::bad_body(format!(
            "'No enum match for: \"{value}\"' on property {key}"
        )));
    }
    Ok(())
}

fn string_array(body: &Map<String, Value>, key: &str, max_len: usize) -> Outcome<Option<Vec<String>>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item.as_str() {
                Some(s) if !s.is_empty() && s.chars().count() <= max_len => Ok(s.to_owned()),
                _ => Err(SandboxError::bad_body(format!(
                    "'Expected non-empty strings of at most {max_len} characters' on property {key}"
                ))),
            })
            .collect::<Outcome<Vec<_>>>()
            .map(Some),
        Some(_) => Err(type_error(key, "array")),
    }
}

/// Auth0's `client_metadata` rules: at most 10 properties, string values, keys and values
/// at most 255 characters.
fn check_metadata(metadata: &Map<String, Value>) -> Outcome<()> {
    if metadata.len() > 10 {
        return Err(SandboxError::bad_body(format!(
            "'Too many properties ({}), maximum 10' on property client_metadata",
            metadata.len()
        )));
    }
    for (key, value) in metadata {
        if key.is_empty() || key.chars().count() > 255 {
            return Err(SandboxError::bad_body(format!(
                "'Key too long (maximum 255)' on property client_metadata.{key}"
            )));
        }
        match value {
            Value::String(s) if s.chars().count() <= 255 => {}
            Value::String(_) => {
                return Err(SandboxError::bad_body(format!(
                    "'String is too long (maximum 255)' on property client_metadata.{key}"
                )));
            }
            _ => return Err(type_error(&format!("client_metadata.{key}"), "string")),
        }
    }
    Ok(())
}

const APP_TYPES: &[&str] = &[
    "native",
    "spa",
    "regular_web",
    "non_interactive",
    "resource_server",
    "express_configuration",
    "rms",
    "box",
    "cloudbees",
    "concur",
    "dropbox",
    "mscrm",
    "echosign",
    "egnyte",
    "newrelic",
    "office365",
    "salesforce",
    "sentry",
    "sharepoint",
    "slack",
    "springcm",
    "zendesk",
    "zoom",
    "sso_integration",
    "oag",
];
const AUTH_METHODS: &[&str] = &["none", "client_secret_post", "client_secret_basic"];
const ORG_USAGE: &[&str] = &["deny", "allow", "require"];
const SIGNING_ALGS: &[&str] = &["HS256", "RS256", "RS512", "PS256"];
const TOKEN_DIALECTS: &[&str] = &[
    "access_token",
    "access_token_authz",
    "rfc9068_profile",
    "rfc9068_profile_authz",
];

/// Checks the client fields the sandbox gives meaning to; others are stored as sent.
fn check_client_fields(body: &Map<String, Value>) -> Outcome<()> {
    if let Some(name) = opt_str(body, "name")? {
        check_name("name", name, usize::MAX)?;
    }
    if let Some(d) = opt_str(body, "description")?
        && d.chars().count() > 140
    {
        return Err(SandboxError::bad_body(
            "'String is too long (maximum 140)' on property description",
        ));
    }
    check_enum(body, "app_type", APP_TYPES)?;
    check_enum(body, "token_endpoint_auth_method", AUTH_METHODS)?;
    check_enum(body, "organization_usage", ORG_USAGE)?;
    string_array(body, "grant_types", usize::MAX)?;
    opt_bool(body, "is_first_party")?;
    opt_bool(body, "oidc_conformant")?;
    match body.get("client_metadata") {
        None => {}
        Some(Value::Object(m)) => check_metadata(m)?,
        Some(_) => return Err(type_error("client_metadata", "object")),
    }
    match body.get("jwt_configuration") {
        None | Some(Value::Object(_)) => {}
        Some(_) => return Err(type_error("jwt_configuration", "object")),
    }
    if let Some(secret) = opt_str(body, "client_secret")?
        && secret.is_empty()
    {
        return Err(SandboxError::bad_body(
            "'String is too short (0 chars), minimum 1' on property client_secret",
        ));
    }
    Ok(())
}

impl Store {
    pub(crate) fn new(domain: String, seed: Option<u64>) -> Self {
        Store {
            domain,
            clients: Table::default(),
            grants: Table::default(),
            resource_servers: Table::default(),
            actions: super::actions::ActionStore::new(seed),
            identifiers: HashMap::new(),
            grant_keys: HashMap::new(),
            rng: seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
        }
    }

    fn random(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[self.rng.usize(..alphabet.len())] as char)
            .collect()
    }

    pub(crate) fn new_secret(&mut self) -> String {
        self.random(SECRET_CHARS, 64)
    }

    pub(crate) fn management_audience(&self) -> String {
        format!("https://{}/api/v2/", self.domain)
    }

    // ----- clients -----

    /// `POST /api/v2/clients`. Returns the stored client, secret included.
    pub(crate) fn create_client(&mut self, body: &Value) -> Outcome<Value> {
        let body = obj(body)?;
        check_props(body, schema::CREATE_CLIENT)?;
        if !body.contains_key("name") {
            return Err(SandboxError::bad_body("'Missing required property: name'"));
        }
        check_client_fields(body)?;
        let app_type = body
            .get("app_type")
            .and_then(Value::as_str)
            .unwrap_or("regular_web")
            .to_owned();
        let public = matches!(app_type.as_str(), "spa" | "native");
        let default_grants: &[&str] = match app_type.as_str() {
            "non_interactive" => &["client_credentials"],
            "spa" | "native" => &["authorization_code", "implicit", "refresh_token"],
            _ => &["authorization_code", "implicit", "refresh_token", "client_credentials"],
        };
        let mut client_id = self.random(ID_CHARS, 32);
        while self.clients.get(&client_id).is_some() {
            client_id = self.random(ID_CHARS, 32);
        }
        let tenant = self.domain.split('.').next().unwrap_or_default().to_owned();
        let mut row = json!({
            "client_id": client_id,
            "tenant": tenant,
            "global": false,
            "is_first_party": true,
            "oidc_conformant": true,
            "sso_disabled": false,
            "cross_origin_authentication": false,
            "is_token_endpoint_ip_header_trusted": false,
            "callbacks": [],
            "allowed_origins": [],
            "web_origins": [],
            "allowed_clients": [],
            "allowed_logout_urls": [],
            "grant_types": default_grants,
            "token_endpoint_auth_method": if public { "none" } else { "client_secret_post" },
            "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 36000, "secret_encoded": false},
            "custom_login_page_on": true,
        });
        let row_map = row
            .as_object_mut()
            .ok_or_else(|| SandboxError::mgmt(500, "internal", "row"))?;
        for (k, v) in body {
            row_map.insert(k.clone(), v.clone());
        }
        let method = row_map
            .get("token_endpoint_auth_method")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_owned();
        if method != "none" && !row_map.contains_key("client_secret") {
            let secret = self.new_secret();
            row_map.insert("client_secret".into(), Value::String(secret));
        }
        let stored = row_map.clone();
        self.clients.insert(client_id, stored.clone());
        Ok(Value::Object(stored))
    }

    pub(crate) fn client(&self, id: &str) -> Outcome<&Map<String, Value>> {
        self.clients
            .get(id)
            .ok_or_else(|| SandboxError::mgmt(404, "inexistent_client", "The client does not exist"))
    }

    /// `PATCH /api/v2/clients/{id}`: fields replace, `client_metadata` merges (`null` deletes).
    pub(crate) fn update_client(&mut self, id: &str, body: &Value) -> Outcome<Value> {
        let body = obj(body)?;
        check_props(body, schema::UPDATE_CLIENT)?;
        let mut checked = body.clone();
        checked.remove("client_metadata");
        check_client_fields(&checked)?;
        let current = self.client(id)?.clone();
        let mut next = current;
        for (k, v) in body {
            if k == "client_metadata" {
                let Value::Object(patch) = v else {
                    return Err(type_error("client_metadata", "object"));
                };
                let mut merged = next
                    .get("client_metadata")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for (mk, mv) in patch {
                    if mv.is_null() {
                        merged.remove(mk);
                    } else {
                        merged.insert(mk.clone(), mv.clone());
                    }
                }
                check_metadata(&merged)?;
                next.insert(k.clone(), Value::Object(merged));
            } else {
                next.insert(k.clone(), v.clone());
            }
        }
        if let Some(row) = self.clients.get_mut(id) {
            *row = next.clone();
        }
        Ok(Value::Object(next))
    }

    /// `DELETE /api/v2/clients/{id}`: the client and its grants go; a missing id is fine.
    pub(crate) fn delete_client(&mut self, id: &str) {
        if self.clients.remove(id).is_some() {
            let grants: Vec<String> = self
                .grant_keys
                .iter()
                .filter(|((client, _), _)| client == id)
                .map(|(_, grant)| grant.clone())
                .collect();
            for grant in grants {
                self.delete_grant(&grant);
            }
        }
    }

    /// `POST /api/v2/clients/{id}/rotate-secret`.
    pub(crate) fn rotate_secret(&mut self, id: &str) -> Outcome<Value> {
        self.client(id)?;
        let secret = self.new_secret();
        let row = self
            .clients
            .get_mut(id)
            .ok_or_else(|| SandboxError::mgmt(404, "inexistent_client", "The client does not exist"))?;
        row.insert("client_secret".into(), Value::String(secret));
        Ok(Value::Object(row.clone()))
    }

    // ----- resource servers -----

    fn rs_id_for(&self, id_or_identifier: &str) -> Option<String> {
        if self.resource_servers.get(id_or_identifier).is_some() {
            return Some(id_or_identifier.to_owned());
        }
        self.identifiers.get(id_or_identifier).cloned()
    }

    pub(crate) fn resource_server(&self, id_or_identifier: &str) -> Outcome<&Map<String, Value>> {
        self.rs_id_for(id_or_identifier)
            .and_then(|id| self.resource_servers.get(&id))
            .ok_or_else(|| SandboxError::mgmt(404, "inexistent_resource_server", "The resource server does not exist"))
    }

    pub(crate) fn resource_server_by_identifier(&self, identifier: &str) -> Option<&Map<String, Value>> {
        self.identifiers
            .get(identifier)
            .and_then(|id| self.resource_servers.get(id))
    }

    fn check_rs_fields(body: &Map<String, Value>) -> Outcome<()> {
        if let Some(name) = opt_str(body, "name")? {
            check_name("name", name, 200)?;
        }
        check_enum(body, "signing_alg", SIGNING_ALGS)?;
        check_enum(body, "token_dialect", TOKEN_DIALECTS)?;
        opt_bool(body, "allow_offline_access")?;
        opt_bool(body, "skip_consent_for_verifiable_first_party_clients")?;
        match body.get("token_lifetime") {
            None => {}
            Some(v) => match v.as_u64() {
                Some(n) if n <= 2_592_000 => {}
                _ => {
                    return Err(SandboxError::bad_body(
                        "'Value must be an integer between 0 and 2592000' on property token_lifetime",
                    ));
                }
            },
        }
        match body.get("scopes") {
            None => {}
            Some(Value::Array(scopes)) => {
                for scope in scopes {
                    let Some(s) = scope.as_object() else {
                        return Err(type_error("scopes", "object"));
                    };
                    check_props(s, &["value", "description"])?;
                    match s.get("value").and_then(Value::as_str) {
                        Some(v) if !v.is_empty() && v.chars().count() <= 280 => {}
                        _ => {
                            return Err(SandboxError::bad_body(
                                "'Missing or invalid required property: value' on property scopes",
                            ));
                        }
                    }
                    if let Some(d) = opt_str(s, "description")?
                        && d.chars().count() > 500
                    {
                        return Err(SandboxError::bad_body(
                            "'String is too long (maximum 500)' on property scopes.description",
                        ));
                    }
                }
            }
            Some(_) => return Err(type_error("scopes", "array")),
        }
        Ok(())
    }

    /// Adds a resource server without the HTTP checks (used to seed the system API).
    pub(crate) fn insert_resource_server(&mut self, row: Map<String, Value>) -> Value {
        let id = self.random(b"0123456789abcdef", 24);
        let mut row = row;
        row.insert("id".into(), Value::String(id.clone()));
        if let Some(identifier) = row.get("identifier").and_then(Value::as_str) {
            self.identifiers.insert(identifier.to_owned(), id.clone());
        }
        self.resource_servers.insert(id, row.clone());
        Value::Object(row)
    }

    /// `POST /api/v2/resource-servers`.
    pub(crate) fn create_resource_server(&mut self, body: &Value) -> Outcome<Value> {
        let body = obj(body)?;
        check_props(body, schema::CREATE_RESOURCE_SERVER)?;
        let identifier = match opt_str(body, "identifier")? {
            None => {
                return Err(SandboxError::bad_body("'Missing required property: identifier'"));
            }
            Some(i) if i.is_empty() || i.chars().count() > 600 => {
                return Err(SandboxError::bad_body(
                    "'String length must be 1 to 600' on property identifier",
                ));
            }
            Some(i) => i.to_owned(),
        };
        Self::check_rs_fields(body)?;
        if self.identifiers.contains_key(&identifier) {
            return Err(SandboxError::mgmt(
                409,
                "conflict",
                "A resource server with the same identifier already exists",
            ));
        }
        let mut row = json!({
            "name": identifier,
            "identifier": identifier,
            "is_system": false,
            "scopes": [],
            "signing_alg": "RS256",
            "allow_offline_access": false,
            "skip_consent_for_verifiable_first_party_clients": true,
            "token_lifetime": 86400,
            "token_lifetime_for_web": 7200,
            "enforce_policies": false,
            "token_dialect": "access_token",
        });
        if let Some(map) = row.as_object_mut() {
            for (k, v) in body {
                map.insert(k.clone(), v.clone());
            }
        }
        let row = match row {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Ok(self.insert_resource_server(row))
    }

    /// `PATCH /api/v2/resource-servers/{id}`.
    pub(crate) fn update_resource_server(&mut self, id_or_identifier: &str, body: &Value) -> Outcome<Value> {
        let body = obj(body)?;
        check_props(body, schema::UPDATE_RESOURCE_SERVER)?;
        Self::check_rs_fields(body)?;
        let current = self.resource_server(id_or_identifier)?;
        if current.get("is_system").and_then(Value::as_bool) == Some(true) {
            return Err(SandboxError::mgmt(
                400,
                "operation_not_supported",
                "You cannot update a system resource server",
            ));
        }
        let id = self.rs_id_for(id_or_identifier).unwrap_or_default();
        let row = self.resource_servers.get_mut(&id).ok_or_else(|| {
            SandboxError::mgmt(404, "inexistent_resource_server", "The resource server does not exist")
        })?;
        for (k, v) in body {
            row.insert(k.clone(), v.clone());
        }
        Ok(Value::Object(row.clone()))
    }

    /// `DELETE /api/v2/resource-servers/{id}`: the API and every grant for its audience go.
    pub(crate) fn delete_resource_server(&mut self, id_or_identifier: &str) -> Outcome<()> {
        let Some(id) = self.rs_id_for(id_or_identifier) else {
            return Ok(());
        };
        let is_system = self
            .resource_servers
            .get(&id)
            .and_then(|r| r.get("is_system"))
            .and_then(Value::as_bool)
            == Some(true);
        if is_system {
            return Err(SandboxError::mgmt(
                400,
                "operation_not_supported",
                "You cannot delete a system resource server",
            ));
        }
        if let Some(row) = self.resource_servers.remove(&id)
            && let Some(identifier) = row.get("identifier").and_then(Value::as_str)
        {
            {
                self.identifiers.remove(identifier);
                let grants: Vec<String> = self
                    .grant_keys
                    .iter()
                    .filter(|((_, audience), _)| audience == identifier)
                    .map(|(_, grant)| grant.clone())
                    .collect();
                for grant in grants {
                    self.delete_grant(&grant);
                }
            }
        }
        Ok(())
    }

    // ----- client grants -----

    fn check_scopes_defined(&self, audience: &str, scopes: &[String]) -> Outcome<()> {
        let rs = self.resource_server_by_identifier(audience).ok_or_else(|| {
            SandboxError::mgmt(
                404,
                "inexistent_resource_server",
                format!("No resource server found for audience {audience}"),
            )
        })?;
        let defined: Vec<&str> = rs
            .get("scopes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.get("value").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let missing: Vec<&str> = scopes
            .iter()
            .map(String::as_str)
            .filter(|s| !defined.contains(s))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(SandboxError::bad_body(format!(
                "'The following scopes are not defined by the resource server: {}' on property scope",
                missing.join(", ")
            )))
        }
    }

    /// Adds a grant after the checks (also used to seed the bootstrap client).
    pub(crate) fn insert_grant(
        &mut self,
        client_id: &str,
        audience: &str,
        scope: Vec<String>,
        extra: &Map<String, Value>,
    ) -> Value {
        let id = format!("cgr_{}", self.random(ID_CHARS, 16));
        let mut row = json!({
            "id": id,
            "client_id": client_id,
            "audience": audience,
            "scope": scope,
            "allow_any_organization": false,
            "is_system": false,
            "subject_type": "client",
        });
        if let Some(map) = row.as_object_mut() {
            for (k, v) in extra {
                if !matches!(k.as_str(), "client_id" | "audience" | "scope") {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        let map = match row {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        self.grant_keys
            .insert((client_id.to_owned(), audience.to_owned()), id.clone());
        self.grants.insert(id, map.clone());
        Value::Object(map)
    }

    /// `POST /api/v2/client-grants`.
    pub(crate) fn create_grant(&mut self, body: &Value) -> Outcome<Value> {
        let body = obj(body)?;
        check_props(body, schema::CREATE_CLIENT_GRANT)?;
        let audience = match opt_str(body, "audience")? {
            Some(a) if !a.is_empty() => a.to_owned(),
            _ => {
                return Err(SandboxError::bad_body("'Missing required property: audience'"));
            }
        };
        let client_id = match opt_str(body, "client_id")? {
            Some(c) if !c.is_empty() => c.to_owned(),
            _ => {
                return Err(SandboxError::bad_body("'Missing required property: client_id'"));
            }
        };
        check_enum(body, "organization_usage", ORG_USAGE)?;
        check_enum(body, "subject_type", &["client", "user"])?;
        opt_bool(body, "allow_any_organization")?;
        let scope = string_array(body, "scope", 280)?.unwrap_or_default();
        self.client(&client_id)?;
        self.check_scopes_defined(&audience, &scope)?;
        if self.grant_keys.contains_key(&(client_id.clone(), audience.clone())) {
            return Err(SandboxError::mgmt(
                409,
                "conflict",
                "A client grant for this client and audience already exists",
            ));
        }
        Ok(self.insert_grant(&client_id, &audience, scope, body))
    }

    pub(crate) fn grant(&self, id: &str) -> Outcome<&Map<String, Value>> {
        self.grants
            .get(id)
            .ok_or_else(|| SandboxError::mgmt(404, "inexistent_client_grant", "The client grant does not exist"))
    }

    /// The grant of `client_id` for `audience`.
    pub(crate) fn grant_for(&self, client_id: &str, audience: &str) -> Option<&Map<String, Value>> {
        self.grant_keys
            .get(&(client_id.to_owned(), audience.to_owned()))
            .and_then(|id| self.grants.get(id))
    }

    /// `PATCH /api/v2/client-grants/{id}`.
    pub(crate) fn update_grant(&mut self, id: &str, body: &Value) -> Outcome<Value> {
        let body = obj(body)?;
        check_props(body, schema::UPDATE_CLIENT_GRANT)?;
        check_enum(body, "organization_usage", ORG_USAGE)?;
        let audience = self
            .grant(id)?
            .get("audience")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let scope = string_array(body, "scope", 280)?;
        if let Some(scope) = &scope {
            self.check_scopes_defined(&audience, scope)?;
        }
        let row = self
            .grants
            .get_mut(id)
            .ok_or_else(|| SandboxError::mgmt(404, "inexistent_client_grant", "The client grant does not exist"))?;
        for (k, v) in body {
            match (k.as_str(), v) {
                ("scope", Value::Null) => {
                    row.insert(k.clone(), json!([]));
                }
                (_, Value::Null) => {
                    row.remove(k);
                }
                _ => {
                    row.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(Value::Object(row.clone()))
    }

    /// `DELETE /api/v2/client-grants/{id}`; a missing id is fine.
    pub(crate) fn delete_grant(&mut self, id: &str) {
        if let Some(row) = self.grants.remove(id) {
            let client = row
                .get("client_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let audience = row
                .get("audience")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            self.grant_keys.remove(&(client, audience));
        }
    }
}

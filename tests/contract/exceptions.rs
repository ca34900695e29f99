//! Where a document is wrong or silent about what the real service does: every exception
//! to the contract checks, in one place, each with its reason. An exception never turns a
//! check off: it narrows it to what the service is known to do, or replaces a missing
//! schema with one written from the service's other references.

use serde_json::{Value, json};

/// Which service an exchange went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// Auth0 (Management API, plus the Authentication API's token endpoint and JWKS).
    Auth0,
    /// Konnect (Application Auth v2, API Builder v3, Portal Management v3).
    Konnect,
    /// A Dev Portal's developer API (Dev Portal v3), on the portal's own domain: the
    /// Konnect sandbox serves it below `/portal/{portalId}`.
    KonnectPortal,
}

/// What an exception allows.
#[derive(Clone, Debug)]
pub enum Rule {
    /// A body field the document's schema does not list (with `additionalProperties:
    /// false`) but the service sends or accepts: it is removed before the rest of the body
    /// is validated. `status: None` means the request body.
    ExtraField {
        /// `METHOD /full/template`.
        operation: &'static str,
        /// The status of the response, or `None` for the request.
        status: Option<u16>,
        /// Top-level field name.
        field: &'static str,
    },
    /// A status the document does not list for these operations; the body is still
    /// validated, against `schema`.
    UnlistedStatus {
        /// The service.
        service: Service,
        /// The status.
        status: u16,
        /// `METHOD /full/template`, or `None` for every operation of the service.
        operation: Option<&'static str>,
        /// Schema of the body sent with that status.
        schema: fn() -> Value,
    },
    /// An endpoint outside the documents: its response is validated against `schema`,
    /// written from the service's reference for it.
    Undocumented {
        /// `METHOD /full/template` (`{name}` matches one segment, a final `**` the rest).
        operation: &'static str,
        /// Request body schema (`None`: no body).
        request: Option<fn() -> Value>,
        /// Success response body schema.
        response: fn() -> Value,
        /// Error response body schema.
        error: fn() -> Value,
    },
    /// Error statuses the document lists without a body schema: the body must match
    /// `schema`.
    ErrorBody {
        /// The service.
        service: Service,
        /// Schema of its error bodies.
        schema: fn() -> Value,
    },
    /// A response schema whose `oneOf` branches overlap (every field optional), so a body
    /// matching the documented shape matches several branches: read as `anyOf` (at least
    /// one branch must still hold).
    OverlappingOneOf {
        /// `METHOD /full/template`.
        operation: &'static str,
        /// The status whose schema it is.
        status: u16,
    },
    /// A `discriminator` without `mapping` whose branches name their values in an `enum`:
    /// OpenAPI's implicit mapping would expect the schema names as values, which no
    /// service sends. The mapping below is added to the schema when the document is
    /// loaded; needed by every answer of `operations`.
    EnumDiscriminator {
        /// The document's file.
        file: &'static str,
        /// The schema under `components/schemas`.
        schema: &'static str,
        /// Discriminator value → schema name.
        mapping: &'static [(&'static str, &'static str)],
        /// `METHOD /full/template` of the operations whose answers hold it.
        operations: &'static [&'static str],
    },
    /// A header the service always sends (or requires) though the document omits it.
    RequiredHeader {
        /// The service.
        service: Service,
        /// `true`: a request header; `false`: a response header.
        request: bool,
        /// Header name, lower case.
        header: &'static str,
    },
}

/// One exception and why it exists.
#[derive(Clone, Debug)]
pub struct Exception {
    /// What it allows.
    pub rule: Rule,
    /// Why the document cannot be followed to the letter here.
    pub reason: &'static str,
}

fn auth0_error() -> Value {
    json!({
        "type": "object",
        "required": ["statusCode", "error", "message"],
        "properties": {
            "statusCode": { "type": "integer", "minimum": 400, "maximum": 599 },
            "error": { "type": "string" },
            "message": { "type": "string" },
            "errorCode": { "type": "string" }
        }
    })
}

fn konnect_rate_limited() -> Value {
    json!({
        "type": "object",
        "required": ["status", "title", "instance", "detail"],
        "properties": {
            "status": { "const": 429 },
            "title": { "type": "string" },
            "type": { "type": "string" },
            "instance": { "type": "string" },
            "detail": { "type": "string" }
        }
    })
}

fn konnect_conflict() -> Value {
    json!({
        "type": "object",
        "required": ["status", "title", "instance", "detail"],
        "properties": {
            "status": { "const": 409 },
            "title": { "type": "string" },
            "type": { "type": "string" },
            "instance": { "type": "string" },
            "detail": { "type": "string" }
        }
    })
}

fn konnect_server_error() -> Value {
    json!({
        "type": "object",
        "required": ["status", "title"],
        "properties": {
            "status": { "type": "integer", "minimum": 500, "maximum": 599 },
            "title": { "type": "string" },
            "instance": { "type": "string" },
            "detail": { "type": "string" }
        }
    })
}

/// RFC 6749 §5.2, which Auth0's Authentication API follows for token errors.
fn oauth_error() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": { "type": "string" },
            "error_description": { "type": "string" }
        }
    })
}

fn token_request() -> Value {
    json!({
        "type": "object",
        "required": ["grant_type", "client_id", "client_secret", "audience"],
        "properties": {
            "grant_type": { "const": "client_credentials" },
            "client_id": { "type": "string", "minLength": 1 },
            "client_secret": { "type": "string", "minLength": 1 },
            "audience": { "type": "string", "minLength": 1 },
            "scope": { "type": "string" }
        },
        "additionalProperties": false
    })
}

fn token_response() -> Value {
    json!({
        "type": "object",
        "required": ["access_token", "token_type", "expires_in"],
        "properties": {
            "access_token": { "type": "string", "minLength": 1 },
            "token_type": { "const": "Bearer" },
            "expires_in": { "type": "integer", "minimum": 1 },
            "scope": { "type": "string" }
        }
    })
}

fn jwks() -> Value {
    json!({
        "type": "object",
        "required": ["keys"],
        "properties": {
            "keys": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["kty", "kid", "n", "e", "x5c", "x5t"],
                    "properties": {
                        "kty": { "const": "RSA" },
                        "kid": { "type": "string" },
                        "use": { "const": "sig" },
                        "alg": { "const": "RS256" },
                        "n": { "type": "string" },
                        "e": { "type": "string" },
                        "x5c": { "type": "array", "minItems": 1, "items": { "type": "string" } },
                        "x5t": { "type": "string" }
                    }
                }
            }
        }
    })
}

fn openid_configuration() -> Value {
    json!({
        "type": "object",
        "required": ["issuer", "jwks_uri", "token_endpoint"],
        "properties": {
            "issuer": { "type": "string", "format": "uri" },
            "jwks_uri": { "type": "string", "format": "uri" },
            "token_endpoint": { "type": "string", "format": "uri" }
        }
    })
}

/// What the sandbox's gateway answers when it lets a request through.
fn gateway_success() -> Value {
    json!({
        "type": "object",
        "required": ["api", "application_id", "client_id", "auth_method"],
        "properties": {
            "api": {"type": "object", "required": ["id", "name"]},
            "application_id": {"type": "string"},
            "client_id": {"type": "string"},
            "auth_method": {"enum": ["bearer", "client_credentials"]}
        }
    })
}

/// Kong Gateway's error body: `{"message": …}`.
fn kong_error() -> Value {
    json!({
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string", "minLength": 1}},
        "additionalProperties": false
    })
}

/// Every exception.
pub fn all() -> Vec<Exception> {
    vec![
        Exception {
            rule: Rule::ExtraField {
                operation: "POST /v3/portals/{portalId}/applications",
                status: Some(201),
                field: "client_secret",
            },
            reason: "Konnect shows a DCR application's client secret once, in the create response \
                     (DCR guide; the developer API documents it), but the admin document's \
                     ClientCredentialsApplication has additionalProperties: false and no client_secret",
        },
        Exception {
            rule: Rule::OverlappingOneOf {
                operation: "GET /api/v2/clients",
                status: 200,
            },
            reason: "the three list shapes (array, offset page, checkpoint page) have only optional \
                     fields, so a checkpoint page without `next` (the last one) matches both page \
                     shapes and `oneOf` can never hold",
        },
        Exception {
            rule: Rule::EnumDiscriminator {
                file: "konnect-portal-management-v2.openapi.yaml",
                schema: "AuthStrategy",
                mapping: &[
                    ("client_credentials", "AuthStrategyClientCredentials"),
                    ("self_managed_client_credentials", "AuthStrategyClientCredentials"),
                    ("key_auth", "AuthStrategyKeyAuth"),
                ],
                operations: &[
                    "GET /v2/portals/{portalId}/product-versions",
                    "POST /v2/portals/{portalId}/product-versions",
                    "GET /v2/portals/{portalId}/product-versions/{productVersionId}",
                    "PATCH /v2/portals/{portalId}/product-versions/{productVersionId}",
                ],
            },
            reason: "a portal product version's `auth_strategies` discriminate on `credential_type` \
                     without a mapping, while the branches' own enums say the values are \
                     `client_credentials`, `self_managed_client_credentials` and `key_auth`",
        },
        Exception {
            rule: Rule::EnumDiscriminator {
                file: "konnect-dev-portal-v3.openapi.yaml",
                schema: "PortalAuthStrategy",
                mapping: &[
                    ("client_credentials", "PortalAuthStrategyClientCredentials"),
                    ("self_managed_client_credentials", "PortalAuthStrategyClientCredentials"),
                    ("key_auth", "PortalAuthStrategyKeyAuth"),
                ],
                operations: &[
                    "POST /api/v3/applications",
                    "GET /api/v3/applications",
                    "GET /api/v3/applications/{applicationId}",
                ],
            },
            reason: "the developer API's application `auth_strategy` discriminates on \
                     `credential_type` without a mapping, as the classic portal document does; the \
                     branches' enums give the values",
        },
        Exception {
            rule: Rule::OverlappingOneOf {
                operation: "GET /api/v2/client-grants",
                status: 200,
            },
            reason: "as GET /api/v2/clients",
        },
        Exception {
            rule: Rule::OverlappingOneOf {
                operation: "GET /api/v2/resource-servers",
                status: 200,
            },
            reason: "as GET /api/v2/clients",
        },
        Exception {
            rule: Rule::UnlistedStatus {
                service: Service::Konnect,
                status: 429,
                operation: None,
                schema: konnect_rate_limited,
            },
            reason: "Konnect rate-limits every endpoint (problem+json, title \"Rate Limited\"), but \
                     the documents list 429 on none of the operations the clients use; its \
                     Retry-After header is not documented either",
        },
        Exception {
            rule: Rule::UnlistedStatus {
                service: Service::Konnect,
                status: 503,
                operation: None,
                schema: konnect_server_error,
            },
            reason: "any endpoint can answer 5xx (the clients retry them); the documents list none",
        },
        Exception {
            rule: Rule::UnlistedStatus {
                service: Service::Auth0,
                status: 503,
                operation: None,
                schema: auth0_error,
            },
            reason: "any endpoint can answer 5xx (the clients retry them); the document lists none",
        },
        Exception {
            rule: Rule::UnlistedStatus {
                service: Service::Konnect,
                status: 409,
                operation: Some("POST /v3/apis"),
                schema: konnect_conflict,
            },
            reason: "the document says an API's name + version must be unique but lists no status \
                     for a duplicate on create; the sandbox answers 409 problem+json, as the same \
                     document lists for PATCH /v3/apis/{apiId} (inferred, not documented)",
        },
        Exception {
            rule: Rule::UnlistedStatus {
                service: Service::Auth0,
                status: 404,
                operation: Some("PATCH /api/v2/resource-servers/{id}"),
                schema: auth0_error,
            },
            reason: "Auth0 answers 404 (inexistent_resource_server) when patching a resource server \
                     that does not exist; the document lists 400/401/403/409/429 only",
        },
        Exception {
            rule: Rule::ErrorBody {
                service: Service::Auth0,
                schema: auth0_error,
            },
            reason: "the Management API document lists error statuses without bodies; Auth0's error \
                     body is {statusCode, error, message, errorCode?} (Management API error docs)",
        },
        Exception {
            rule: Rule::Undocumented {
                operation: "POST /oauth/token",
                request: Some(token_request),
                response: token_response,
                error: oauth_error,
            },
            reason: "the token endpoint belongs to Auth0's Authentication API, which has no document \
                     here; the schemas follow its reference (client_credentials grant)",
        },
        Exception {
            rule: Rule::Undocumented {
                operation: "GET /.well-known/jwks.json",
                request: None,
                response: jwks,
                error: auth0_error,
            },
            reason: "the tenant's JWKS is not part of the Management API; RFC 7517 shape with the \
                     RS256 signing key Auth0 publishes",
        },
        Exception {
            rule: Rule::Undocumented {
                operation: "GET /.well-known/openid-configuration",
                request: None,
                response: openid_configuration,
                error: auth0_error,
            },
            reason: "the tenant's OpenID Connect discovery document (OpenID Connect Discovery 1.0), \
                     which a gateway reads to find the JWKS; not part of the Management API",
        },
        Exception {
            rule: Rule::Undocumented {
                operation: "GET /gateway/**",
                request: None,
                response: gateway_success,
                error: kong_error,
            },
            reason: "the sandbox's gateway stands in for Kong Gateway in front of a published API, \
                     which no Konnect document describes; errors are Kong's {message} body",
        },
        Exception {
            rule: Rule::RequiredHeader {
                service: Service::Konnect,
                request: true,
                header: "authorization",
            },
            reason: "the Konnect documents declare no `security`; every call needs a bearer \
                     personal or system account token (Konnect API auth docs)",
        },
        Exception {
            rule: Rule::RequiredHeader {
                service: Service::Auth0,
                request: false,
                header: "x-ratelimit-limit",
            },
            reason: "Auth0 sends x-ratelimit-limit/-remaining/-reset on every Management API answer \
                     (rate-limit policy docs); the document does not mention them",
        },
        Exception {
            rule: Rule::RequiredHeader {
                service: Service::Auth0,
                request: false,
                header: "x-ratelimit-remaining",
            },
            reason: "as x-ratelimit-limit",
        },
        Exception {
            rule: Rule::RequiredHeader {
                service: Service::Auth0,
                request: false,
                header: "x-ratelimit-reset",
            },
            reason: "as x-ratelimit-limit",
        },
    ]
}

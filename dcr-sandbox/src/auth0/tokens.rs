//! The sandbox's Authentication API: `/oauth/token` (client_credentials), RS256 JWTs signed
//! with a fixed test key, and the key's public half at `/.well-known/jwks.json`.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use super::failure::{Outcome, SandboxError};
use super::store::Store;

/// Key id of the sandbox signing key, in every token header and in the JWKS.
pub const SIGNING_KEY_ID: &str = "dcr-rs-sandbox-2026";

/// RSA modulus (base64url) of the sandbox signing key.
pub(crate) const JWK_N: &str = "rNBaSzkgZQM_rUdlz88bfc9T3hqbysx1QppRH9wLghNoHhZHDVmjbvqcYvO5aS19LOrjUka9aP5bqGDYeYTazJhepJV2gjbh3jWK78us6nLuLYc6Ri-Y9GKLf24C_lPgPd2g4MangEsbzEIeb1vWcTywIvEBN811hdeQ5tu4zFFLmm7Q4XrpI1-zFVq6nADKeVyspi83lvqNmEoBIdHo_050PKTCiZa2J_bLy8My8jboa6MODvN2T6CWPTRruXxQdZbgrKb3ogg3Zj_m92CmT3090cdGQXNYvt-YFuhvi-OcTHTni9Wxu374r0iBK532a1ZV9doTlq5G8oCoaaNu9w";
pub(crate) const JWK_E: &str = "AQAB";

/// A 2048-bit RSA key made for this sandbox and for nothing else. It is public on purpose:
/// tokens it signs are worthless outside tests.
pub(crate) const SIGNING_KEY_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIIEowIBAAKCAQEArNBaSzkgZQM/rUdlz88bfc9T3hqbysx1QppRH9wLghNoHhZH\n\
DVmjbvqcYvO5aS19LOrjUka9aP5bqGDYeYTazJhepJV2gjbh3jWK78us6nLuLYc6\n\
Ri+Y9GKLf24C/lPgPd2g4MangEsbzEIeb1vWcTywIvEBN811hdeQ5tu4zFFLmm7Q\n\
4XrpI1+zFVq6nADKeVyspi83lvqNmEoBIdHo/050PKTCiZa2J/bLy8My8jboa6MO\n\
DvN2T6CWPTRruXxQdZbgrKb3ogg3Zj/m92CmT3090cdGQXNYvt+YFuhvi+OcTHTn\n\
i9Wxu374r0iBK532a1ZV9doTlq5G8oCoaaNu9wIDAQABAoIBADXZaMF26BrB0+ZF\n\
ULrcAOeHos0bQn+DjWh3GJ9SXH2oWXHCpFpLG8u5qOCGrLhS9eX4vWQGagAc/met\n\
4daf6OQG+LrVXgu+WUx6J7SIJXYa4Q/ryuNS8pj4WhqXp7QjY8UzWe2gyVIHVX6k\n\
/cHafqxjaklBCw2d5qiRnvPo9KEpkYGhxqRTH618TdF04hnCw0XS76bAAaMUNYbP\n\
wOCw1q/xWiDs0+fkxZSE+epeIGdpGxTtw5Sl1Fzgc2PYsctGVCpC3/ulj2BZgQqG\n\
jd0xi0DBDpelrCtlmOrv+DE4R5m/hl+EC6nLr9lmJ4xQxZwTaFz4ir6fcbCu4vvn\n\
sb2fE80CgYEA8hMALhHAjQvgmo2pVG72sQh6z4FecmHqxIkexf0VRk+ZKLg580R+\n\
IAWhGJ2c8503yH4nSmyvgqWKECcFoqM6EM8WD1iEO86eZkREfUfQuALKXwQKgxcQ\n\
IdhELyWrJkrm7EdZz9t9WKE70MlPIWKio/SqLrD/8uR6gt6vdQH9NrUCgYEAtsFc\n\
5PYtoF96MMViqtH5i6DngvPeEn7n4FaGg7BdPuxBccXnoxdIHcYwidBmW750NZH/\n\
woaJkCI+/GvDfvteMROO1f97F5BiySQLA9kZzONQA86K50r7y96hIx2SmDXVuyUc\n\
Wz1zNeHVFF/LB7xIYWhjnLvSHqN9j+fu8K9zTnsCgYEAwC/joa/IXnLClBHKENW0\n\
F2MzFZGRKWCh4f03KFtAy7ygTVrN71w+gi/V8VQY6rS0OAIoMYdOZHwGu8IvUCsl\n\
C3lN+0r8WPs2eNzUP16Hz7+vaXYs3lyuGyC3KXNPiSxIX+hZ3pNU1cvUUHOy1j+X\n\
/nFdt4og+nb46PPg+xVkMk0CgYAyWQ0FiwjA4Ozh2M847kYIgJinTBYHFG0/Mbc3\n\
OnRF7IKPHI2XMcfNZBdlMEOyzMJpK8LBTZ1CVxzxH6MpLYkijhfQvuSjdkSw0zwx\n\
oDLqbklR8ynzVIYQAVJ1QSVsx5ANUckBHenKk1/HkCh4BhgOtdqTiG73v+TMq4H5\n\
Tuy+VwKBgAGrKH0dQz2kjKP3OlzsRBXxhql9MwW+8OBHziVlIRMj8Olu/iV2oYXy\n\
31JeLEBnmbbQXu94XW2zvk4bK3i/mk1Ug+lQ8upM3fiAm8jwby4jcToTNWvPAb7x\n\
QFAxHytopQoyA/nqYH0OJzdE1qKKBHoDgDU58wZohX1y43clOqps\n\
-----END RSA PRIVATE KEY-----\n\
";

/// A token the sandbox issued, as the Management API checks it.
#[derive(Clone, Debug)]
pub(crate) struct Issued {
    pub(crate) audience: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) exp: u64,
}

pub(crate) struct Issuer {
    key: EncodingKey,
    /// `x5c` and `x5t` of the key's self-signed certificate.
    certificate: Option<(String, String)>,
    issued: HashMap<String, Issued>,
    pub(crate) count: u64,
    pub(crate) lifetime_secs: u64,
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Issuer {
    pub(crate) fn new(lifetime_secs: u64, domain: &str) -> Outcome<Self> {
        let key = EncodingKey::from_rsa_pem(SIGNING_KEY_PEM.as_bytes())
            .map_err(|e| SandboxError::mgmt(500, "internal", format!("sandbox key: {e}")))?;
        let certificate = super::certificate::cached(&key, JWK_N, JWK_E, domain);
        Ok(Issuer {
            key,
            certificate,
            issued: HashMap::new(),
            count: 0,
            lifetime_secs,
        })
    }

    /// Forgets every token issued so far: each is then answered with 401, as an expired
    /// or revoked token would be.
    pub(crate) fn revoke_all(&mut self) {
        self.issued.clear();
    }

    /// Checks a bearer token for `audience`: 401 with Auth0's messages otherwise.
    pub(crate) fn check(&self, token: &str, audience: &str) -> Outcome<&Issued> {
        let issued = self
            .issued
            .get(token)
            .ok_or_else(|| SandboxError::mgmt(401, "invalid_token", "Invalid token"))?;
        if issued.exp <= now_secs() {
            return Err(SandboxError::mgmt(
                401,
                "token_expired",
                "Expired token received for JSON Web Token validation",
            ));
        }
        if issued.audience != audience {
            return Err(SandboxError::mgmt(
                401,
                "invalid_token",
                "Bad audience: the token is not for this API",
            ));
        }
        Ok(issued)
    }

    fn sign(&mut self, domain: &str, client_id: &str, audience: &str, scopes: &[String]) -> Outcome<(String, u64)> {
        let iat = now_secs();
        let exp = iat + self.lifetime_secs;
        self.count += 1;
        let claims = json!({
            "iss": format!("https://{domain}/"),
            "sub": format!("{client_id}@clients"),
            "aud": audience,
            "iat": iat,
            "exp": exp,
            "scope": scopes.join(" "),
            "gty": "client-credentials",
            "azp": client_id,
            "jti": format!("{:x}-{}", iat, self.count),
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(SIGNING_KEY_ID.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| SandboxError::oauth(500, "server_error", format!("signing failed: {e}")))?;
        self.issued.insert(
            token.clone(),
            Issued {
                audience: audience.to_owned(),
                scopes: scopes.to_vec(),
                exp,
            },
        );
        Ok((token, exp - iat))
    }

    /// `POST /oauth/token` with the client_credentials grant, checked as Auth0 does.
    pub(crate) fn client_credentials(&mut self, store: &Store, params: &Map<String, Value>) -> Outcome<Value> {
        let param = |k: &str| params.get(k).and_then(Value::as_str).unwrap_or_default();
        let grant_type = param("grant_type");
        if grant_type != "client_credentials" {
            return Err(SandboxError::oauth(
                400,
                "unsupported_grant_type",
                format!("Unsupported grant type: {grant_type}"),
            ));
        }
        let (client_id, secret, audience) = (param("client_id"), param("client_secret"), param("audience"));
        let unauthorized = || SandboxError::oauth(401, "access_denied", "Unauthorized");
        let client = store.clients.get(client_id).ok_or_else(unauthorized)?;
        let stored_secret = client.get("client_secret").and_then(Value::as_str);
        if secret.is_empty() || stored_secret != Some(secret) {
            return Err(unauthorized());
        }
        let grants_cc = client
            .get("grant_types")
            .and_then(Value::as_array)
            .is_some_and(|g| g.iter().any(|v| v == "client_credentials"));
        if !grants_cc {
            return Err(SandboxError::oauth(
                403,
                "unauthorized_client",
                "Grant type 'client_credentials' not allowed for the client.",
            ));
        }
        if audience.is_empty() {
            return Err(SandboxError::oauth(
                403,
                "access_denied",
                "No audience parameter was provided, and no default audience has been configured",
            ));
        }
        if store.resource_server_by_identifier(audience).is_none() {
            return Err(SandboxError::oauth(
                403,
                "access_denied",
                format!("Service not found: {audience}"),
            ));
        }
        let grant = store.grant_for(client_id, audience).ok_or_else(|| {
            SandboxError::oauth(
                403,
                "access_denied",
                format!("Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API."),
            )
        })?;
        let granted: Vec<String> = grant
            .get("scope")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let scopes = match params.get("scope").and_then(Value::as_str) {
            None => granted,
            Some(requested) => {
                let requested: Vec<String> = requested.split_whitespace().map(str::to_owned).collect();
                let missing: Vec<&str> = requested
                    .iter()
                    .filter(|s| !granted.contains(s))
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    return Err(SandboxError::oauth(
                        403,
                        "access_denied",
                        format!("Client has not been granted scopes: {}", missing.join(", ")),
                    ));
                }
                requested
            }
        };
        let (token, expires_in) = self.sign(&store.domain, client_id, audience, &scopes)?;
        Ok(json!({
            "access_token": token,
            "scope": scopes.join(" "),
            "expires_in": expires_in,
            "token_type": "Bearer",
        }))
    }
}

impl Issuer {
    /// The JWKS document with the sandbox's public key, its certificate chain (one
    /// self-signed certificate) and that certificate's SHA-1 thumbprint, as Auth0 serves.
    pub(crate) fn jwks(&self) -> Value {
        let mut key = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": SIGNING_KEY_ID, "n": JWK_N, "e": JWK_E,
        });
        if let Some((x5c, x5t)) = &self.certificate {
            key["x5c"] = json!([x5c]);
            key["x5t"] = json!(x5t);
        }
        json!({ "keys": [key] })
    }
}

/// The OpenID Provider metadata for the sandbox tenant.
pub(crate) fn openid_configuration(domain: &str) -> Value {
    json!({
        "issuer": format!("https://{domain}/"),
        "jwks_uri": format!("https://{domain}/.well-known/jwks.json"),
        "token_endpoint": format!("https://{domain}/oauth/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
    })
}

//! Server-owned enumerations. Each keeps unknown values in an `Unknown(String)` variant.

use dcr_client_core::string_enum;

string_enum!(
    /// An application's `app_type`.
    AppType {
        /// Mobile or desktop app.
        Native = "native",
        /// Single-page app.
        Spa = "spa",
        /// Server-side web app.
        RegularWeb = "regular_web",
        /// Machine-to-machine app (client_credentials).
        NonInteractive = "non_interactive",
        /// An API's own client.
        ResourceServer = "resource_server",
        /// Express configuration app.
        ExpressConfiguration = "express_configuration",
        /// SSO integration.
        SsoIntegration = "sso_integration",
    }
);

string_enum!(
    /// An OAuth grant type an application may use.
    GrantType {
        /// `client_credentials` (machine-to-machine).
        ClientCredentials = "client_credentials",
        /// `authorization_code`.
        AuthorizationCode = "authorization_code",
        /// `implicit`.
        Implicit = "implicit",
        /// `refresh_token`.
        RefreshToken = "refresh_token",
        /// `password`.
        Password = "password",
        /// Device authorization grant.
        DeviceCode = "urn:ietf:params:oauth:grant-type:device_code",
    }
);

string_enum!(
    /// How an application authenticates at the token endpoint.
    TokenEndpointAuthMethod {
        /// Public client, no secret.
        None = "none",
        /// Secret in the request body.
        ClientSecretPost = "client_secret_post",
        /// Secret in HTTP Basic auth.
        ClientSecretBasic = "client_secret_basic",
    }
);

string_enum!(
    /// Whether an application or grant may be used with Organizations.
    OrganizationUsage {
        /// Not with organizations.
        Deny = "deny",
        /// With or without.
        Allow = "allow",
        /// Only with an organization.
        Require = "require",
    }
);

string_enum!(
    /// Token signing algorithm.
    SigningAlg {
        /// HMAC SHA-256.
        Hs256 = "HS256",
        /// RSA SHA-256.
        Rs256 = "RS256",
        /// RSA SHA-512.
        Rs512 = "RS512",
        /// RSA-PSS SHA-256.
        Ps256 = "PS256",
    }
);

string_enum!(
    /// Access token dialect of a resource server.
    TokenDialect {
        /// Auth0's default dialect.
        AccessToken = "access_token",
        /// Default dialect plus RBAC permissions.
        AccessTokenAuthz = "access_token_authz",
        /// RFC 9068 profile.
        Rfc9068Profile = "rfc9068_profile",
        /// RFC 9068 profile plus permissions.
        Rfc9068ProfileAuthz = "rfc9068_profile_authz",
    }
);

string_enum!(
    /// Who a client grant authorizes.
    SubjectType {
        /// Machine-to-machine access.
        Client = "client",
        /// User access.
        User = "user",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_round_trip() {
        let v: AppType = serde_json::from_str("\"some_new_kind\"").unwrap();
        assert_eq!(v, AppType::Unknown("some_new_kind".into()));
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"some_new_kind\"");
        let v: GrantType = serde_json::from_str("\"client_credentials\"").unwrap();
        assert_eq!(v, GrantType::ClientCredentials);
        assert_eq!(SigningAlg::Rs256.to_string(), "RS256");
    }
}

//! Cross-crate end-to-end, fault and contract tests for the workspace live in this crate.
//! It is empty until `konnect-appauth` exists: the Auth0 client's own suites are in
//! `auth0-mgmt/tests`.

//! `dcr-sandbox`: the Auth0 and Konnect sandboxes as a standalone server on loopback
//! ports, with state kept for the life of the process.
//!
//! ```text
//! dcr-sandbox [--auth0-port 8081] [--konnect-port 8082] [--env-file target/dcr-sandbox.env] [--auth0-tier free]
//! set -a; . target/dcr-sandbox.env; set +a
//! dcr apply --auto-approve
//! ```

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dcr_sandbox::standalone::main().await
}

//! The standalone sandbox server (crate `dcr-sandbox`, binary `dcr-sandbox`), run as an
//! example so that `cargo run --example sandbox -- …` works from a checkout.
//!
//! ```text
//! cargo run --example sandbox -- [--auth0-port 8081] [--konnect-port 8082] [--env-file target/dcr-sandbox.env]
//! set -a; . target/dcr-sandbox.env; set +a
//! cargo run --example dcr -- apply --auto-approve
//! ```

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dcr_sandbox::standalone::main().await
}

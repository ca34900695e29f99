//! The Auth0 and Konnect sandboxes as a standalone server on loopback ports, with state
//! kept for the life of the process, so other tools and separate runs can use them.
//!
//! ```text
//! cargo run --example sandbox -- [--auth0-port 8081] [--konnect-port 8082] [--env-file target/dcr-sandbox.env]
//! set -a; . target/dcr-sandbox.env; set +a
//! cargo run --example dcr -- apply --auto-approve
//! ```
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use dcr_workflow::sandbox::Sandboxes;
use secrecy::ExposeSecret;

#[derive(Parser, Debug)]
#[command(about = "Run the Auth0 and Konnect sandboxes until interrupted")]
struct Args {
    /// Auth0 sandbox port (0: any free port).
    #[arg(long, default_value_t = 0)]
    auth0_port: u16,
    /// Konnect sandbox port (0: any free port).
    #[arg(long, default_value_t = 0)]
    konnect_port: u16,
    /// Where to write the DCR_* variables that point the workflow at these sandboxes
    /// (mode 0600: it holds the sandboxes' bootstrap credentials).
    #[arg(long, default_value = "target/dcr-sandbox.env")]
    env_file: PathBuf,
    /// Auth0's documented rate limits for a plan: free (Management API 2 burst / 2 per
    /// second), essentials (per-endpoint buckets), enterprise (50 burst / 16 per second) or
    /// unlimited. The token endpoint gets its own bucket (30 / 30 per second) on the plans.
    #[arg(long, default_value = "unlimited")]
    auth0_tier: auth0_mgmt::sandbox::Tier,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let bind = |port: u16| TcpListener::bind(("127.0.0.1", port)).with_context(|| format!("port {port}"));
    let sandboxes = Sandboxes::start_with(Some(bind(args.auth0_port)?), Some(bind(args.konnect_port)?)).await?;
    sandboxes
        .auth0
        .set_rate_limits(&auth0_mgmt::sandbox::RateLimits::tier(args.auth0_tier));
    let config = sandboxes.config();
    let secret =
        |s: &Option<secrecy::SecretString>| s.as_ref().map(|s| s.expose_secret().to_owned()).unwrap_or_default();
    let lines = [
        ("DCR_AUTH0_DOMAIN", config.auth0.domain.clone()),
        ("DCR_AUTH0_BASE_URL", config.auth0.base_url.clone().unwrap_or_default()),
        (
            "DCR_AUTH0_CLIENT_ID",
            config.auth0.client_id.clone().unwrap_or_default(),
        ),
        ("DCR_AUTH0_CLIENT_SECRET", secret(&config.auth0.client_secret)),
        ("DCR_API_AUDIENCE", config.api.audience.clone()),
        ("DCR_API_NAME", config.api.name.clone()),
        ("DCR_API_SCOPES", dcr_workflow::sandbox::API_SCOPE.to_owned()),
        (
            "DCR_KONNECT_BASE_URL",
            config.konnect.base_url.clone().unwrap_or_default(),
        ),
        ("DCR_KONNECT_TOKEN", secret(&config.konnect.token)),
        ("DCR_KONNECT_PORTAL_ID", config.konnect.portal_id.clone()),
        (
            "DCR_KONNECT_API_NAME",
            config.konnect.api_name.clone().unwrap_or_default(),
        ),
        (
            "DCR_KONNECT_DEVELOPER_ID",
            config.konnect.developer_id.clone().unwrap_or_default(),
        ),
        (
            "DCR_KONNECT_DEVELOPER_EMAIL",
            config.konnect.developer_email.clone().unwrap_or_default(),
        ),
        (
            "DCR_KONNECT_DEVELOPER_PASSWORD",
            secret(&config.konnect.developer_password),
        ),
        (
            "DCR_KONNECT_PORTAL_URL",
            config.konnect.portal_url.clone().unwrap_or_default(),
        ),
        (
            "DCR_KONNECT_GATEWAY_URL",
            config.konnect.gateway_url.clone().unwrap_or_default(),
        ),
    ];
    // Single-quoted, so `. file` in a shell reads every value verbatim.
    let text: String = lines
        .iter()
        .map(|(k, v)| format!("{k}='{}'\n", v.replace('\'', r"'\''")))
        .collect();
    if let Some(dir) = args.env_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&args.env_file)?.write_all(text.as_bytes())?;

    println!(
        "Auth0 sandbox   {} (tenant {}, {:?} plan's rate limits)",
        sandboxes.auth0.uri(),
        sandboxes.auth0.domain(),
        args.auth0_tier
    );
    println!(
        "Konnect sandbox {} (portal {})",
        sandboxes.konnect.uri(),
        sandboxes.konnect.portal_id()
    );
    println!(
        "Dev Portal      {} (developer {})",
        config.konnect.portal_url.clone().unwrap_or_default(),
        config.konnect.developer_email.clone().unwrap_or_default()
    );
    println!(
        "Gateway         {} (once apply has published the API)",
        config.konnect.gateway_url.clone().unwrap_or_default()
    );
    println!("\nPoint the workflow at them (sandbox credentials, not real ones):\n");
    println!("  set -a; . {}; set +a", args.env_file.display());
    println!("  cargo run --example dcr -- apply --auto-approve --store target/dcr-sandbox-secrets.json\n");
    println!("Running until Ctrl-C.");
    tokio::signal::ctrl_c().await?;
    println!(
        "\nStopping. Auth0 answered {} requests, Konnect {}.",
        sandboxes.auth0.requests().len(),
        sandboxes.konnect.requests().len()
    );
    Ok(())
}

//! The standalone server: both sandboxes on loopback ports for the life of the process,
//! and an environment file of `DCR_*` variables that points the workflow (`dcr`, the
//! quickstart) at them.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use secrecy::ExposeSecret;

use crate::{API_AUDIENCE, API_NAME, API_SCOPE, API_SLUG, Pair};

/// The standalone server's arguments.
#[derive(Parser, Debug)]
#[command(about = "Run the Auth0 and Konnect sandboxes until interrupted", version)]
pub struct Args {
    /// Auth0 sandbox port (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub auth0_port: u16,
    /// Konnect sandbox port (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub konnect_port: u16,
    /// Where to write the DCR_* variables that point the workflow at these sandboxes
    /// (mode 0600: it holds the sandboxes' bootstrap credentials).
    #[arg(long, default_value = "target/dcr-sandbox.env")]
    pub env_file: PathBuf,
    /// Auth0's documented rate limits for a plan: free (Management API 2 burst / 2 per
    /// second), essentials (per-endpoint buckets), enterprise (50 burst / 16 per second) or
    /// unlimited. The token endpoint gets its own bucket (30 / 30 per second) on the plans.
    #[arg(long, default_value = "unlimited")]
    pub auth0_tier: crate::auth0::Tier,
}

/// The variables that point the workflow at `pair`.
pub fn environment(pair: &Pair) -> Vec<(&'static str, String)> {
    let (auth0, konnect) = (&pair.auth0, &pair.konnect);
    let portal = konnect.portal_id();
    vec![
        ("DCR_AUTH0_DOMAIN", auth0.domain()),
        ("DCR_AUTH0_BASE_URL", auth0.uri()),
        ("DCR_AUTH0_CLIENT_ID", auth0.bootstrap_client_id()),
        (
            "DCR_AUTH0_CLIENT_SECRET",
            auth0.bootstrap_client_secret().expose_secret().to_owned(),
        ),
        ("DCR_API_AUDIENCE", API_AUDIENCE.to_owned()),
        ("DCR_API_NAME", "Orders (Konnect portal)".to_owned()),
        ("DCR_API_SCOPES", API_SCOPE.to_owned()),
        ("DCR_KONNECT_BASE_URL", konnect.uri()),
        ("DCR_KONNECT_TOKEN", konnect.token().expose_secret().to_owned()),
        ("DCR_KONNECT_PORTAL_ID", portal.clone()),
        ("DCR_KONNECT_API_NAME", API_NAME.to_owned()),
        ("DCR_KONNECT_DEVELOPER_ID", konnect.developer_id()),
        ("DCR_KONNECT_DEVELOPER_EMAIL", konnect.developer_email()),
        (
            "DCR_KONNECT_DEVELOPER_PASSWORD",
            konnect.developer_password().expose_secret().to_owned(),
        ),
        ("DCR_KONNECT_PORTAL_URL", konnect.portal_url(&portal)),
        ("DCR_KONNECT_GATEWAY_URL", konnect.gateway_url(API_SLUG)),
    ]
}

/// Runs the server until Ctrl-C.
#[allow(clippy::print_stdout)]
pub async fn run(args: Args) -> anyhow::Result<()> {
    let bind = |port: u16| TcpListener::bind(("127.0.0.1", port)).with_context(|| format!("port {port}"));
    let pair = Pair::start_with(Some(bind(args.auth0_port)?), Some(bind(args.konnect_port)?)).await?;
    pair.auth0
        .set_rate_limits(&crate::auth0::RateLimits::tier(args.auth0_tier));
    let lines = environment(&pair);
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

    let portal = pair.konnect.portal_id();
    println!(
        "Auth0 sandbox   {} (tenant {}, {:?} plan's rate limits)",
        pair.auth0.uri(),
        pair.auth0.domain(),
        args.auth0_tier
    );
    println!("Konnect sandbox {} (portal {portal})", pair.konnect.uri());
    println!(
        "Dev Portal      {} (developer {})",
        pair.konnect.portal_url(&portal),
        pair.konnect.developer_email()
    );
    println!(
        "Gateway         {} (once apply has published the API)",
        pair.konnect.gateway_url(API_SLUG)
    );
    println!("\nPoint the workflow at them (sandbox credentials, not real ones):\n");
    println!("  set -a; . {}; set +a", args.env_file.display());
    println!("  cargo run --example dcr -- apply --auto-approve --store target/dcr-sandbox-secrets.json\n");
    println!("Running until Ctrl-C.");
    tokio::signal::ctrl_c().await?;
    println!(
        "\nStopping. Auth0 answered {} requests, Konnect {}.",
        pair.auth0.requests().len(),
        pair.konnect.requests().len()
    );
    Ok(())
}

/// Parses the arguments, sets up logging (`RUST_LOG`, default `warn`) and runs.
pub async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    run(args).await
}

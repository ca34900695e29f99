//! The main job: set up Konnect Dev Portal DCR with Auth0 and prove it works.
//!
//! `cargo run --example quickstart` with no credentials in the environment starts the
//! embedded Auth0 and Konnect sandboxes, prints the plan, applies it, verifies it (a
//! portal application is created, Konnect registers its Auth0 client, the token is
//! checked), applies again to show nothing changes, and prints a summary.
//!
//! With `AUTH0_DOMAIN` + `AUTH0_CLIENT_ID`/`AUTH0_CLIENT_SECRET` (or
//! `AUTH0_MANAGEMENT_TOKEN`), `KONNECT_TOKEN`, `KONNECT_PORTAL_ID`, `KONNECT_API_NAME`,
//! `API_AUDIENCE`… (or `--config dcr.toml`) it does the same against the real services,
//! keeping the admin secret in `dcr-secrets.json`, and tears nothing down unless
//! `--destroy` is given.
#![allow(clippy::print_stdout)]

mod common;

use std::time::Instant;

use anyhow::bail;
use clap::Parser;
use dcr_workflow::VerifyOptions;

#[derive(Parser, Debug)]
#[command(about = "Set up Konnect DCR with Auth0 (embedded sandboxes when nothing is configured)")]
struct Args {
    #[command(flatten)]
    connection: common::Connection,
    /// Remove everything the workflow created at the end.
    #[arg(long)]
    destroy: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    common::init_logging(common::Verbosity::Quiet);
    let target = common::Target::resolve(&args.connection).await?;
    let workflow = target.workflow()?;
    let sandboxes = target.sandboxes.as_ref();

    let started = Instant::now();
    let plan = workflow.plan().await?;
    println!("\n{plan}\n");
    workflow.apply(&plan).await?;
    let cold = started.elapsed();
    let cold_counts = sandboxes.map(counts);
    println!("Applied in {cold:.2?}.");

    let report = workflow.verify(&VerifyOptions::new()).await?;
    println!("\nVerify:\n{report}");
    if !report.is_success() {
        bail!("verification failed");
    }

    if let Some(s) = sandboxes {
        s.clear_logs();
    }
    let warm_started = Instant::now();
    let again = workflow.plan().await?;
    workflow.apply(&again).await?;
    let warm = warm_started.elapsed();
    let (create, update, same) = again.counts();
    println!("\nSecond run: {create} to create, {update} to update, {same} unchanged ({warm:.2?}).");
    if !again.is_empty() {
        bail!("the second run still had changes:\n{again}");
    }

    if args.destroy {
        let destroyed = workflow.destroy().await?;
        println!(
            "Destroyed {} resources; kept {}.",
            destroyed.removed.len(),
            destroyed.kept.len()
        );
    }
    match (sandboxes, cold_counts) {
        (Some(s), Some(c)) => {
            let warm = counts(s);
            println!(
                "\nSummary (sandboxes):\n  cold apply  Auth0 {} requests ({} writes), Konnect {} requests ({} writes), {cold:.2?}\n  \
                 warm apply  Auth0 {} requests ({} writes), Konnect {} requests ({} writes), {warm_time:.2?}\n  \
                 Management API tokens issued: {}",
                c.0,
                c.1,
                c.2,
                c.3,
                warm.0,
                warm.1,
                warm.2,
                warm.3,
                s.auth0.tokens_issued(),
                warm_time = warm_started.elapsed(),
            );
        }
        _ => println!("\nDone in {:.2?}.", started.elapsed()),
    }
    // What just happened, for someone who has never heard of DCR, and what to do next.
    println!(
        "\nWhat this was: with Dynamic Client Registration, every application a developer creates in the \
         Konnect Dev Portal gets its own Auth0 client, made by Konnect through the Auth0 Management API. \
         This run set that up (an Auth0 admin application and API, a Konnect DCR provider and auth \
         strategy, the API published with it) and proved it with a registered application; with a \
         developer account and a gateway URL (as on the sandboxes) as the guide's developer does: \
         the application registered for the API, its credentials let through the gateway, and \
         refused before it was registered."
    );
    if sandboxes.is_some() {
        println!(
            "Next: set DCR_AUTH0_DOMAIN, DCR_AUTH0_CLIENT_ID, DCR_AUTH0_CLIENT_SECRET, DCR_KONNECT_REGION, \
             DCR_KONNECT_TOKEN, DCR_KONNECT_PORTAL_ID, DCR_KONNECT_API_NAME and DCR_API_AUDIENCE to do the same \
             on your tenant and organization (README: \"Running against real Auth0 and Konnect\")."
        );
    } else {
        println!(
            "Next: `dcr plan --detailed-exitcode` in CI to catch drift, `dcr rotate` to change the admin secret, \
             `dcr audit` for orphans (cargo install --path dcr-cli)."
        );
    }
    Ok(())
}

/// (Auth0 requests, Auth0 writes, Konnect requests, Konnect writes) so far.
fn counts(s: &dcr_workflow::sandbox::Sandboxes) -> (usize, usize, usize, usize) {
    (
        s.auth0.requests().len(),
        s.auth0.write_count(),
        s.konnect.requests().len(),
        s.konnect.write_count(),
    )
}

//! Benchmarks: how many requests, tokens, how much time and memory the clients and the
//! workflow spend, against the in-process sandboxes and against raw reqwest.
//!
//! ```text
//! cargo run --release --example bench                 # every part, as text
//! cargo run --release --example bench -- --json       # one JSON object per part and line
//! cargo run --release --example bench -- --only rate-limit --only audit
//! cargo run --example bench -- --quick                # small sizes, a smoke run (CI)
//! ```
//!
//! Speed and memory goals are reported, never asserted: a missed one is printed as
//! MISSED. Correctness goals (no writes on a warm apply, exactly the planted orphans
//! found) make the program exit with status 1 when missed.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod apply;
mod audit;
mod developer;
mod listing;
mod measure;
mod naming;
mod overhead;
mod plans;
mod publications;
mod rate_limit;
mod report;
mod seed;

use clap::{Parser, ValueEnum};

use report::Section;

#[derive(Parser, Debug)]
#[command(about = "Measure requests, tokens, time and memory of the dcr-rs clients and workflow")]
struct Args {
    /// One JSON object per part, one per line, instead of text.
    #[arg(long)]
    json: bool,
    /// Small sizes (seconds instead of a minute): checks that every part runs.
    #[arg(long)]
    quick: bool,
    /// Run only these parts (repeatable); default: all.
    #[arg(long, value_enum)]
    only: Vec<Part>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Part {
    ColdApply,
    WarmApply,
    Overhead,
    Listing,
    RateLimit,
    FreePlan,
    EssentialsPlan,
    Audit,
    Publications,
    DeveloperVerify,
    Naming,
}

/// How big each part is.
struct Sizes {
    cold_runs: usize,
    /// Applications already in the tenant for the busy-tenant cold apply.
    busy_tenant: usize,
    calls: usize,
    listing: (usize, usize),
    rate_clients: usize,
    rate_updates: usize,
    audit_apps: usize,
    audit_orphans: usize,
    /// Applications of the audit run at 50 ms per answer.
    audit_slow_apps: usize,
    /// Applications audited under the plans' limits.
    plan_apps: usize,
    /// APIs published on two v3 portals each, and products on a classic portal.
    publications: (usize, usize),
    /// Applications of the rename pass, and of its run under the Free plan's limits.
    naming: (usize, usize),
}

const FULL: Sizes = Sizes {
    cold_runs: 5,
    busy_tenant: 10_000,
    calls: 20_000,
    listing: (1_000, 10_000),
    rate_clients: 2_000,
    rate_updates: 200,
    audit_apps: 10_000,
    audit_orphans: 100,
    audit_slow_apps: 2_000,
    plan_apps: 2_000,
    publications: (50, 10),
    naming: (1_000, 100),
};

const QUICK: Sizes = Sizes {
    cold_runs: 1,
    busy_tenant: 1_000,
    calls: 400,
    listing: (100, 1_000),
    rate_clients: 200,
    rate_updates: 20,
    audit_apps: 1_000,
    audit_orphans: 100,
    audit_slow_apps: 200,
    plan_apps: 200,
    publications: (50, 10),
    naming: (200, 20),
};

async fn run(part: Part, sizes: &Sizes) -> anyhow::Result<Section> {
    match part {
        Part::ColdApply => apply::cold(sizes.cold_runs, sizes.busy_tenant).await,
        Part::WarmApply => apply::warm().await,
        Part::Overhead => overhead::overhead(sizes.calls).await,
        Part::Listing => listing::listing(sizes.listing.0, sizes.listing.1).await,
        Part::RateLimit => rate_limit::rate_limit(sizes.rate_clients, sizes.rate_updates).await,
        Part::FreePlan => plans::plan(dcr_sandbox::auth0::Tier::Free, sizes.plan_apps).await,
        Part::EssentialsPlan => plans::plan(dcr_sandbox::auth0::Tier::Essentials, sizes.plan_apps).await,
        Part::Audit => audit::audit(sizes.audit_apps, sizes.audit_orphans, sizes.audit_slow_apps).await,
        Part::Publications => publications::publications(sizes.publications.0, sizes.publications.1).await,
        Part::DeveloperVerify => developer::developer_verify().await,
        Part::Naming => naming::naming(sizes.naming.0, sizes.naming.1).await,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into()))
        .with_writer(std::io::stderr)
        .init();
    let sizes = if args.quick { &QUICK } else { &FULL };
    let parts: Vec<Part> = Part::value_variants()
        .iter()
        .copied()
        .filter(|p| args.only.is_empty() || args.only.contains(p))
        .collect();
    if !args.json {
        println!(
            "dcr-rs benchmarks{} on {} cores, {} build",
            if args.quick { " (--quick sizes)" } else { "" },
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            if cfg!(debug_assertions) { "debug" } else { "release" }
        );
    }
    let mut failed = Vec::new();
    for part in parts {
        let section = run(part, sizes).await?;
        if args.json {
            println!("{}", section.to_json());
        } else {
            print!("{}", section.to_text());
        }
        failed.extend(section.failures().map(|g| g.text.clone()));
    }
    if !failed.is_empty() {
        eprintln!("correctness goals missed: {}", failed.join("; "));
        std::process::exit(1);
    }
    Ok(())
}

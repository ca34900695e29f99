//! The command line: one subcommand per workflow operation.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use dcr_workflow::{PlanOptions, VerifyMode, VerifyOptions};

/// `dcr`: its flags and subcommands.
#[derive(Parser, Debug)]
#[command(
    name = "dcr",
    version,
    about = "Konnect Dev Portal DCR with Auth0: plan, apply, destroy, rotate, verify, audit, rename"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    connection: crate::connection::Connection,
    /// No per-step progress lines.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// More on stderr: -v each request, -vv everything (RUST_LOG, when set, decides).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// `json`: one JSON document on stdout (plan, apply, destroy, rotate, verify, audit, rename);
    /// progress, prompts and logs stay on stderr.
    #[arg(long, short, global = true, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Output {
    Text,
    Json,
}

impl Output {
    /// Prints `value` as JSON, or `text` as it reads, on stdout.
    fn emit<T: serde::Serialize>(self, value: &T, text: impl std::fmt::Display) -> anyhow::Result<()> {
        match self {
            Output::Json => println!("{}", serde_json::to_string_pretty(value)?),
            Output::Text => println!("{text}"),
        }
        Ok(())
    }

    /// What a person reads while a JSON document is being prepared goes to stderr.
    fn say(self, text: impl std::fmt::Display) {
        match self {
            Output::Json => eprintln!("{text}"),
            Output::Text => println!("{text}"),
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show what apply would change (read requests only).
    Plan {
        /// Exit 0 when nothing would change, 2 when changes are pending, 1 on error
        /// (Terraform's convention), for scripts and CI.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Take over resources made by hand that match the configuration (shown as
        /// `~ adopt`) instead of refusing them.
        #[arg(long)]
        adopt: bool,
        /// Show the publications of the strategy that are no longer configured as
        /// removed (`-`) instead of kept.
        #[arg(long)]
        prune: bool,
        /// Also save the plan to this file (no secret in it), for `dcr apply FILE`.
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Converge both systems on the configuration (shows the plan and asks for `yes`).
    Apply {
        /// A plan saved by `dcr plan --out FILE`: carried out exactly, without asking,
        /// or refused (nothing written) when the configuration or the state changed.
        #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["adopt", "prune"])]
        plan_file: Option<std::path::PathBuf>,
        /// Take over resources made by hand that match the configuration: add the
        /// ownership marks and correct the differences (destroy then removes them).
        #[arg(long)]
        adopt: bool,
        /// Unpublish what uses the strategy but is no longer configured: APIs on any v3
        /// portal, product versions on the configured classic portals.
        #[arg(long)]
        prune: bool,
        /// Do not ask: required when stdin is not a terminal (CI).
        #[arg(long)]
        auto_approve: bool,
    },
    /// Remove what the workflow created, newest first (shows what and asks for `yes`).
    Destroy {
        /// Do not ask: required when stdin is not a terminal (CI).
        #[arg(long)]
        auto_approve: bool,
    },
    /// Rotate the admin application's secret and give it to Konnect.
    Rotate,
    /// Register an application like a developer would, check its token and, given a
    /// gateway URL, what the gateway lets through.
    Verify {
        /// Call this gateway URL (a route of a published API) with the credentials; wins
        /// over DCR_KONNECT_GATEWAY_URL.
        #[arg(long)]
        gateway_url: Option<url::Url>,
        /// How to stand in for a developer.
        #[arg(long, value_enum, default_value_t = Mode::Auto)]
        mode: Mode,
    },
    /// Report Auth0 clients and portal applications orphaned on either side.
    Audit,
    /// Rename the Auth0 applications Konnect registered whose name differs from
    /// naming.template's (apply does it too).
    Rename {
        /// Only show what would be renamed (exits 2 when something would be).
        #[arg(long)]
        dry_run: bool,
    },
    /// Read a setup made by hand (Kong's guide) and write the configuration that
    /// reproduces it (no secret); then `plan --adopt --config FILE`.
    Import {
        /// The auth0 DCR provider to import, when the organization has several.
        #[arg(long)]
        provider: Option<String>,
        /// The strategy to import, when several use the provider.
        #[arg(long)]
        strategy: Option<String>,
        /// Where to write the configuration.
        #[arg(long, default_value = "dcr.toml")]
        out: std::path::PathBuf,
        /// Replace the file when it exists.
        #[arg(long)]
        force: bool,
    },
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    /// As a developer when DCR_KONNECT_DEVELOPER_EMAIL is set, else a portal application
    /// when DCR_KONNECT_DEVELOPER_ID is set, else an Auth0 client.
    Auto,
    /// A portal application made by the admin API (needs DCR_KONNECT_DEVELOPER_ID).
    PortalApplication,
    /// An Auth0 client made with the admin application's credentials (Konnect's part).
    Auth0Client,
    /// Sign in to the portal as a developer, register an application for the API, call
    /// the gateway with Basic and Bearer (needs DCR_KONNECT_DEVELOPER_EMAIL and
    /// DCR_KONNECT_DEVELOPER_PASSWORD).
    Developer,
}

/// Parses the arguments, runs the command and says how it went: 0 done, 2 the command
/// found something (changes pending with `--detailed-exitcode`, a failed verification,
/// orphans), 1 an error.
pub async fn run_from_args() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        // Needs no configuration and no service.
        clap_complete::generate(
            shell,
            &mut <Cli as clap::CommandFactory>::command(),
            "dcr",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    crate::logging::init_logging(crate::logging::Verbosity::of(cli.quiet, cli.verbose));
    match run(cli).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `Ok(false)`: the command ran and found a problem (failed verification, orphans).
async fn run(cli: Cli) -> anyhow::Result<bool> {
    let target = crate::connection::Target::resolve(&cli.connection)?;
    if let Command::Import {
        provider,
        strategy,
        out,
        force,
    } = &cli.command
    {
        return import(&target, provider.as_deref(), strategy.as_deref(), out, *force).await;
    }
    let workflow = target.workflow()?;
    let output = cli.output;
    match cli.command {
        Command::Plan {
            detailed_exitcode,
            adopt,
            prune,
            out,
        } => {
            let plan = workflow
                .plan_with(&PlanOptions::new().adopt(adopt).prune(prune))
                .await?;
            let renames = planned_renames(&workflow).await?;
            match &renames {
                Some(renames) => output.emit(
                    &serde_json::json!({"plan": plan, "renames": renames}),
                    format_args!("{plan}\n{renames}"),
                )?,
                None => output.emit(&plan, &plan)?,
            }
            if let Some(out) = out {
                save(&out, &workflow.save_plan(&plan)?)?;
                eprintln!(
                    "Saved this plan to {}: dcr apply {} carries it out.",
                    out.display(),
                    out.display()
                );
            }
            if detailed_exitcode && (!plan.is_empty() || renames.is_some_and(|r| !r.is_empty())) {
                return Ok(false);
            }
        }
        Command::Apply {
            plan_file: Some(file), ..
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read the plan file {}: {e}", file.display()))?;
            let saved: dcr_workflow::SavedPlan = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not a plan saved by dcr plan --out: {e}", file.display()))?;
            // Reviewed when it was saved: no question.
            let applied = workflow.apply_saved(&saved).await?;
            let renamed = renames(&workflow, output).await?;
            output.emit(
                &serde_json::json!({"plan": saved.plan, "applied": applied, "renamed": renamed}),
                format_args!("Applied the saved plan {}.", file.display()),
            )?;
        }
        Command::Apply {
            plan_file: None,
            adopt,
            prune,
            auto_approve,
        } => {
            // A run that waited for another's lock finds its plan stale: it plans again
            // (a few times at most) instead of failing or duplicating.
            let mut attempts = 0;
            loop {
                let plan = workflow
                    .plan_with(&PlanOptions::new().adopt(adopt).prune(prune))
                    .await?;
                output.say(&plan);
                if plan.is_empty() {
                    let renamed = renames(&workflow, output).await?;
                    output.emit(
                        &serde_json::json!({"plan": plan, "applied": null, "renamed": renamed}),
                        "Nothing to do.",
                    )?;
                    break;
                }
                confirm("apply this plan", auto_approve)?;
                match workflow.apply(&plan).await {
                    Ok(applied) => {
                        let renamed = renames(&workflow, output).await?;
                        output.emit(
                            &serde_json::json!({"plan": plan, "applied": applied, "renamed": renamed}),
                            format_args!(
                                "Applied: admin application {}, provider {}, strategy {}, API {}.",
                                applied.admin_client_id,
                                applied.provider.id,
                                applied.strategy.id,
                                applied
                                    .api_ids
                                    .iter()
                                    .map(ToString::to_string)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )?;
                        break;
                    }
                    Err(dcr_workflow::WorkflowError::StalePlan) if attempts < 3 => {
                        attempts += 1;
                        eprintln!("another run changed the state while this one waited: planning again");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Command::Destroy { auto_approve } => {
            let preview = workflow.destroy_preview().await?;
            if preview.removed.is_empty() {
                output.emit(&preview, "Nothing dcr-rs owns was found: nothing to destroy.")?;
                return Ok(true);
            }
            for (step, key) in &preview.removed {
                output.say(format_args!("  - {step} {key:?}"));
            }
            confirm(
                &format!("destroy these {} resources", preview.removed.len()),
                auto_approve,
            )?;
            let destroyed = workflow.destroy().await?;
            let mut text = String::new();
            for (step, key) in &destroyed.removed {
                text.push_str(&format!("  - {step} {key:?}\n"));
            }
            for (step, key) in &destroyed.kept {
                text.push_str(&format!("  = {step} {key:?} (not created by dcr-rs: kept)\n"));
            }
            text.push_str(&format!("Destroyed {} resources.", destroyed.removed.len()));
            output.emit(&destroyed, text)?;
        }
        Command::Rotate => {
            let rotated = workflow.rotate_secret().await?;
            output.emit(
                &rotated,
                format_args!(
                    "Rotated the secret of {}; Konnect provider {}.",
                    rotated.client_id,
                    if rotated.provider_updated {
                        "updated"
                    } else {
                        "not found, not updated"
                    }
                ),
            )?;
        }
        Command::Verify { gateway_url, mode } => {
            let mut options = VerifyOptions::new().mode(match mode {
                Mode::Auto => VerifyMode::Auto,
                Mode::PortalApplication => VerifyMode::PortalApplication,
                Mode::Auth0Client => VerifyMode::Auth0Client,
                Mode::Developer => VerifyMode::Developer,
            });
            if let Some(url) = gateway_url {
                options = options.gateway_url(url);
            }
            let report = workflow.verify(&options).await?;
            output.emit(&report, &report)?;
            return Ok(report.is_success());
        }
        Command::Audit => {
            let report = workflow.audit().await?;
            output.emit(&report, &report)?;
            return Ok(report.is_clean());
        }
        Command::Rename { dry_run } => {
            let report = workflow
                .rename(&dcr_workflow::RenameOptions::new().dry_run(dry_run))
                .await?;
            output.emit(&report, &report)?;
            return Ok(!dry_run || report.is_empty());
        }
        Command::Completions { .. } | Command::Import { .. } => {}
    }
    Ok(true)
}

/// What `plan` shows of the rename pass: the renames a run would make, when
/// `naming.template` is set.
async fn planned_renames(workflow: &dcr_workflow::Workflow) -> anyhow::Result<Option<dcr_workflow::RenameReport>> {
    if workflow.config().naming.template.is_none() {
        return Ok(None);
    }
    Ok(Some(
        workflow
            .rename(&dcr_workflow::RenameOptions::new().dry_run(true))
            .await?,
    ))
}

/// `apply`'s last part: the rename pass, when `naming.template` is set (its report is
/// said on the way, the JSON document carries it).
async fn renames(
    workflow: &dcr_workflow::Workflow,
    output: Output,
) -> anyhow::Result<Option<dcr_workflow::RenameReport>> {
    if workflow.config().naming.template.is_none() {
        return Ok(None);
    }
    let report = workflow.rename(&dcr_workflow::RenameOptions::new()).await?;
    if output == Output::Text {
        output.say(&report);
    }
    Ok(Some(report))
}

/// Writes a saved plan: to a temporary file beside it, then renamed over it, so that a
/// reader never sees half a plan.
fn save(path: &std::path::Path, saved: &dcr_workflow::SavedPlan) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(saved)?)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// Asks for `yes` on a terminal before `what`; refuses without a terminal unless
/// `--auto-approve` was given, so an unattended job never writes by accident.
fn confirm(what: &str, auto_approve: bool) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "not confirmed: stdin is not a terminal, so nobody can answer whether to {what}; \
             pass --auto-approve to run unattended (CI)"
        );
    }
    eprint!("\nDo you want to {what}? Only 'yes' will be accepted: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != "yes" {
        anyhow::bail!("cancelled: the answer was not 'yes', nothing was written");
    }
    Ok(())
}

/// `dcr import`: the configuration of the setup the credentials reach, written to `out`.
async fn import(
    target: &crate::connection::Target,
    provider: Option<&str>,
    strategy: Option<&str>,
    out: &std::path::Path,
    force: bool,
) -> anyhow::Result<bool> {
    let mut options = dcr_workflow::ImportOptions::new();
    if let Some(name) = provider {
        options = options.provider(name);
    }
    if let Some(name) = strategy {
        options = options.strategy(name);
    }
    let imported = dcr_workflow::import(&target.config, &options).await?;
    for line in &imported.found {
        println!("  found {line}");
    }
    for note in &imported.notes {
        println!("  note: {note}");
    }
    let text = imported.config.to_toml()?;
    let mut file = std::fs::OpenOptions::new();
    file.write(true);
    if force {
        file.create(true).truncate(true);
    } else {
        file.create_new(true);
    }
    let mut file = file
        .open(out)
        .map_err(|e| anyhow::anyhow!("{}: {e} (--force replaces an existing file)", out.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    println!(
        "Wrote {} (no secrets). Next: dcr plan --adopt --config {}",
        out.display(),
        out.display()
    );
    Ok(true)
}

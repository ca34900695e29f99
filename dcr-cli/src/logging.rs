//! What the CLI says on stderr, and how much.

/// How much the CLI says on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Warnings only (`-q`).
    Quiet,
    /// Warnings and one line per finished step with its duration.
    Progress,
    /// Also each request (`-v`).
    Requests,
    /// Everything (`-vv`).
    Trace,
}

impl Verbosity {
    /// From `-q` and the number of `-v`.
    pub fn of(quiet: bool, verbose: u8) -> Self {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Progress,
            (false, 1) => Verbosity::Requests,
            (false, _) => Verbosity::Trace,
        }
    }
}

/// Logs to stderr at `verbosity` (`RUST_LOG`, when set, decides instead), in colour only
/// when stderr is a terminal and `NO_COLOR` is unset.
pub fn init_logging(verbosity: Verbosity) {
    use std::io::IsTerminal;
    use tracing_subscriber::fmt::format::FmtSpan;
    let default = match verbosity {
        Verbosity::Quiet => "warn",
        Verbosity::Progress => "warn,dcr_workflow=info",
        Verbosity::Requests => "warn,dcr_workflow=debug,auth0_mgmt=debug,konnect_appauth=debug,dcr_client_core=debug",
        Verbosity::Trace => "warn,dcr_workflow=trace,auth0_mgmt=trace,konnect_appauth=trace,dcr_client_core=trace",
    };
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| default.into());
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        // A finished step's line carries its duration (time.busy, time.idle).
        .with_span_events(if verbosity == Verbosity::Quiet {
            FmtSpan::NONE
        } else {
            FmtSpan::CLOSE
        })
        .with_target(false)
        // Seconds since start: short, and it turns on the close line's time.busy/idle.
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .compact()
        .init();
}

//! `dcr`: Konnect Dev Portal Dynamic Client Registration with Auth0, from the command
//! line, over [`dcr_workflow`].
//!
//! ```text
//! cargo install dcr-cli          # or: cargo install --path dcr-cli
//! dcr plan [--detailed-exitcode] [--adopt] [--prune] [--out plan.json] [--output json]
//! dcr apply [--auto-approve] [--adopt] [--prune] [PLAN_FILE]
//! dcr verify | rotate | audit | rename [--dry-run] | destroy [--auto-approve] | import [--out dcr.toml]
//! dcr completions bash|zsh|fish
//! ```
//!
//! The configuration comes from `--config FILE` and `DCR_*` variables (`AUTH0_*` and
//! `KONNECT_*` as short forms); the admin application's secret is kept in
//! `$XDG_STATE_HOME/dcr-rs/secrets.json` (mode 0600, outside any working tree) unless
//! `--store` says otherwise. Each finished step is reported on stderr with its duration;
//! `--output json` prints one JSON document on stdout.
//!
//! The library part is what the binary is made of, for programs that embed the same
//! command line (the workspace's `dcr` example does):
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     dcr_cli::main()
//! }
//! ```

mod cli;
pub mod connection;
pub mod logging;

pub use cli::{Cli, run_from_args};

/// Runs `dcr` with the process's arguments on a new Tokio runtime and returns its exit
/// code.
pub fn main() -> std::process::ExitCode {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(run_from_args()),
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: cannot start the async runtime: {e}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}

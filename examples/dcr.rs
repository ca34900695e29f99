//! The `dcr` CLI (crate `dcr-cli`, installed with `cargo install --path dcr-cli`), run as
//! an example so that `cargo run --example dcr -- …` works from a checkout.
//!
//! ```text
//! cargo run --example dcr -- plan    [--config dcr.toml] [--detailed-exitcode] [--adopt] [--prune]
//! cargo run --example dcr -- plan    --out plan.json    (then: apply plan.json)
//! cargo run --example dcr -- apply   [--config dcr.toml] [--adopt] [--prune] [--auto-approve] [PLAN_FILE]
//! cargo run --example dcr -- verify  [--gateway-url URL] [--mode auto|portal-application|auth0-client]
//! cargo run --example dcr -- destroy [--auto-approve]
//! cargo run --example dcr -- rotate | audit
//! cargo run --example dcr -- import  [--provider NAME] [--strategy NAME] [--out dcr.toml]
//! cargo run --example dcr -- completions bash|zsh|fish
//! cargo run --example dcr -- --version
//! ```
//!
//! The configuration comes from `--config` and `DCR_*` variables (`AUTH0_*` and
//! `KONNECT_*` are accepted as short forms). Point it at the standalone sandbox with the
//! environment file `cargo run --example sandbox` writes. Each step is reported on stderr
//! as it finishes; the exit code is non-zero on any failure (and for `audit`, when
//! orphans are found).

fn main() -> std::process::ExitCode {
    dcr_cli::main()
}

//! The installed binary (`cargo install dcr-cli` gives `dcr`): it reports its version,
//! prints completions, and without any configuration refuses before any request, naming
//! every missing setting (an installed `dcr` has no embedded sandbox to fall back on).

use std::process::Command;

fn dcr(args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dcr"));
    command.args(args).env_clear();
    // A home without a state directory: the default secrets file is placed there.
    let home = std::env::temp_dir().join(format!("dcr-cli-test-{}", std::process::id()));
    command.env("HOME", &home);
    command.output().unwrap_or_else(|e| panic!("dcr {args:?}: {e}"))
}

#[test]
fn the_binary_reports_its_version_and_completions() {
    let version = dcr(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("dcr {}", env!("CARGO_PKG_VERSION"))
    );
    let completions = dcr(&["completions", "bash"]);
    assert!(completions.status.success());
    assert!(String::from_utf8_lossy(&completions.stdout).contains("--detailed-exitcode"));
}

#[test]
fn without_configuration_it_names_every_missing_setting() {
    let out = dcr(&["plan"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    for field in ["auth0.domain", "api.audience", "konnect.token", "konnect.portal_id"] {
        assert!(text.contains(field), "{field} not named:\n{text}");
    }
}

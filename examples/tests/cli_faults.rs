//! The real binaries under faults: the standalone sandbox (`examples/sandbox`) runs as its
//! own process, a fault-injecting proxy sits in front of each service, and the `dcr` CLI
//! (`examples/dcr`) is run, killed and run again as a CI job would be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/proxy.rs"]
mod proxy;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proxy::{Canned, Faults, Proxy};
use tokio::process::{Child, Command};

/// Longest any one CLI run may take before the test calls it hung.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// An example binary, built (once per test run) with the same cargo and profile as this
/// test: `cargo test` builds examples under its own target names, so the plain
/// `target/debug/examples/NAME` may be missing or stale.
fn example(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let release = exe.components().any(|c| c.as_os_str() == "release");
        let status = std::process::Command::new(env!("CARGO"))
            .args([
                "build",
                "--quiet",
                "-p",
                "dcr-examples",
                "--example",
                "dcr",
                "--example",
                "sandbox",
            ])
            .args(release.then_some("--release"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !status.success() {
            return Err(format!("cargo build of the examples failed: {status}"));
        }
        exe.parent()
            .and_then(Path::parent)
            .map(|target| target.join("examples"))
            .ok_or_else(|| "tests run from target/<profile>/deps".to_owned())
    });
    match dir {
        Ok(dir) => dir.join(name),
        Err(e) => panic!("{e}"),
    }
}

/// The standalone sandbox process, the two proxies in front of it and a directory for
/// the secrets files.
struct Setup {
    _sandbox: Child,
    env: Vec<(String, String)>,
    faults: Faults,
    auth0: Proxy,
    konnect: Proxy,
    dir: tempfile::TempDir,
}

impl Setup {
    async fn start() -> anyhow::Result<Setup> {
        Self::start_with(&[]).await
    }

    /// With more arguments for the standalone sandbox.
    async fn start_with(args: &[&str]) -> anyhow::Result<Setup> {
        let dir = tempfile::tempdir()?;
        let env_file = dir.path().join("sandbox.env");
        let sandbox = Command::new(example("sandbox"))
            .args(args)
            .arg("--env-file")
            .arg(&env_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        let mut text = String::new();
        for _ in 0..600 {
            text = std::fs::read_to_string(&env_file).unwrap_or_default();
            if text.contains("DCR_KONNECT_PORTAL_ID") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let env: Vec<(String, String)> = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| {
                let v = v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(v);
                (k.to_owned(), v.replace(r"'\''", "'"))
            })
            .collect();
        let var = |name: &str| {
            env.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| anyhow::anyhow!("the sandbox wrote no {name}"))
        };
        let faults = Faults::default();
        let konnect_url = var("DCR_KONNECT_BASE_URL")?;
        let auth0 = Proxy::start(var("DCR_AUTH0_BASE_URL")?, faults.clone()).await?;
        let konnect = Proxy::start(konnect_url.clone(), faults.clone()).await?;
        // The portal's developer API and the gateway are served by the Konnect sandbox
        // too: they go through its proxy like the admin API.
        let env = env
            .into_iter()
            .map(|(k, v)| match v.strip_prefix(konnect_url.as_str()) {
                Some(rest) if k != "DCR_KONNECT_BASE_URL" => (k, format!("{}{rest}", konnect.uri())),
                _ => (k, v),
            })
            .collect();
        Ok(Setup {
            _sandbox: sandbox,
            env,
            faults,
            auth0,
            konnect,
            dir,
        })
    }

    fn store(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `dcr ARGS` through the proxies with `store`, started.
    fn spawn(&self, store: &Path, args: &[&str]) -> anyhow::Result<Child> {
        Ok(self.command(store, args).spawn()?)
    }

    /// `dcr ARGS` through the proxies with `store`, ready to start (`RUST_LOG=warn`).
    fn command(&self, store: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(example("dcr"));
        command
            .args(args)
            .arg("--store")
            .arg(store)
            .arg("--auth0-url")
            .arg(self.auth0.uri())
            .arg("--konnect-url")
            .arg(self.konnect.uri())
            .env_clear()
            .envs(self.env.iter().cloned())
            .env("RUST_LOG", "warn")
            .env("HOME", self.dir.path())
            // As in CI: nobody at a terminal to answer a confirmation.
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// `dcr ARGS` to the end: exit code and stdout + stderr. Fails the test when it hangs.
    async fn run(&self, store: &Path, args: &[&str]) -> anyhow::Result<(i32, String)> {
        run_to_end(self.command(store, args), args).await
    }

    /// A variable the sandbox wrote.
    fn var(&self, name: &str) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Kong's guide done by hand through the services' APIs, straight to the sandbox (not
    /// through the proxies): the admin application "Konnect Portal DCR Admin" with the
    /// nine scopes, the API, a provider and a strategy both called `name`, and the API
    /// `api_name` published with the strategy (private, Konnect's default). Returns the
    /// admin application's secret.
    async fn by_hand(&self, name: &str, api_name: &str) -> anyhow::Result<auth0_mgmt::ClientSecret> {
        use auth0_mgmt::resources::client_grants::NewClientGrant;
        use auth0_mgmt::resources::clients::NewClient;
        use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope};
        use konnect_appauth::resources::apis::{NewApi, PublicationRequest};
        use konnect_appauth::resources::auth_strategies::{NewAuthStrategy, OidcConfig};
        use konnect_appauth::resources::dcr_providers::{AUTH0_DCR_SCOPES, NewDcrProvider};

        let var = |key: &str| self.var(key);
        let domain = var("DCR_AUTH0_DOMAIN");
        let auth0 = auth0_mgmt::Auth0Client::builder()
            .domain(&domain)
            .base_url(var("DCR_AUTH0_BASE_URL"))
            .client_credentials(
                auth0_mgmt::ClientId::new(var("DCR_AUTH0_CLIENT_ID")),
                auth0_mgmt::ClientSecret::new(var("DCR_AUTH0_CLIENT_SECRET")),
            )
            .build()?;
        let konnect = konnect_appauth::KonnectClient::builder()
            .base_url(var("DCR_KONNECT_BASE_URL"))
            .token(secrecy::SecretString::from(var("DCR_KONNECT_TOKEN")))
            .build()?;
        let admin = auth0
            .clients()
            .create(&NewClient::machine_to_machine("Konnect Portal DCR Admin"))
            .await?;
        let management = auth0_mgmt::Audience::new(format!("https://{domain}/api/v2/"));
        auth0
            .client_grants()
            .create(&NewClientGrant::new(
                admin.client_id.clone(),
                management,
                AUTH0_DCR_SCOPES,
            ))
            .await?;
        let audience = var("DCR_API_AUDIENCE");
        auth0
            .resource_servers()
            .create(
                &NewResourceServer::new(audience.as_str())
                    .name("Orders (by hand)")
                    .scopes([ResourceServerScope::new("read:orders", "Read orders")]),
            )
            .await?;
        let secret = admin.client_secret.unwrap();
        let provider = konnect
            .dcr_providers()
            .create(&NewDcrProvider::auth0(
                name,
                format!("https://{domain}"),
                admin.client_id.as_str(),
                secret.expose_secret().to_owned(),
            ))
            .await?;
        let strategy = konnect
            .auth_strategies()
            .create(
                &NewAuthStrategy::openid_connect(
                    name,
                    "Auth0 (by hand)",
                    OidcConfig::new(
                        format!("https://{domain}"),
                        ["azp"],
                        ["openid", "read:orders"],
                        ["client_credentials", "bearer", "session"],
                    )
                    .audience(&audience),
                )
                .dcr_provider(provider.id.clone()),
            )
            .await?;
        let api = konnect.apis().create(&NewApi::new(api_name)).await?;
        let portal = konnect_appauth::PortalId::new(var("DCR_KONNECT_PORTAL_ID"));
        konnect
            .apis()
            .publish(
                &api.id,
                &portal,
                &PublicationRequest::new().auth_strategy(strategy.id.clone()),
            )
            .await?;
        Ok(secret)
    }

    /// Runs `dcr ARGS` and requires exit code 0.
    /// `dcr ARGS --output json`: the exit code and stdout alone, parsed (whatever is
    /// printed for a person must be on stderr, or the parse fails).
    async fn json(&self, store: &Path, args: &[&str]) -> anyhow::Result<(i32, serde_json::Value, String)> {
        let mut args = args.to_vec();
        args.extend(["--output", "json"]);
        let child = self.command(store, &args).spawn()?;
        let output = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
            .await
            .map_err(|_| anyhow::anyhow!("`dcr {}` hung", args.join(" ")))??;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let value = serde_json::from_str(&stdout).map_err(|e| {
            anyhow::anyhow!(
                "`dcr {}` stdout is not one JSON document ({e}):\n{stdout}\nstderr:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        Ok((output.status.code().unwrap_or(-1), value, stdout))
    }

    async fn ok(&self, store: &Path, args: &[&str]) -> anyhow::Result<String> {
        let (code, text) = self.run(store, args).await?;
        anyhow::ensure!(code == 0, "`dcr {}` exited {code}:\n{text}", args.join(" "));
        Ok(text)
    }
}

/// A prepared `dcr ARGS` run to the end: exit code and stdout + stderr. Fails the test
/// when it hangs.
async fn run_to_end(mut command: Command, args: &[&str]) -> anyhow::Result<(i32, String)> {
    let child = command.spawn()?;
    let output = tokio::time::timeout(RUN_LIMIT, child.wait_with_output())
        .await
        .map_err(|_| anyhow::anyhow!("`dcr {}` hung for {RUN_LIMIT:?}", args.join(" ")))??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.code().unwrap_or(-1), text))
}

/// Issue 12, item 1, through the binary: `/oauth/token` answers one 429 that reports a
/// spent budget (`x-ratelimit-remaining: 0`); `plan` waits for the reset and completes.
#[tokio::test]
async fn the_cli_waits_out_a_429_from_the_token_endpoint_instead_of_hanging() -> anyhow::Result<()> {
    let s = Setup::start().await?;
    let store = s.store("secrets.json");
    let reset = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() + 1;
    s.faults.answer(Canned {
        method: "POST",
        path: "/oauth/token",
        status: 429,
        headers: vec![
            ("x-ratelimit-limit", "30".into()),
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", reset.to_string()),
        ],
        body: r#"{"error":"too_many_requests","error_description":"Global limit has been reached"}"#.into(),
        times: 1,
    });
    let text = s.ok(&store, &["plan"]).await?;
    assert!(text.contains("to create"), "{text}");
    Ok(())
}

/// Issue 12, item 2, through the binary: `dcr rotate` is killed (SIGKILL) at each of its
/// network writes in turn, once with the write carried out and its answer never
/// delivered, once with the write never reaching the service. Each time the next
/// `dcr apply` repairs, `dcr verify` passes (a developer application registers through
/// Konnect with the provider's secret) and a plan finds nothing left to do.
#[tokio::test]
async fn a_rotate_killed_at_any_write_is_finished_by_the_next_apply() -> anyhow::Result<()> {
    let s = Setup::start().await?;
    let store = s.store("secrets.json");
    s.ok(&store, &["apply", "--auto-approve"]).await?;
    s.faults.clear();
    s.ok(&store, &["rotate"]).await?;
    let writes = s.faults.writes();
    assert_eq!(writes.len(), 2, "rotate writes to Auth0, then Konnect: {writes:?}");
    for (nth, write) in writes.iter().enumerate() {
        for carried_out in [true, false] {
            let what = format!("killed at write {nth} ({write:?}), carried out: {carried_out}");
            s.faults.clear();
            let reached = s.faults.hold_write(nth, carried_out);
            let mut rotate = s.spawn(&store, &["rotate"])?;
            tokio::time::timeout(RUN_LIMIT, reached).await??;
            rotate.kill().await?;
            s.faults.clear();
            s.ok(&store, &["apply", "--auto-approve"])
                .await
                .map_err(|e| e.context(what.clone()))?;
            s.ok(&store, &["verify"]).await.map_err(|e| e.context(what.clone()))?;
            let plan = s.ok(&store, &["plan"]).await?;
            assert!(plan.contains("Plan: 0 to create, 0 to update"), "{what}:\n{plan}");
        }
    }
    Ok(())
}

/// Issue 12, item 3, through the binary: three `dcr apply` at once, each with its own
/// secrets file (three machines). The proxy holds every write until 3 s after the first
/// one, so that all three observe the empty state before any creates, however the
/// machine schedules the processes (left to timing, a loaded CI machine once ran them one
/// after the other and no race happened). One more apply
/// leaves one of everything: `audit` is clean (exit 0), `verify` passes, and after
/// `destroy` the audit is clean again.
#[tokio::test]
async fn overlapping_cli_applies_on_separate_machines_converge() -> anyhow::Result<()> {
    let s = Setup::start().await?;
    s.faults.gate_writes(Some(Duration::from_secs(3)));
    let stores: Vec<PathBuf> = (0..3).map(|i| s.store(&format!("machine-{i}.json"))).collect();
    let mut runs = Vec::new();
    for store in &stores {
        runs.push(s.spawn(store, &["apply", "--auto-approve"])?);
    }
    let mut outcomes = Vec::new();
    for run in runs {
        // Some may lose a race and exit 1; none may hang.
        let output = tokio::time::timeout(RUN_LIMIT, run.wait_with_output()).await??;
        outcomes.push((
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }
    s.faults.gate_writes(None);
    let (code, audit) = s.run(&stores[0], &["audit"]).await?;
    assert_eq!(
        code, 2,
        "the race left duplicates for audit to report:\n{audit}\n{outcomes:#?}"
    );
    assert!(audit.contains("duplicate"), "{audit}");
    s.ok(&stores[0], &["apply", "--auto-approve"]).await?;
    s.ok(&stores[0], &["audit"]).await?;
    s.ok(&stores[0], &["verify"]).await?;
    s.ok(&stores[0], &["destroy", "--auto-approve"]).await?;
    let audit = s.ok(&stores[0], &["audit"]).await?;
    assert!(audit.contains("0 duplicates"), "{audit}");
    Ok(())
}

/// Issue 13: against the standalone sandbox with Auth0's Free plan limits (Management API
/// 2 burst / 2 per second, token endpoint 30 / 30), the CLI's `apply`, `verify` and
/// `audit` complete, and none of the CLI's own requests is answered 429: it paces itself
/// by the buckets the answers describe, and leaves room for Konnect's DCR calls, which
/// reach Auth0 directly and spend the same tenant bucket, as they do for real.
#[tokio::test]
async fn the_cli_paces_itself_under_the_free_plan_limits() -> anyhow::Result<()> {
    let s = Setup::start_with(&["--auth0-tier", "free"]).await?;
    let store = s.store("secrets.json");
    let mut earned = Vec::new();
    for command in [&["apply", "--auto-approve"][..], &["verify"], &["audit"]] {
        let text = s.ok(&store, command).await?;
        let command = command[0];
        for (method, path) in s.faults.answered_with(429).into_iter().skip(earned.len()) {
            earned.push((command, method, path, text.clone()));
        }
        // Separate CI steps: a process knows nothing of the bucket the previous one spent
        // until its first answer, which a bucket still empty answers 429 (waited out).
        // The Free bucket is full again after a second.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(s.faults.answers() > 10, "the runs went through the proxy");
    // The same sandbox driven faster than 2 requests per second answers 429, as Auth0 does.
    let base = s
        .env
        .iter()
        .find(|(k, _)| k == "DCR_AUTH0_BASE_URL")
        .map(|(_, v)| v.clone())
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let answer = reqwest::get(format!("{base}/api/v2/clients")).await?;
        statuses.push(answer.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let summary: Vec<_> = earned.iter().map(|(c, m, p, _)| (c, m, p)).collect();
    assert!(
        earned.is_empty(),
        "the CLI earned 429s: {summary:#?}\n{}",
        earned.first().map(|e| e.3.as_str()).unwrap_or_default()
    );
    Ok(())
}

/// What scripts rely on: `--version`, completion scripts that need no configuration, and
/// `plan --detailed-exitcode` (0 nothing to change, 2 changes pending, 1 error).
#[tokio::test]
async fn the_cli_reports_its_version_completions_and_plan_exit_codes() -> anyhow::Result<()> {
    let plain = |args: &[&str]| {
        std::process::Command::new(example("dcr"))
            .args(args)
            .env_clear()
            .output()
    };
    let version = plain(&["--version"])?;
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("dcr {}", env!("CARGO_PKG_VERSION"))
    );
    for shell in ["bash", "zsh", "fish"] {
        let script = plain(&["completions", shell])?;
        assert!(script.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&script.stdout);
        assert!(
            text.contains("detailed-exitcode") && text.contains("apply"),
            "{shell}: {text}"
        );
    }

    let s = Setup::start().await?;
    let store = s.store("secrets.json");
    let (code, text) = s.run(&store, &["plan"]).await?;
    assert_eq!(code, 0, "without the flag, pending changes are no failure:\n{text}");
    let (code, text) = s.run(&store, &["plan", "--detailed-exitcode"]).await?;
    assert_eq!(code, 2, "changes pending:\n{text}");
    let (code, text) = s.run(&store, &["apply"]).await?;
    assert_eq!(code, 1, "no terminal and no --auto-approve: refused\n{text}");
    assert!(text.contains("--auto-approve"), "{text}");
    assert!(
        s.faults.writes().is_empty(),
        "refused before any write: {:?}",
        s.faults.writes()
    );
    s.ok(&store, &["apply", "--auto-approve"]).await?;
    let (code, text) = s.run(&store, &["plan", "--detailed-exitcode"]).await?;
    assert_eq!(code, 0, "nothing to change:\n{text}");
    let (code, text) = s.run(&store, &["destroy"]).await?;
    assert_eq!(code, 1, "destroy refuses the same way\n{text}");
    assert!(
        text.contains("- Konnect DCR provider"),
        "it shows what it would remove:\n{text}"
    );
    let (code, _) = s.run(&store, &["plan", "--detailed-exitcode"]).await?;
    assert_eq!(code, 0, "and removed nothing");
    let broken = s.dir.path().join("missing-dir").join("secrets.json");
    let (code, text) = s.run(&broken, &["plan", "--detailed-exitcode"]).await?;
    assert_eq!(code, 1, "an error:\n{text}");
    Ok(())
}

/// Issue 15: `--output json` prints one JSON document on stdout for plan, apply, verify,
/// audit, rotate and destroy; the plan lists every step with its action; the admin
/// secret (in the store file) appears in none of them.
#[tokio::test]
async fn json_output_is_one_document_per_command_and_never_carries_a_secret() -> anyhow::Result<()> {
    let s = Setup::start().await?;
    let store = s.store("secrets.json");
    let (code, plan, _) = s.json(&store, &["plan", "--detailed-exitcode"]).await?;
    assert_eq!(code, 2);
    assert_eq!(plan["changes_pending"], true);
    let steps = plan["steps"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["action"].as_str().unwrap()))
        .collect();
    for step in [
        "admin_app",
        "admin_grant",
        "api_audience",
        "dcr_provider",
        "auth_strategy",
        "konnect_api",
        "publication",
    ] {
        assert!(actions.contains(&(step, "create")), "{step} missing: {actions:?}");
    }
    assert_eq!(plan["summary"]["create"], 7, "{plan:#}");
    let secret_change = steps
        .iter()
        .flat_map(|s| s["changes"].as_array().unwrap())
        .find(|c| c["sensitive"] == true)
        .expect("the admin secret is a sensitive change");
    assert_eq!(secret_change["after"], "(sensitive)");

    let (code, applied, _) = s.json(&store, &["apply", "--auto-approve"]).await?;
    assert_eq!(code, 0, "{applied:#}");
    assert!(applied["applied"]["admin_client_id"].is_string(), "{applied:#}");
    assert_eq!(applied["applied"]["api_ids"].as_array().map(Vec::len), Some(1));
    let (_, again, _) = s.json(&store, &["plan", "--detailed-exitcode"]).await?;
    assert_eq!(again["changes_pending"], false);
    let mut documents = Vec::new();
    for args in [&["verify"][..], &["audit"], &["rotate"]] {
        let (code, value, text) = s.json(&store, args).await?;
        assert_eq!(code, 0, "{args:?}: {value:#}");
        documents.push(text);
        match args[0] {
            "verify" => assert_eq!(value["success"], true, "{value:#}"),
            "audit" => assert_eq!(value["clean"], true, "{value:#}"),
            _ => assert_eq!(value["provider_updated"], true, "{value:#}"),
        }
    }
    // Every secret the store holds after the rotation, and the one before it.
    let secrets: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&store)?)?;
    let held: Vec<String> = secrets
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.as_str().map(str::to_owned))
        .collect();
    assert!(!held.is_empty(), "the store holds the admin secret: {secrets}");
    let (code, destroyed, text) = s.json(&store, &["destroy", "--auto-approve"]).await?;
    assert_eq!(code, 0);
    assert!(
        destroyed["removed"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["step"] == "dcr_provider")),
        "{destroyed:#}"
    );
    documents.push(text);
    documents.push(applied.to_string());
    for secret in &held {
        for doc in &documents {
            assert!(!doc.contains(secret.as_str()), "a secret in the JSON output:\n{doc}");
        }
    }
    Ok(())
}

/// Issue 15: `dcr plan --out plan.json` then `dcr apply plan.json` carries out exactly
/// that plan without asking; a saved plan made stale by another run's apply, or by a
/// changed setting, is refused before any write, naming what changed; the file holds no
/// secret.
#[tokio::test]
async fn a_saved_plan_applies_exactly_or_is_refused_naming_what_changed() -> anyhow::Result<()> {
    let s = Setup::start().await?;
    let store = s.store("secrets.json");
    let file = s.dir.path().join("plan.json");
    let file_arg = file.to_str().unwrap_or_default();
    let (code, text) = s
        .run(&store, &["plan", "--out", file_arg, "--detailed-exitcode"])
        .await?;
    assert_eq!(code, 2, "{text}");
    let saved = std::fs::read_to_string(&file)?;
    for secret in ["DCR_AUTH0_CLIENT_SECRET", "DCR_KONNECT_TOKEN"] {
        let value = s.var(secret);
        assert!(
            !value.is_empty() && !saved.contains(&value),
            "{secret} in the plan file"
        );
    }

    // Stale: another run applied in between.
    s.ok(&s.store("other-machine.json"), &["apply", "--auto-approve"])
        .await?;
    s.faults.clear();
    let (code, text) = s.run(&store, &["apply", file_arg]).await?;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("the saved plan is stale"), "{text}");
    assert!(
        text.contains("Konnect DCR provider \"auth0-dcr\": planned create"),
        "names what changed:\n{text}"
    );
    assert!(
        s.faults.writes().is_empty(),
        "refused before any write: {:?}",
        s.faults.writes()
    );
    s.ok(&store, &["destroy", "--auto-approve"]).await?;

    // Fresh: applied as saved, without a question (stdin is no terminal).
    s.ok(&store, &["plan", "--out", file_arg]).await?;
    let text = s.ok(&store, &["apply", file_arg]).await?;
    assert!(text.contains("Applied the saved plan"), "{text}");
    let (code, _) = s.run(&store, &["plan", "--detailed-exitcode"]).await?;
    assert_eq!(code, 0, "nothing left to do");

    // Stale: a setting changed since the plan was saved.
    s.ok(&store, &["plan", "--out", file_arg]).await?;
    let mut changed = s.command(&store, &["apply", file_arg]);
    changed.env("DCR_KONNECT_STRATEGY_DISPLAY_NAME", "Auth0 (renamed)");
    let (code, text) = run_to_end(changed, &["apply", file_arg]).await?;
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("konnect.strategy_display_name changed: \"Auth0\" -> \"Auth0 (renamed)\""),
        "{text}"
    );
    Ok(())
}

/// `-q`, the default and `-v` say less or more on stderr (RUST_LOG unset), each finished
/// step's line carries its duration, and nothing is coloured when stderr is no terminal.
#[tokio::test]
async fn quiet_default_and_verbose_say_less_or_more_without_colour_off_a_terminal() -> anyhow::Result<()> {
    let s = Setup::start().await?;
    let store = s.store("secrets.json");
    let mut stderr = Vec::new();
    for flags in [&["plan", "-q"][..], &["plan"], &["plan", "-v"]] {
        let output = s.command(&store, flags).env_remove("RUST_LOG").output().await?;
        assert!(output.status.success(), "{flags:?}");
        stderr.push(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let [quiet, default, verbose] = &stderr[..] else {
        unreachable!()
    };
    assert!(!quiet.contains("dcr_step"), "{quiet}");
    assert!(
        default.contains("dcr_step") && default.contains("time.busy"),
        "{default}"
    );
    assert!(!default.contains("http{"), "requests only with -v: {default}");
    assert!(
        verbose.contains("http{") || verbose.contains("url.template"),
        "{verbose}"
    );
    assert!(stderr.iter().all(|e| !e.contains('\u{1b}')), "no colour off a terminal");
    Ok(())
}

/// Issue 14 through the binary: a setup made by hand (the guide's steps, through the
/// services' APIs) is refused by `dcr plan`, imported by `dcr import` (whose first
/// provider listing meets a 503), adopted by `dcr apply --adopt` on the written file,
/// and owned afterwards: `plan --detailed-exitcode` exits 0 and `verify` passes.
#[tokio::test]
async fn a_hand_made_setup_is_imported_and_adopted_through_the_cli() -> anyhow::Result<()> {
    let s = Setup::start().await?;
    let secret = s.by_hand("auth0", "Orders by hand").await?;
    let var = |name: &str| s.var(name);

    let store = s.store("secrets.json");
    let file = s.dir.path().join("dcr.toml");
    let config = file.to_str().unwrap();
    // The sandbox's environment names other resources: only the connection stays, the
    // rest comes from the imported file.
    let connection_only = |args: &[&str]| {
        let mut command = s.command(&store, args);
        for (name, _) in &s.env {
            if name.starts_with("DCR_API_") || (name.starts_with("DCR_KONNECT_") && !name.ends_with("_TOKEN")) {
                command.env_remove(name);
            }
        }
        command
    };
    let run = async |args: &[&str]| run_to_end(connection_only(args), args).await;

    let (code, text) = s.run(&store, &["plan"]).await?;
    assert_eq!(code, 1, "an unmarked setup is refused without --adopt:\n{text}");
    assert!(text.contains("--adopt"), "{text}");

    s.faults.answer(Canned {
        method: "GET",
        path: "/v2/dcr-providers",
        status: 503,
        headers: vec![],
        body: r#"{"status":503,"title":"Service Unavailable"}"#.into(),
        times: 1,
    });
    let (code, text) = run(&["import", "--out", config]).await?;
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("found Konnect DCR provider \"auth0\""), "{text}");
    assert_eq!(s.faults.canned_left(), 0, "the 503 was met (and retried)");
    let written = std::fs::read_to_string(&file)?;
    for secret in [
        var("DCR_AUTH0_CLIENT_SECRET"),
        var("DCR_KONNECT_TOKEN"),
        secret.expose_secret().to_owned(),
    ] {
        assert!(!written.contains(&secret), "a secret was written:\n{written}");
    }
    let (code, text) = run(&["import", "--out", config]).await?;
    assert_eq!(code, 1, "an existing file is kept without --force:\n{text}");

    let (code, text) = run(&["plan", "--adopt", "--detailed-exitcode", "--config", config]).await?;
    assert_eq!(code, 2, "{text}");
    assert_eq!(text.matches("~ adopt").count(), 4, "{text}");
    assert!(text.contains("0 to create, 0 to update, 4 to adopt"), "{text}");
    let (code, text) = run(&["apply", "--adopt", "--auto-approve", "--config", config]).await?;
    assert_eq!(code, 0, "{text}");
    let (code, text) = run(&["plan", "--detailed-exitcode", "--config", config]).await?;
    assert_eq!(code, 0, "owned now, nothing to do:\n{text}");
    let (code, text) = run(&["verify", "--mode", "auth0-client", "--config", config]).await?;
    assert_eq!(code, 0, "{text}");
    Ok(())
}

/// Issue 14 through the binary, killed: `dcr apply --adopt` on a hand-made setup is
/// killed (SIGKILL) at each of its writes in turn, once with the write carried out and
/// its answer never delivered, once with the write never reaching the service. Each time
/// the next `dcr apply --adopt` finishes the adoption: `plan --detailed-exitcode` exits 0
/// and `verify` passes.
#[tokio::test]
async fn an_adopting_apply_killed_at_any_write_is_finished_by_the_next() -> anyhow::Result<()> {
    const ADOPT: [&str; 3] = ["apply", "--adopt", "--auto-approve"];
    // The hand-made resources carry the names the sandbox's configuration uses.
    let by_hand = async |s: &Setup| s.by_hand("auth0-dcr", &s.var("DCR_KONNECT_API_NAME")).await;
    let writes = {
        let s = Setup::start().await?;
        by_hand(&s).await?;
        s.ok(&s.store("secrets.json"), &ADOPT).await?;
        s.faults.writes()
    };
    assert!(writes.len() >= 4, "marks on four resources at least: {writes:?}");
    for (nth, write) in writes.iter().enumerate() {
        for carried_out in [true, false] {
            let what = format!("killed at write {nth} ({write:?}), carried out: {carried_out}");
            let s = Setup::start().await?;
            by_hand(&s).await?;
            let store = s.store("secrets.json");
            let reached = s.faults.hold_write(nth, carried_out);
            let mut apply = s.spawn(&store, &ADOPT)?;
            tokio::time::timeout(RUN_LIMIT, reached).await??;
            apply.kill().await?;
            s.faults.clear();
            s.ok(&store, &ADOPT).await.map_err(|e| e.context(what.clone()))?;
            let (code, text) = s.run(&store, &["plan", "--detailed-exitcode"]).await?;
            assert_eq!(code, 0, "{what}:\n{text}");
            s.ok(&store, &["verify"]).await.map_err(|e| e.context(what.clone()))?;
        }
    }
    Ok(())
}

/// Issue 16: `dcr verify` as the guide's developer, through the real binary and the
/// proxies: every link passes (the developer API and the gateway answered through the
/// proxy), a 429 on the sign-in is waited out, a 502 on the cleanup's DELETE is retried
/// and counts, and a wrong password is named as the broken link without being printed.
#[tokio::test]
async fn the_cli_verifies_as_a_developer_and_names_a_wrong_password() -> anyhow::Result<()> {
    let s = Setup::start().await?;
    let store = s.store("secrets.json");
    s.ok(&store, &["apply", "--auto-approve"]).await?;
    s.faults.clear();
    // The portal throttles the sign-in once (Konnect's 429 with Retry-After): waited out.
    s.faults.answer(Canned {
        method: "POST",
        path: "/portal/",
        status: 429,
        headers: vec![("retry-after", "1".to_owned())],
        body: r#"{"status":429,"title":"Rate Limited","instance":"kong:trace:1","detail":"Too many requests"}"#
            .to_owned(),
        times: 1,
    });
    s.faults.answer(Canned {
        method: "DELETE",
        path: "/portal/",
        status: 502,
        headers: Vec::new(),
        body: String::new(),
        times: 1,
    });
    let (code, report, _) = s.json(&store, &["verify", "--mode", "developer"]).await?;
    assert_eq!(code, 0, "{report:#}");
    let links: Vec<(&str, &str)> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["link"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    for link in [
        "sign-in",
        "application",
        "negative check (unregistered application)",
        "API registration",
        "approval",
        "gateway (Basic)",
        "gateway (Bearer)",
        "cleanup",
    ] {
        assert!(links.contains(&(link, "passed")), "{link}: {report:#}");
    }
    assert_eq!(
        s.faults.canned_left(),
        0,
        "the cleanup's DELETE met the 502 and was repeated"
    );
    let through_proxy = s.faults.answered_with(200);
    assert!(
        through_proxy.iter().any(|(_, p)| p.starts_with("/gateway/")),
        "{through_proxy:?}"
    );

    let mut wrong = s.command(&store, &["verify", "--output", "json"]);
    wrong.env("DCR_KONNECT_DEVELOPER_PASSWORD", "not-the-password-123");
    let output = tokio::time::timeout(RUN_LIMIT, wrong.spawn()?.wait_with_output()).await??;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(2), "a failed verification:\n{text}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let first_failure = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "failed")
        .map(|c| c["link"].clone());
    assert_eq!(first_failure, Some("sign-in".into()), "{report:#}");
    assert!(
        !text.contains("not-the-password-123"),
        "the password is never printed:\n{text}"
    );
    Ok(())
}

/// Issue 17 through the binary: applications Konnect registered are renamed by
/// `dcr rename` (after `--dry-run` and `plan` show the same renames), Auth0's 429s on
/// the renames are waited out, and a second run has nothing to rename.
#[tokio::test]
async fn the_cli_renames_what_konnect_registered_through_429s_and_a_second_run_writes_nothing() -> anyhow::Result<()> {
    use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
    let s = Setup::start().await?;
    let store = s.store("secrets.json");
    s.ok(&store, &["apply", "--auto-approve"]).await?;
    let konnect = konnect_appauth::KonnectClient::builder()
        .base_url(s.var("DCR_KONNECT_BASE_URL"))
        .token(secrecy::SecretString::from(s.var("DCR_KONNECT_TOKEN")))
        .build()?;
    let strategy = konnect
        .auth_strategies()
        .list()
        .name("auth0-dcr")
        .send()
        .await?
        .items
        .remove(0);
    let developer = s.var("DCR_KONNECT_DEVELOPER_ID");
    let apps = konnect.portal_applications(konnect_appauth::PortalId::new(s.var("DCR_KONNECT_PORTAL_ID")));
    for name in ["test", "my app", "test", "demo"] {
        apps.create(&NewApplication::new(name, Owner::developer(developer.clone())).auth_strategy(strategy.id.clone()))
            .await?;
    }
    let named = |args: &[&str]| {
        let mut command = s.command(&store, args);
        command.env("DCR_NAMING_TEMPLATE", "{application_name} by {developer_id}");
        command
    };
    let (code, text) = run_to_end(named(&["rename", "--dry-run"]), &["rename", "--dry-run"]).await?;
    assert_eq!(code, 2, "renames pending:\n{text}");
    assert!(text.contains("Names: 4 to rename"), "{text}");
    assert!(text.contains(&format!("\"test\" -> \"test by {developer}\"")), "{text}");
    let (_, plan) = run_to_end(named(&["plan"]), &["plan"]).await?;
    assert!(plan.contains("Names: 4 to rename"), "plan shows the renames:\n{plan}");

    s.faults.answer(Canned {
        method: "PATCH",
        path: "/api/v2/clients/",
        status: 429,
        headers: vec![
            ("x-ratelimit-limit", "2".into()),
            ("x-ratelimit-remaining", "0".into()),
            (
                "x-ratelimit-reset",
                (SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() + 1).to_string(),
            ),
        ],
        body: r#"{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}"#.into(),
        times: 2,
    });
    let (code, text) = run_to_end(named(&["rename", "--output", "json"]), &["rename"]).await?;
    assert_eq!(code, 0, "{text}");
    let json_start = text.find('{').unwrap();
    let report: serde_json::Value = serde_json::Deserializer::from_str(&text[json_start..])
        .into_iter()
        .next()
        .unwrap()?;
    assert_eq!(report["renamed"].as_array().unwrap().len(), 4, "{report:#}");
    assert_eq!(s.faults.canned_left(), 0, "both 429s were met and waited out");

    let (code, text) = run_to_end(named(&["rename", "--dry-run"]), &["rename", "--dry-run"]).await?;
    assert_eq!(code, 0, "nothing left:\n{text}");
    assert!(text.contains("Names: 0 to rename, 4 already named"), "{text}");
    Ok(())
}

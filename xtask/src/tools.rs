//! Cargo and process helpers: building `bt`, finding the target directory, running commands,
//! and the machine facts the measurements record.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::project_root;

/// `cargo`, as the running cargo names itself (`CARGO`), else from `PATH`.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

/// The workspace's target directory, as cargo resolves it (`CARGO_TARGET_DIR`, config, default).
pub fn target_dir() -> anyhow::Result<PathBuf> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .context("running `cargo metadata`: is cargo on PATH?")?;
    if !out.status.success() {
        bail!("`cargo metadata` failed ({})", out.status);
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("`cargo metadata` printed invalid JSON")?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("`cargo metadata` gave no target_directory")
}

/// What a measuring command (`perf`, `scale`) runs and where it writes: the cargo profile
/// (`build_profile`, else dev with `--quick` and release without), the `bt` built with it, the
/// target directory, and the output directory (`out`, else `<target>/<quick_dir>` with
/// `--quick` and the committed data/performance_test_results without).
pub struct Bench {
    pub profile: String,
    pub bt: PathBuf,
    pub target: PathBuf,
    pub out: PathBuf,
}

impl Bench {
    pub fn prepare(
        build_profile: Option<&str>,
        quick: bool,
        out: Option<&Path>,
        quick_dir: &str,
    ) -> anyhow::Result<Bench> {
        let profile = build_profile.unwrap_or(if quick { "dev" } else { "release" }).to_owned();
        let bt = build_bt(&profile)?;
        let target = target_dir()?;
        let out = match (out, quick) {
            (Some(o), _) => crate::absolute(o),
            (None, true) => target.join(quick_dir),
            (None, false) => project_root().join("data/performance_test_results"),
        };
        Ok(Bench { profile, bt, target, out })
    }
}

/// Builds `bt` with `cargo build --profile <profile> -p bt-cli [extra...]` and returns the
/// binary's path.
pub fn build_bt(profile: &str) -> anyhow::Result<PathBuf> {
    build_binary(profile, "bt-cli", "bt")
}

/// Builds binary `bin` of `package` with a cargo profile and returns its path.
pub fn build_binary(profile: &str, package: &str, bin: &str) -> anyhow::Result<PathBuf> {
    eprintln!("building {bin} ({profile} profile) ...");
    let status = cargo()
        .args(["build", "--profile", profile, "-p", package, "--bin", bin])
        .status()
        .context("running `cargo build`: is cargo on PATH?")?;
    if !status.success() {
        bail!(
            "`cargo build --profile {profile} -p {package}` failed ({status}): fix the build first"
        );
    }
    // `dev` and `test` build into `debug`, `bench` into `release`, a custom profile into its name.
    let dir = match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    };
    let bin = target_dir()?.join(dir).join(format!("{bin}{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        bail!("the build succeeded but {} does not exist", bin.display());
    }
    Ok(bin)
}

/// Runs a command to completion and returns its trimmed stdout, or `None` when it cannot run
/// or fails (for optional machine facts).
pub fn try_output(program: &str, args: &[&str], dir: Option<&Path>) -> Option<String> {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null()).stderr(Stdio::null());
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Removes a directory tree if it exists.
pub fn remove_dir(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", dir.display())),
    }
}

/// A command line as it would be typed (for messages).
pub fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes `text` to `path`, naming the path on failure.
pub fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Machine facts for results.json: what the numbers were measured on.
pub fn machine_info(bt: &Path) -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo.lines().find_map(|l| {
        l.strip_prefix("model name")
            .and_then(|r| r.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
    });
    let os = std::fs::read_to_string("/etc/os-release").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned()))
    });
    let root = project_root();
    json!({
        "cpu": cpu,
        "logical_cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "os": os,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| s.trim().to_owned()),
        "rustc": try_output("rustc", &["-V"], Some(&root)),
        "bt": try_output(&bt.to_string_lossy(), &["--version"], None),
        "git_commit": try_output("git", &["rev-parse", "HEAD"], Some(&root)),
        // Plumbing that does not touch the index: exit 1 when the tree differs from HEAD.
        "git_dirty": std::process::Command::new("git")
            .args(["diff-index", "--quiet", "HEAD", "--"])
            .current_dir(&root)
            .status()
            .ok()
            .and_then(|s| s.code())
            .map(|c| c != 0),
        "date_utc": now_utc(),
        "load_avg_1m": load_avg(),
    })
}

/// The 1-minute load average from /proc/loadavg.
pub fn load_avg() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// The date of the benchmark (metadata, not a result).
fn now_utc() -> Option<String> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let nanos = i64::try_from(secs).ok()?.checked_mul(1_000_000_000)?;
    Some(format!("{}Z", bt_domain::time::format_iso(nanos)))
}

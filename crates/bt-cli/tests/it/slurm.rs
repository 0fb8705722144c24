//! `bt slurm script`: the generated driver, its validation, and a run of it against a stand-in
//! `sbatch` (the real scheduler is exercised by `cargo xtask slurm-test`).

use std::{
    fs,
    path::{Path, PathBuf},
    process::Output,
};

use crate::bt;

/// A small queue (7 simulations) on the bundled GOOG data.
const QUEUE: &str = r#"(
    version: 1,
    datasets: { "goog": (path: "GOOG.csv") },
    simulations: [
        (id: "buy-and-hold", dataset: "goog", strategy: "buy_and_hold", params: {}),
    ],
    sweeps: [
        (id: "sma", datasets: ["goog"], strategy: "sma_cross",
         grid: {"fast": [5, 10, 15], "slow": [20, 40]}),
    ],
)
"#;

/// A temp dir holding `q.ron` and `GOOG.csv`; its path is canonical (what `bt` prints).
fn workdir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = fs::canonicalize(tmp.path()).expect("canonical temp dir");
    fs::write(dir.join("q.ron"), QUEUE).expect("write queue");
    let goog = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/GOOG.csv");
    fs::copy(goog, dir.join("GOOG.csv")).expect("copy GOOG.csv");
    (tmp, dir)
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    bt().current_dir(dir).args(args).output().expect("bt runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Escapes regex metacharacters, for insta filters on literal paths.
fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$".contains(c);
            meta.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}

/// Snapshots `text` with the temp dir and the bt binary redacted.
fn assert_script_snapshot(name: &str, dir: &Path, text: &str) {
    let bt_exe = fs::canonicalize(env!("CARGO_BIN_EXE_bt")).expect("bt binary path");
    insta::with_settings!({filters => vec![
        (regex_escape(&bt_exe.display().to_string()).as_str(), "[BT]"),
        (regex_escape(&dir.display().to_string()).as_str(), "[TMP]"),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

/// `bash -n`: the script parses.
fn assert_bash_parses(script: &Path) {
    let o = std::process::Command::new("bash").arg("-n").arg(script).output().expect("bash runs");
    assert!(o.status.success(), "{}: {}", script.display(), stderr(&o));
}

#[test]
fn script_with_limits() {
    let (_tmp, dir) = workdir();
    let o = run_in(
        &dir,
        &[
            "slurm",
            "script",
            "q.ron",
            "--shards",
            "4",
            "--cpus-per-task",
            "2",
            "--mem",
            "2G",
            "--time",
            "01:30:00",
            "--out",
            "runs/big",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    // Absolute paths, resolved against the working directory.
    assert!(text.contains(&format!("{}/runs/big/shard-", dir.display())), "{text}");
    assert!(text.contains(&format!(" run {}/q.ron \\\n", dir.display())), "{text}");
    assert!(text.contains("#SBATCH --array=0-3\n"), "{text}");
    assert!(text.contains("--dependency=\"afterok:$array\""), "{text}");
    fs::write(dir.join("submit.sh"), &text).expect("write script");
    assert_bash_parses(&dir.join("submit.sh"));
    assert_script_snapshot("script_with_limits", &dir, &text);
}

#[test]
fn script_with_defaults_runs_this_bt_into_runs_stem() {
    let (_tmp, dir) = workdir();
    let o = run_in(&dir, &["slurm", "script", "q.ron", "--shards", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let bt_exe = fs::canonicalize(env!("CARGO_BIN_EXE_bt")).expect("bt binary path");
    assert!(text.contains(&format!("{} run ", bt_exe.display())), "{text}");
    assert!(text.contains(&format!("{}/runs/q/shard-", dir.display())), "{text}");
    assert!(!text.contains("--mem") && !text.contains("--time"), "{text}");
    assert_script_snapshot("script_with_defaults", &dir, &text);
}

#[test]
fn bt_path_with_a_space_is_quoted() {
    let (_tmp, dir) = workdir();
    let o =
        run_in(&dir, &["slurm", "script", "q.ron", "--shards", "2", "--bt", "/opt/my tools/bt"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("'/opt/my tools/bt' run "), "{text}");
    assert!(text.contains("exec '/opt/my tools/bt' merge "), "{text}");
}

#[test]
fn bad_flags_exit_2_and_say_why() {
    let (_tmp, dir) = workdir();
    let cases: &[(&[&str], &str)] = &[
        (&["--shards", "0"], "MaxArraySize"),
        (&["--shards", "1002"], "Slurm's default MaxArraySize is 1001"),
        (&["--shards", "2", "--cpus-per-task", "0"], "at least 1 CPU"),
        (&["--shards", "2", "--mem", "4GB"], "not a Slurm memory size"),
        (&["--shards", "2", "--time", "2h"], "not a Slurm time limit"),
        (&["--shards", "2", "--out", "my runs"], "cannot quote this path"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["slurm", "script", "q.ron"];
        args.extend_from_slice(flags);
        let o = run_in(&dir, &args);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), "", "{flags:?}");
        assert!(stderr(&o).contains(expected), "{flags:?}: {}", stderr(&o));
    }
    let o = run_in(&dir, &["slurm", "script", "missing.ron", "--shards", "2"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("missing.ron"), "{}", stderr(&o));
}

#[test]
fn out_of_range_shards_message() {
    let (_tmp, dir) = workdir();
    let o = run_in(&dir, &["slurm", "script", "q.ron", "--shards", "1002"]);
    insta::assert_snapshot!(stderr(&o));
}

/// A stand-in for `sbatch`: runs the batch script at once, once per array index (from
/// `--array=` or the script's `#SBATCH --array=A-B`), with Slurm's variables set, and prints a
/// job id. Running synchronously satisfies `--dependency=afterok` by construction.
const FAKE_SBATCH: &str = r#"#!/usr/bin/env bash
set -euo pipefail
dir=$(dirname "$0")
array=""
for a in "$@"; do
  case $a in
    --array=*) array=${a#--array=} ;;
    --parsable|--dependency=*|--kill-on-invalid-dep=*) ;;
    -*) echo "fake sbatch: unexpected option $a" >&2; exit 1 ;;
    *) script=$a ;;
  esac
done
echo "$*" >> "$dir/calls"
if [ -z "$array" ]; then
  array=$(sed -n 's/^#SBATCH --array=//p' "$script")
fi
id=$(( $(wc -l < "$dir/calls") + 100 ))
if [ -z "$array" ]; then
  SLURM_JOB_ID=$id SLURM_CPUS_PER_TASK=1 bash "$script" >> "$dir/job-$id.log" 2>&1
else
  case $array in
    *-*) idx=$(seq "${array%-*}" "${array#*-}") ;;
    *) idx=$(tr , ' ' <<< "$array") ;;
  esac
  count=$(wc -w <<< "$idx")
  for k in $idx; do
    SLURM_ARRAY_JOB_ID=$id SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=$count \
      SLURM_CPUS_PER_TASK=1 bash "$script" >> "$dir/job-$id-$k.log" 2>&1
  done
fi
echo "$id"
"#;

#[cfg(unix)]
#[test]
fn generated_driver_runs_shards_and_merge_like_one_machine() {
    use std::os::unix::fs::PermissionsExt as _;

    let (_tmp, dir) = workdir();
    let fake = dir.join("fake-slurm");
    fs::create_dir(&fake).expect("mkdir");
    fs::write(fake.join("sbatch"), FAKE_SBATCH).expect("write fake sbatch");
    fs::set_permissions(fake.join("sbatch"), fs::Permissions::from_mode(0o755)).expect("chmod");

    let single = run_in(&dir, &["-q", "run", "q.ron", "--out", "single", "--no-report"]);
    assert_eq!(single.status.code(), Some(0), "{}", stderr(&single));

    let o = run_in(&dir, &["slurm", "script", "q.ron", "--shards", "3", "--out", "run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    fs::write(dir.join("submit.sh"), stdout(&o)).expect("write driver");
    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap_or_default());
    let submit = || {
        std::process::Command::new("bash")
            .arg("submit.sh")
            .current_dir(&dir)
            .env("PATH", &path)
            .output()
            .expect("bash runs")
    };
    let driver = submit();
    let logs = || {
        let mut all = String::new();
        for e in fs::read_dir(&fake).expect("read fake dir").flatten() {
            all.push_str(&fs::read_to_string(e.path()).unwrap_or_default());
        }
        all
    };
    assert_eq!(driver.status.code(), Some(0), "{}\n{}", stderr(&driver), logs());
    assert!(
        stdout(&driver)
            .starts_with("submitted array job 101 (3 tasks) and merge job 102 (afterok:101)\n"),
        "{}",
        stdout(&driver)
    );
    let calls = fs::read_to_string(fake.join("calls")).expect("sbatch calls");
    let run_dir = dir.join("run");
    assert_eq!(
        calls,
        format!(
            "--parsable {r}/slurm/shards.sbatch\n\
             --parsable --dependency=afterok:101 --kill-on-invalid-dep=yes {r}/slurm/merge.sbatch\n",
            r = run_dir.display()
        )
    );
    for k in 0..3 {
        assert!(run_dir.join(format!("shard-{k}/results.btr")).is_file(), "shard {k}: {}", logs());
    }
    let merged = fs::read(run_dir.join("summary.csv")).expect("merged summary.csv");
    let one_machine = fs::read(dir.join("single/summary.csv")).expect("single summary.csv");
    assert_eq!(merged, one_machine, "merged summary.csv differs from a one-machine run");
    assert_bash_parses(&run_dir.join("slurm/shards.sbatch"));
    assert_bash_parses(&run_dir.join("slurm/merge.sbatch"));

    // Running the driver again must not merge over the finished result.
    let again = submit();
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already holds merged results"), "{}", stderr(&again));
}

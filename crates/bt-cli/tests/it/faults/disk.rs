//! Full disks and outputs that cannot be written: a clear error naming the path, nothing
//! half-written left behind, and a resume or a rerun that finishes the job.

use super::*;

#[test]
fn a_full_disk_stops_the_run_with_a_clear_error_and_resume_finishes_it() {
    let (tmp, q) = workspace(QUEUE);
    let clean = tmp.path().join("clean");
    ok(&run_to(&q, &clean, &["--threads", "2"]));

    // The disk fills up after a few results.
    let out = tmp.path().join("full");
    let mut cmd = bt_limited();
    run_args(&mut cmd, &q, &out, &["--threads", "2"]);
    let o = cmd.output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "a failed write mid-run is exit 1: {err}");
    let results = out.join("results.btr").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {results}: ")), "{err}");
    assert!(err.contains("free disk space") && err.contains("--resume"), "a hint: {err}");
    assert_eq!(err.matches("(os error").count(), 1, "the cause once: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_not_done(&out, "full disk");
    assert_eq!(status(&out), "running");
    let kept = complete_records(&out, "full disk");
    assert!(kept > 0 && kept < TOTAL, "{kept} results kept");
    // More room: the run finishes as if nothing happened.
    ok(&run_to(&q, &out, &["--resume", "--threads", "2"]));
    assert_matches_clean(&out, &clean, "resumed after a full disk");

    // The disk fills up while summary.csv is written (every result is in, from a killed run).
    let fin = tmp.path().join("full-at-summary");
    fs::create_dir_all(&fin).unwrap();
    fs::copy(clean.join("results.btr"), fin.join("results.btr")).unwrap();
    let mut cmd = bt_limited();
    run_args(&mut cmd, &q, &fin, &["--resume"]);
    let o = cmd.output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let summary = fin.join("summary.csv").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {summary}: ")), "{err}");
    assert_not_done(&fin, "full disk at summary.csv");
    assert_eq!(listing(&fin), ["results.btr", "run.json"], "no temporary file is left");
    ok(&run_to(&q, &fin, &["--resume"]));
    assert_matches_clean(&fin, &clean, "resumed after a full disk at summary.csv");

    // ENOSPC itself, for root too: results.btr on /dev/full.
    let dev = tmp.path().join("dev-full");
    fs::create_dir_all(&dev).unwrap();
    std::os::unix::fs::symlink("/dev/full", dev.join("results.btr")).unwrap();
    let o = run_to(&q, &dev, &["--threads", "2"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let results = dev.join("results.btr").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {results}: No space left")), "{err}");
    assert_not_done(&dev, "/dev/full");
    assert_eq!(listing(&dev), ["results.btr", "run.json"]);
}

#[test]
fn other_writers_leave_no_half_written_file_on_a_full_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shards = shard_workspace(dir);
    let before = listing(dir);

    let g = |s: &str| dir.join(s).display().to_string();
    let merged = dir.join("merged");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "data".into(),
                "generate".into(),
                "--bars".into(),
                "5000".into(),
                "--seed".into(),
                "1".into(),
                "-o".into(),
                g("gen.csv"),
            ],
            "gen.csv",
        ),
        (
            vec!["data".into(), "convert".into(), g("GOOG.csv"), "-o".into(), g("goog.parquet")],
            "goog.parquet",
        ),
        (
            vec![
                "gen-queue".into(),
                "--expand".into(),
                g("grid.ron"),
                "-o".into(),
                g("expanded.ron"),
            ],
            "expanded.ron",
        ),
    ];
    for (args, file) in cases {
        let o = bt_limited().args(&args).output().unwrap();
        let err = text(&o.stderr);
        // A full disk is a runtime failure (1), not bad input (2).
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(file), "{args:?}: {err}");
        assert!(!err.contains("corrupted"), "{args:?}: a reader's hint on a write: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(listing(dir), before, "{args:?}: a file was left behind");
    }

    // `bt merge`: the merged results.btr does not fit.
    let merge = |cmd: &mut Command| {
        cmd.arg("merge")
            .args(&shards)
            .arg("--out")
            .arg(&merged)
            .arg("--no-report")
            .output()
            .unwrap()
    };
    let o = merge(&mut bt_limited());
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&merged.join("results.btr").display().to_string()), "{err}");
    assert!(listing(&merged).is_empty(), "nothing half-written in the merged directory");
    ok(&merge(&mut bt()));
    assert_eq!(status(&merged), "complete");

    // `bt report`: report.html (~0.2 MB) does not fit; smaller files before it may. No
    // temporary file remains and the run's own files are untouched.
    let before = run_files(&merged);
    let o = bt_limited().arg("report").arg(&merged).output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&merged.display().to_string()) && !err.contains("panicked"), "{err}");
    let names = listing(&merged);
    assert!(!names.iter().any(|n| n.contains(".tmp") || n == "report.html"), "{names:?}");
    assert!(run_files(&merged) == before, "the run's files changed");
}

#[test]
fn an_unwritable_output_directory_is_exit_2_naming_the_path() {
    let (tmp, q) = workspace(QUEUE);
    let expect_exit_2 = |out: &Path, named: &Path| {
        let o = run_to(&q, out, &[]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", out.display());
        assert!(err.starts_with(&format!("error: cannot write {}: ", named.display())), "{err}");
        assert!(err.contains("--out") && !err.contains("panicked"), "{err}");
    };

    // These fail for root too: a path under a regular file, a regular file, a run.json that
    // cannot be replaced.
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    expect_exit_2(&file.join("out"), &file.join("out"));
    expect_exit_2(&file, &file);
    assert_eq!(fs::read(&file).unwrap(), b"x");
    let blocked = tmp.path().join("blocked");
    fs::create_dir_all(blocked.join("run.json")).unwrap();
    expect_exit_2(&blocked, &blocked.join("run.json"));
    assert_eq!(listing(&blocked), ["run.json"], "nothing was created");

    // Permissions bite only without root (and CAP_DAC_OVERRIDE): probe before asserting.
    let ro = tmp.path().join("ro");
    fs::create_dir_all(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(ro.join("probe"), "").is_err() {
        expect_exit_2(&ro.join("run"), &ro.join("run"));
        expect_exit_2(&ro, &ro.join("run.json"));
        assert!(listing(&ro).is_empty());
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_merge_that_fails_after_writing_results_is_undone_and_runs_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shards = shard_workspace(dir);
    let reference = dir.join("reference");
    ok(&merge_into(bt(), &shards, &reference, &["--no-report"]));
    let again = |out: &Path, extra: &[&str], what: &str| {
        ok(&merge_into(bt(), &shards, out, extra));
        assert!(run_files(out) == run_files(&reference), "{what}: differs from a clean merge");
        assert_eq!(status(out), "complete", "{what}");
    };

    // The disk is full when summary.csv is written, after results.btr went in: its temporary
    // file lands on /dev/full (ENOSPC, for root too).
    let full = dir.join("full-at-summary");
    fs::create_dir_all(&full).unwrap();
    std::os::unix::fs::symlink("/dev/full", full.join("summary.csv.tmp")).unwrap();
    let o = merge_into(bt(), &shards, &full, &["--no-report"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "a full disk is exit 1: {err}");
    let summary = full.join("summary.csv").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {summary}: No space left")), "{err}");
    assert!(err.contains("free disk space, then merge again"), "{err}");
    assert!(err.contains("hint: run the same `bt merge` again"), "{err}");
    assert!(!err.contains("--resume"), "merge has no --resume: {err}");
    assert_eq!(listing(&full), Vec::<String>::new(), "the failed merge left files");
    again(&full, &["--no-report"], "merged again after a full disk at summary.csv");

    // run.json cannot be replaced (a directory is in the way): exit 2, and the results and
    // summary written before it are removed too.
    let blocked = dir.join("blocked-run-json");
    fs::create_dir_all(blocked.join("run.json")).unwrap();
    let o = merge_into(bt(), &shards, &blocked, &["--no-report"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let run_json = blocked.join("run.json").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {run_json}: ")), "{err}");
    assert!(
        err.contains("merge into another directory") && err.contains("hint: pass another --out"),
        "{err}"
    );
    assert_eq!(listing(&blocked), ["run.json"], "only the blocking directory is left");
    fs::remove_dir(blocked.join("run.json")).unwrap();
    again(&blocked, &["--no-report"], "merged again after run.json was unblocked");

    // The disk fills up during the report, after run.json said "complete": 160 blocks (80 kB
    // under dash, 160 kB under bash) is above results.btr and summary.csv and below report.html
    // (~0.2 MB).
    let late = dir.join("full-at-report");
    let o = merge_into(bt_limited_to(160), &shards, &late, &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("undone") && err.contains("hint: run the same `bt merge` again"), "{err}");
    assert!(err.contains("File too large") && !err.contains("panicked"), "{err}");
    assert!(!late.exists(), "the directory the merge created is removed: {:?}", listing(&late));
    again(&late, &[], "merged again after a full disk in the report");
    assert!(late.join("report.html").is_file());
}

#[test]
fn an_output_path_that_cannot_be_used_is_exit_2_for_every_writer() {
    // Paths that fail for root too: under a regular file (not a directory), a directory where a
    // file must go. The same rule as `bt run --out` (an_unwritable_output_directory_...).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shards = shard_workspace(dir);
    let file = dir.join("file");
    fs::write(&file, "x").unwrap();
    let g = |p: &Path| p.display().to_string();
    let cases: Vec<(Vec<String>, PathBuf)> = vec![
        (
            vec!["gen-queue".into(), "--expand".into(), g(&dir.join("small.ron")), "-o".into()],
            file.join("q.ron"),
        ),
        (
            vec![
                "data".into(),
                "generate".into(),
                "--bars".into(),
                "100".into(),
                "--seed".into(),
                "1".into(),
                "-o".into(),
            ],
            file.join("gen.csv"),
        ),
        (
            vec!["data".into(), "convert".into(), g(&dir.join("GOOG.csv")), "-o".into()],
            file.join("g.parquet"),
        ),
    ];
    for (args, out) in cases {
        let o = bt().args(&args).arg(&out).output().unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(&g(&out)), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }

    // `bt merge` into an existing directory where results.btr cannot be created.
    let merged = dir.join("merged");
    fs::create_dir_all(merged.join("results.btr")).unwrap();
    let o = merge_into(bt(), &shards, &merged, &["--no-report"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!("error: cannot write {}: ", g(&merged.join("results.btr")))),
        "{err}"
    );
    assert!(
        err.contains("merge into another directory") && err.contains("hint: pass another --out"),
        "{err}"
    );
    assert_eq!(listing(&merged), ["results.btr"]);
    fs::remove_dir(merged.join("results.btr")).unwrap();
    ok(&merge_into(bt(), &shards, &merged, &["--no-report"]));

    // `bt report` with a directory where report.html must go.
    fs::create_dir_all(merged.join("report.html")).unwrap();
    let o = bt().arg("report").arg(&merged).output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&g(&merged.join("report.html"))) && !err.contains("panicked"), "{err}");
}

#[test]
fn a_full_disk_before_the_first_simulation_is_exit_1_with_resume_advice() {
    // run.json, the first file written, lands on /dev/full: the directory is fine, the disk is
    // not, so "choose another --out" (exit 2) would be the wrong advice.
    let (tmp, q) = workspace(QUEUE);
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink("/dev/full", out.join("run.json.tmp")).unwrap();
    let o = run_to(&q, &out, &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let run_json = out.join("run.json").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {run_json}: No space left")), "{err}");
    assert!(err.contains("free disk space") && !err.contains("another --out"), "{err}");
    assert_eq!(listing(&out), Vec::<String>::new());
}

//! `bt merge`: shard run directories -> one run directory.

use std::{
    collections::BTreeMap,
    ffi::OsString,
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use bt_domain::RunInfo;
use bt_executor::{Counts, ExecError, RunDir, encode_record, read_results, run_info_from_json};
use bt_queue::Queue;

use crate::{BadInput, WriteError};

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bt merge runs/big-0 runs/big-1 runs/big-2 runs/big-3 --out runs/big

The merged summary.csv is byte-identical to a one-machine `bt run` of the whole queue.
A merge that fails (a full disk...) removes what it wrote: run the same command again.")]
pub struct MergeArgs {
    /// Shard run directories.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The merged run directory.
    #[arg(long, short)]
    pub out: PathBuf,
    /// The queue the shards ran [default: the queue recorded in the shards' run.json].
    #[arg(long)]
    pub queue: Option<PathBuf>,
    /// Merge what is there and list what is missing, instead of failing.
    #[arg(long)]
    pub allow_partial: bool,
    /// Do not write the report.
    #[arg(long)]
    pub no_report: bool,
}

pub fn run(args: MergeArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let mut infos: Vec<(PathBuf, RunInfo)> = Vec::new();
    for dir in &args.dirs {
        let rd = RunDir::new(dir);
        let v = rd.read_run_json()?.ok_or_else(|| {
            BadInput(format!("{}: no run.json: not a bt run directory", dir.display()))
        })?;
        infos.push((dir.clone(), run_info_from_json(&v)));
    }
    let hash = infos[0].1.queue_hash.clone();
    let mismatched: Vec<String> = infos
        .iter()
        .filter(|(_, i)| i.queue_hash != hash)
        .map(|(d, i)| {
            format!("  {} has queue hash {} (first shard: {hash})", d.display(), i.queue_hash)
        })
        .collect();
    if !mismatched.is_empty() {
        return Err(BadInput(format!(
            "shards come from different queues:\n{}",
            mismatched.join("\n")
        ))
        .into());
    }
    let queue_path = args.queue.clone().unwrap_or_else(|| PathBuf::from(&infos[0].1.queue));
    let queue = Queue::from_path(&queue_path)?;
    let expected = crate::sim::run_hash(&queue)?;
    if expected != hash {
        return Err(BadInput(format!(
            "{} (with its data files) has hash {expected} but the shards ran with hash {hash}: pass the original queue with --queue, and the data the shards used",
            queue_path.display(),
        ))
        .into());
    }

    // Union of records by id; the same id twice must carry the same result.
    let mut by_id: BTreeMap<String, String> = BTreeMap::new();
    let mut conflicts = Vec::new();
    for (dir, _) in &infos {
        for r in read_results(&RunDir::new(dir).results())? {
            let line = encode_record(&r);
            match by_id.get(&r.id) {
                Some(existing) if *existing != line => {
                    conflicts.push(format!("  {} (again in {})", r.id, dir.display()))
                }
                Some(_) => {}
                None => {
                    by_id.insert(r.id.clone(), line);
                }
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(BadInput(format!(
            "{} simulation(s) appear in several shards with different results:\n{}",
            conflicts.len(),
            conflicts.join("\n")
        ))
        .into());
    }
    let mut missing = Vec::new();
    let mut lines = String::new();
    for spec in queue.iter() {
        match by_id.remove(&spec.id) {
            Some(line) => {
                lines.push_str(&line);
                lines.push('\n');
            }
            None => missing.push(spec.id),
        }
    }
    if !by_id.is_empty() {
        let extra: Vec<&String> = by_id.keys().take(10).collect();
        return Err(BadInput(format!(
            "{} result(s) are not in the queue (first: {extra:?})",
            by_id.len()
        ))
        .into());
    }
    if !missing.is_empty() && !args.allow_partial {
        let shown: Vec<&String> = missing.iter().take(20).collect();
        return Err(BadInput(format!(
            "{} simulation(s) of the queue are in no shard (first: {shown:?}); rerun the missing shards with --resume, or pass --allow-partial",
            missing.len()
        ))
        .into());
    }

    // Read before anything is written: a data error then leaves --out as it was.
    let datasets = if args.no_report { None } else { Some(crate::sim::load_datasets(&queue)?) };

    let dir = RunDir::new(&args.out);
    let created = !dir.path.exists();
    std::fs::create_dir_all(&dir.path).map_err(WriteError::at(&dir.path, "--out", RETRY))?;
    if std::fs::metadata(dir.results()).is_ok_and(|m| m.len() > 0) {
        return Err(BadInput(format!(
            "{} already holds results: choose another --out",
            dir.path.display()
        ))
        .into());
    }
    let before = entries(&dir.path).map_err(WriteError::at(&dir.path, "--out", RETRY))?;
    let first = &infos[0].1;
    let mut info = RunInfo {
        bt_version: env!("CARGO_PKG_VERSION").into(),
        queue: first.queue.clone(),
        queue_hash: hash,
        mode: "merged".into(),
        threads: infos.iter().map(|(_, i)| i.threads).max().unwrap_or(1),
        wall_time_s: infos.iter().map(|(_, i)| i.wall_time_s).fold(0.0, f64::max),
        total: queue.len(),
        ok: 0,
        failed: 0,
        shard: None,
        datasets: first.datasets.clone(),
    };
    let status = if missing.is_empty() { "complete" } else { "partial" };
    let mut written = Vec::new();
    let counts = match publish(&dir, &lines, &mut info, status, datasets.as_ref(), &mut written) {
        Ok(counts) => counts,
        Err(err) => {
            undo(&dir.path, &before, &written, created);
            // A WriteError already says to run `bt merge` again.
            return Err(if err.is::<WriteError>() {
                err
            } else {
                err.context(format!(
                    "bt merge failed and was undone ({} holds no merged run): fix this, then {RETRY}",
                    dir.path.display()
                ))
            });
        }
    };
    writeln!(
        out,
        "merged {} shard(s): {} simulations ({} ok, {} failed) -> {}",
        infos.len(),
        counts.total,
        counts.ok,
        counts.failed,
        args.out.display()
    )?;
    if !missing.is_empty() {
        writeln!(out, "missing {} simulation(s):", missing.len())?;
        for id in &missing {
            writeln!(out, "  {id}")?;
        }
    }
    Ok(if counts.failed > 0 {
        ExitCode::from(crate::run_cmd::EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// What to do after freeing space: a failed merge leaves nothing behind.
const RETRY: &str = "run `bt merge` again";

/// Writes the merged run into `dir`: results.jsonl, summary.csv, run.json (`info` gets the
/// counts), then the report unless `datasets` is `None`. Every file written is pushed to
/// `written`, for [`undo`].
fn publish(
    dir: &RunDir,
    lines: &str,
    info: &mut RunInfo,
    status: &str,
    datasets: Option<&BTreeMap<String, crate::sim::Prepared>>,
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<Counts> {
    let results = dir.results();
    bt_executor::write_atomic(&results, lines.as_bytes())
        .map_err(WriteError::at(&results, "--out", RETRY))?;
    written.push(results);
    let counts = bt_executor::finalize(dir).map_err(rerun)?;
    written.push(dir.summary());
    info.ok = counts.ok;
    info.failed = counts.failed;
    dir.write_run_json(info, status).map_err(rerun)?;
    written.push(dir.run_json());
    if let Some(datasets) = datasets {
        crate::report_run::write_for_run(
            &crate::report_run::default_args(&dir.path, "sharpe_ratio", 10),
            datasets,
        )?;
    }
    Ok(counts)
}

/// A failed write of the executor's helpers says "--resume", which merge does not have.
fn rerun(e: ExecError) -> anyhow::Error {
    match e {
        ExecError::Write { path, source } | ExecError::OutDir { path, source } => {
            WriteError { path, source, option: "--out", retry: RETRY }.into()
        }
        e => e.into(),
    }
}

/// Names in `dir`, sorted.
fn entries(dir: &Path) -> std::io::Result<Vec<OsString>> {
    let mut names = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

/// Removes what a failed merge wrote into `dir`, so the same `bt merge` can simply run again:
/// the run files it wrote, every entry that was not there `before` (report files, temporary
/// files), and `dir` itself if the merge created it. Best effort: the merge's error matters
/// more than a failed cleanup.
fn undo(dir: &Path, before: &[OsString], written: &[PathBuf], created: bool) {
    for path in written {
        let _ = std::fs::remove_file(path);
    }
    for name in entries(dir).unwrap_or_default() {
        if before.binary_search(&name).is_err() {
            let path = dir.join(&name);
            let _ = if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
    if created {
        let _ = std::fs::remove_dir(dir);
    }
}

//! `bt merge`: shard run directories -> one run directory.

use std::{collections::BTreeMap, io::Write, path::PathBuf, process::ExitCode};

use bt_domain::RunInfo;
use bt_executor::{RunDir, encode_record, read_results, run_info_from_json};
use bt_queue::Queue;

use crate::BadInput;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bt merge runs/big-0 runs/big-1 runs/big-2 runs/big-3 --out runs/big

The merged summary.csv is byte-identical to a one-machine `bt run` of the whole queue.")]
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

    let dir = RunDir::new(&args.out);
    std::fs::create_dir_all(&dir.path).map_err(|e| {
        BadInput(format!(
            "cannot write {}: {e}: choose another --out, or make it a writable directory",
            dir.path.display()
        ))
    })?;
    if std::fs::metadata(dir.results()).is_ok_and(|m| m.len() > 0) {
        return Err(BadInput(format!(
            "{} already holds results: choose another --out",
            dir.path.display()
        ))
        .into());
    }
    let tmp = dir.results().with_extension("jsonl.tmp");
    if let Err(e) = std::fs::write(&tmp, lines).and_then(|()| std::fs::rename(&tmp, dir.results()))
    {
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!(
            "cannot write {}: {e}: free disk space (or fix the permissions) and merge again",
            dir.results().display()
        );
    }
    let counts = bt_executor::finalize(&dir)?;
    let first = &infos[0].1;
    let info = RunInfo {
        bt_version: env!("CARGO_PKG_VERSION").into(),
        queue: first.queue.clone(),
        queue_hash: hash,
        mode: "merged".into(),
        threads: infos.iter().map(|(_, i)| i.threads).max().unwrap_or(1),
        wall_time_s: infos.iter().map(|(_, i)| i.wall_time_s).fold(0.0, f64::max),
        total: queue.len(),
        ok: counts.ok,
        failed: counts.failed,
        shard: None,
        datasets: first.datasets.clone(),
    };
    dir.write_run_json(&info, if missing.is_empty() { "complete" } else { "partial" })?;
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
    if !args.no_report {
        crate::report_run::write_for_run(
            &crate::report_run::default_args(&args.out, "sharpe_ratio", 10),
            &crate::sim::load_datasets(&queue)?,
        )?;
    }
    Ok(if counts.failed > 0 {
        ExitCode::from(crate::run_cmd::EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

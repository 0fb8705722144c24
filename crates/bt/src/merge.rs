use std::{
    collections::{BTreeMap, BTreeSet},
    ffi::OsString,
    path::{Path, PathBuf},
    time::Duration,
};

use bt_domain::{ErrorKind, RunInfo, RunMode, RunStatus};
use bt_executor::{
    Counts, ExecError, LockedRunDir, RunDir, for_each_in_queue_order_of, log::LogWriter,
    refuse_conflict,
};
use bt_queue::Queue;
use bt_report::ReportFiles;
use bt_strategies::Registry;

use crate::{
    error::{Error, Result},
    reporting::{ReportOptions, report_into},
    validation::{VALIDATION_JSON, write_validation},
};

/// How to merge shard run directories.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MergeOptions {
    /// The queue the shards ran [default: the queue recorded in the shards' run.json].
    pub queue: Option<PathBuf>,
    /// Merge what is there and list what is missing, instead of failing.
    pub allow_partial: bool,
    /// Write the report of the merged run too.
    pub report: Option<ReportOptions>,
    /// Who holds the merged directory's lock, for a second writer's message [default: this
    /// process's pid and command line].
    pub holder: Option<String>,
}

/// What a merge produced.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeOutcome {
    /// The merged run directory.
    pub dir: PathBuf,
    /// Shards merged.
    pub shards: usize,
    /// Results in the merged run.
    pub counts: Counts,
    /// The first (up to 20) simulations of the queue in no shard (only with `allow_partial`).
    pub missing: Vec<String>,
    /// How many simulations of the queue are in no shard.
    pub missing_count: usize,
    /// The report's files, when one was asked for.
    pub report: Option<ReportFiles>,
}

/// Why shard directories could not be merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// The shards ran different queues or data (or kept different PBO blocks).
    #[error("shards come from different runs:\n{}", list(.mismatched))]
    DifferentQueues {
        /// `dir has queue hash X (first shard: Y)` lines.
        mismatched: Vec<String>,
    },
    /// The queue given (or recorded) is not the one the shards ran.
    #[error(
        "{} (with its data files) has hash {expected} but the shards ran with hash {found}: use the original queue and the data the shards used",
        queue.display()
    )]
    QueueChanged {
        /// The queue file.
        queue: PathBuf,
        /// Its run hash now.
        expected: String,
        /// The shards' run hash.
        found: String,
    },
    /// The same simulation has different results in two shards.
    #[error("{count} simulation(s) appear in several shards with different results:\n{}", list(.conflicts))]
    Conflicts {
        /// How many.
        count: usize,
        /// `id (in A frame N and in B frame M)` lines, the first few.
        conflicts: Vec<String>,
    },
    /// Results of simulations the queue does not have.
    #[error("{count} result(s) are not in the queue (first: {first:?})")]
    NotInQueue {
        /// How many.
        count: usize,
        /// The first ids.
        first: Vec<String>,
    },
    /// Simulations of the queue in no shard.
    #[error(
        "{count} simulation(s) of the queue are in no shard (first: {first:?}): resume the missing shards, or allow a partial merge"
    )]
    Missing {
        /// How many.
        count: usize,
        /// The first ids.
        first: Vec<String>,
    },
    /// The merged directory already holds results.
    #[error("{} already holds results: merge into another directory", path.display())]
    OutHasResults {
        /// The directory.
        path: PathBuf,
    },
    /// A file of the merged run could not be written (the merge was undone).
    #[error(
        "cannot write {}: {source}: {}",
        path.display(),
        if bt_domain::unusable_output(source.kind()) {
            "merge into another directory, or make this one writable"
        } else {
            "free disk space, then merge again"
        }
    )]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The merge failed after writing began, and was undone.
    #[error(
        "the merge failed and was undone ({} holds no merged run): fix the cause, then merge again",
        out.display()
    )]
    Undone {
        /// The merged directory.
        out: PathBuf,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },
}

impl MergeError {
    /// [`ErrorKind::Input`] for shards that cannot be merged; the kind of the cause for a
    /// failed write.
    pub fn kind(&self) -> ErrorKind {
        match self {
            MergeError::Write { source, .. } => ErrorKind::of_write(source.kind()),
            MergeError::Undone { source, .. } => source.kind(),
            _ => ErrorKind::Input,
        }
    }
}

fn list(lines: &[String]) -> String {
    lines.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}

/// Combines shard run directories into `out`: the union of their results (the same id twice
/// must carry the same result), checked against the queue they ran, written in queue order,
/// so the merged summary.csv is byte-identical to a one-machine run. All or nothing: a merge
/// that fails after writing began removes what it wrote.
pub(crate) fn merge(
    registry: &Registry,
    dirs: &[PathBuf],
    out: &Path,
    opts: &MergeOptions,
) -> Result<MergeOutcome> {
    let mut infos: Vec<(PathBuf, RunInfo)> = Vec::new();
    for dir in dirs {
        let info =
            RunDir::new(dir).read_info()?.ok_or_else(|| Error::NotARunDir { path: dir.clone() })?;
        infos.push((dir.clone(), info));
    }
    let Some((_, first)) = infos.first() else {
        return Err(MergeError::Missing { count: 0, first: Vec::new() }.into());
    };
    let hash = first.queue_hash.clone();
    let mut mismatched: Vec<String> = infos
        .iter()
        .filter(|(_, i)| i.queue_hash != hash)
        .map(|(d, i)| {
            format!("{} has queue hash {} (first shard: {hash})", d.display(), i.queue_hash)
        })
        .collect();
    mismatched.extend(infos.iter().filter(|(_, i)| i.pbo_blocks != first.pbo_blocks).map(
        |(d, i)| {
            format!(
                "{} ran with {} PBO blocks (first shard: {})",
                d.display(),
                i.pbo_blocks,
                first.pbo_blocks
            )
        },
    ));
    if !mismatched.is_empty() {
        return Err(MergeError::DifferentQueues { mismatched }.into());
    }
    let queue_path = opts.queue.clone().unwrap_or_else(|| PathBuf::from(&first.queue));
    let queue = Queue::from_path(&queue_path)?;
    let registry = crate::queue_strategies::with_queue_strategies(registry, &queue)?;
    let registry = registry.as_ref();
    let expected = crate::hash::run_hash(&queue)?;
    if expected != hash {
        return Err(MergeError::QueueChanged { queue: queue_path, expected, found: hash }.into());
    }

    // Walk-forward windows follow from the data's length, which run.json records.
    let bars: BTreeMap<String, usize> =
        first.datasets.iter().map(|d| (d.name.clone(), d.bars as usize)).collect();
    let logs: Vec<PathBuf> = infos.iter().map(|(dir, _)| RunDir::new(dir).results()).collect();
    let logs: Vec<&Path> = logs.iter().map(PathBuf::as_path).collect();
    let Union { missing, missing_count } = check_union(&queue, &bars, &logs)?;
    if missing_count > 0 && !opts.allow_partial {
        return Err(MergeError::Missing { count: missing_count, first: missing }.into());
    }
    let missing_none = missing_count == 0;

    // Read before anything is written: a data error then leaves `out` as it was. The
    // walk-forwards' out-of-sample runs need the data too.
    let walk_forward = !queue.walk_forwards().is_empty() && missing_none;
    let datasets = match &opts.report {
        Some(_) => Some(crate::dataset::load_datasets(&queue)?),
        None if walk_forward => Some(crate::dataset::load_datasets(&queue)?),
        None => None,
    };

    let created = !out.exists();
    let holder = opts.holder.clone().unwrap_or_else(bt_fs::this_process);
    let dir = RunDir::new(out).lock(&holder).map_err(|e| match e {
        ExecError::OutDir { path, source } | ExecError::Write { path, source } => {
            Error::from(MergeError::Write { path, source })
        }
        e => e.into(),
    })?;
    if std::fs::metadata(dir.results()).is_ok_and(|m| m.is_file() && m.len() > 0) {
        return Err(MergeError::OutHasResults { path: out.to_owned() }.into());
    }
    let before =
        entries(out).map_err(|source| MergeError::Write { path: out.to_owned(), source })?;
    let mut info = RunInfo {
        bt_version: env!("CARGO_PKG_VERSION").into(),
        queue: first.queue.clone(),
        queue_hash: hash,
        status: if missing_none { RunStatus::Complete } else { RunStatus::Partial },
        mode: RunMode::Merged,
        threads: infos.iter().map(|(_, i)| i.threads).max().unwrap_or(1),
        wall_time_s: infos.iter().map(|(_, i)| i.wall_time_s).fold(0.0, f64::max),
        attempts: Vec::new(),
        total: queue.len() + queue.walk_forward_len(&bars),
        ok: 0,
        failed: 0,
        shard: None,
        datasets: first.datasets.clone(),
        config: first.config.clone(),
        pbo_blocks: first.pbo_blocks,
    };
    let mut written = Vec::new();
    let context = datasets.as_ref().map(|d| Context {
        registry,
        queue: &queue,
        datasets: d,
        walk_forward,
        report: opts.report.as_ref(),
    });
    let published = publish(&dir, &logs, &mut info, context, &mut written);
    match published {
        Ok((counts, report)) => Ok(MergeOutcome {
            dir: out.to_owned(),
            shards: infos.len(),
            counts,
            missing,
            missing_count,
            report,
        }),
        Err(err) => {
            undo(out, &before, &written, created);
            Err(match err {
                e @ Error::Merge(MergeError::Write { .. }) => e,
                e => MergeError::Undone { out: out.to_owned(), source: Box::new(e) }.into(),
            })
        }
    }
}

/// What a merge needs beyond the records: the queue and its data, to run the walk-forwards'
/// out-of-sample simulations and to write the report.
struct Context<'a> {
    registry: &'a Registry,
    queue: &'a Queue,
    datasets: &'a crate::dataset::Datasets,
    walk_forward: bool,
    report: Option<&'a ReportOptions>,
}

/// What the shards hold against the queue.
struct Union {
    /// The first simulations of the queue in no shard.
    missing: Vec<String>,
    /// How many are in none.
    missing_count: usize,
}

/// Checks the shards' records against the queue, streaming both in queue order: a
/// simulation twice must have the same result, every record must be the queue's (or one of
/// its walk-forwards' out-of-sample runs, numbered after it), and what no shard has is
/// listed. Memory: a few frames and the first few names of each problem.
fn check_union(queue: &Queue, bars: &BTreeMap<String, usize>, logs: &[&Path]) -> Result<Union> {
    const SHOWN: usize = 20;
    let out_of_sample: BTreeSet<String> =
        crate::walk_forward::out_of_sample_ids(queue, bars).into_iter().collect();
    let mut specs = queue.iter_with(bars).enumerate().peekable();
    let (mut conflicts, mut conflict_count) = (Vec::new(), 0);
    let (mut stray, mut stray_count) = (Vec::new(), 0);
    let (mut missing, mut missing_count) = (Vec::new(), 0);
    let note = |list: &mut Vec<String>, count: &mut usize, what: String| {
        *count += 1;
        if list.len() < SHOWN {
            list.push(what);
        }
    };
    let mut on_conflict = |c: bt_executor::log::Conflict| {
        conflict_count += 1;
        if conflicts.len() < SHOWN {
            conflicts.push(format!("{} (in {} and in {})", c.record.id, c.first, c.second));
        }
        Ok(())
    };
    for_each_in_queue_order_of(logs, &mut on_conflict, |r| {
        while let Some((_, spec)) = specs.next_if(|(i, _)| (*i as u64) < r.index) {
            note(&mut missing, &mut missing_count, spec.id);
        }
        if specs.next_if(|(i, spec)| *i as u64 == r.index && spec.id == r.id).is_none()
            && !out_of_sample.contains(&r.id)
        {
            note(&mut stray, &mut stray_count, r.id);
        }
        Ok(())
    })?;
    for (_, spec) in specs {
        note(&mut missing, &mut missing_count, spec.id);
    }
    if conflict_count > 0 {
        return Err(MergeError::Conflicts { count: conflict_count, conflicts }.into());
    }
    if stray_count > 0 {
        stray.truncate(10);
        return Err(MergeError::NotInQueue { count: stray_count, first: stray }.into());
    }
    Ok(Union { missing, missing_count })
}

/// Writes the merged run into `dir`: results.btr (the shards' records in queue order, each
/// once), the summaries, validation.json, run.json (`info` gets the counts), then the
/// walk-forwards' out-of-sample runs and the report when there are. Every file written is
/// pushed to `written`, for [`undo`].
fn publish(
    dir: &LockedRunDir,
    logs: &[&Path],
    info: &mut RunInfo,
    context: Option<Context<'_>>,
    written: &mut Vec<PathBuf>,
) -> Result<(Counts, Option<ReportFiles>)> {
    let results = dir.results();
    written.push(results.clone());
    let log = LogWriter::open(&results)
        .map_err(|source| MergeError::Write { path: results.clone(), source })?;
    for_each_in_queue_order_of(logs, &mut refuse_conflict, |r| {
        log.append(&r, Duration::ZERO);
        Ok(())
    })?;
    log.finish().map_err(write_error)?;
    let summaries = crate::summary::RunSummaries::default();
    written.push(dir.summary());
    written.push(dir.summary_parquet());
    let counts = bt_executor::finalize(dir, Some(&summaries)).map_err(write_error)?;
    info.ok = counts.ok;
    info.failed = counts.failed;
    let threads = crate::cluster::default_threads();
    let validation = match summaries.take_trials() {
        Some(trials) => crate::validation::write_collected(dir, trials, threads),
        None => write_validation(dir, threads),
    };
    validation.map_err(|e| match e {
        Error::Exec(e) => write_error(e),
        e => e,
    })?;
    written.push(dir.path.join(VALIDATION_JSON));
    dir.write_info(info).map_err(write_error)?;
    written.push(dir.run_json());
    let Some(cx) = context else { return Ok((counts, None)) };
    let mut counts = counts;
    if cx.walk_forward {
        // Every training run is here: the out-of-sample runs are a resume of the merged run.
        for name in [crate::walk_forward::WALK_FORWARD_CSV, crate::walk_forward::WALK_FORWARD_JSON]
        {
            written.push(dir.path.join(name));
        }
        let opts = crate::run::RunOptions {
            out: dir.path.clone(),
            mode: bt_executor::Mode::Auto(crate::cluster::default_threads()),
            resume: true,
            queue_label: Some(info.queue.clone()),
            pbo_blocks: info.pbo_blocks as usize,
            ..crate::run::RunOptions::default()
        };
        let (outcome, _, _) =
            crate::run::run_locked(cx.registry, cx.queue, cx.datasets, &opts, dir)?;
        counts = Counts {
            total: outcome.info.ok + outcome.info.failed,
            ok: outcome.info.ok,
            failed: outcome.info.failed,
        };
        info.ok = counts.ok;
        info.failed = counts.failed;
        dir.write_info(info).map_err(write_error)?;
    }
    let files = match cx.report {
        Some(opts) => {
            Some(report_into(cx.registry, &dir.path, dir, info, Some(cx.queue), cx.datasets, opts)?)
        }
        None => None,
    };
    Ok((counts, files))
}

/// The executor's failed writes, as a merge's (its advice is to resume, which a merge is not).
fn write_error(e: ExecError) -> Error {
    match e {
        ExecError::Write { path, source } | ExecError::OutDir { path, source } => {
            MergeError::Write { path, source }.into()
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

/// Removes what a failed merge wrote into `dir`, so the same merge can simply run again: the
/// run files it wrote, every entry that was not there `before` (report files, temporary
/// files), and `dir` itself if the merge created it. The lock file stays (it is held until the
/// merge returns). Best effort: the merge's error matters more than a failed cleanup.
fn undo(dir: &Path, before: &[OsString], written: &[PathBuf], created: bool) {
    for path in written {
        let _ = std::fs::remove_file(path);
    }
    for name in entries(dir).unwrap_or_default() {
        if before.binary_search(&name).is_err() && name != bt_fs::LOCK_FILE {
            let path = dir.join(&name);
            let _ = if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
    if created {
        let _ = std::fs::remove_file(dir.join(bt_fs::LOCK_FILE));
        let _ = std::fs::remove_dir(dir);
    }
}

//! A Slurm driver for a queue: a script that submits it as a job array of shards plus a merge
//! job that waits for all of them (`afterok`), for the program that runs it (`bt`, or a program
//! with strategies of its own).
//!
//! The driver writes two ordinary batch scripts under `OUT/slurm/` and submits them, so a user
//! can read them, and resubmit a few failed array indices later with
//! `sbatch --array=3,7 OUT/slurm/shards.sbatch`. The shard count is written into the task
//! command (`--shard "$SLURM_ARRAY_TASK_ID/N"`) instead of `--shard auto`: Slurm sets
//! `SLURM_ARRAY_TASK_COUNT` to the size of the *submitted* array, so after such a partial
//! resubmission `auto` would compute the wrong shards.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use bt_domain::ErrorKind;

use crate::{Workbench, error::Result, shell::shell_word};

/// Slurm's default `MaxArraySize` (slurm.conf): array indices must be below it, so at most this
/// many tasks in an array `0-(N-1)`.
pub const MAX_ARRAY_SIZE: u64 = 1001;

/// The last array index Slurm accepts by default.
const LAST_INDEX: u64 = MAX_ARRAY_SIZE - 1;

/// What the Slurm jobs ask for and where they write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmOptions {
    /// Number of shards = array tasks (1..=[`MAX_ARRAY_SIZE`]).
    pub shards: u64,
    /// CPUs per task; the program runs that many threads (it reads SLURM_CPUS_PER_TASK).
    pub cpus_per_task: u64,
    /// Memory per task, in Slurm's format (`4G`, `500M`) [default: the site's].
    pub mem: Option<String>,
    /// Time limit per task, in Slurm's format (`02:00:00`) [default: the partition's].
    pub time: Option<String>,
    /// Run directory of the merged result; shards go to `OUT/shard-K` (default:
    /// `runs/<queue stem>`).
    pub out: Option<PathBuf>,
    /// The program the jobs run [default: this executable].
    pub program: Option<PathBuf>,
}

impl Default for SlurmOptions {
    /// One shard on one CPU, the site's memory and time limits.
    fn default() -> Self {
        SlurmOptions {
            shards: 1,
            cpus_per_task: 1,
            mem: None,
            time: None,
            out: None,
            program: None,
        }
    }
}

/// Why no Slurm script could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlurmError {
    /// Too many or no shards.
    #[error(
        "{0} shards is out of range: use 1..={MAX_ARRAY_SIZE} (Slurm's default MaxArraySize is {MAX_ARRAY_SIZE}, i.e. array indices 0-{LAST_INDEX}); for more, use fewer, larger shards or ask your admins to raise MaxArraySize"
    )]
    Shards(u64),
    /// Zero CPUs per task.
    #[error("0 CPUs per task: a task needs at least 1 CPU")]
    NoCpus,
    /// A memory size Slurm does not read.
    #[error(
        "memory {0:?} is not a Slurm memory size: use a number with an optional unit K, M, G or T, e.g. 4G or 500M"
    )]
    Mem(String),
    /// A time limit Slurm does not read.
    #[error(
        "time limit {0:?} is not a Slurm time limit: use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, e.g. 02:00:00"
    )]
    Time(String),
    /// The queue file cannot be found.
    #[error("{}: cannot read the queue file: {source}", path.display())]
    Queue {
        /// The path given.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A path `#SBATCH` lines cannot carry.
    #[error("{}: Slurm's #SBATCH lines cannot quote this path: use letters, digits and / . _ - + , = @ : only", path.display())]
    Unquotable {
        /// The path.
        path: PathBuf,
    },
    /// The current directory or executable cannot be found.
    #[error("{what}: {source}")]
    Environment {
        /// What was looked up.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl SlurmError {
    /// [`ErrorKind::Input`], but [`ErrorKind::Io`] when the environment failed.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SlurmError::Environment { .. } => ErrorKind::Io,
            _ => ErrorKind::Input,
        }
    }
}

impl Workbench {
    /// The driver script that runs `queue` (validated) on Slurm as `opts` says.
    pub fn slurm_script(&self, queue: &Path, opts: &SlurmOptions) -> Result<String> {
        Ok(Plan::new(self, queue, opts)?.render())
    }
}

/// Everything the script needs, validated, with absolute paths.
#[derive(Debug)]
struct Plan {
    queue: PathBuf,
    simulations: u64,
    shards: u64,
    cpus: u64,
    mem: Option<String>,
    time: Option<String>,
    out: PathBuf,
    bt: PathBuf,
    job_name: String,
}

impl Plan {
    fn new(wb: &Workbench, queue: &Path, args: &SlurmOptions) -> Result<Plan> {
        if args.shards == 0 || args.shards > MAX_ARRAY_SIZE {
            return Err(SlurmError::Shards(args.shards).into());
        }
        if args.cpus_per_task == 0 {
            return Err(SlurmError::NoCpus.into());
        }
        if let Some(mem) = args.mem.as_ref().filter(|m| !is_slurm_mem(m)) {
            return Err(SlurmError::Mem(mem.clone()).into());
        }
        if let Some(time) = args.time.as_ref().filter(|t| !is_slurm_time(t)) {
            return Err(SlurmError::Time(time.clone()).into());
        }
        let queue_path = std::fs::canonicalize(queue)
            .map_err(|source| SlurmError::Queue { path: queue.to_owned(), source })?;
        let queue = wb.read_queue(&queue_path)?;
        let stem = queue_path.file_stem().and_then(|s| s.to_str()).unwrap_or("run").to_owned();
        let out = match &args.out {
            Some(out) => absolute(out)?,
            None => absolute(&Path::new("runs").join(&stem))?,
        };
        check_plain(&out)?;
        let bt = match &args.program {
            Some(bt) => absolute(bt)?,
            None => std::env::current_exe().map_err(|source| SlurmError::Environment {
                what: "finding this executable (name the program the jobs run)".into(),
                source,
            })?,
        };
        Ok(Plan {
            simulations: queue.len(),
            queue: queue_path,
            shards: args.shards,
            cpus: args.cpus_per_task,
            mem: args.mem.clone(),
            time: args.time.clone(),
            out,
            bt,
            job_name: format!("bt-{}", job_name_part(&stem)),
        })
    }

    fn render(&self) -> String {
        let n = self.shards;
        let last = n - 1;
        let out = self.out.display();
        let bt = shell_word(&self.bt.display().to_string());
        let queue = shell_word(&self.queue.display().to_string());
        let queue_name = self.queue.file_name().map(|s| s.to_string_lossy()).unwrap_or_default();
        let sims = self.simulations;
        let per_task = sims.div_ceil(n);
        let shards = plural(n, "shard");
        let tasks = plural(n, "task");
        // Example indices for the rerun advice, within 0..n.
        let (eg_list, eg_words) = match n {
            1 => ("0".to_owned(), "task 0".to_owned()),
            2..=7 => (format!("1,{last}"), format!("tasks 1 and {last}")),
            _ => ("3,7".to_owned(), "tasks 3 and 7".to_owned()),
        };
        let mut limits = String::new();
        if let Some(mem) = &self.mem {
            let _ = writeln!(limits, "#SBATCH --mem={mem}");
        }
        if let Some(time) = &self.time {
            let _ = writeln!(limits, "#SBATCH --time={time}");
        }
        let site =
            "# Add the options your site requires (--partition, --account, ...) as #SBATCH lines.";
        format!(
            r#"#!/usr/bin/env bash
# bt on Slurm: the queue {queue_name} ({sims} simulations) as a job array of {shards}
# (about {per_task} simulations each), then one merge job. Generated by `bt slurm script`.
#
# Run it where sbatch works (a login node):  bash THIS_FILE
# It writes two batch scripts under {out}/slurm/ and submits them:
#   shards.sbatch  array job, tasks 0-{last}: task K runs shard K/{n} into {out}/shard-K
#   merge.sbatch   runs once every task has succeeded (afterok) and writes {out}/summary.csv
# {out} must be on a file system that every node sees.
#
# When tasks fail (node failure, time limit), the merge job is cancelled. Rerun only those,
# e.g. {eg_words} (--resume keeps what they had finished), then the merge:
#   sbatch --parsable --array={eg_list} {out}/slurm/shards.sbatch        # prints JOBID
#   sbatch --dependency=afterok:JOBID {out}/slurm/merge.sbatch
set -euo pipefail

if [ -e {out}/results.btr ]; then
  echo "{out} already holds merged results: pass another --out to bt slurm script" >&2
  exit 1
fi
mkdir -p {out}/slurm/logs

cat > {out}/slurm/shards.sbatch <<'EOF'
#!/bin/bash
#SBATCH --job-name={job}
#SBATCH --array=0-{last}
#SBATCH --cpus-per-task={cpus}
{limits}#SBATCH --output={out}/slurm/logs/shard-%a.out
#SBATCH --open-mode=append
#SBATCH --requeue
{site}
#
# Task K runs shard K/{n}. The shard count is written out rather than read from
# SLURM_ARRAY_TASK_COUNT (--shard auto): that counts only the submitted indices, so it would
# be wrong when some of them are resubmitted alone.
# Threads: bt uses SLURM_CPUS_PER_TASK. --resume: a requeued or resubmitted task skips the
# simulations it had finished. Exit 3 (some simulations failed) counts as done: the failures
# are recorded in the results, a rerun would fail the same way, and the merge reports them.
set -uo pipefail
{bt} run {queue} \
  --shard "$SLURM_ARRAY_TASK_ID/{n}" --out "{out}/shard-$SLURM_ARRAY_TASK_ID" \
  --resume --no-report
rc=$?
if [ "$rc" -eq 3 ]; then rc=0; fi
exit "$rc"
EOF

cat > {out}/slurm/merge.sbatch <<'EOF'
#!/bin/bash
#SBATCH --job-name={job}-merge
#SBATCH --cpus-per-task=1
{limits}#SBATCH --output={out}/slurm/logs/merge.out
#SBATCH --open-mode=append
{site}
#
# The union of the {shards}, checked against the queue: fails when a simulation is in no
# shard, when two shards disagree on one, or when a shard ran another version of the queue.
# Exit 3: the merge is complete but some simulations failed (see summary.csv).
set -euo pipefail
exec {bt} merge {out}/shard-{{0..{last}}} \
  --queue {queue} --out {out}
EOF

array=$(sbatch --parsable {out}/slurm/shards.sbatch)
array=${{array%%;*}}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  {out}/slurm/merge.sbatch)
merge=${{merge%%;*}}
echo "submitted array job $array ({tasks}) and merge job $merge (afterok:$array)"
echo "watch:  squeue -j $array,$merge"
echo "logs:   {out}/slurm/logs/"
echo "result: {out}/summary.csv"
"#,
            job = self.job_name,
            cpus = self.cpus,
        )
    }
}

/// `n` and a noun, plural when `n != 1`.
fn plural(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// `path` made absolute against the current directory (without resolving symlinks or
/// requiring it to exist).
fn absolute(path: &Path) -> Result<PathBuf, SlurmError> {
    std::path::absolute(path).map_err(|source| SlurmError::Environment {
        what: format!("{}: cannot make it absolute", path.display()),
        source,
    })
}

/// Characters a path may have to appear unquoted in `#SBATCH` lines and shell words.
fn is_plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/._-+,=@:".contains(c)
}

/// The output directory appears in `#SBATCH --output=` lines, which cannot quote: refuse paths
/// that would need quoting.
fn check_plain(path: &Path) -> Result<(), SlurmError> {
    let text = path.to_str().unwrap_or_default();
    if !text.is_empty() && text.chars().all(is_plain_char) {
        return Ok(());
    }
    Err(SlurmError::Unquotable { path: path.to_owned() })
}

/// A job name from a file stem: characters other than letters, digits, `_.-` become `_`.
fn job_name_part(stem: &str) -> String {
    stem.chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '_' })
        .collect()
}

/// Slurm memory: digits with an optional K/M/G/T unit.
fn is_slurm_mem(s: &str) -> bool {
    let digits = s.strip_suffix(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']).unwrap_or(s);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// Slurm time limits: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`/`INFINITE`.
fn is_slurm_time(s: &str) -> bool {
    if matches!(s, "UNLIMITED" | "INFINITE") {
        return true;
    }
    let number = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    let (days, rest) = match s.split_once('-') {
        Some((d, rest)) => (Some(d), rest),
        None => (None, s),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    days.is_none_or(number) && parts.len() <= 3 && parts.iter().all(|p| number(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_time_formats() {
        for ok in ["30", "30:00", "02:00:00", "1-12", "1-12:30", "1-12:30:00", "UNLIMITED"] {
            assert!(is_slurm_time(ok), "{ok}");
        }
        for bad in ["", "2h", "1:2:3:4", "-1", "1-", "1-2:3:4:5", "02:00:00\n#SBATCH x", "1 h"] {
            assert!(!is_slurm_time(bad), "{bad:?}");
        }
    }

    #[test]
    fn slurm_mem_formats() {
        for ok in ["4G", "500M", "1024", "2t"] {
            assert!(is_slurm_mem(ok), "{ok}");
        }
        for bad in ["", "G", "4GB", "4 G", "-1", "4G\n"] {
            assert!(!is_slurm_mem(bad), "{bad:?}");
        }
    }

    #[test]
    fn job_names_keep_only_safe_characters() {
        assert_eq!(job_name_part("big sweep;rm"), "big_sweep_rm");
        assert_eq!(job_name_part("example-1.v2"), "example-1.v2");
    }
}

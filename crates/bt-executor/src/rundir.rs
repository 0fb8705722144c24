//! The run directory: its files, its one-writer lock and its metadata (`run.json`).

use std::{
    fs,
    ops::Deref,
    path::{Path, PathBuf},
};

use bt_domain::{Attempt, DatasetInfo, ParamValue, RunInfo, RunMode, RunStatus};
use serde_json::{Value, json};

use crate::error::ExecError;

/// Paths of a run directory; reading needs nothing more. Writing needs the lock:
/// [`RunDir::lock`] gives a [`LockedRunDir`], which every writer of the executor takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    /// The directory.
    pub path: PathBuf,
}

impl RunDir {
    /// A run directory at `path` (not created yet).
    pub fn new(path: impl Into<PathBuf>) -> RunDir {
        RunDir { path: path.into() }
    }
    /// `results.btr`: the result log, every finished simulation in completion order (see
    /// docs/results-format.md).
    pub fn results(&self) -> PathBuf {
        self.path.join("results.btr")
    }
    /// `summary.parquet`: one typed row per simulation, in queue order.
    pub fn summary_parquet(&self) -> PathBuf {
        self.path.join("summary.parquet")
    }
    /// `summary.csv`: one row per simulation, in queue order.
    pub fn summary(&self) -> PathBuf {
        self.path.join("summary.csv")
    }
    /// `run.json`: run metadata.
    pub fn run_json(&self) -> PathBuf {
        self.path.join("run.json")
    }

    /// Creates the directory if needed and takes its writer lock, recording `holder` (pid and
    /// command line) for whoever tries next. A second writer, in this process or another,
    /// gets [`ExecError::Locked`] at once; the kernel releases the lock when the holder exits
    /// or dies.
    pub fn lock(&self, holder: &str) -> Result<LockedRunDir, ExecError> {
        fs::create_dir_all(&self.path).map_err(ExecError::setup(&self.path))?;
        match bt_fs::DirLock::acquire(&self.path, holder) {
            Ok(lock) => Ok(LockedRunDir { dir: self.clone(), _lock: lock }),
            Err(bt_fs::LockError::Held { dir, holder }) => {
                Err(ExecError::Locked { path: dir, holder })
            }
            Err(bt_fs::LockError::Io { path, source })
                if source.kind() == std::io::ErrorKind::Unsupported
                    || source.raw_os_error() == Some(38) =>
            {
                // ENOSYS (38): flock is not implemented by this file system.
                Err(ExecError::LockUnsupported { path, source })
            }
            Err(bt_fs::LockError::Io { path, source }) => Err(ExecError::setup(path)(source)),
            Err(e) => Err(ExecError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }

    /// Reads `run.json`: `None` when there is none (not a run directory, or a run that never
    /// started).
    pub fn read_info(&self) -> Result<Option<RunInfo>, ExecError> {
        let path = self.run_json();
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ExecError::Io { path, source: e }),
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| ExecError::Corrupt {
            path: path.clone(),
            line: e.line(),
            message: format!("run.json is not valid JSON: {e}"),
        })?;
        info_from_json(&v).map(Some).map_err(|message| ExecError::Corrupt {
            path,
            line: 1,
            message,
        })
    }
}

/// A run directory whose writer lock this process holds (see [`RunDir::lock`]): the only way
/// to write one, so two writers can never interleave. Dropping it releases the lock.
#[derive(Debug)]
pub struct LockedRunDir {
    dir: RunDir,
    _lock: bt_fs::DirLock,
}

impl Deref for LockedRunDir {
    type Target = RunDir;
    fn deref(&self) -> &RunDir {
        &self.dir
    }
}

impl LockedRunDir {
    /// Writes `run.json` atomically.
    pub fn write_info(&self, info: &RunInfo) -> Result<(), ExecError> {
        let text = serde_json::to_string_pretty(&info_to_json(info))
            .expect("json values serialize")
            + "\n";
        write_run_file(&self.run_json(), text.as_bytes())
    }
}

/// [`bt_fs::write_atomic`] for a file of the run directory; the error names `path`, the file
/// the user knows.
pub(crate) fn write_run_file(path: &Path, bytes: &[u8]) -> Result<(), ExecError> {
    bt_fs::write_atomic(path, bytes).map_err(ExecError::write(path))
}

fn info_to_json(info: &RunInfo) -> Value {
    let datasets: Vec<Value> = info
        .datasets
        .iter()
        .map(|d| json!({"name": d.name, "source": d.source, "bars": d.bars}))
        .collect();
    let attempts: Vec<Value> = info
        .attempts
        .iter()
        .map(|a| {
            json!({
                "mode": a.mode.name(),
                "threads": a.threads,
                "started": a.started.map(bt_domain::time::format_iso),
                "wall_time_s": a.wall_time_s,
                "ran": a.ran,
                "ended": a.ended,
            })
        })
        .collect();
    json!({
        "bt_version": info.bt_version,
        "status": info.status.name(),
        "queue": info.queue,
        "queue_hash": info.queue_hash,
        "shard": info.shard,
        "mode": info.mode.name(),
        "threads": info.threads,
        "wall_time_s": info.wall_time_s,
        "attempts": attempts,
        "total": info.total,
        "ok": info.ok,
        "failed": info.failed,
        "datasets": datasets,
        "pbo_blocks": info.pbo_blocks,
        "config": info.config.iter().map(|(k, v)| (k.clone(), param_json(v))).collect::<serde_json::Map<_, _>>(),
    })
}

fn param_json(v: &ParamValue) -> Value {
    match v {
        ParamValue::Int(i) => Value::from(*i),
        ParamValue::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        ParamValue::Bool(b) => Value::from(*b),
        ParamValue::Str(s) => Value::from(s.clone()),
    }
}

/// Parses run.json; fields missing in files of older versions take their defaults.
fn info_from_json(v: &Value) -> Result<RunInfo, String> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let u = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or_default();
    let f = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or_default();
    let mode = |v: &Value| {
        let name = s(v, "mode");
        RunMode::parse(&name).ok_or_else(|| format!("unknown mode {name:?}"))
    };
    let status = s(v, "status");
    let status = RunStatus::parse(&status).ok_or_else(|| format!("unknown status {status:?}"))?;
    let attempts = match v.get("attempts").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .map(|a| {
                Ok(Attempt {
                    mode: mode(a)?,
                    threads: u(a, "threads"),
                    started: a
                        .get("started")
                        .and_then(Value::as_str)
                        .and_then(bt_domain::time::parse_iso),
                    wall_time_s: f(a, "wall_time_s"),
                    ran: u(a, "ran"),
                    // Files of versions that wrote an attempt only at its end.
                    ended: a.get("ended").and_then(Value::as_bool).unwrap_or(true),
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
        None => Vec::new(),
    };
    let datasets = v
        .get("datasets")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|d| DatasetInfo {
                    name: s(d, "name"),
                    source: s(d, "source"),
                    bars: u(d, "bars"),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(RunInfo {
        bt_version: s(v, "bt_version"),
        queue: s(v, "queue"),
        queue_hash: s(v, "queue_hash"),
        status,
        mode: mode(v)?,
        threads: u(v, "threads"),
        wall_time_s: f(v, "wall_time_s"),
        attempts,
        total: u(v, "total"),
        ok: u(v, "ok"),
        failed: u(v, "failed"),
        shard: v.get("shard").and_then(Value::as_str).map(str::to_owned),
        datasets,
        pbo_blocks: u(v, "pbo_blocks"),
        config: v
            .get("config")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let value = match v {
                            Value::Bool(b) => ParamValue::Bool(*b),
                            Value::Number(n) if n.is_i64() => ParamValue::Int(n.as_i64()?),
                            Value::Number(n) => ParamValue::Float(n.as_f64()?),
                            _ => return None,
                        };
                        Some((k.clone(), value))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_json_round_trips_and_the_lock_excludes_a_second_writer() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path().join("run"));
        assert_eq!(dir.read_info().unwrap(), None);
        let locked = dir.lock("pid 1: first").unwrap();
        let err = dir.lock("pid 2: second").unwrap_err();
        assert!(
            matches!(&err, ExecError::Locked { holder: Some(h), .. } if h == "pid 1: first"),
            "{err:?}"
        );
        let info = RunInfo {
            queue: "q.ron".into(),
            queue_hash: "h".into(),
            status: RunStatus::Interrupted,
            mode: RunMode::Parallel,
            threads: 2,
            wall_time_s: 3.5,
            attempts: vec![
                Attempt {
                    mode: RunMode::Sequential,
                    threads: 1,
                    started: Some(1_764_900_000_000_000_000),
                    wall_time_s: 1.5,
                    ran: 3,
                    ended: true,
                },
                Attempt {
                    mode: RunMode::Parallel,
                    threads: 2,
                    started: None,
                    wall_time_s: 2.0,
                    ran: 4,
                    ended: false,
                },
            ],
            shard: Some("1/3".into()),
            datasets: vec![DatasetInfo { name: "g".into(), source: "g.csv".into(), bars: 9 }],
            config: vec![
                ("commission".into(), ParamValue::Float(0.002)),
                ("hedging".into(), ParamValue::Bool(true)),
                ("atr_periods".into(), ParamValue::Int(14)),
            ],
            ..RunInfo::default()
        };
        locked.write_info(&info).unwrap();
        assert_eq!(dir.read_info().unwrap(), Some(info));
        drop(locked);
        assert!(dir.lock("pid 3").is_ok());
        // A run.json of a version that wrote attempts only at their end, without start times.
        let old = r#"{"status": "complete", "mode": "parallel", "wall_time_s": 3.0,
            "attempts": [{"mode": "parallel", "threads": 2, "wall_time_s": 3.0, "ran": 7}]}"#;
        fs::write(dir.run_json(), old).unwrap();
        let read = dir.read_info().unwrap().unwrap();
        let want = Attempt {
            mode: RunMode::Parallel,
            threads: 2,
            started: None,
            wall_time_s: 3.0,
            ran: 7,
            ended: true,
        };
        assert_eq!((read.attempts, read.wall_time_s), (vec![want], 3.0));
        fs::write(dir.run_json(), "{\"status\": \"odd\", \"mode\": \"sequential\"}").unwrap();
        assert!(matches!(dir.read_info(), Err(ExecError::Corrupt { .. })));
    }
}

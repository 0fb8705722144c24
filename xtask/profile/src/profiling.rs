//! Self-profiling for `cargo xtask profile`: when `BT_PROFILE_DIR` is
//! set, a pprof CPU profiler samples the whole process and a tracing layer times the phases
//! (spans such as `load_data`, `simulate`, `report`). At the end, the directory receives:
//!
//! - `flamegraph.svg`: the CPU samples as a flamegraph (pprof + inferno);
//! - `top.txt`: the 15 functions with the most self samples;
//! - `phases.json` and `phases.txt`: wall time per span path, absolute, percent of the run and
//!   per simulation (when `sim` spans mark simulations), also printed on stderr.
//!
//! pprof samples with SIGPROF/setitimer, so it needs neither perf nor root; the kernel tick caps
//! the effective rate (about 230 Hz on a CONFIG_HZ=250 machine for the 997 Hz asked for).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
    sync::Mutex,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use tracing::{Subscriber, span};
use tracing_subscriber::{
    Layer,
    layer::{Context, Filter},
    registry::LookupSpan,
};

/// The environment variable that turns profiling on: the output directory.
pub const ENV: &str = "BT_PROFILE_DIR";

/// Sampling frequency asked of pprof (prime, so that it does not beat with periodic work).
const FREQUENCY_HZ: i32 = 997;
/// Lines of `top.txt`.
const TOP: usize = 15;
/// The span whose count is the number of simulations, for per-simulation times.
const SIM_SPAN: &str = "sim";

/// The phases of the process, filled by every [`phase_layer`].
static PHASES: Mutex<PhaseTable> = Mutex::new(PhaseTable { rows: BTreeMap::new(), next: 0 });

/// Wall time per span path (`simulate/sim/engine`).
#[derive(Debug, Default)]
struct PhaseTable {
    rows: BTreeMap<String, PhaseRow>,
    /// Order of first appearance, so that the report follows the run.
    next: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct PhaseRow {
    order: u64,
    calls: u64,
    total: Duration,
}

impl PhaseTable {
    /// Registers a path when its first span opens, so that rows follow the run.
    fn open(&mut self, path: &str) {
        if !self.rows.contains_key(path) {
            let order = self.next;
            self.next += 1;
            self.rows.insert(path.to_owned(), PhaseRow { order, ..PhaseRow::default() });
        }
    }

    fn record(&mut self, path: &str, elapsed: Duration) {
        let row = self.rows.entry(path.to_owned()).or_default();
        row.calls += 1;
        row.total += elapsed;
    }
}

/// Profiling in progress; dropping it stops the profiler and writes the outputs.
pub struct Guard {
    profiler: Option<pprof::ProfilerGuard<'static>>,
    dir: PathBuf,
    started: Instant,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// Starts the CPU profiler; the outputs go into `dir` (created if missing).
pub fn start(dir: &Path) -> anyhow::Result<Guard> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the profile directory {}", dir.display()))?;
    let profiler = pprof::ProfilerGuardBuilder::default()
        .frequency(FREQUENCY_HZ)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .context("cannot start the pprof profiler")?;
    Ok(Guard { profiler: Some(profiler), dir: dir.to_owned(), started: Instant::now() })
}

/// [`start`] into `$BT_PROFILE_DIR` when it is set and not empty.
pub fn from_env() -> anyhow::Result<Option<Guard>> {
    match std::env::var_os(ENV) {
        Some(dir) if !dir.is_empty() => start(Path::new(&dir)).map(Some),
        _ => Ok(None),
    }
}

impl Guard {
    /// Stops the profiler and writes flamegraph.svg, top.txt, phases.json and phases.txt (once).
    fn write(&mut self) -> anyhow::Result<()> {
        let Some(profiler) = self.profiler.take() else { return Ok(()) };
        let wall = self.started.elapsed();
        let report = profiler
            .report()
            .frames_post_processor(qualify_frames)
            .build()
            .context("cannot build the pprof report")?;
        drop(profiler);
        let svg = self.dir.join("flamegraph.svg");
        let file = std::fs::File::create(&svg)
            .with_context(|| format!("cannot write {}", svg.display()))?;
        let mut options = pprof::flamegraph::Options::default();
        options.title = format!("bt: CPU samples ({:.2} s wall)", wall.as_secs_f64());
        report
            .flamegraph_with_options(std::io::BufWriter::new(file), &mut options)
            .context("cannot draw the flamegraph")?;
        let stacks: Vec<(Vec<String>, u64)> = report
            .data
            .iter()
            .map(|(frames, count)| {
                // Innermost first; within a frame, inlined functions innermost first.
                let names =
                    frames.frames.iter().flatten().map(|s| clean_symbol(&s.name())).collect();
                (names, u64::try_from(*count).unwrap_or(0))
            })
            .collect();
        let top = top_functions(&stacks, wall);
        write_file(&self.dir.join("top.txt"), &top)?;
        let table = std::mem::take(&mut *PHASES.lock().unwrap_or_else(|e| e.into_inner()));
        let (json, text) = phase_report(&table, wall);
        write_file(&self.dir.join("phases.json"), &json)?;
        write_file(&self.dir.join("phases.txt"), &text)?;
        eprintln!("{text}");
        eprintln!("profile written to {}", self.dir.display());
        Ok(())
    }
}

impl Drop for Guard {
    /// Writes the outputs (errors go to stderr: the run itself has already succeeded or not).
    fn drop(&mut self) {
        if let Err(e) = self.write() {
            eprintln!("error: writing the profile: {e:#}");
        }
    }
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Gives inlined frames their module path: with line tables only, their debug names are bare
/// (`on_equity`), which says little in a flamegraph; the source file says where they live.
fn qualify_frames(frames: &mut pprof::Frames) {
    for symbol in frames.frames.iter_mut().flatten() {
        let name = symbol.name();
        let head = name.split('<').next().unwrap_or_default();
        if head.contains("::") {
            continue;
        }
        if let Some(module) = symbol.filename.as_deref().and_then(module_of) {
            symbol.name = Some(format!("{module}::{name}").into_bytes());
        }
    }
}

/// `crates/bt-stats/src/accumulator.rs` -> `bt_stats::accumulator`; `library/core/src/num/f64.rs`
/// -> `core::num::f64`; `.../registry/src/<index>/polars-core-0.55.2/src/lib.rs` -> `polars_core`.
fn module_of(path: &Path) -> Option<String> {
    let parts: Vec<&str> = path.iter().filter_map(|c| c.to_str()).collect();
    let src = parts.iter().rposition(|p| *p == "src")?;
    let krate = parts.get(src.checked_sub(1)?)?;
    let krate = match krate.rsplit_once('-') {
        // A registry directory: name-version.
        Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => name,
        _ => krate,
    };
    let mut module = vec![krate.replace('-', "_")];
    for (i, part) in parts[src + 1..].iter().enumerate() {
        let last = i == parts.len() - src - 2;
        let part = if last { part.strip_suffix(".rs").unwrap_or(part) } else { part };
        if !(last && matches!(part, "lib" | "main" | "mod")) {
            module.push(part.replace('-', "_"));
        }
    }
    Some(module.join("::"))
}

/// A demangled name without the `::h0123456789abcdef` hash suffix.
fn clean_symbol(name: &str) -> String {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// The `top.txt` text: functions by self samples (innermost frame), with inclusive samples
/// (stacks the function appears in, counted once per stack).
fn top_functions(stacks: &[(Vec<String>, u64)], wall: Duration) -> String {
    let total: u64 = stacks.iter().map(|(_, n)| n).sum();
    let mut own: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (names, n) in stacks {
        if let Some(leaf) = names.first() {
            own.entry(leaf).or_default().0 += n;
        }
        let mut seen: Vec<&str> = names.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for name in seen {
            own.entry(name).or_default().1 += n;
        }
    }
    let mut rows: Vec<(&str, u64, u64)> = own.into_iter().map(|(k, (s, i))| (k, s, i)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(b.0)));
    let secs = wall.as_secs_f64();
    let mut out = format!(
        "Top {TOP} functions by self samples: {total} samples over {secs:.2} s of wall time ({:.0} samples/s; pprof at {FREQUENCY_HZ} Hz asked)\n",
        total as f64 / secs.max(1e-9)
    );
    let _ = writeln!(out, "{:>7} {:>6} {:>6}  function", "self", "self%", "incl%");
    let pct = |n: u64| 100.0 * n as f64 / total.max(1) as f64;
    for (name, own, incl) in rows.iter().filter(|r| r.1 > 0).take(TOP) {
        let mut name = (*name).to_owned();
        if name.chars().count() > 140 {
            name = name.chars().take(139).collect::<String>() + "…";
        }
        let _ = writeln!(out, "{own:>7} {:>5.1}% {:>5.1}%  {name}", pct(*own), pct(*incl));
    }
    out
}

/// `phases.json` and the printed breakdown.
fn phase_report(table: &PhaseTable, wall: Duration) -> (String, String) {
    let wall_s = wall.as_secs_f64();
    let mut rows: Vec<(&String, &PhaseRow)> = table.rows.iter().collect();
    rows.sort_by_key(|(_, r)| r.order);
    let sims = table
        .rows
        .iter()
        .find(|(p, _)| p.rsplit('/').next() == Some(SIM_SPAN))
        .map(|(_, r)| r.calls);
    let top_level: f64 =
        rows.iter().filter(|(p, _)| !p.contains('/')).map(|(_, r)| r.total.as_secs_f64()).sum();
    let mut text = format!(
        "Phases: wall time per span ({wall_s:.3} s in total{})\n",
        sims.map(|n| format!(", {n} simulations")).unwrap_or_default()
    );
    let _ = writeln!(
        text,
        "  {:<28} {:>7} {:>10} {:>7} {:>12}{}",
        "span",
        "calls",
        "total s",
        "% wall",
        "per call ms",
        if sims.is_some() { "   per sim ms" } else { "" }
    );
    let mut json_rows = Vec::new();
    for (path, r) in &rows {
        let depth = path.matches('/').count();
        let name = path.rsplit('/').next().unwrap_or(path);
        let total = r.total.as_secs_f64();
        let per_call = total / r.calls.max(1) as f64;
        let per_sim = sims.map(|n| total / n.max(1) as f64);
        let _ = writeln!(
            text,
            "  {:<28} {:>7} {:>10.3} {:>6.1}% {:>12.3}{}",
            format!("{}{name}", "  ".repeat(depth)),
            r.calls,
            total,
            100.0 * total / wall_s.max(1e-12),
            per_call * 1e3,
            per_sim.map(|s| format!(" {:>13.4}", s * 1e3)).unwrap_or_default()
        );
        json_rows.push(serde_json::json!({
            "path": path,
            "name": name,
            "depth": depth,
            "calls": r.calls,
            "total_s": total,
            "pct_of_wall": 100.0 * total / wall_s.max(1e-12),
            "per_call_s": per_call,
            "per_sim_s": per_sim,
        }));
    }
    let outside = (wall_s - top_level).max(0.0);
    let _ = writeln!(
        text,
        "  {:<28} {:>7} {:>10.3} {:>6.1}%",
        "(outside top-level spans)",
        "",
        outside,
        100.0 * outside / wall_s.max(1e-12)
    );
    text.push_str(
        "  (spans on worker threads add up across threads: % wall can pass 100 in parallel runs)\n",
    );
    let json = serde_json::json!({
        "wall_s": wall_s,
        "simulations": sims,
        "outside_top_level_s": outside,
        "phases": json_rows,
    });
    (serde_json::to_string_pretty(&json).unwrap_or_default() + "\n", text)
}

/// Start time and path of a span, kept in its extensions.
struct Started {
    at: Instant,
    path: String,
}

/// Times every span from creation to close, by path (`simulate/sim`).
struct PhaseLayer {
    table: &'static Mutex<PhaseTable>,
}

impl<S> Layer<S> for PhaseLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            let path = span.scope().from_root().map(|s| s.name()).collect::<Vec<_>>().join("/");
            self.table.lock().unwrap_or_else(|e| e.into_inner()).open(&path);
            span.extensions_mut().insert(Started { at: Instant::now(), path });
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        if let Some(started) = ext.get::<Started>() {
            let elapsed = started.at.elapsed();
            self.table.lock().unwrap_or_else(|e| e.into_inner()).record(&started.path, elapsed);
        }
    }
}

/// Spans only, at every level (the log filter of the fmt layer does not apply here).
struct SpansOnly;

impl<S> Filter<S> for SpansOnly {
    fn enabled(&self, meta: &tracing::Metadata<'_>, _: &Context<'_, S>) -> bool {
        meta.is_span()
    }
}

/// The phase-timing layer when `BT_PROFILE_DIR` is set, else `None` (a no-op layer). Give the
/// fmt layer its own filter (`.with_filter(env_filter)`): a global filter would hide the info
/// spans from this layer.
pub fn phase_layer<S>() -> Option<impl Layer<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    std::env::var_os(ENV)
        .filter(|d| !d.is_empty())
        .map(|_| PhaseLayer { table: &PHASES }.with_filter(SpansOnly))
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn layer_times_spans_by_path_in_order_of_appearance() {
        let table: &'static Mutex<PhaseTable> =
            Box::leak(Box::new(Mutex::new(PhaseTable::default())));
        let subscriber =
            tracing_subscriber::registry().with(PhaseLayer { table }.with_filter(SpansOnly));
        tracing::subscriber::with_default(subscriber, || {
            let _load = tracing::info_span!("load_data").entered();
            drop(_load);
            let _sim = tracing::info_span!("simulate").entered();
            for _ in 0..3 {
                let _one = tracing::debug_span!("sim").entered();
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let t = table.lock().unwrap();
        let paths: Vec<(&str, u64)> = {
            let mut v: Vec<_> = t.rows.iter().collect();
            v.sort_by_key(|(_, r)| r.order);
            v.into_iter().map(|(p, r)| (p.as_str(), r.calls)).collect()
        };
        assert_eq!(paths, [("load_data", 1), ("simulate", 1), ("simulate/sim", 3)]);
        assert!(t.rows["simulate/sim"].total >= Duration::from_millis(6));
        assert!(t.rows["simulate"].total >= t.rows["simulate/sim"].total);
        let (json, text) = phase_report(&t, Duration::from_millis(10));
        assert!(text.contains("3 simulations"), "{text}");
        assert!(text.contains("    sim "), "nested spans are indented: {text}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["simulations"], 3);
        assert_eq!(v["phases"][2]["path"], "simulate/sim");
    }

    #[test]
    fn top_functions_count_self_at_the_leaf_and_inclusive_once_per_stack() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let stacks = vec![
            (s(&["sma", "init", "run", "main"]), 30),
            (s(&["next", "run", "main"]), 60),
            (s(&["run", "run", "main"]), 10),
        ];
        let text = top_functions(&stacks, Duration::from_secs(1));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("100 samples"), "{text}");
        assert!(lines[2].ends_with("next") && lines[2].contains("60.0%"), "{text}");
        assert!(lines[3].ends_with("sma"), "{text}");
        assert!(lines[4].ends_with("run") && lines[4].contains("100.0%"), "{text}");
        assert_eq!(lines.len(), 5, "functions with no self samples are left out: {text}");
    }

    #[test]
    fn inlined_frames_get_the_module_of_their_source_file() {
        let m = |p: &str| module_of(Path::new(p));
        assert_eq!(m("/w/crates/bt-stats/src/accumulator.rs").unwrap(), "bt_stats::accumulator");
        assert_eq!(m("/w/crates/bt-engine/src/lib.rs").unwrap(), "bt_engine");
        assert_eq!(m("/rustc/abc/library/core/src/num/f64.rs").unwrap(), "core::num::f64");
        assert_eq!(
            m("/r/registry/src/index.crates.io-1949cf8c6b5b557f/polars-core-0.55.2/src/frame/mod.rs")
                .unwrap(),
            "polars_core::frame"
        );
        assert_eq!(m("/tmp/x.rs"), None);
    }

    #[test]
    fn symbol_hashes_are_dropped() {
        assert_eq!(clean_symbol("bt_engine::run::h0123456789abcdef"), "bt_engine::run");
        assert_eq!(clean_symbol("core::hint::spin"), "core::hint::spin");
    }
}

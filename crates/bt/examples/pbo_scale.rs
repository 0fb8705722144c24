//! The cost of the PBO for a large group of trials: `cargo run --release -p bt --example
//! pbo_scale -- [TRIALS] [THREADS]` (defaults 100000 and every core). Synthetic trials (T =
//! 2147 returns, the GOOG daily grid's, in 16 blocks, each trial with its own drift) are fed
//! to a `TrialGroup` as a run would; prints the time of the DSR and of the 12,870 splits, and
//! the process's peak resident memory.

use std::time::Instant;

use bt::{domain::ReturnStats, domain::rng::SplitMix64, stats::overfit::TrialGroup};

const T: u64 = 2147;
const S: usize = 16;

/// A standard normal draw (Box-Muller).
fn normal(r: &mut SplitMix64) -> f64 {
    let (u, v) = (r.unit_f64().max(1e-300), r.unit_f64());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Block sums of `T` returns with mean `mu` and deviation `sd`, drawn block by block.
fn trial(r: &mut SplitMix64, mu: f64, sd: f64) -> ReturnStats {
    let blocks: Vec<[f64; 2]> = (0..S)
        .map(|b| {
            let n = ((b + 1) * T as usize / S - b * T as usize / S) as f64;
            let sum = mu * n + sd * n.sqrt() * normal(r);
            let sq = n * (sd * sd + mu * mu) * (1.0 + 0.05 * normal(r)).abs();
            [sum, sq]
        })
        .collect();
    let (sum, sq) = blocks.iter().fold((0.0, 0.0), |(a, b), x| (a + x[0], b + x[1]));
    let mean = sum / T as f64;
    let sr = mean / ((sq - sum * mean) / (T - 1) as f64).sqrt();
    ReturnStats { t: T, sr, skew: 0.0, kurtosis: 3.0, psr: f64::NAN, blocks }
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), bt::Error> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(100_000, |a| a.parse().expect("TRIALS is a count"));
    let threads = args
        .next()
        .map_or_else(bt::cluster::default_threads, |a| a.parse().expect("THREADS is a count"));
    let mut r = SplitMix64::new(42);
    let start = Instant::now();
    let mut group = TrialGroup::new();
    for _ in 0..n {
        let mu = 0.0004 * normal(&mut r);
        group.push(&trial(&mut r, mu, 0.02));
    }
    let fed = start.elapsed();
    let start = Instant::now();
    let d = group.deflated().expect("trials");
    let dsr_time = start.elapsed();
    let start = Instant::now();
    let p = bt::validation::pbo(group, threads)?.expect("a PBO");
    let pbo_time = start.elapsed();
    println!(
        "{n} trials, {threads} threads: fed in {:.2} s, DSR {:.3} in {:.3} s, PBO {:.3} over {} splits in {:.2} s; peak RSS {:.0} MB",
        fed.as_secs_f64(),
        d.dsr,
        dsr_time.as_secs_f64(),
        p.pbo,
        p.splits,
        pbo_time.as_secs_f64(),
        peak_rss_mb()
    );
    Ok(())
}

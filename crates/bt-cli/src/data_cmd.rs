//! `bt data`: inspect, validate, generate and convert market data files.
//!
//! Errors from bt-data are returned as [`bt::Error`]s, whose kind decides the exit code.

use std::{io::Write, path::PathBuf, process::ExitCode};

use bt::{
    data::{Loaded, synthetic::GbmSpec},
    domain::{
        Interval,
        time::{NANOS_PER_SEC, format_iso, format_timedelta, parse_iso},
    },
};

/// The `bt data` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DataCommand {
    /// Summarise a data file: rows, time range, bar interval, price range, largest gap, columns.
    #[command(after_help = "Example:\n  bt data inspect data/GOOG.csv")]
    Inspect {
        /// The CSV or Parquet file.
        file: PathBuf,
    },
    /// Check that a data file loads as valid bars: prints one OK line, or the first problem
    /// (file, row, column, value) and exits with code 2.
    #[command(after_help = "Example:\n  bt data validate data/GOOG.csv")]
    Validate {
        /// The CSV or Parquet file.
        file: PathBuf,
    },
    /// Write synthetic bars: a geometric Brownian motion, bit-identical for the same seed on
    /// every machine; with --assets, several correlated instruments (a portfolio).
    #[command(
        after_help = "Example:\n  bt data generate --bars 100000 --seed 7 --interval 1h --start 2020-01-01 -o synth.parquet\n  bt data generate --bars 2000 --seed 7 --assets 5 --correlation 0.4 -o prices/   # prices/asset1.csv .. asset5.csv"
    )]
    Generate {
        /// Number of bars (at least 2).
        #[arg(long)]
        bars: usize,
        /// Random seed.
        #[arg(long)]
        seed: u64,
        /// Bar spacing: a count and a unit (s, m, h, d, w), e.g. 1m, 1h, 1d.
        #[arg(long, default_value = "1d")]
        interval: Interval,
        /// First timestamp, ISO 8601 (UTC unless an offset is given) [default: 2000-01-01].
        #[arg(long, value_parser = parse_start)]
        start: Option<i64>,
        /// First open price.
        #[arg(long, default_value_t = 100.0)]
        start_price: f64,
        /// Annualised drift (0.05 = 5% a year).
        #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
        drift: f64,
        /// Annualised volatility (0.2 = 20%).
        #[arg(long, default_value_t = 0.2)]
        volatility: f64,
        /// Instruments to generate, written as OUTPUT/asset1.csv .. assetN.csv (OUTPUT is then a
        /// directory, created if missing).
        #[arg(long)]
        assets: Option<usize>,
        /// Pairwise correlation of the instruments' log returns, in [0, 1] (with --assets).
        #[arg(long, default_value_t = 0.0, requires = "assets")]
        correlation: f64,
        /// Output file: .csv or .parquet (a directory with --assets).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Convert between CSV and Parquet (formats chosen by extension); the data is validated on
    /// the way.
    #[command(after_help = "Example:\n  bt data convert data/GOOG.csv -o GOOG.parquet")]
    Convert {
        /// Input file (.csv, .txt, .parquet, .pq; other names are sniffed).
        input: PathBuf,
        /// Output file: .csv or .parquet.
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn parse_start(s: &str) -> Result<i64, String> {
    parse_iso(s).ok_or_else(|| {
        format!("invalid timestamp {s:?}: expected ISO 8601 like 2020-01-01 or 2020-01-01T09:30:00")
    })
}

/// Runs a `bt data` subcommand, writing its report to `out`.
pub fn run(cmd: DataCommand, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match cmd {
        DataCommand::Inspect { file } => {
            let loaded = bt::data::load_detailed(&file).map_err(bt::Error::from)?;
            write_inspection(&file.display().to_string(), &loaded, out)?;
        }
        DataCommand::Validate { file } => {
            let bars = bt::data::load(&file).map_err(bt::Error::from)?;
            writeln!(
                out,
                "OK: {}: {} bars, {} .. {}",
                file.display(),
                bars.len(),
                format_iso(bars.first_ts()),
                format_iso(bars.last_ts())
            )?;
        }
        DataCommand::Generate {
            bars,
            seed,
            interval,
            start,
            start_price,
            drift,
            volatility,
            assets,
            correlation,
            output,
        } => {
            let defaults = GbmSpec::default();
            let spec = GbmSpec {
                bars,
                seed,
                interval,
                start: start.unwrap_or(defaults.start),
                start_price,
                drift,
                volatility,
            };
            if let Some(assets) = assets {
                let all = bt::data::synthetic::generate_correlated(&spec, assets, correlation)
                    .map_err(bt::Error::from)?;
                std::fs::create_dir_all(&output).map_err(|e| {
                    anyhow::anyhow!("creating output directory {}: {e}", output.display())
                })?;
                for (k, bars) in all.iter().enumerate() {
                    let path = output.join(format!("asset{}.csv", k + 1));
                    bt::data::save(bars, &path).map_err(bt::Error::from)?;
                }
                writeln!(
                    out,
                    "wrote {assets} instruments of {} bars (correlation {correlation}) to {}/asset1.csv .. asset{assets}.csv",
                    spec.bars,
                    output.display()
                )?;
                return Ok(ExitCode::SUCCESS);
            }
            let generated = bt::data::synthetic::generate(&spec).map_err(bt::Error::from)?;
            bt::data::save(&generated, &output).map_err(bt::Error::from)?;
            writeln!(
                out,
                "wrote {} bars ({} .. {}) to {}",
                generated.len(),
                format_iso(generated.first_ts()),
                format_iso(generated.last_ts()),
                output.display()
            )?;
        }
        DataCommand::Convert { input, output } => {
            let bars = bt::data::load(&input).map_err(bt::Error::from)?;
            bt::data::save(&bars, &output).map_err(bt::Error::from)?;
            writeln!(
                out,
                "converted {} bars: {} -> {}",
                bars.len(),
                input.display(),
                output.display()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A duration as an [`Interval`] (`1d`, `5m`) when it is whole seconds, else pandas-style.
fn duration(nanos: i64) -> String {
    match Interval::from_nanos(nanos) {
        Some(i) if nanos % NANOS_PER_SEC == 0 => i.to_string(),
        _ => format_timedelta(nanos),
    }
}

fn write_inspection(file: &str, l: &Loaded, out: &mut dyn Write) -> std::io::Result<()> {
    let b = &l.bars;
    let ts = b.timestamps();
    let (gap_at, gap) = b.largest_gap();
    let (min_low, max_high) = b.price_range();
    let name = |c: &str| if c.is_empty() { "(unnamed)".to_string() } else { c.to_string() };
    let columns: Vec<String> = l.columns.iter().map(|c| name(c)).collect();
    let rows: [(&str, String); 11] = [
        ("file", file.to_string()),
        ("format", l.format.to_string()),
        ("rows", b.len().to_string()),
        ("first", format_iso(b.first_ts())),
        ("last", format_iso(b.last_ts())),
        ("median interval", duration(b.median_interval())),
        (
            "largest gap",
            format!(
                "{} ({} .. {})",
                format_timedelta(gap),
                format_iso(ts[gap_at]),
                format_iso(ts[gap_at + 1])
            ),
        ),
        ("price range", format!("{min_low} .. {max_high} (lowest low .. highest high)")),
        ("columns", columns.join(", ")),
        ("timestamp column", name(&l.timestamp_column)),
        ("volume", if l.has_volume { "yes" } else { "no (all 0)" }.to_string()),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        writeln!(out, "{k:<width$}  {v}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_intervals() {
        assert_eq!(duration(86_400 * NANOS_PER_SEC), "1d");
        assert_eq!(duration(300 * NANOS_PER_SEC), "5m");
        assert_eq!(duration(NANOS_PER_SEC / 4), "0 days 00:00:00.250000");
    }
}

//! `bt backtest`: one strategy on one data file.

use std::{io::Write, path::PathBuf, process::ExitCode};

use bt::{
    Dataset, Workbench,
    domain::{Params, Trade, time},
    queue::parse_param_arg,
};

use crate::config_flags::ConfigFlags;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bt backtest --data data/GOOG.csv --strategy sma_cross --param fast=10 --param slow=20 --commission 0.002
  bt backtest --data data/GOOG.parquet --strategy rsi_reversion --json
  bt backtest --data data/GOOG.csv --strategy sma_cross --plot goog.png
  bt backtest --data a.csv --data b.csv --data c.csv --strategy equal_weight --param every=21")]
pub struct BacktestArgs {
    /// Market data file (CSV or Parquet); repeat it to run a portfolio strategy over several
    /// instruments on one cash account (docs/portfolio.md).
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// Strategy name (see `bt strategies`).
    #[arg(long, required_unless_present = "rules", conflicts_with = "rules")]
    pub strategy: Option<String>,
    /// A strategy written as a rules file (docs/rules.md) instead of a registered one.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// A strategy parameter, repeatable: `--param fast=10`.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub config: ConfigFlags,
    /// Print one JSON object `{"stats": {...}, "trades": [...]}` instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Draw equity (with the trades and buy & hold) and drawdown to this PNG or SVG file (a
    /// portfolio also gets its weights over time next to it: FILE-weights.png|svg).
    #[arg(long, value_name = "FILE.png|svg")]
    pub plot: Option<PathBuf>,
}

pub fn run(wb: &Workbench, args: BacktestArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let config = args.config.config()?;
    let mut params = Params::new();
    for p in &args.params {
        let (k, v) = parse_param_arg(p).map_err(bt::Error::from)?;
        params.insert(k, v);
    }
    // A rules file's strategy runs under the file's name (which may be a built-in's).
    let with_rules;
    let (wb, strategy) = match (&args.rules, &args.strategy) {
        (Some(path), _) => {
            let entry = crate::rules_cmd::rules_entry(path)?;
            let name = entry.name().to_owned();
            with_rules = Workbench::new(bt::strategies::Registry::new().with(entry));
            (&with_rules, name)
        }
        (None, Some(name)) => (wb, name.clone()),
        (None, None) => unreachable!("clap requires --strategy or --rules"),
    };
    // Validate the strategy before paying for the data load.
    wb.registry().check(&strategy, &params).map_err(bt::Error::from)?;
    let data = load(&args.data)?;
    let b = wb.backtest(&data, &strategy, &params, &config, args.plot.is_some())?;
    if let (Some(path), Some(equity)) = (&args.plot, &b.equity) {
        // With the buy-and-hold line the statistics table's "Buy & Hold Return" is measured by.
        let buy_hold = bt::report::buy_and_hold(data.bars.close(), config.cash, b.result.warmup);
        let trades = b.all_trades();
        let curve = bt::report::EquityCurve {
            curve: bt::report::CurveData {
                id: &strategy,
                timestamps: data.bars.timestamps(),
                equity,
                trades: &trades,
            },
            buy_hold: Some(&buy_hold),
        };
        let format = bt::report::ChartFormat::from_path(path).map_err(bt::Error::from)?;
        bt::report::equity_vs_buy_hold(&curve)
            .and_then(|chart| chart.write_as(path, format))
            .map_err(bt::Error::from)?;
        if let Some(w) = &b.weights {
            let weights_path = weights_path(path);
            let data = w.chart_data(&strategy, data.bars.timestamps());
            bt::report::weights_chart_to(&data, &weights_path).map_err(bt::Error::from)?;
            writeln!(out, "weights chart: {}", weights_path.display())?;
        }
    }
    if args.json {
        writeln!(out, "{}", bt::json::backtest_json(&b))?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{} {} on {}", strategy, format_params(&b.params), data.source)?;
    writeln!(out)?;
    write!(out, "{}", bt::stats::format_table(&b.stats))?;
    writeln!(out)?;
    if let Some(instruments) = &b.instruments {
        write_instruments(out, instruments)?;
        writeln!(out)?;
    }
    let decimals = price_decimals(&[data.bars.open(), data.bars.close()]);
    write_trades_summary(out, &b.result.trades, &b.result.open_trades, decimals)?;
    if let Some(path) = &args.plot {
        writeln!(out, "\nchart: {}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `equity.png` -> `equity-weights.png`: where a portfolio's weights chart goes.
fn weights_path(plot: &std::path::Path) -> PathBuf {
    let stem = plot.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = plot.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
    plot.with_file_name(format!("{stem}-weights.{ext}"))
}

/// One file as a data set, several as a portfolio named after their file stems.
fn load(paths: &[PathBuf]) -> anyhow::Result<Dataset> {
    if let [one] = paths {
        return Ok(Dataset::load(one)?);
    }
    let mut instruments = Vec::with_capacity(paths.len());
    for path in paths {
        let bars = bt::data::load(path).map_err(bt::Error::from)?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        let mut name = stem.unwrap_or_else(|| path.display().to_string());
        if instruments.iter().any(|(n, _): &(String, _)| *n == name) {
            name = path.display().to_string();
        }
        instruments.push((name, bars));
    }
    let source = format!(
        "portfolio({})",
        paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    let portfolio = bt::portfolio::Portfolio::new(instruments).map_err(bt::Error::from)?;
    Ok(Dataset::portfolio(portfolio, source)?)
}

fn write_instruments(
    out: &mut dyn Write,
    instruments: &[bt::portfolio::InstrumentSummary],
) -> std::io::Result<()> {
    writeln!(
        out,
        "  {:<16}  {:>12}  {:>11}  {:>9}  {:>12}  {:>6}  {:>14}",
        "instrument", "position", "exposure %", "turnover", "fees", "fills", "contribution %"
    )?;
    for i in instruments {
        writeln!(
            out,
            "  {:<16}  {:>12.4}  {:>11.2}  {:>9.3}  {:>12.2}  {:>6}  {:>14.3}",
            i.name,
            i.final_position,
            i.exposure * 100.0,
            i.turnover,
            i.fees,
            i.fills,
            i.contribution * 100.0
        )?;
    }
    Ok(())
}

pub fn format_params(params: &Params) -> String {
    let inner: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("({})", inner.join(", "))
}

/// The decimals prices are printed with: as many as the data's prices have (EURUSD quoted
/// to 1e-5 prints 1.19226, not 1.1923), at least 2, at most 8. A price has `d` decimals when
/// it times 10^d is an integer up to the rounding of its decimal text.
fn price_decimals(columns: &[&[f64]]) -> usize {
    const MIN: usize = 2;
    const MAX: usize = 8;
    let has = |v: f64, d: usize| {
        let scaled = v * 10f64.powi(d as i32);
        (scaled - scaled.round()).abs() <= 1e-9 * scaled.abs().max(1.0)
    };
    let mut decimals = MIN;
    for &v in columns.iter().flat_map(|c| c.iter()) {
        while decimals < MAX && !has(v, decimals) {
            decimals += 1;
        }
        if decimals == MAX {
            break;
        }
    }
    decimals
}

fn write_trades_summary(
    out: &mut dyn Write,
    closed: &[Trade],
    open: &[Trade],
    decimals: usize,
) -> std::io::Result<()> {
    let longs = closed.iter().filter(|t| t.is_long()).count();
    let winners = closed.iter().filter(|t| t.pnl > 0.0).count();
    writeln!(
        out,
        "Trades: {} closed ({} long, {} short, {} winners), {} open at the end",
        closed.len(),
        longs,
        closed.len() - longs,
        winners,
        open.len()
    )?;
    let shown: Vec<&Trade> = closed.iter().rev().take(5).collect();
    if shown.is_empty() {
        return Ok(());
    }
    writeln!(out, "Last {} closed trades:", shown.len())?;
    writeln!(
        out,
        "  {:>8}  {:<19}  {:>12}  {:<19}  {:>12}  {:>12}  {:>9}",
        "size", "entry", "entry price", "exit", "exit price", "pnl", "return %"
    )?;
    for t in shown.into_iter().rev() {
        writeln!(
            out,
            "  {:>8}  {:<19}  {:>12.decimals$}  {:<19}  {:>12.decimals$}  {:>12.2}  {:>9.3}",
            t.size,
            time::format_iso(t.entry_time),
            t.entry_price,
            t.exit_time.map(time::format_iso).unwrap_or_default(),
            t.exit_price,
            t.pnl,
            t.return_frac * 100.0
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::price_decimals;

    #[test]
    fn prices_print_with_the_decimals_the_data_has() {
        assert_eq!(price_decimals(&[&[100.0, 104.06, 95.96]]), 2);
        assert_eq!(price_decimals(&[&[1.19226, 1.1923], &[1.5]]), 5);
        assert_eq!(price_decimals(&[&[60_123.5], &[0.000_123_4]]), 7);
        assert_eq!(price_decimals(&[&[1.0 / 3.0]]), 8);
        assert_eq!(price_decimals(&[&[]]), 2);
    }
}

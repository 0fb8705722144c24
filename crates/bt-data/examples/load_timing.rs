//! Times `bt_data::load` on a file (release build: `cargo run --release -p bt-data --example
//! load_timing -- FILE [REPEATS]`), printing every run and the median.
//!
//! `load_timing --convert IN OUT` converts between CSV and Parquet (by extension) first, to
//! make the Parquet copy of a CSV. `load_timing --generate N` times `synthetic::generate` of N
//! one-minute bars; `load_timing --generate N OUT` also saves them (CSV or Parquet by extension).

use std::{path::Path, time::Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, input, output] if flag == "--convert" => {
            let t = Instant::now();
            let bars = bt_data::load(Path::new(input))?;
            bt_data::save(&bars, Path::new(output))?;
            println!("converted {} bars in {:.3} s", bars.len(), t.elapsed().as_secs_f64());
        }
        [flag, n, out @ ..] if flag == "--generate" && out.len() <= 1 => {
            let spec = bt_data::synthetic::GbmSpec {
                bars: n.parse()?,
                seed: 1,
                interval: bt_domain::Interval::MINUTE,
                ..Default::default()
            };
            let t = Instant::now();
            let bars = bt_data::synthetic::generate(&spec)?;
            println!("generated {} bars in {:.3} s", bars.len(), t.elapsed().as_secs_f64());
            if let Some(out) = out.first() {
                bt_data::save(&bars, Path::new(out))?;
            }
        }
        [file, rest @ ..] => {
            let repeats: usize = rest.first().map_or(Ok(5), |r| r.parse())?;
            let mut times = Vec::with_capacity(repeats);
            for _ in 0..repeats {
                let t = Instant::now();
                let bars = bt_data::load(Path::new(file))?;
                let secs = t.elapsed().as_secs_f64();
                println!("{} bars in {secs:.4} s", bars.len());
                times.push(secs);
            }
            times.sort_by(f64::total_cmp);
            println!("median {:.4} s", times[times.len() / 2]);
        }
        _ => eprintln!("usage: load_timing FILE [REPEATS] | --convert IN OUT | --generate N [OUT]"),
    }
    Ok(())
}

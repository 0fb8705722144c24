//! `sweep DATA OUT`: a grid of the example strategy over one data file, run with the library
//! alone (no command line), with resume, a report and the leaderboard printed.

use std::path::Path;

use bt::prelude::*;
use bt::queue::{QueueBuilder, Sampling, SweepDef, parse_grid_arg};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let (data, out) = match args.as_slice() {
        [_, data, out] => (Path::new(data), Path::new(out)),
        _ => {
            eprintln!("usage: sweep DATA.csv OUT_DIR");
            std::process::exit(2);
        }
    };
    // A queue built in code: n x k x trail, 2 x 3 x 2 = 12 simulations on one data set.
    let mut b = QueueBuilder::new(Path::new("."));
    let dataset = b.add_data_file(data);
    let axes =
        ["n=10,20", "k=0.5..=1.5:0.5", "trail=2.0,3.0"].map(|g| parse_grid_arg(g).expect("a grid"));
    b.sweep(SweepDef {
        id: "vb".into(),
        datasets: vec![dataset],
        strategy: "vol_breakout".into(),
        params: Params::new(),
        config: Default::default(),
        axes: axes.into_iter().collect(),
        where_: None,
        sampling: Sampling::Grid,
    });
    let queue = bt::queue::Queue::from_str(&b.to_ron(), Path::new("."), "sweep")?;

    let wb = Workbench::new(Registry::builtin().with(bt_example::entry()));
    let opts = RunOptions {
        out: out.to_owned(),
        mode: Mode::Threads(2),
        resume: out.join("results.btr").exists(),
        report: Some(ReportOptions { by: "return_pct".into(), ..Default::default() }),
        ..Default::default()
    };
    let run = wb.run_queue(&queue, &opts)?;
    println!(
        "{} simulations, {} resumed -> {}",
        run.info.ok + run.info.failed,
        run.resumed,
        run.dir.display()
    );
    for r in wb.leaderboard(&run.dir, "return_pct", 3)? {
        let s = r.stats().expect("the leaderboard ranks successful simulations");
        println!("{:<32} return {:>8.2} %  sharpe {:.3}", r.id, s.return_pct, s.sharpe_ratio);
    }
    Ok(())
}

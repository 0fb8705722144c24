use super::{findings::si, *};

fn row(sims: usize, mode: &'static str, threads: u64, ran: &str, wall: &[f64]) -> Row {
    Row {
        sims,
        mode,
        threads,
        run_mode: ran.into(),
        wall: wall.to_vec(),
        inproc: wall.iter().map(|w| w / 2.0).collect(),
        bar_steps: sims as u64 * 1000,
    }
}

fn rows() -> Vec<Row> {
    vec![
        row(5, "sequential", 1, "sequential", &[0.02, 0.01, 0.03]),
        row(5, "threads", 2, "parallel", &[0.04, 0.05, 0.03]),
        row(5, "auto", 2, "sequential", &[0.02, 0.02, 0.02]),
        row(5, "processes", 2, "processes", &[0.05, 0.05, 0.05]),
        row(50, "sequential", 1, "sequential", &[0.2, 0.2, 0.2]),
        row(50, "threads", 2, "parallel", &[0.1, 0.12, 0.11]),
        row(50, "auto", 2, "parallel", &[0.11, 0.1, 0.1]),
        row(50, "processes", 2, "processes", &[0.25, 0.25, 0.25]),
    ]
}

#[test]
fn median_min_max() {
    assert_eq!(summarize(&[3.0, 1.0, 2.0]), Summary { median: 2.0, min: 1.0, max: 3.0 });
    assert_eq!(summarize(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
    assert!(summarize(&[]).median.is_nan());
}

#[test]
fn speedup_efficiency_and_throughput_come_from_the_sequential_median() {
    let rows = rows();
    let d = derive(&rows[5], &rows);
    assert!((d.speedup - 0.2 / 0.11).abs() < 1e-12);
    assert!((d.efficiency - 0.2 / 0.11 / 2.0).abs() < 1e-12);
    assert!((d.sims_per_s - 50.0 / 0.11).abs() < 1e-9);
    assert!((d.bar_steps_per_s - 50_000.0 / 0.11).abs() < 1e-6);
    assert!((d.inproc.median - 0.055).abs() < 1e-12);
}

#[test]
fn conclusions_find_where_parallel_starts_to_win() {
    let rows = rows();
    let derived: Vec<Derived> = rows.iter().map(|r| derive(r, &rows)).collect();
    let c = conclusions(&rows, &derived, 2);
    assert_eq!(
        c[0],
        "2 threads start to beat sequential at 50 simulations (0.1100 s vs 0.2000 s median, 45% faster)"
    );
    assert_eq!(c[1], "2 processes never beat sequential, up to 50 simulations");
    assert!(
        c[2].starts_with(
            "speed-up over sequential at 50 simulations: threads 1.82x (91% efficiency on 2)"
        ),
        "{c:?}"
    );
    assert_eq!(c[3], "auto mode chose: 5: sequential, 50: parallel");
    assert!(c[4].contains("of 5 simulations takes 20.0 ms end to end"), "{c:?}");
    assert!(c[4].contains("of which 10.0 ms in the executor"), "{c:?}");
}

#[test]
fn a_win_inside_the_spread_is_called_so_and_later_losses_are_listed() {
    let rows = vec![
        row(5, "sequential", 1, "sequential", &[0.018, 0.014, 0.017]),
        row(5, "threads", 2, "parallel", &[0.0165, 0.016, 0.017]),
        row(50, "sequential", 1, "sequential", &[0.035, 0.034, 0.036]),
        row(50, "threads", 2, "parallel", &[0.031, 0.030, 0.032]),
        row(100, "sequential", 1, "sequential", &[0.05, 0.05, 0.05]),
        row(100, "threads", 2, "parallel", &[0.06, 0.06, 0.06]),
    ];
    let derived: Vec<Derived> = rows.iter().map(|r| derive(r, &rows)).collect();
    let c = conclusions(&rows, &derived, 2);
    assert_eq!(
        c[0],
        "2 threads start to beat sequential at 5 simulations (0.0165 s vs 0.0170 s median, 3% faster, within run-to-run spread), but lose again at [100]; clearly faster (median below sequential's fastest run) from 50 simulations"
    );
}

#[test]
fn baseline_flags_only_medians_more_than_ten_percent_slower() {
    let rows = rows();
    let derived: Vec<Derived> = rows.iter().map(|r| derive(r, &rows)).collect();
    let base = vec![
        (5, "sequential".to_string(), 0.0195), // +2.6%: noise
        (50, "threads".to_string(), 0.09),     // +22%: slower
        (50, "processes".to_string(), 0.3),    // faster
    ];
    let (report, slower) = compare(&base, &rows, &derived);
    assert_eq!(slower.len(), 1, "{slower:?}");
    assert!(slower[0].starts_with("50 sims threads: 0.0900 s -> 0.1100 s"), "{slower:?}");
    assert!(report.contains("SLOWER"));
}

#[test]
fn si_units() {
    assert_eq!(si(1_234.0), "1.2k");
    assert_eq!(si(12_345_678.0), "12.3M");
    assert_eq!(si(3.2e9), "3.20G");
    assert_eq!(si(f64::NAN), "-");
}

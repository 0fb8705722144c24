use std::time::Instant;
use bt_report::*;
use crate::fixtures::*;
#[test]
fn scratch_timing() {
    let records = big(10_000);
    let curves: Vec<OwnedCurve> = (0..10).map(|i| OwnedCurve::new(&records[i].id, 2_500, i as u64)).collect();
    let data: Vec<_> = curves.iter().map(OwnedCurve::data).collect();
    let t = Instant::now(); let table = bt_domain::SummaryTable::new(&records); eprintln!("table {:?}", t.elapsed());
    let t = Instant::now(); let _ = table.to_csv(); eprintln!("csv {:?}", t.elapsed());
    let t = Instant::now(); let _ = summary_json(&table); eprintln!("json {:?}", t.elapsed());
    let t = Instant::now(); let _ = summary_markdown(&table); eprintln!("md {:?}", t.elapsed());
    let t = Instant::now(); let _ = Leaderboard::new(&records, "sharpe_ratio", 10); eprintln!("lb {:?}", t.elapsed());
    let t = Instant::now(); let maps = heatmaps(&records, "sharpe_ratio", Agg::Mean).unwrap(); eprintln!("heatmaps build {:?}", t.elapsed());
    let t = Instant::now(); for m in &maps { m.to_svg().unwrap(); } eprintln!("heatmaps svg {:?}", t.elapsed());
    let t = Instant::now(); for m in &maps { m.to_rgb().unwrap(); } eprintln!("heatmaps rgb {:?}", t.elapsed());
    let t = Instant::now(); for m in &maps { m.to_png().unwrap(); } eprintln!("heatmaps png {:?}", t.elapsed());
    let t = Instant::now(); let e: Vec<_> = data.iter().map(|d| equity(d).unwrap()).collect(); eprintln!("equity build {:?}", t.elapsed());
    let t = Instant::now(); for m in &e { m.to_svg().unwrap(); } eprintln!("equity svg {:?}", t.elapsed());
    let t = Instant::now(); for m in &e { m.to_rgb().unwrap(); } eprintln!("equity rgb {:?}", t.elapsed());
    let t = Instant::now(); for m in &e { m.to_png().unwrap(); } eprintln!("equity png {:?}", t.elapsed());
}

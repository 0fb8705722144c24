//! A real browser opens report.html: skipped (with a message) when chromium is not installed.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use bt_report::{Format, ReportData, ReportOptions, write_report};

use crate::{
    charts::decode_png,
    fixtures::{OwnedCurve, grid, info, validation},
};

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"]
        .iter()
        .find_map(|name| std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file()))
}

fn chromium(bin: &Path, profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    let profile_arg = format!("--user-data-dir={}", profile.display());
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &profile_arg,
        ])
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium did not start")
}

#[test]
fn chromium_renders_the_report() {
    let Some(bin) = find_chromium() else {
        eprintln!("SKIPPED: chromium not installed (apt-get install chromium to run this test)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let records = grid();
    let curve = OwnedCurve::new("sma-10-60", 600, 1);
    let opts =
        ReportOptions { formats: vec![Format::Html, Format::Csv], ..ReportOptions::default() };
    let (info, validation, curves) = (info(&records), validation(), [curve.data()]);
    let data =
        ReportData { curves: &curves, validation: &validation, ..ReportData::new(&info, &records) };
    let files = write_report(dir.path(), &data, &opts).unwrap();
    let url = format!("file://{}", files.html.unwrap().display());

    let shot = dir.path().join("shot.png");
    let out = chromium(
        &bin,
        &dir.path().join("profile-shot"),
        &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2000"],
        &url,
    );
    assert!(
        shot.exists(),
        "no screenshot; chromium said: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(look) = std::env::var_os("BT_REPORT_LOOK_DIR") {
        std::fs::create_dir_all(&look).unwrap();
        std::fs::copy(&shot, Path::new(&look).join("report-screenshot.png")).unwrap();
    }
    let (w, h, rgb) = decode_png(&std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (1280, 2000));
    // Not blank: plenty of non-white pixels and many distinct colours (text, charts).
    let non_white = rgb.chunks(3).filter(|p| p.iter().any(|&c| c < 200)).count();
    assert!(non_white > 20_000, "screenshot looks blank: {non_white} non-white pixels");
    let mut colours: Vec<[u8; 3]> = rgb.chunks(3).map(|p| [p[0], p[1], p[2]]).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(colours.len() > 50, "only {} colours", colours.len());

    let out = chromium(&bin, &dir.path().join("profile-dom"), &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("bt report: queues/sma_grid.ron"), "title missing from the DOM");
    assert!(dom.contains("id=\"leaderboard-table\""), "leaderboard missing from the DOM");
    assert!(dom.contains("<svg"), "inline charts missing from the DOM");
}

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
    let (info, validation, curves) = (info(&records), validation(), [curve.curve()]);
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

/// The leaderboard's rows as the browser left them: each row's cells' text.
fn dom_rows(dom: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let table = &dom[dom.find("id=\"leaderboard-table\"").expect("leaderboard in the DOM")..];
    let table = &table[..table.find("</table>").unwrap()];
    let cells = |row: &str, tag: &str| -> Vec<String> {
        row.split(&format!("<{tag}"))
            .skip(1)
            .filter(|c| c.starts_with(['>', ' ']))
            .map(|c| {
                let c = &c[c.find('>').unwrap() + 1..];
                c[..c.find(&format!("</{tag}>")).unwrap()].to_string()
            })
            .collect()
    };
    let head = &table[..table.find("</thead>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    let rows = body.split("<tr").skip(1).map(|r| cells(r, "td")).collect();
    (cells(head, "th"), rows)
}

#[test]
fn chromium_sorts_the_leaderboard_by_a_clicked_column() {
    let Some(bin) = find_chromium() else {
        eprintln!("SKIPPED: chromium not installed (apt-get install chromium to run this test)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let records = grid();
    // Every successful simulation on the board, the one without trades (NaN ratios) included.
    let opts = ReportOptions { top_k: 30, formats: vec![Format::Html], ..ReportOptions::default() };
    let info = info(&records);
    let files = write_report(dir.path(), &ReportData::new(&info, &records), &opts).unwrap();
    let html = files.html.unwrap();
    let ok = records.iter().filter(|r| r.stats().is_some()).count();

    let open = |fragment: &str, profile: &str| {
        let url = format!("file://{}#{fragment}", html.display());
        let out = chromium(&bin, &dir.path().join(profile), &["--dump-dom"], &url);
        let dom = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            dom.contains("leaderboard-table"),
            "no DOM: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        dom_rows(&dom)
    };
    let num = |s: &str| if s == "NaN" { f64::NAN } else { s.parse::<f64>().unwrap() };
    // (fragment, column, ascending): the first click on a number sorts largest first.
    for (k, (fragment, column, ascending)) in [
        ("sort=win_rate_pct", "win_rate_pct", false),
        ("sort=win_rate_pct:asc", "win_rate_pct", true),
        ("sort=slow", "slow", false),
        ("sort=n_trades:asc", "n_trades", true),
    ]
    .into_iter()
    .enumerate()
    {
        let (head, rows) = open(fragment, &format!("profile-{k}"));
        assert_eq!(rows.len(), ok, "{fragment}: every row is still there");
        let col = head.iter().position(|h| h == column).unwrap();
        let rank = head.iter().position(|h| h == "#").unwrap();
        let values: Vec<f64> = rows.iter().map(|r| num(&r[col])).collect();
        let nan = values.iter().filter(|v| v.is_nan()).count();
        assert_eq!(column == "win_rate_pct", nan == 1, "{fragment}: {values:?}");
        assert!(values[values.len() - nan..].iter().all(|v| v.is_nan()), "{fragment}: NaN last");
        for (a, b) in rows.iter().zip(&rows[1..]).take(values.len() - nan - 1) {
            let (x, y) = (num(&a[col]), num(&b[col]));
            let ordered = if ascending { x <= y } else { x >= y };
            assert!(ordered, "{fragment}: {x} before {y}");
            if x == y {
                let (ra, rb) = (a[rank].parse::<u32>().unwrap(), b[rank].parse::<u32>().unwrap());
                assert!(ra < rb, "{fragment}: ties keep the rank order ({ra} before {rb})");
            }
        }
        // Not the rank order any more: the sort really ran (the ranking is by Sharpe ratio).
        let ranks: Vec<&str> = rows.iter().map(|r| r[rank].as_str()).collect();
        assert_ne!(ranks, (1..=ok).map(|i| i.to_string()).collect::<Vec<_>>(), "{fragment}");
    }
    // Text sorts alphabetically.
    let (head, rows) = open("sort=id", "profile-id");
    let id = head.iter().position(|h| h == "id").unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r[id].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
}

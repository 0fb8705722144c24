//! Charts: every chart type renders as PNG and SVG with text, and SVGs are deterministic.

use std::path::PathBuf;

use bt_report::{
    Agg, Chart, EquityCurve, buy_and_hold, equity, equity_chart, equity_chart_to,
    equity_vs_buy_hold, heatmap, heatmaps, histogram, perf, perf_chart, swept_params,
};

use crate::fixtures::{OwnedCurve, big, grid, perf_points};

/// Decodes a PNG into (width, height, RGB bytes).
pub fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut dec = png::Decoder::new(bytes);
    dec.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = dec.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    buf.truncate(info.buffer_size());
    let rgb = match info.color_type {
        png::ColorType::Rgb => buf,
        png::ColorType::Rgba => buf.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g]).collect(),
        png::ColorType::GrayscaleAlpha => buf.chunks(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
        other => panic!("unexpected colour type {other:?}"),
    };
    (info.width, info.height, rgb)
}

/// Dark pixels (all channels below 100) in the rectangle `x0..x1`, `y0..y1`.
pub fn dark_pixels(w: u32, rgb: &[u8], (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> usize {
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let i = ((y * w + x) * 3) as usize;
            if rgb[i] < 100 && rgb[i + 1] < 100 && rgb[i + 2] < 100 {
                n += 1;
            }
        }
    }
    n
}

/// Where sample charts go: `$BT_REPORT_LOOK_DIR` to keep them for a human to look at
/// (e.g. /tmp/report-look), a temporary directory otherwise.
fn out_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("BT_REPORT_LOOK_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            std::fs::create_dir_all(&d).unwrap();
            (None, d)
        }
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

fn sample_charts() -> Vec<(&'static str, Chart)> {
    let records = grid();
    let curve = OwnedCurve::new("sma-10-60", 2148, 7);
    let many = big(2000);
    vec![
        ("equity", equity(&curve.data()).unwrap()),
        (
            "equity-long",
            equity(&OwnedCurve::new("long curve, 200k bars", 200_000, 3).data()).unwrap(),
        ),
        ("heatmap", heatmap(&records, "fast", "slow", "sharpe_ratio", Agg::Max).unwrap()),
        ("heatmap-big", heatmap(&many, "fast", "atr_mult", "return_pct", Agg::Mean).unwrap()),
        ("histogram", histogram(&many, "sharpe_ratio").unwrap()),
        ("perf", perf(&perf_points()).unwrap()),
    ]
}

#[test]
fn every_chart_renders_text_in_png_and_svg() {
    let (_keep, dir) = out_dir();
    for (name, chart) in sample_charts() {
        let png = chart.to_png().unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        let svg = chart.to_svg().unwrap();
        std::fs::write(dir.join(format!("{name}.svg")), &svg).unwrap();
        let (w, h, rgb) = decode_png(&png);
        assert_eq!((w, h), chart.size(), "{name}");
        // The title is centred in the top 30 pixels: glyphs there are dark.
        let title = dark_pixels(w, &rgb, (w / 4, 3 * w / 4), (0, 30));
        assert!(title > 100, "{name}: only {title} dark pixels in the title band");
        // Axis labels sit in the left 90 pixels.
        let left = dark_pixels(w, &rgb, (0, 90), (40, h - 40));
        assert!(left > 100, "{name}: only {left} dark pixels in the y-axis band");
        assert!(svg.starts_with("<svg "), "{name}");
        assert!(svg.contains(&format!(">\n{}\n</text>", bt_report::esc(chart.title()))), "{name}");
        assert_eq!(svg, chart.to_svg().unwrap(), "{name}: SVG not deterministic");
        assert_eq!(png, chart.to_png().unwrap(), "{name}: PNG not deterministic");
    }
}

/// The `<text>` contents of an SVG.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let t = &t[t.find('>').unwrap() + 1..];
            t[..t.find("</text>").unwrap()].trim().to_string()
        })
        .collect()
}

#[test]
fn equity_charts_draw_buy_and_hold_as_a_thin_grey_line_with_a_legend() {
    let curve = OwnedCurve::new("sma-10-60", 600, 1);
    let plain = equity(&curve.data()).unwrap().to_svg().unwrap();
    // The asset rises tenfold after a 5-bar warm-up: far above the strategy's equity.
    let closes: Vec<f64> = (0..600).map(|i| 10.0 + i as f64 * 90.0 / 599.0).collect();
    let bh = buy_and_hold(&closes, 10_000.0, 5);
    assert_eq!(bh[..6], [10_000.0; 6], "cash through the warm-up");
    assert_eq!(bh[599], 10_000.0 * 100.0 / closes[5]);
    let with = EquityCurve { curve: curve.data(), buy_hold: Some(&bh) };
    let svg = equity_vs_buy_hold(&with).unwrap().to_svg().unwrap();
    let grey = "stroke=\"#969696\"";
    assert!(!plain.contains(grey) && !svg_texts(&plain).iter().any(|t| t.contains("buy")));
    assert_eq!(svg.matches(grey).count(), 2, "the line and its legend sample");
    assert!(svg_texts(&svg).iter().any(|t| t == "buy &amp; hold"), "{:?}", svg_texts(&svg));
    let line = svg.split("<polyline").find(|p| p.contains(grey)).unwrap();
    assert!(line.contains("stroke-width=\"1\""), "a thin line: {line:.200}");
    // The equity axis reaches the buy-and-hold's top (about 93k): a tick label at 60k or above.
    let top = svg_texts(&svg).iter().filter_map(|t| t.parse::<f64>().ok()).fold(0.0, f64::max);
    assert!(top >= 60_000.0, "axis top {top}");
    let max_plain =
        svg_texts(&plain).iter().filter_map(|t| t.parse::<f64>().ok()).fold(0.0, f64::max);
    assert!(max_plain < 60_000.0, "{max_plain}");
    // Without closes the chart is the plain one; a buy-and-hold of another length is refused.
    let none = EquityCurve::from(curve.data());
    assert_eq!(equity_vs_buy_hold(&none).unwrap().to_svg().unwrap(), plain);
    let short = EquityCurve { curve: curve.data(), buy_hold: Some(&bh[..10]) };
    let err = equity_vs_buy_hold(&short).unwrap_err().to_string();
    assert!(err.contains("sma-10-60 (buy and hold)"), "{err}");
}

#[test]
fn long_curves_are_decimated_in_the_svg() {
    let short = equity(&OwnedCurve::new("s", 4_000, 1).data()).unwrap().to_svg().unwrap();
    let long = equity(&OwnedCurve::new("l", 400_000, 1).data()).unwrap().to_svg().unwrap();
    // 400k bars (and too many trades to mark) must not make a bigger file than 4k bars.
    assert!(long.len() < 2 * short.len(), "{} vs {}", long.len(), short.len());
    assert!(long.contains("trades: too many to mark"));
}

#[test]
fn chart_files_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let curve = OwnedCurve::new("sma-10-60", 300, 7);
    let png = dir.path().join("plot.png");
    let svg = dir.path().join("plot.SVG");
    equity_chart_to(&curve.data(), &png).unwrap();
    equity_chart_to(&curve.data(), &svg).unwrap();
    assert_eq!(&std::fs::read(&png).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let err = equity_chart_to(&curve.data(), &dir.path().join("plot.jpg")).unwrap_err();
    assert!(err.to_string().contains("use a .png or .svg"), "{err}");
    assert!(!dir.path().join("plot.jpg").exists());

    let (p2, s2) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    equity_chart(&curve.data(), &p2, &s2).unwrap();
    assert_eq!(&std::fs::read(&p2).unwrap()[..4], b"\x89PNG");
    assert!(std::fs::read_to_string(&s2).unwrap().starts_with("<svg"));

    let perf_png = dir.path().join("perf.png");
    perf_chart(&perf_points(), &perf_png).unwrap();
    assert!(std::fs::metadata(&perf_png).unwrap().len() > 10_000);
}

#[test]
fn heatmap_aggregates_over_other_params() {
    let many = big(1000); // 10 x 10 x 10: fast, slow, atr_mult
    assert_eq!(swept_params(&many), ["atr_mult", "fast", "slow"]);
    let maps = heatmaps(&many, "sharpe_ratio", Agg::Max).unwrap();
    let titles: Vec<&str> = maps.iter().map(|m| m.title()).collect();
    assert_eq!(
        titles,
        [
            "sharpe_ratio by atr_mult and fast",
            "sharpe_ratio by atr_mult and slow",
            "sharpe_ratio by fast and slow"
        ]
    );
    // 10 x 10 cells = 100 rects of cell colour plus the 64 colour-bar steps.
    let svg = maps[2].to_svg().unwrap();
    let (drawn, hover) = svg.split_at(svg.find("<g class=\"hover\"").unwrap());
    let rects = drawn.matches("<rect").count();
    assert!((164..200).contains(&rects), "{rects}");
    // Every cell says its values on hover.
    assert_eq!(hover.matches("<rect").count(), 100);
    assert_eq!(hover.matches("<title>fast ").count(), 100);
    // Mean differs from max once other params vary.
    let mean = heatmap(&many, "fast", "slow", "sharpe_ratio", Agg::Mean).unwrap().to_svg().unwrap();
    assert_ne!(mean, svg);
}

#[test]
fn heatmap_errors_name_the_parameter() {
    let records = grid();
    let err = heatmap(&records, "fast", "window", "sharpe_ratio", Agg::Max).unwrap_err();
    assert_eq!(err.to_string(), "unknown parameter `window`: the records have fast, slow");
    let mut r = grid();
    r[0].params.insert("fast".into(), bt_domain::ParamValue::Str("x".into()));
    let err = heatmap(&r, "fast", "slow", "sharpe_ratio", Agg::Max).unwrap_err();
    assert!(
        err.to_string()
            .contains("parameter `fast` is not numeric (simulation sma-5-20 has a string)"),
        "{err}"
    );
    let err = heatmap(&records, "fast", "slow", "sharp", Agg::Max).unwrap_err();
    assert!(err.to_string().starts_with("unknown metric `sharp`"), "{err}");
    assert!(heatmaps(&records[..1], "sharpe_ratio", Agg::Max).unwrap().is_empty());
}

#[test]
fn histogram_without_finite_values_says_so() {
    let mut r = grid();
    for rec in &mut r {
        if let bt_domain::SimOutcome::Ok(s) = &mut rec.outcome {
            s.stats.sqn = f64::NAN;
        }
    }
    let err = histogram(&r, "sqn").unwrap_err().to_string();
    assert!(err.contains("no successful simulation has a finite sqn (27 values"), "{err}");
}

/// An SVG's structure: element counts and every text, in drawing order (positions left out).
fn svg_structure(svg: &str) -> String {
    let mut out = String::new();
    for tag in ["text", "rect", "line", "polyline", "polygon", "circle", "path"] {
        out.push_str(&format!("{tag}: {}\n", svg.matches(&format!("<{tag} ")).count()));
    }
    out.push_str("texts:\n");
    for piece in svg.split("<text ").skip(1) {
        let body = &piece[piece.find('>').unwrap() + 1..piece.find("</text>").unwrap()];
        out.push_str(&format!("  {}\n", body.trim()));
    }
    out
}

#[test]
fn perf_chart_svg_structure() {
    insta::assert_snapshot!(svg_structure(&perf(&perf_points()).unwrap().to_svg().unwrap()));
}

#[test]
fn heatmap_svg_structure() {
    let chart = heatmap(&grid(), "fast", "slow", "sharpe_ratio", Agg::Max).unwrap();
    insta::assert_snapshot!(svg_structure(&chart.to_svg().unwrap()));
}

#[test]
fn an_integer_metric_gets_whole_number_bins_and_ticks() {
    let records = big(1000);
    let svg = histogram(&records, "n_trades").unwrap().to_svg().unwrap();
    let t = svg_texts(&svg);
    assert_eq!(t[2], "n_trades", "{t:?}");
    // The x tick labels (after the y axis's, before the legend): whole numbers only.
    let ticks: Vec<&String> = t.iter().filter(|x| x.parse::<f64>().is_ok()).collect();
    assert!(ticks.len() >= 8, "{t:?}");
    for x in &ticks {
        assert!(!x.contains('.'), "a fractional tick {x} in {t:?}");
    }
    // Every bar says which whole numbers it counts.
    let titles: Vec<&str> =
        svg.split("<title>").skip(1).map(|s| &s[..s.find("</title>").unwrap()]).collect();
    assert!(!titles.is_empty());
    for title in &titles {
        let (range, count) = title.strip_prefix("n_trades ").unwrap().split_once(": ").unwrap();
        assert!(range.split("..").all(|v| v.parse::<u64>().is_ok()), "{title}");
        assert!(count.ends_with(" simulations"), "{title}");
    }
    let counted: u64 = titles
        .iter()
        .map(|t| t.rsplit(": ").next().unwrap().split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted as usize, records.iter().filter(|r| r.ranked_stats().is_some()).count());
}

#[test]
fn trade_markers_say_what_and_when_on_hover() {
    let curve = OwnedCurve::new("sma-10-60", 600, 1);
    let svg = equity(&curve.data()).unwrap().to_svg().unwrap();
    let titles: Vec<&str> =
        svg.split("<title>").skip(1).map(|s| &s[..s.find("</title>").unwrap()]).collect();
    // An entry and an exit per trade.
    assert_eq!(titles.len(), 2 * curve.trades.len());
    let first = &curve.trades[0];
    let want = format!(
        "long entry {}: equity {:.2}",
        &bt_domain::time::format_iso(first.entry_time)[..10],
        curve.equity[first.entry_bar]
    );
    assert_eq!(titles[0], want);
    assert!(titles.iter().any(|t| t.starts_with("short exit ")), "{titles:?}");
}

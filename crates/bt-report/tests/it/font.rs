//! Text renders from the embedded font alone: no fontconfig, no system fonts.

use std::process::Command;

use bt_report::Agg;

use crate::{
    charts::{dark_pixels, decode_png},
    fixtures::grid,
};

const CHILD_ENV: &str = "BT_REPORT_FONT_CHILD";

/// Renders a heatmap PNG (title, axis labels, cell labels) and checks the title band has glyph
/// pixels. Runs in this process, and again (below) in a child whose fontconfig sees no font.
#[test]
fn png_text_renders_from_embedded_font() {
    let chart = bt_report::heatmap(&grid(), "fast", "slow", "sharpe_ratio", Agg::Max).unwrap();
    let png = chart.to_png().unwrap();
    let (w, _, rgb) = decode_png(&png);
    let title = dark_pixels(w, &rgb, (0, w), (0, 30));
    assert!(title > 150, "title band has only {title} dark pixels: text was not drawn");
    // The ttf feature would load fontconfig (and fail without fonts); ab_glyph never does.
    #[cfg(target_os = "linux")]
    {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(!maps.contains("libfontconfig"), "fontconfig is loaded: is plotters' ttf on?");
    }
    if let Some(out) = std::env::var_os(CHILD_ENV) {
        std::fs::write(out, &png).unwrap();
    }
}

#[test]
fn png_text_renders_without_any_system_font() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("fonts.conf");
    // A valid fontconfig file listing no font directory: fc-list would show nothing.
    std::fs::write(&conf, "<?xml version=\"1.0\"?>\n<fontconfig></fontconfig>\n").unwrap();
    let out = dir.path().join("child.png");
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "font::png_text_renders_from_embedded_font", "--test-threads=1"])
        .env(CHILD_ENV, &out)
        .env("FONTCONFIG_FILE", &conf)
        .env("FONTCONFIG_PATH", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "child render failed: {}\n{}",
        child.status,
        String::from_utf8_lossy(&child.stdout)
    );
    // The child really ran the test (it wrote the PNG), and its pixels equal ours.
    let child_png = std::fs::read(&out).expect("the child test wrote no PNG");
    let here = bt_report::heatmap(&grid(), "fast", "slow", "sharpe_ratio", Agg::Max)
        .unwrap()
        .to_png()
        .unwrap();
    assert_eq!(child_png, here);
}

//! What a built-in does: docs/strategies.md is generated from the registry's descriptions, and
//! `bt strategies NAME` prints the same text.

use std::path::{Path, PathBuf};

use bt::strategies::Registry;

use crate::{bt, ok_text};

fn docs_strategies_md() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/strategies.md")
}

#[test]
fn docs_strategies_md_is_generated_from_the_registry() {
    let want = bt_cli::strategies_markdown(&Registry::builtin());
    let path = docs_strategies_md();
    if std::env::var_os("BT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
    }
    let got = std::fs::read_to_string(&path).unwrap_or_default();
    if got != want {
        let line = got.lines().zip(want.lines()).take_while(|(g, w)| g == w).count() + 1;
        panic!(
            "docs/strategies.md differs from the registry's descriptions from line {line} on: \
             regenerate it with `BT_BLESS=1 cargo test -p bt-cli --test it strategies` and \
             review the diff"
        );
    }
}

#[test]
fn every_builtin_says_how_to_reproduce_it_in_backtesting_py() {
    let registry = Registry::builtin();
    for name in registry.names() {
        let text = registry.entry(name).unwrap().description();
        for needle in ["`next` first runs at bar", "1 - eps", "In backtesting.py 0.6.6"] {
            assert!(text.contains(needle), "{name}: no {needle:?} in its description");
        }
        for p in registry.entry(name).unwrap().params() {
            let attribute = format!("        {} = ", p.name);
            assert!(text.contains(&attribute), "{name}: its Python class lacks `{}`", p.name);
        }
    }
}

#[test]
fn bt_strategies_name_prints_the_full_description() {
    let out = ok_text(&bt().args(["strategies", "rsi_reversion"]).output().unwrap());
    let registry = Registry::builtin();
    let description = registry.entry("rsi_reversion").unwrap().description();
    let indented: String = description
        .lines()
        .map(|l| if l.is_empty() { "\n".to_owned() } else { format!("  {l}\n") })
        .collect();
    assert!(out.starts_with(&format!("rsi_reversion\n{indented}parameters:\n")), "{out}");
    assert!(out.contains("`.ewm(alpha=1 / period, adjust=False, min_periods=period)"), "{out}");
    assert!(out.contains("`crossover(lower, rsi)`, that is `rsi[i-1] > lower and"), "{out}");
    assert!(out.contains("    lower = 30: oversold level"), "{out}");
    assert!(out.contains("rules: lower < upper"), "{out}");
}

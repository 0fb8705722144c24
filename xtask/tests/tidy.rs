//! Tidy checks of the code base (rust-analyzer's idea): the architecture rules of
//! docs/ARCHITECTURE.md hold in the manifests and crate roots.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace root").into()
}

/// Every member: (package name, manifest text, directory).
fn members() -> Vec<(String, String, PathBuf)> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    dirs.push(root().join("xtask"));
    dirs.push(root().join("xtask/fuzz"));
    dirs.push(root().join("xtask/profile"));
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let text = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .and_then(|l| l.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{}: no package name", dir.display()))
                .to_owned();
            (name, text, dir)
        })
        .collect()
}

/// The internal crates a manifest's [dependencies] section names (dev-dependencies excluded).
fn internal_deps(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps
            && let Some(name) = line.split(['.', ' ', '=']).next()
            && (name == "bt" || name.starts_with("bt-"))
        {
            out.push(name.to_owned());
        }
    }
    out
}

/// The "Allowed dependency edges" table of docs/ARCHITECTURE.md.
fn allowed_edges() -> BTreeMap<String, Vec<String>> {
    let doc = fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let section = doc.split("## Allowed dependency edges").nth(1).expect("the section exists");
    let mut map = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| crate")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (krate, deps) = (cells[1], cells[2]);
        // Only what precedes a parenthesis counts: "(dev: ...)" notes are not normal edges.
        let normal = deps.split('(').next().unwrap_or_default();
        let allowed = normal
            .split(',')
            .map(|d| d.trim().trim_matches('`'))
            .filter(|d| *d == "bt" || d.starts_with("bt-"))
            .map(str::to_owned)
            .collect();
        map.insert(krate.to_owned(), allowed);
    }
    map
}

#[test]
fn dependency_edges_follow_the_architecture() {
    let allowed = allowed_edges();
    assert_eq!(
        allowed["bt-executor"],
        ["bt-engine", "bt-domain", "bt-fs"],
        "the edge table parses"
    );
    assert_eq!(allowed["bt-cli"], ["bt"], "the CLI sits on the facade only");
    let facade = members().into_iter().find(|m| m.0 == "bt").expect("the bt facade exists");
    assert!(internal_deps(&facade.1).len() >= 9, "the manifest parser finds the facade's edges");
    let mut problems = Vec::new();
    for (name, manifest, _) in members() {
        if name == "xtask" {
            continue; // "what it needs"
        }
        let Some(ok) = allowed.get(&name) else {
            problems.push(format!("{name} is not in docs/ARCHITECTURE.md's edge table"));
            continue;
        };
        for dep in internal_deps(&manifest) {
            if !ok.contains(&dep) {
                problems.push(format!("{name} depends on {dep}, which the architecture forbids"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn heavy_dependencies_stay_in_their_crate() {
    // polars in bt-data, rayon in bt-executor, plotters in bt-report, ron in bt-queue,
    // clap/anyhow in bt-cli and xtask.
    let homes: [(&str, &[&str]); 6] = [
        ("polars", &["bt-data"]),
        ("rayon", &["bt-executor"]),
        ("plotters", &["bt-report"]),
        ("ron", &["bt-queue"]),
        ("clap", &["bt-cli", "xtask"]),
        ("anyhow", &["bt-cli", "xtask", "bt-profile", "bt-example"]),
    ];
    let mut problems = Vec::new();
    for (name, manifest, _) in members() {
        for (dep, owners) in homes {
            let declared = manifest.lines().any(|l| l.trim_start().starts_with(&format!("{dep}.")));
            if declared && !owners.contains(&name.as_str()) {
                problems.push(format!("{name} depends on {dep}, which belongs to {owners:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_member_uses_workspace_lints_and_documents_its_root() {
    let mut problems = Vec::new();
    for (name, manifest, dir) in members() {
        if !manifest.contains("[lints]\nworkspace = true") {
            problems.push(format!("{name}: Cargo.toml lacks `[lints] workspace = true`"));
        }
        for root_file in ["src/lib.rs", "src/main.rs"] {
            let path = dir.join(root_file);
            if let Ok(text) = fs::read_to_string(&path)
                && !text.trim_start().starts_with("//!")
            {
                problems
                    .push(format!("{}: the crate root must open with `//!` docs", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

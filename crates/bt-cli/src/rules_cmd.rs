//! `bt rules check` and `bt strategies [NAME] [--rules FILE]`: rules files and what the
//! strategies do.

use std::{io::Write, path::PathBuf, process::ExitCode, sync::Arc};

use bt::{
    Workbench,
    domain::Params,
    rules::Rules,
    strategies::{Registry, StrategyEntry},
};

use crate::BadInput;

/// Rules files (docs/rules.md).
#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Check rules files: syntax, names, types, cycles, and a compile with the defaults.
    #[command(after_help = "Example:\n  bt rules check data/rules/trend_rsi.ron")]
    Check {
        /// The rules files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bt strategies                       # every strategy and its parameters
  bt strategies rsi_reversion         # what one does
  bt strategies --rules data/rules/trend_rsi.ron")]
pub struct StrategiesArgs {
    /// Describe this strategy in full.
    pub name: Option<String>,
    /// Describe the strategy of a rules file.
    #[arg(long, value_name = "FILE", conflicts_with = "name")]
    pub rules: Option<PathBuf>,
}

/// The registry entry of a rules file, under the file's own name.
pub fn rules_entry(path: &std::path::Path) -> anyhow::Result<StrategyEntry> {
    let rules = Arc::new(Rules::load(path).map_err(bt::Error::from)?);
    let name = rules.name().to_owned();
    Ok(rules.entry(&name))
}

pub fn run(cmd: RulesCommand, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let RulesCommand::Check { files } = cmd;
    for path in &files {
        let rules = Rules::load(path).map_err(bt::Error::from)?;
        let specs = rules.param_specs();
        let required: Vec<&str> =
            specs.iter().filter(|p| p.default.is_none()).map(|p| p.name.as_ref()).collect();
        if required.is_empty() {
            rules.strategy(rules.name(), &defaults(&specs)).map_err(|e| {
                BadInput(format!("{}: with its default parameters: {e}", path.display()))
            })?;
        }
        let note = if required.is_empty() {
            String::new()
        } else {
            format!(" ({} without a default: {})", required.len(), required.join(", "))
        };
        writeln!(
            out,
            "OK: {}: rules `{}`, {} parameter(s){note}",
            path.display(),
            rules.name(),
            specs.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn defaults(specs: &[bt::domain::ParamSpec]) -> Params {
    specs.iter().filter_map(|p| Some((p.name.to_string(), p.default.clone()?))).collect()
}

pub fn strategies(
    wb: &Workbench,
    args: StrategiesArgs,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    match (&args.name, &args.rules) {
        (_, Some(path)) => {
            let entry = rules_entry(path)?;
            describe(&entry, out)?;
        }
        (Some(name), None) => {
            let entry = wb.registry().entry(name).map_err(bt::Error::from)?;
            describe(entry, out)?;
        }
        (None, None) => list(wb.registry(), out)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn params(entry: &StrategyEntry, out: &mut dyn Write) -> anyhow::Result<()> {
    for p in entry.params() {
        let default = p.default.as_ref().map(|d| format!(" = {d}")).unwrap_or_default();
        writeln!(out, "    {}{default}: {} ({})", p.name, p.doc, p.rule())?;
    }
    Ok(())
}

fn list(registry: &Registry, out: &mut dyn Write) -> anyhow::Result<()> {
    for name in registry.names() {
        writeln!(out, "{name}")?;
        params(registry.entry(name).map_err(bt::Error::from)?, out)?;
    }
    Ok(())
}

/// The full description when there is one, else the summary.
fn full_text(entry: &StrategyEntry) -> &str {
    if entry.description().is_empty() { entry.doc() } else { entry.description() }
}

fn describe(entry: &StrategyEntry, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "{}", entry.name())?;
    for line in full_text(entry).lines() {
        if line.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(out, "parameters:")?;
    params(entry, out)?;
    let rules: Vec<&str> = entry.rules().collect();
    if !rules.is_empty() {
        writeln!(out, "rules: {}", rules.join("; "))?;
    }
    Ok(())
}

/// The strategies of `registry` as a Markdown document, in name order: per strategy the text
/// `bt strategies NAME` prints and a table of its parameters. docs/strategies.md is this
/// document for the built-in registry (a test keeps it so).
pub fn strategies_markdown(registry: &Registry) -> String {
    let mut md = String::from(
        "# Strategies\n\n\
         <!-- Generated from the strategy registry by bt_cli::strategies_markdown: do not edit.\n\
         Regenerate with `BT_BLESS=1 cargo test -p bt-cli --test it strategies`. -->\n\n\
         What each strategy does and the parameters it takes, in name order; the built-in\n\
         strategies are described exactly enough to reproduce their trades in backtesting.py\n\
         0.6.6. `bt strategies NAME` prints the same text; `bt strategies` lists every strategy\n\
         with its parameters.\n\n",
    );
    for name in registry.names() {
        md.push_str(&format!("- [{name}](#{name})\n"));
    }
    for name in registry.names() {
        let Ok(entry) = registry.entry(name) else { continue };
        md.push_str(&format!("\n## {name}\n\n{}\n", full_text(entry).trim_end()));
        if entry.params().is_empty() {
            md.push_str("\nNo parameters.\n");
        } else {
            md.push_str("\n| name | default | rule | doc |\n|---|---|---|---|\n");
            for p in entry.params() {
                let default = p.default.as_ref().map(|d| format!("`{d}`")).unwrap_or_default();
                md.push_str(&format!(
                    "| `{}` | {default} | {} | {} |\n",
                    p.name,
                    table_cell(&p.rule()),
                    table_cell(&p.doc)
                ));
            }
        }
        let rules: Vec<String> = entry.rules().map(|r| format!("`{r}`")).collect();
        if !rules.is_empty() {
            md.push_str(&format!("\nRules across parameters: {}.\n", rules.join(", ")));
        }
    }
    md
}

/// Text that stays inside one Markdown table cell.
fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

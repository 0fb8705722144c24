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

fn describe(entry: &StrategyEntry, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "{}", entry.name())?;
    let text = if entry.description().is_empty() { entry.doc() } else { entry.description() };
    for line in text.lines() {
        writeln!(out, "  {line}")?;
    }
    writeln!(out, "parameters:")?;
    params(entry, out)?;
    let rules: Vec<&str> = entry.rules().collect();
    if !rules.is_empty() {
        writeln!(out, "rules: {}", rules.join("; "))?;
    }
    Ok(())
}

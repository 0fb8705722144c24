//! Strategies a queue brings: `strategies: {"trend": (rules: "trend_rsi.ron")}` (docs/rules.md).

use std::{borrow::Cow, sync::Arc};

use bt_queue::Queue;
use bt_rules::Rules;
use bt_strategies::Registry;

use crate::error::{Error, Result};

/// `registry` with the rules strategies `queue` defines (borrowed as is when it defines none).
/// A name already taken (a built-in, or one of the program's own) is an error.
pub fn with_queue_strategies<'r>(
    registry: &'r Registry,
    queue: &Queue,
) -> Result<Cow<'r, Registry>> {
    if queue.strategy_files().is_empty() {
        return Ok(Cow::Borrowed(registry));
    }
    let mut out = registry.clone();
    for (name, path) in queue.strategy_files() {
        let context = |e: Error| {
            e.context(format!(
                "queue {}: strategy {name:?} (rules file {})",
                queue.name(),
                path.display()
            ))
        };
        let rules = Arc::new(Rules::load(path).map_err(|e| context(e.into()))?);
        out.register(rules.entry(name)).map_err(|e| context(e.into()))?;
    }
    Ok(Cow::Owned(out))
}

/// A fingerprint of the queue's rules files (their bytes), for the run hash.
pub(crate) fn fingerprint(queue: &Queue) -> Result<String> {
    let mut text = String::new();
    for (name, path) in queue.strategy_files() {
        let bytes = std::fs::read(path)
            .map_err(|source| bt_rules::RulesError::Read { path: path.clone(), source })?;
        text.push_str(&format!(
            "|rules {name}:{}:{:016x}",
            bytes.len(),
            bt_domain::hash::fnv1a_64(&bytes)
        ));
    }
    Ok(text)
}

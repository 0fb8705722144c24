use bt_domain::hash::fnv1a_64;
use bt_queue::{DatasetSource, Queue};

use crate::error::{Error, Result};

/// The hash a run directory records: the queue's own hash (its text and data paths) combined
/// with a fingerprint of every data file's and rules file's bytes, so a resume or a merge
/// refuses results computed from data or rules that have changed since.
pub fn run_hash(queue: &Queue) -> Result<String> {
    let mut text = queue.hash().to_owned();
    for (name, source) in queue.datasets() {
        if let DatasetSource::File(path) = source {
            let bytes = std::fs::read(path).map_err(|source| Error::ReadData {
                name: name.clone(),
                path: path.clone(),
                source,
            })?;
            text.push_str(&format!("|{name}:{}:{:016x}", bytes.len(), fnv1a_64(&bytes)));
        }
    }
    text.push_str(&crate::queue_strategies::fingerprint(queue)?);
    Ok(format!("{:016x}", fnv1a_64(text.as_bytes())))
}

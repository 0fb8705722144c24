use std::{fmt, str::FromStr};

use bt_domain::hash::fnv1a_64;

use crate::error::ExecError;

/// One of `count` deterministic parts of a queue: simulation `id` belongs to shard
/// `fnv1a_64(id) % count`, whatever the machine, thread count or queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard index, `< count`.
    pub index: u64,
    /// Number of shards, >= 1.
    pub count: u64,
}

impl Shard {
    /// Shard `index` of `count`, checked.
    pub fn new(index: u64, count: u64) -> Result<Shard, ExecError> {
        let spec = format!("{index}/{count}");
        if count == 0 {
            return Err(ExecError::Shard { spec, reason: "the shard count must be >= 1".into() });
        }
        if index >= count {
            return Err(ExecError::Shard {
                spec,
                reason: format!("shard index must be in 0..{count} (0-based), got {index}"),
            });
        }
        Ok(Shard { index, count })
    }

    /// Whether simulation `id` belongs to this shard.
    pub fn contains(&self, id: &str) -> bool {
        fnv1a_64(id.as_bytes()) % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ExecError;

    /// Parses `K/N` (0-based K).
    fn from_str(s: &str) -> Result<Shard, ExecError> {
        let bad = |reason: &str| ExecError::Shard { spec: s.into(), reason: reason.into() };
        let (k, n) = s.split_once('/').ok_or_else(|| bad("expected K/N, e.g. 0/4"))?;
        let k = k.trim().parse().map_err(|_| bad("K must be a non-negative integer"))?;
        let n = n.trim().parse().map_err(|_| bad("N must be a positive integer"))?;
        Shard::new(k, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_ids() {
        let ids: Vec<String> = (0..1000).map(|i| format!("grid/goog/fast={i}")).collect();
        let shards: Vec<Shard> = (0..4).map(|k| Shard::new(k, 4).unwrap()).collect();
        let mut sizes = [0; 4];
        for id in &ids {
            let owners: Vec<usize> = (0..4).filter(|&k| shards[k].contains(id)).collect();
            assert_eq!(owners.len(), 1, "{id}");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&s| s > 200), "{sizes:?}");
        assert_eq!("1/4".parse::<Shard>().unwrap(), shards[1]);
        assert!("4/4".parse::<Shard>().is_err());
        assert!("1/0".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }
}

use std::{fmt, str::FromStr};

/// A bar interval (the spacing of a regular series), in nanoseconds.
///
/// Parses and prints the usual short forms: `1s`, `30s`, `1m`, `5m`, `1h`, `4h`, `1d`, `1w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    nanos: i64,
}

const UNITS: [(&str, i64); 5] = [
    ("w", 7 * 86_400_000_000_000),
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
];

impl Interval {
    /// One minute.
    pub const MINUTE: Interval = Interval { nanos: 60_000_000_000 };
    /// One hour.
    pub const HOUR: Interval = Interval { nanos: 3_600_000_000_000 };
    /// One day.
    pub const DAY: Interval = Interval { nanos: 86_400_000_000_000 };

    /// An interval of `nanos` nanoseconds; `None` unless positive.
    pub fn from_nanos(nanos: i64) -> Option<Interval> {
        (nanos > 0).then_some(Interval { nanos })
    }

    /// Length in nanoseconds (> 0).
    pub fn nanos(self) -> i64 {
        self.nanos
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, size) in UNITS {
            if self.nanos % size == 0 {
                return write!(f, "{}{unit}", self.nanos / size);
            }
        }
        write!(f, "{}ns", self.nanos)
    }
}

impl FromStr for Interval {
    type Err = String;

    fn from_str(s: &str) -> Result<Interval, String> {
        let bad =
            || format!("invalid interval {s:?}: expected a count and a unit, like 1m, 5m, 1h, 1d");
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (count, unit) = s.split_at(split);
        let count: i64 = count.parse().map_err(|_| bad())?;
        let size = UNITS.iter().find(|(u, _)| *u == unit).map(|(_, size)| *size).ok_or_else(bad)?;
        count.checked_mul(size).and_then(Interval::from_nanos).ok_or_else(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        for s in ["1s", "1m", "5m", "1h", "4h", "1d", "1w", "90m"] {
            let i: Interval = s.parse().unwrap();
            let back: Interval = i.to_string().parse().unwrap();
            assert_eq!(i, back, "{s}");
        }
        assert_eq!("1h".parse::<Interval>().unwrap(), Interval::HOUR);
        assert_eq!("60m".parse::<Interval>().unwrap().to_string(), "1h");
        for bad in ["", "m", "0m", "1x", "-1m", "1.5h"] {
            assert!(bad.parse::<Interval>().is_err(), "{bad}");
        }
    }
}

//! A frame's records as columns: one byte stream per field, so that each column compresses
//! with its own kind (ids with ids, Sharpe ratios with Sharpe ratios).

use bt_domain::{ParamValue, Params, ReturnStats, SimOutcome, SimRecord, SimSummary, Stats};

/// The streams of a frame, in their order on disk (format version 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum S {
    /// `u64` queue index, every record.
    Index,
    /// `u8`: 0 ok, 1 failed, every record.
    Status,
    /// Strings (`u32` length + UTF-8), every record.
    Id,
    Dataset,
    Strategy,
    /// The frame's parameter dictionary: `u32` count, then per entry a name (string) and its
    /// type tag (`u8`): one entry per (name, type) in the frame, in order of first use.
    ParamKeys,
    /// Per record: `u16` count, then per parameter its dictionary entry (`u16`) and value (an
    /// `i64`, `f64` bits, a `u8` flag or a string, by the entry's type).
    Params,
    /// Per ok record: n_bars, bar_steps, open_trades, cancelled_orders (`u64`), bust_bar
    /// (`u64`, `u64::MAX` for none).
    NBars,
    BarSteps,
    OpenTrades,
    Cancelled,
    BustBar,
    /// Per ok record: the return statistics: t (`u64`), sr, skew, kurtosis, psr (`f64` bits).
    RetT,
    Sr,
    Skew,
    Kurtosis,
    Psr,
    /// Per ok record: `u16` count, then `[sum, sum of squares]` per block (`f64` bits).
    Blocks,
    /// Per failed record: the message (string).
    Error,
    /// Per ok record, 32 streams: statistic k as a word ([`Stats::to_words`]).
    Stat0,
}

/// Streams in a version-1 frame: the fixed ones, then one per statistic.
pub(crate) const STREAMS: usize = S::Stat0 as usize + 32;

const TAG_INT: u8 = 0;
const TAG_FLOAT: u8 = 1;
const TAG_BOOL: u8 = 2;
const TAG_STR: u8 = 3;

/// The type of a parameter column, as the dictionary records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParamKind {
    /// Integers.
    Int,
    /// Real numbers.
    Float,
    /// Flags.
    Bool,
    /// Names.
    Str,
}

impl ParamKind {
    fn of(v: &ParamValue) -> ParamKind {
        match v {
            ParamValue::Int(_) => ParamKind::Int,
            ParamValue::Float(_) => ParamKind::Float,
            ParamValue::Bool(_) => ParamKind::Bool,
            ParamValue::Str(_) => ParamKind::Str,
        }
    }
    fn tag(self) -> u8 {
        match self {
            ParamKind::Int => TAG_INT,
            ParamKind::Float => TAG_FLOAT,
            ParamKind::Bool => TAG_BOOL,
            ParamKind::Str => TAG_STR,
        }
    }
    fn from_tag(t: u8) -> Result<ParamKind, String> {
        Ok(match t {
            TAG_INT => ParamKind::Int,
            TAG_FLOAT => ParamKind::Float,
            TAG_BOOL => ParamKind::Bool,
            TAG_STR => ParamKind::Str,
            _ => return Err(format!("unknown parameter type tag {t}")),
        })
    }
}

/// The records of one frame being collected, column by column.
#[derive(Debug)]
pub(crate) struct Columns {
    pub(crate) streams: Vec<Vec<u8>>,
    keys: Vec<(String, ParamKind)>,
    pub(crate) records: u32,
    pub(crate) min_index: u64,
    pub(crate) max_index: u64,
}

impl Default for Columns {
    fn default() -> Columns {
        Columns {
            streams: vec![Vec::new(); STREAMS],
            keys: Vec::new(),
            records: 0,
            min_index: u64::MAX,
            max_index: 0,
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

impl Columns {
    fn put(&mut self, s: S, bytes: &[u8]) {
        self.streams[s as usize].extend_from_slice(bytes);
    }
    fn put_u64(&mut self, s: S, x: u64) {
        self.put(s, &x.to_le_bytes());
    }
    fn put_str(&mut self, s: S, text: &str) {
        put_str(&mut self.streams[s as usize], text);
    }

    /// Raw bytes collected so far (to decide when a frame is full).
    pub(crate) fn raw_len(&self) -> usize {
        self.streams.iter().map(Vec::len).sum()
    }

    /// Adds one record.
    pub(crate) fn push(&mut self, r: &SimRecord) {
        self.records += 1;
        self.min_index = self.min_index.min(r.index);
        self.max_index = self.max_index.max(r.index);
        self.put_u64(S::Index, r.index);
        self.put(S::Status, &[u8::from(matches!(r.outcome, SimOutcome::Failed(_)))]);
        self.put_str(S::Id, &r.id);
        self.put_str(S::Dataset, &r.dataset);
        self.put_str(S::Strategy, &r.strategy);
        self.put(S::Params, &(r.params.len() as u16).to_le_bytes());
        for (name, value) in &r.params {
            let key = self.key(name, ParamKind::of(value));
            self.put(S::Params, &key.to_le_bytes());
            match value {
                ParamValue::Int(i) => self.put(S::Params, &i.to_le_bytes()),
                ParamValue::Float(x) => self.put(S::Params, &x.to_bits().to_le_bytes()),
                ParamValue::Bool(b) => self.put(S::Params, &[u8::from(*b)]),
                ParamValue::Str(s) => self.put_str(S::Params, s),
            }
        }
        match &r.outcome {
            SimOutcome::Ok(s) => self.push_summary(s),
            SimOutcome::Failed(message) => self.put_str(S::Error, message),
        }
    }

    fn push_summary(&mut self, s: &SimSummary) {
        for (k, w) in s.stats.to_words().into_iter().enumerate() {
            self.streams[S::Stat0 as usize + k].extend_from_slice(&w.to_le_bytes());
        }
        self.put_u64(S::NBars, s.n_bars);
        self.put_u64(S::BarSteps, s.bar_steps);
        self.put_u64(S::OpenTrades, s.open_trades);
        self.put_u64(S::Cancelled, s.cancelled_orders);
        self.put_u64(S::BustBar, s.bust_bar.unwrap_or(u64::MAX));
        let r = &s.returns;
        self.put_u64(S::RetT, r.t);
        self.put_u64(S::Sr, r.sr.to_bits());
        self.put_u64(S::Skew, r.skew.to_bits());
        self.put_u64(S::Kurtosis, r.kurtosis.to_bits());
        self.put_u64(S::Psr, r.psr.to_bits());
        self.put(S::Blocks, &(r.blocks.len() as u16).to_le_bytes());
        for [a, b] in &r.blocks {
            self.put_u64(S::Blocks, a.to_bits());
            self.put_u64(S::Blocks, b.to_bits());
        }
    }

    /// The dictionary entry of (name, kind), added on first use.
    fn key(&mut self, name: &str, kind: ParamKind) -> u16 {
        if let Some(k) = self.keys.iter().position(|(n, t)| n == name && *t == kind) {
            return k as u16;
        }
        self.keys.push((name.to_owned(), kind));
        (self.keys.len() - 1) as u16
    }

    /// Writes the parameter dictionary into its stream: call once, when the frame is full.
    pub(crate) fn seal(&mut self) {
        let mut out = (self.keys.len() as u32).to_le_bytes().to_vec();
        for (name, kind) in &self.keys {
            put_str(&mut out, name);
            out.push(kind.tag());
        }
        self.streams[S::ParamKeys as usize] = out;
    }
}

/// Reads a stream front to back; every read checks the bounds.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'static str,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Cursor<'a> {
        Cursor { bytes, at: 0, what }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("the {} column ends early", self.what))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    pub(crate) fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    pub(crate) fn f64(&mut self) -> Result<f64, String> {
        self.u64().map(f64::from_bits)
    }
    pub(crate) fn str(&mut self) -> Result<String, String> {
        let n = self.u32()? as usize;
        let what = self.what;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| format!("the {what} column is not UTF-8"))
    }
    fn done(&self) -> Result<(), String> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(format!(
                "the {} column has {} bytes too many",
                self.what,
                self.bytes.len() - self.at
            ))
        }
    }
}

/// The parameter dictionary of a frame.
pub(crate) fn param_keys(bytes: &[u8]) -> Result<Vec<(String, ParamKind)>, String> {
    let mut c = Cursor::new(bytes, "parameter names");
    let n = c.u32()?;
    let mut keys = Vec::new();
    for _ in 0..n {
        let name = c.str()?;
        keys.push((name, ParamKind::from_tag(c.u8()?)?));
    }
    c.done()?;
    Ok(keys)
}

/// The names of the streams, for error messages.
const NAMES: [&str; S::Stat0 as usize] = [
    "index",
    "status",
    "id",
    "dataset",
    "strategy",
    "parameter names",
    "parameters",
    "n_bars",
    "bar_steps",
    "open_trades",
    "cancelled_orders",
    "bust_bar",
    "t",
    "sr",
    "skew",
    "kurtosis",
    "psr",
    "blocks",
    "error",
];

/// Decodes a frame's `records` records from its (decompressed) streams.
pub(crate) fn decode(streams: &[Vec<u8>], records: u32) -> Result<Vec<SimRecord>, String> {
    if streams.len() != STREAMS {
        return Err(format!("{} columns, expected {STREAMS}", streams.len()));
    }
    let keys = param_keys(&streams[S::ParamKeys as usize])?;
    let mut c: Vec<Cursor<'_>> = streams
        .iter()
        .enumerate()
        .map(|(k, b)| Cursor::new(b, NAMES.get(k).copied().unwrap_or("statistics")))
        .collect();
    // The dictionary was read above.
    c[S::ParamKeys as usize].at = streams[S::ParamKeys as usize].len();
    let mut out = Vec::with_capacity(records as usize);
    for _ in 0..records {
        out.push(decode_one(&mut c, &keys)?);
    }
    c.iter().try_for_each(Cursor::done)?;
    Ok(out)
}

fn decode_one(c: &mut [Cursor<'_>], keys: &[(String, ParamKind)]) -> Result<SimRecord, String> {
    let index = c[S::Index as usize].u64()?;
    let failed = match c[S::Status as usize].u8()? {
        0 => false,
        1 => true,
        s => return Err(format!("unknown status {s}")),
    };
    let id = c[S::Id as usize].str()?;
    let dataset = c[S::Dataset as usize].str()?;
    let strategy = c[S::Strategy as usize].str()?;
    let mut params = Params::new();
    let p = &mut c[S::Params as usize];
    for _ in 0..p.u16()? {
        let k = p.u16()? as usize;
        let (name, kind) =
            keys.get(k).ok_or_else(|| format!("parameter entry {k} is not in the dictionary"))?;
        let v = match kind {
            ParamKind::Int => ParamValue::Int(p.u64()? as i64),
            ParamKind::Float => ParamValue::Float(p.f64()?),
            ParamKind::Bool => ParamValue::Bool(p.u8()? != 0),
            ParamKind::Str => ParamValue::Str(p.str()?),
        };
        params.insert(name.clone(), v);
    }
    let outcome = if failed {
        SimOutcome::Failed(c[S::Error as usize].str()?)
    } else {
        SimOutcome::Ok(Box::new(decode_summary(c)?))
    };
    Ok(SimRecord { index, id, dataset, strategy, params, outcome })
}

fn decode_summary(c: &mut [Cursor<'_>]) -> Result<SimSummary, String> {
    let mut words = [0u64; 32];
    for (k, w) in words.iter_mut().enumerate() {
        *w = c[S::Stat0 as usize + k].u64()?;
    }
    let mut u = |s: S| c[s as usize].u64();
    let (n_bars, bar_steps, open_trades, cancelled_orders) =
        (u(S::NBars)?, u(S::BarSteps)?, u(S::OpenTrades)?, u(S::Cancelled)?);
    let bust_bar = Some(u(S::BustBar)?).filter(|&b| b != u64::MAX);
    let t = u(S::RetT)?;
    let mut f = |s: S| c[s as usize].f64();
    let (sr, skew, kurtosis, psr) = (f(S::Sr)?, f(S::Skew)?, f(S::Kurtosis)?, f(S::Psr)?);
    let b = &mut c[S::Blocks as usize];
    let blocks = (0..b.u16()?).map(|_| Ok([b.f64()?, b.f64()?])).collect::<Result<_, String>>()?;
    Ok(SimSummary {
        stats: Stats::from_words(words),
        returns: ReturnStats { t, sr, skew, kurtosis, psr, blocks },
        n_bars,
        bar_steps,
        open_trades,
        cancelled_orders,
        bust_bar,
    })
}

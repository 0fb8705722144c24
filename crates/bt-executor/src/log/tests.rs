//! The result log: records round-trip bit for bit, a torn tail is ignored and cut, damage is
//! named, and several logs merge in queue order with copies dropped or refused.

use std::{
    fs::OpenOptions,
    io::{Seek, SeekFrom, Write},
    path::Path,
    time::Duration,
};

use bt_domain::{ParamValue, Params, ReturnStats, SimOutcome, SimRecord, SimSummary, Stats};
use proptest::prelude::*;

use super::{Log, LogWriter, frame};
use crate::{
    error::ExecError,
    jsonl::encode_record,
    results::{
        done_indices, for_each_in_queue_order, for_each_in_queue_order_of, read_results,
        refuse_conflict,
    },
};

fn stats(seed: u64) -> Stats {
    let mut w = [0u64; 32];
    for (k, x) in w.iter_mut().enumerate() {
        *x = (seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ k as u64).rotate_left(k as u32);
    }
    let mut s = Stats::from_words(w);
    (s.calmar_ratio, s.beta, s.sortino_ratio) = (f64::NAN, -0.0, f64::INFINITY);
    (s.max_drawdown_duration, s.avg_trade_duration) = (None, Some(86_400_000_000_000));
    s
}

fn record(index: u64, failed: bool) -> SimRecord {
    let mut params = Params::new();
    params.insert("fast".into(), ParamValue::Int(index as i64 - 3));
    params.insert("k".into(), ParamValue::Float(0.1 * index as f64));
    params.insert("long_only".into(), ParamValue::Bool(index.is_multiple_of(2)));
    params.insert("mode".into(), ParamValue::Str(format!("m{}", index % 3)));
    let outcome = if failed {
        SimOutcome::Failed(format!("boom \"{index}\"\nnext line é"))
    } else {
        SimOutcome::Ok(Box::new(SimSummary {
            stats: stats(index),
            returns: ReturnStats {
                t: 2147,
                sr: 0.01 * index as f64,
                skew: f64::NAN,
                kurtosis: f64::NEG_INFINITY,
                psr: 5e-324,
                blocks: vec![[1e-3, 2e-5]; (index % 4) as usize],
            },
            n_bars: 2148,
            bar_steps: 2000 + index,
            open_trades: 1,
            cancelled_orders: index % 2,
            bust_bar: index.is_multiple_of(5).then_some(17),
        }))
    };
    let strategy = if index.is_multiple_of(7) { "macd_cross" } else { "sma_cross" };
    SimRecord {
        index,
        id: format!("g/d/i={index}"),
        dataset: "d".into(),
        strategy: strategy.into(),
        params,
        outcome,
    }
}

/// Writes `frames` (each a list of records) as frames of a new log at `path`.
fn write_frames(path: &Path, frames: &[Vec<SimRecord>]) {
    let w = LogWriter::open(path).unwrap();
    for f in frames {
        for r in f {
            assert!(w.append(r, Duration::ZERO));
        }
        assert!(w.flush());
    }
    w.finish().unwrap();
}

fn texts(records: &[SimRecord]) -> Vec<String> {
    records.iter().map(encode_record).collect()
}

#[test]
fn records_round_trip_bit_for_bit_through_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("results.btr");
    let all: Vec<SimRecord> = (0..50).map(|i| record(i, i % 9 == 4)).collect();
    write_frames(&path, &[all[..20].to_vec(), all[20..21].to_vec(), all[21..].to_vec()]);
    let back = read_results(&path).unwrap();
    // encode_record is exact (shortest round-trip floats, NaN and infinities spelled out).
    assert_eq!(texts(&back), texts(&all));
    let (SimOutcome::Ok(a), SimOutcome::Ok(b)) = (&all[1].outcome, &back[1].outcome) else {
        panic!()
    };
    assert_eq!(a.stats.to_words(), b.stats.to_words());
    assert_eq!(Log::open(&path).unwrap().frames.len(), 3);
}

#[test]
fn a_torn_last_frame_is_ignored_and_a_resume_cuts_it() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("results.btr");
    let all: Vec<SimRecord> = (0..30).map(|i| record(i, false)).collect();
    write_frames(&path, &[all[..10].to_vec(), all[10..20].to_vec(), all[20..].to_vec()]);
    let full = std::fs::read(&path).unwrap();
    let frames = Log::open(&path).unwrap().frames;
    // Every cut inside the last frame (a kill -9 mid-write) leaves the first two readable.
    let last = frames[2].offset as usize;
    for cut in
        [last + 1, last + frame::FRAME_HEADER - 1, last + frame::FRAME_HEADER + 5, full.len() - 1]
    {
        std::fs::write(&path, &full[..cut]).unwrap();
        assert_eq!(texts(&read_results(&path).unwrap()), texts(&all[..20]), "cut at {cut}");
    }
    assert_eq!(done_indices(&path).unwrap(), (0..20).collect::<Vec<u64>>());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), last as u64, "the torn frame is cut");
    // Appending after the cut continues the log.
    let w = LogWriter::open(&path).unwrap();
    all[20..].iter().for_each(|r| assert!(w.append(r, Duration::ZERO)));
    w.finish().unwrap();
    assert_eq!(texts(&read_results(&path).unwrap()), texts(&all));
    // A file cut inside its header starts again.
    std::fs::write(&path, &full[..5]).unwrap();
    assert!(read_results(&path).unwrap().is_empty());
    assert!(done_indices(&path).unwrap().is_empty());
    write_frames(&path, &[all[..3].to_vec()]);
    assert_eq!(texts(&read_results(&path).unwrap()), texts(&all[..3]));
}

#[test]
fn a_damaged_frame_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("results.btr");
    let all: Vec<SimRecord> = (0..20).map(|i| record(i, false)).collect();
    write_frames(&path, &[all[..10].to_vec(), all[10..].to_vec()]);
    let second = Log::open(&path).unwrap().frames[1].offset;
    let mut f = OpenOptions::new().write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(second + frame::FRAME_HEADER as u64 + 40)).unwrap();
    f.write_all(&[0xff]).unwrap();
    let err = read_results(&path).unwrap_err();
    let ExecError::Corrupt { line, message, .. } = &err else { panic!("{err:?}") };
    assert_eq!(*line, 2);
    assert!(message.contains("frame 2: checksum mismatch"), "{message}");
    // Another file, or another version, is named as such.
    std::fs::write(&path, b"{\"index\":0}\n{\"index\":1}\n").unwrap();
    assert!(read_results(&path).unwrap_err().to_string().contains("not a bt result log"));
    let mut other = frame::file_header().to_vec();
    other[8] = 9;
    std::fs::write(&path, &other).unwrap();
    let err = read_results(&path).unwrap_err().to_string();
    assert!(err.contains("format version 9; this bt reads version 1"), "{err}");
}

#[test]
fn copies_are_used_once_and_different_copies_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.btr"), tmp.path().join("b.btr"));
    let all: Vec<SimRecord> = (0..40).map(|i| record(i, i % 11 == 3)).collect();
    // Two shards that overlap on 10..15 (a retried task), each written out of order.
    let mut first: Vec<SimRecord> = all[..15].to_vec();
    first.reverse();
    let second: Vec<SimRecord> = all[10..].iter().rev().cloned().collect();
    write_frames(&a, &[first[..7].to_vec(), first[7..].to_vec()]);
    write_frames(&b, &[second[..20].to_vec(), second[20..].to_vec()]);
    let mut seen = Vec::new();
    for_each_in_queue_order_of(&[&a, &b], &mut refuse_conflict, |r| {
        seen.push(r);
        Ok(())
    })
    .unwrap();
    assert_eq!(texts(&seen), texts(&all));
    // A copy that differs (appended to b as its third frame) is an error naming both places.
    let mut changed = all[12].clone();
    changed.outcome = SimOutcome::Failed("different".into());
    write_frames(&b, &[vec![changed]]);
    let err = for_each_in_queue_order_of(&[&a, &b], &mut refuse_conflict, |_| Ok(()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("simulation \"g/d/i=12\" has two different results"), "{err}");
    assert!(err.contains("a.btr frame 1") && err.contains("b.btr frame 3"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the completion order, the frame boundaries and the copies, the queue order
    /// gives each simulation once, by index.
    #[test]
    fn queue_order_whatever_the_frames(
        n in 1..300u64,
        order in prop::collection::vec(any::<u32>(), 300),
        cuts in prop::collection::vec(1..80usize, 1..12),
        copies in prop::collection::vec(0..300u64, 0..20),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("results.btr");
        let mut records: Vec<SimRecord> = (0..n).map(|i| record(i, i % 13 == 0)).collect();
        records.extend(copies.iter().filter(|&&c| c < n).map(|&c| record(c, c % 13 == 0)));
        // A local shuffle, as threads finish: sort by index plus a bounded random offset.
        let mut keyed: Vec<(u64, SimRecord)> = records
            .into_iter()
            .enumerate()
            .map(|(k, r)| (r.index + u64::from(order[k % order.len()] % 50), r))
            .collect();
        keyed.sort_by_key(|(key, _)| *key);
        let shuffled: Vec<SimRecord> = keyed.into_iter().map(|(_, r)| r).collect();
        let mut frames = Vec::new();
        let (mut at, mut c) = (0, 0);
        while at < shuffled.len() {
            let end = (at + cuts[c % cuts.len()]).min(shuffled.len());
            frames.push(shuffled[at..end].to_vec());
            (at, c) = (end, c + 1);
        }
        write_frames(&path, &frames);
        let mut seen = Vec::new();
        for_each_in_queue_order(&path, |r| {
            seen.push(r.index);
            Ok(())
        })
        .unwrap();
        prop_assert_eq!(seen, (0..n).collect::<Vec<u64>>());
    }
}

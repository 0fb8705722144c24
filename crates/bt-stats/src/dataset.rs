use bt_domain::{
    Bars,
    time::{NANOS_PER_DAY, civil_from_days, day_index, weekday},
};

use crate::numeric::{NeumaierSum, np_sum, resolution_unit_ns};

/// How `compute_stats` buckets the equity curve into periods before taking returns
/// (`equity.resample(rule).last()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResampleRule {
    /// `D`: calendar days (the default, also for intraday data).
    Day,
    /// `W`: weeks ending on Sunday (median bar gap of 7 days).
    Week,
    /// `ME`: calendar months (median gap of 31 days).
    MonthEnd,
    /// `YE`: calendar years (median gap of 365 days).
    YearEnd,
}

impl ResampleRule {
    /// pandas' name of the rule.
    pub fn as_str(self) -> &'static str {
        match self {
            ResampleRule::Day => "D",
            ResampleRule::Week => "W",
            ResampleRule::MonthEnd => "ME",
            ResampleRule::YearEnd => "YE",
        }
    }

    /// The calendar bucket of a timestamp; equal keys share a bucket, keys increase with time.
    fn bucket(self, ts: i64) -> i64 {
        let day = day_index(ts);
        match self {
            ResampleRule::Day => day,
            // Monday..Sunday share a key: 1970-01-01 (day 0) was a Thursday.
            ResampleRule::Week => (day + 3).div_euclid(7),
            ResampleRule::MonthEnd => {
                let (y, m, _) = civil_from_days(day);
                y * 12 + i64::from(m)
            }
            ResampleRule::YearEnd => civil_from_days(day).0,
        }
    }
}

/// Everything about a data set that the statistics need and that does not depend on the
/// simulation: computed once per data set and shared by reference by every
/// [`crate::StatsAccumulator`] of a sweep.
///
/// Holds backtesting.py's annualization inputs (median bar period, weekend share, periods per
/// year, resample rule), the last bar of each resample bucket, and the de-meaned close log
/// returns used for Beta.
#[derive(Debug, Clone)]
pub struct DatasetStats {
    pub(crate) bars: Bars,
    pub(crate) period_ns: i64,
    pub(crate) resolution_ns: i64,
    pub(crate) have_weekends: bool,
    pub(crate) annual_periods: f64,
    pub(crate) rule: ResampleRule,
    /// Last bar index of each non-empty resample bucket, increasing; the last is `n - 1`.
    pub(crate) bucket_ends: Vec<usize>,
    /// `ln(C[i+1]/C[i]) - mean`, for `i in 0..n-1` (numpy's `X -= avg` row of `np.cov`).
    pub(crate) close_dev: Vec<f64>,
    /// `Σ close_dev` (not exactly 0 in floating point; corrects the one-pass covariance).
    pub(crate) close_dev_sum: f64,
    /// `Σ close_dev²`.
    pub(crate) close_dev_sq_sum: f64,
}

impl DatasetStats {
    /// Precomputes the per-data-set inputs of the statistics (O(n), one allocation of n floats).
    pub fn new(bars: &Bars) -> DatasetStats {
        let ts = bars.timestamps();
        let n = ts.len();
        let period_ns = median_period_ns(ts);
        let freq_days = period_ns.div_euclid(NANOS_PER_DAY);
        let weekend_bars = ts.iter().filter(|&&t| weekday(day_index(t)) >= 5).count();
        // `index.dayofweek.to_series().between(5, 6).mean() > 2 / 7 * .6`
        let have_weekends = weekend_bars as f64 / n as f64 > 2.0 / 7.0 * 0.6;
        let (annual_periods, rule) = match freq_days {
            7 => (52.0, ResampleRule::Week),
            31 => (12.0, ResampleRule::MonthEnd),
            365 => (1.0, ResampleRule::YearEnd),
            _ => (if have_weekends { 365.0 } else { 252.0 }, ResampleRule::Day),
        };
        let mut bucket_ends = Vec::new();
        for i in 1..n {
            if rule.bucket(ts[i]) != rule.bucket(ts[i - 1]) {
                bucket_ends.push(i - 1);
            }
        }
        bucket_ends.push(n - 1);

        let close = bars.close();
        let log_ret: Vec<f64> = close.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let mean = np_sum(&log_ret) / log_ret.len() as f64;
        let close_dev: Vec<f64> = log_ret.iter().map(|&b| b - mean).collect();
        let (mut sum, mut sq) = (NeumaierSum::default(), NeumaierSum::default());
        for &d in &close_dev {
            sum.add(d);
            sq.add(d * d);
        }
        DatasetStats {
            bars: bars.clone(),
            period_ns,
            resolution_ns: resolution_unit_ns(period_ns),
            have_weekends,
            annual_periods,
            rule,
            bucket_ends,
            close_dev,
            close_dev_sum: sum.value(),
            close_dev_sq_sum: sq.value(),
        }
    }

    /// The bars these statistics belong to.
    pub fn bars(&self) -> &Bars {
        &self.bars
    }
    /// Number of bars.
    pub fn n_bars(&self) -> usize {
        self.bars.len()
    }
    /// backtesting.py's data period: the median of the gaps between the last 100 timestamps (ns).
    pub fn period_ns(&self) -> i64 {
        self.period_ns
    }
    /// The unit durations are rounded up to (`Timedelta.resolution_string` of the period), in ns.
    pub fn resolution_ns(&self) -> i64 {
        self.resolution_ns
    }
    /// Whether more than 0.6 × 2/7 of the bars fall on a Saturday or Sunday.
    pub fn have_weekends(&self) -> bool {
        self.have_weekends
    }
    /// Periods per year used to annualize (52, 12, 1, 365 or 252).
    pub fn annual_periods(&self) -> f64 {
        self.annual_periods
    }
    /// The resample rule of the period returns.
    pub fn rule(&self) -> ResampleRule {
        self.rule
    }
    /// Number of non-empty resample buckets (one more than the number of period returns).
    pub fn n_buckets(&self) -> usize {
        self.bucket_ends.len()
    }
}

/// `_data_period(index)`: `pd.Series(index[-100:]).diff().dropna().median()`, in ns.
///
/// pandas takes the median of the int64 gaps as float64 and truncates it back to int64.
fn median_period_ns(ts: &[i64]) -> i64 {
    let tail = &ts[ts.len().saturating_sub(100)..];
    let mut gaps: Vec<i64> = tail.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort_unstable();
    let m = gaps.len();
    if m == 0 {
        return 0;
    }
    let median = if m % 2 == 1 {
        gaps[m / 2] as f64
    } else {
        (gaps[m / 2 - 1] as f64 + gaps[m / 2] as f64) / 2.0
    };
    median as i64
}

#[cfg(test)]
mod tests {
    use bt_domain::time::{days_from_civil, parse_iso};

    use super::*;

    fn bars_at(times: &[&str]) -> Bars {
        let ts: Vec<i64> = times.iter().map(|t| parse_iso(t).unwrap()).collect();
        let n = ts.len();
        let c: Vec<f64> = (0..n).map(|i| 100.0 + i as f64).collect();
        Bars::new(ts, c.clone(), c.clone(), c.clone(), c, vec![0.0; n]).unwrap()
    }

    #[test]
    fn weekly_buckets_end_on_sunday_and_keep_the_whole_sunday() {
        // pandas: s.resample('W').last() puts 2024-01-07 00:00 and 23:00 (a Sunday) with the
        // week ending 2024-01-07, and 2024-01-08 (Monday) in the next week.
        let r = ResampleRule::Week;
        let t = |s| r.bucket(parse_iso(s).unwrap());
        assert_eq!(t("2024-01-06T12:00"), t("2024-01-07T23:00"));
        assert_ne!(t("2024-01-07T23:00"), t("2024-01-08T00:00"));
        assert_eq!(t("2024-01-08T00:00"), t("2024-01-14T00:00"));
        let m = ResampleRule::MonthEnd;
        assert_ne!(
            m.bucket(parse_iso("2024-01-31T23:59").unwrap()),
            m.bucket(parse_iso("2024-02-01").unwrap())
        );
    }

    #[test]
    fn period_weekends_and_annualization() {
        let daily: Vec<String> = (0..30)
            .map(|d| bt_domain::time::format_iso((days_from_civil(2021, 1, 1) + d) * NANOS_PER_DAY))
            .collect();
        let refs: Vec<&str> = daily.iter().map(String::as_str).collect();
        let ds = DatasetStats::new(&bars_at(&refs));
        assert_eq!(ds.period_ns(), NANOS_PER_DAY);
        assert!(ds.have_weekends());
        assert_eq!(ds.annual_periods(), 365.0);
        assert_eq!(ds.rule(), ResampleRule::Day);
        assert_eq!(ds.n_buckets(), 30);

        let monthly = bars_at(&["2019-01-01", "2019-02-01", "2019-03-01", "2019-04-01"]);
        let ds = DatasetStats::new(&monthly);
        // gaps 31, 28, 31 days: median 31 days
        assert_eq!(ds.period_ns(), 31 * NANOS_PER_DAY);
        assert_eq!((ds.annual_periods(), ds.rule()), (12.0, ResampleRule::MonthEnd));
        // Even number of gaps: the mean of the two middle ones (30 and 31 days -> 30.5 days).
        let ds = DatasetStats::new(&bars_at(&["2019-04-01", "2019-05-01", "2019-06-01"]));
        assert_eq!(ds.period_ns(), 61 * NANOS_PER_DAY / 2);
        assert_eq!(ds.resolution_ns(), 3_600_000_000_000);
        // 2019-06-01 is a Saturday: 1 of 3 bars on a weekend, so 365 periods a year.
        assert!(ds.have_weekends());
        assert_eq!((ds.annual_periods(), ds.rule()), (365.0, ResampleRule::Day));
    }
}

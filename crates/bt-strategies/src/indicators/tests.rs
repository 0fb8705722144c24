#[test]
fn sma_flat_windows_are_exact_like_pandas() {
    // pandas 3.1.1: pd.Series(x).rolling(3).mean() gives exactly 0.3 once the window is flat,
    // even right after a huge value left it (a Kahan sum alone leaves residue there).
    let x = [0.1, 0.7, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 1e10, 0.3, 0.3, 0.3];
    let m = super::sma(&x, 3);
    assert_eq!(m[2], 0.36666666666666664);
    assert_eq!(m[3], 0.4333333333333333);
    assert_eq!(&m[4..8], &[0.3; 4]);
    assert_eq!(m[8], 3333333333.5333333);
    assert_eq!(m[11], 0.3);
    assert_eq!(super::sma(&[1.5, 2.5, 3.5], 1), vec![1.5, 2.5, 3.5]);
}

use proptest::prelude::*;

use super::*;

fn close_to(a: f64, b: f64, rel: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

fn assert_all_close(got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(close_to(g, w, rel), "index {i}: got {g}, want {w}");
    }
}

fn leading_nans(x: &[f64]) -> usize {
    x.iter().take_while(|v| v.is_nan()).count()
}

/// A deterministic, wiggly positive series (no randomness needed).
fn series(len: usize) -> Vec<f64> {
    (0..len).map(|i| 100.0 + (i as f64 * 0.7).sin() * 5.0 + i as f64 * 0.1).collect()
}

/// The textbook recursion `y0 = x0, y = (1 - a) y + a x`, in plain arithmetic.
fn naive_ewm(x: &[f64], alpha: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    let mut y = x[0];
    out.push(y);
    for &v in &x[1..] {
        y = (1.0 - alpha) * y + alpha * v;
        out.push(y);
    }
    out
}

#[test]
fn ema_follows_the_recursion_and_warms_up_n_minus_1_bars() {
    let x = [1.0, 2.0, 3.0, 4.0, 10.0];
    let got = ema(&x, 2);
    // alpha = 2/3: y1 = 1/3 + 4/3 = 5/3, y2 = 5/9 + 2 = 23/9, ...
    assert!(got[0].is_nan());
    assert!(close_to(got[1], 5.0 / 3.0, 1e-15));
    assert!(close_to(got[2], 23.0 / 9.0, 1e-15));
    let long = series(300);
    let mut want = naive_ewm(&long, 2.0 / 13.0);
    want[..11].fill(f64::NAN);
    assert_all_close(&ema(&long, 12), &want, 1e-12);
}

#[test]
fn ema_of_a_constant_is_exactly_constant() {
    let x = [3.1; 50];
    assert!(ema(&x, 7)[6..].iter().all(|&v| v == 3.1));
    assert!(rma(&x, 7)[6..].iter().all(|&v| v == 3.1));
}

#[test]
fn ewm_starts_at_first_observation_and_decays_over_gaps() {
    // pandas: leading NaN are skipped; with ignore_na=False the old weight decays over a gap:
    // after a NaN, y = ((1-a)^2 y + a x) / ((1-a)^2 + a).
    let x = [f64::NAN, 2.0, f64::NAN, 4.0];
    let got = ewm_mean(&x, 1.0, 1); // alpha = 0.5
    assert!(got[0].is_nan());
    assert_eq!(got[1], 2.0);
    assert_eq!(got[2], 2.0);
    assert!(close_to(got[3], (0.25 * 2.0 + 0.5 * 4.0) / 0.75, 1e-15));
}

#[test]
fn rsi_hand_computed() {
    // deltas +1 -1 +1; gains 1 0 1, losses 0 1 0; alpha 1/2:
    // g = 1, .5, .75 and l = 0, .5, .25 -> rsi NaN, NaN, 50, 75.
    let got = rsi(&[1.0, 2.0, 1.0, 2.0], 2);
    assert!(got[0].is_nan() && got[1].is_nan());
    assert_eq!(got[2], 50.0);
    assert_eq!(got[3], 75.0);
}

#[test]
fn rsi_is_100_without_losses_and_0_without_gains() {
    let up: Vec<f64> = (0..30).map(|i| 10.0 + i as f64).collect();
    let down: Vec<f64> = up.iter().rev().copied().collect();
    assert!(rsi(&up, 14)[14..].iter().all(|&v| v == 100.0));
    assert!(rsi(&down, 14)[14..].iter().all(|&v| v == 0.0));
    assert_eq!(leading_nans(&rsi(&up, 14)), 14);
}

#[test]
fn atr_hand_computed() {
    // TR = 2, max(3, 3, 0) = 3, max(4, 0, 4) = 4; alpha 1/2: NaN, 2.5, 3.25.
    let got = atr(&[10.0, 12.0, 11.0], &[8.0, 9.0, 7.0], &[9.0, 11.0, 8.0], 2);
    assert!(got[0].is_nan());
    assert_eq!(got[1], 2.5);
    assert_eq!(got[2], 3.25);
}

#[test]
fn bollinger_hand_computed() {
    let (mid, upper, lower) = bollinger(&[1.0, 2.0, 3.0, 4.0, 4.0, 4.0], 2, 2.0);
    assert!(mid[0].is_nan() && upper[0].is_nan() && lower[0].is_nan());
    assert_eq!(&mid[1..], &[1.5, 2.5, 3.5, 4.0, 4.0]);
    assert_eq!(&upper[1..], &[2.5, 3.5, 4.5, 4.0, 4.0]);
    assert_eq!(&lower[1..], &[0.5, 1.5, 2.5, 4.0, 4.0]);
}

#[test]
fn rolling_std_of_a_constant_window_is_exactly_zero() {
    // The sum of squares collapses, pandas recomputes the window and gets exactly 0.
    let mut x = series(40);
    x.extend([0.1; 10]);
    let sd = rolling_std(&x, 5);
    assert!(sd[44..].iter().all(|&v| v == 0.0), "{:?}", &sd[40..]);
}

#[test]
fn rolling_extremes_hand_computed() {
    let x = [1.0, 3.0, 2.0, 5.0, 4.0];
    let hi = rolling_max(&x, 2);
    let lo = rolling_min(&x, 2);
    assert!(hi[0].is_nan() && lo[0].is_nan());
    assert_eq!(&hi[1..], &[3.0, 3.0, 5.0, 5.0]);
    assert_eq!(&lo[1..], &[1.0, 2.0, 2.0, 4.0]);
    assert_eq!(rolling_max(&x, 1), x);
    // A window with a NaN has no value (pandas' min_periods = n).
    let hi = rolling_max(&[1.0, f64::NAN, 2.0, 3.0, 4.0], 2);
    assert!(hi[..3].iter().all(|v| v.is_nan()));
    assert_eq!(&hi[3..], &[3.0, 4.0]);
}

#[test]
fn macd_is_the_difference_of_full_emas_masked() {
    let x = series(80);
    let (line, signal) = macd(&x, 3, 6, 4);
    let fast = naive_ewm(&x, 2.0 / 4.0);
    let slow = naive_ewm(&x, 2.0 / 7.0);
    let full: Vec<f64> = fast.iter().zip(&slow).map(|(f, s)| f - s).collect();
    let full_signal = naive_ewm(&full, 2.0 / 5.0);
    assert_eq!(leading_nans(&line), 5);
    assert_eq!(leading_nans(&signal), 8);
    for i in 5..x.len() {
        assert!((line[i] - full[i]).abs() < 1e-12, "line {i}");
    }
    for i in 8..x.len() {
        assert!((signal[i] - full_signal[i]).abs() < 1e-12, "signal {i}");
    }
}

#[test]
fn warmup_lengths() {
    let x = series(100);
    for n in [1, 2, 5, 14, 20] {
        assert_eq!(leading_nans(&sma(&x, n)), n - 1, "sma {n}");
        assert_eq!(leading_nans(&ema(&x, n)), n - 1, "ema {n}");
        assert_eq!(leading_nans(&rma(&x, n)), n - 1, "rma {n}");
        assert_eq!(leading_nans(&rsi(&x, n)), n, "rsi {n}");
        assert_eq!(leading_nans(&atr(&x, &x, &x, n)), n - 1, "atr {n}");
        assert_eq!(leading_nans(&rolling_std(&x, n)), n - 1, "std {n}");
        assert_eq!(leading_nans(&rolling_max(&x, n)), n - 1, "max {n}");
        assert_eq!(leading_nans(&rolling_min(&x, n)), n - 1, "min {n}");
        let (mid, up, lo) = bollinger(&x, n, 2.0);
        assert_eq!([mid, up, lo].map(|v| leading_nans(&v)), [n - 1; 3], "bollinger {n}");
    }
    let (line, signal) = macd(&x, 12, 26, 9);
    assert_eq!((leading_nans(&line), leading_nans(&signal)), (25, 33));
    // Too long a period: all NaN, no panic.
    assert_eq!(leading_nans(&rsi(&x[..5], 14)), 5);
    assert_eq!(leading_nans(&rolling_max(&x[..5], 14)), 5);
}

#[test]
fn cross_helpers_are_strict() {
    assert!(crossover(&[1.0, 3.0], &[2.0, 2.0]));
    assert!(!crossover(&[2.0, 3.0], &[2.0, 2.0]), "a tie before is not a cross");
    assert!(!crossover(&[1.0, 2.0], &[2.0, 2.0]), "a tie after is not a cross");
    assert!(!crossover(&[3.0], &[2.0]));
    assert!(cross_above_at(&[1.0, 3.0, 4.0], &[2.0, 2.0, 2.0], 1));
    assert!(!cross_above_at(&[1.0, 3.0, 4.0], &[2.0, 2.0, 2.0], 2));
    assert!(!cross_above_at(&[1.0, 3.0], &[2.0, 2.0], 0));
    assert!(!cross_above_at(&[1.0, 3.0], &[2.0, 2.0], 5));
    assert!(crossover_level(&[69.0, 71.0], 70.0));
    assert!(!crossover_level(&[70.0, 71.0], 70.0));
    assert!(crossunder_level(&[31.0, 29.0], 30.0));
    assert!(!crossunder_level(&[31.0, 30.0], 30.0));
    assert!(!crossunder_level(&[f64::NAN, 29.0], 30.0));
}

fn prices() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-0.05f64..0.05, 2..300).prop_map(|r| {
        let mut p = 100.0;
        r.into_iter()
            .map(|x| {
                p *= 1.0 + x;
                p
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn rolling_extremes_equal_the_naive_window(x in prices(), n in 1usize..40) {
        let (hi, lo) = (rolling_max(&x, n), rolling_min(&x, n));
        for i in 0..x.len() {
            if i + 1 < n {
                prop_assert!(hi[i].is_nan() && lo[i].is_nan());
            } else {
                let w = &x[i + 1 - n..=i];
                prop_assert_eq!(hi[i], w.iter().copied().fold(f64::MIN, f64::max));
                prop_assert_eq!(lo[i], w.iter().copied().fold(f64::MAX, f64::min));
            }
        }
    }

    #[test]
    fn sma_and_std_match_the_naive_window(x in prices(), n in 1usize..40) {
        let (mean, sd) = (sma(&x, n), rolling_std(&x, n));
        for i in n - 1..x.len() {
            let w = &x[i + 1 - n..=i];
            let m = w.iter().sum::<f64>() / n as f64;
            let var = w.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64;
            prop_assert!(close_to(mean[i], m, 1e-12), "mean {} vs {}", mean[i], m);
            // The std of a window is small next to its values; compare on the price scale.
            prop_assert!((sd[i] - var.sqrt()).abs() <= 1e-9 * m, "std {} vs {}", sd[i], var.sqrt());
        }
    }

    #[test]
    fn rsi_stays_in_0_100(x in prices(), n in 1usize..30) {
        let r = rsi(&x, n);
        for (i, v) in r.iter().enumerate() {
            if i < n {
                prop_assert!(v.is_nan());
            } else {
                prop_assert!((0.0..=100.0).contains(v), "rsi[{}] = {}", i, v);
            }
        }
    }

    #[test]
    fn indicators_are_causal(x in prices(), n in 1usize..20, cut in 0usize..300) {
        // A prefix of the input gives the same prefix of the output, bit for bit: no look-ahead.
        let k = cut.min(x.len());
        let p = &x[..k];
        let same = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(u, v)| u.to_bits() == v.to_bits())
        };
        prop_assert!(same(&sma(p, n), &sma(&x, n)[..k]));
        prop_assert!(same(&ema(p, n), &ema(&x, n)[..k]));
        prop_assert!(same(&rsi(p, n), &rsi(&x, n)[..k]));
        prop_assert!(same(&atr(p, p, p, n), &atr(&x, &x, &x, n)[..k]));
        prop_assert!(same(&rolling_std(p, n), &rolling_std(&x, n)[..k]));
        prop_assert!(same(&rolling_max(p, n), &rolling_max(&x, n)[..k]));
        prop_assert!(same(&rolling_min(p, n), &rolling_min(&x, n)[..k]));
        let (a, b) = (macd(p, n, n + 3, 4), macd(&x, n, n + 3, 4));
        prop_assert!(same(&a.0, &b.0[..k]) && same(&a.1, &b.1[..k]));
    }
}

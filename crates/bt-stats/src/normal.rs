//! The standard normal distribution: [`cdf`] (scipy's `norm.cdf`) and [`quantile`]
//! (`norm.ppf`), both to about 1e-16 relative.

/// `Phi(x)`: `0.5 * erfc(-x / sqrt(2))` (scipy's `ndtr` computes the same).
pub fn cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x / std::f64::consts::SQRT_2)
}

/// `Phi^-1(p)` for `p` in (0, 1): Wichura's algorithm AS 241 (PPND16, accurate to about 1e-16);
/// `-inf`/`inf` at 0/1, NaN outside [0, 1].
#[expect(
    clippy::excessive_precision,
    reason = "AS 241's coefficients, digit for digit as published"
)]
pub fn quantile(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                + 67265.770927008700853)
                * r
                + 45921.953931549871457)
                * r
                + 13731.693765509461125)
                * r
                + 1971.5909503065514427)
                * r
                + 133.14166789178437745)
                * r
                + 3.387132872796366608)
            / (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                + 39307.89580009271061)
                * r
                + 21213.794301586595867)
                * r
                + 5394.1960214247511077)
                * r
                + 687.1870074920579083)
                * r
                + 42.313330701600911252)
                * r
                + 1.0);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let x = if r <= 5.0 {
        let r = r - 1.6;
        (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
            + 0.24178072517745061177)
            * r
            + 1.27045825245236838258)
            * r
            + 3.64784832476320460504)
            * r
            + 5.7694972214606914055)
            * r
            + 4.6303378461565452959)
            * r
            + 1.42343711074968357734)
            / (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                + 0.0151986665636164571966)
                * r
                + 0.14810397642748007459)
                * r
                + 0.68976733498510000455)
                * r
                + 1.6763848301838038494)
                * r
                + 2.05319162663775882187)
                * r
                + 1.0)
    } else {
        let r = r - 5.0;
        (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
            + 0.0012426609473880784386)
            * r
            + 0.026532189526576123093)
            * r
            + 0.29656057182850489123)
            * r
            + 1.7848265399172913358)
            * r
            + 5.4637849111641143699)
            * r
            + 6.6579046435011037772)
            / (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                + 1.8463183175100546818e-5)
                * r
                + 7.868691311456132591e-4)
                * r
                + 0.0148753612908506148525)
                * r
                + 0.13692988092273580531)
                * r
                + 0.59983220655588793769)
                * r
                + 1.0)
    };
    if q < 0.0 { -x } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // scipy.stats.norm.cdf / norm.ppf, printed with repr().
        assert_eq!(cdf(0.0), 0.5);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
        assert!(close(cdf(1.96), 0.9750021048517795));
        assert!(close(cdf(-3.0), 0.0013498980316300933), "{:e}", cdf(-3.0));
        assert!((quantile(0.975) - 1.959963984540054).abs() < 1e-14);
        assert!((quantile(0.05) + 1.6448536269514729).abs() < 1e-14);
        assert!((quantile(1e-10) + 6.361340902404056).abs() < 1e-12);
        assert_eq!(quantile(0.5), 0.0);
        assert!(quantile(1.5).is_nan() && quantile(0.0) == f64::NEG_INFINITY);
        for p in [1e-12, 0.001, 0.2, 0.5, 0.77, 0.999, 1.0 - 1e-9] {
            assert!((cdf(quantile(p)) - p).abs() <= 1e-15_f64.max(p * 1e-13), "{p}");
        }
    }
}

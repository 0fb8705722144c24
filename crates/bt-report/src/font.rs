//! The embedded font: charts draw text without any system font or fontconfig.

use std::sync::OnceLock;

use plotters::style::FontStyle;

use crate::error::ReportError;

/// DejaVu Sans 2.37 (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
pub(crate) const DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family every chart uses; plotters' default, so unstyled text finds it too.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the embedded font for [`FAMILY`] once per process; later calls return the first
/// outcome.
pub(crate) fn ensure_registered() -> Result<(), ReportError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            // `InvalidFont` has no Debug or Display: only "it failed" can be said.
            plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "DejaVu Sans is not a valid TrueType font".to_string())
        })
        .clone()
        .map_err(|reason| ReportError::Font { reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_registers_and_is_the_dejavu_file() {
        ensure_registered().unwrap();
        ensure_registered().unwrap();
        // A TrueType file starts with the sfnt version 0x00010000.
        assert_eq!(&DEJAVU_SANS[..4], &[0, 1, 0, 0]);
        assert!(DEJAVU_SANS.len() > 700_000);
    }
}

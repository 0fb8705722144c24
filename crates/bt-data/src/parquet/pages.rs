//! Direct decoding of Parquet pages into the `Vec`s [`bt_domain::Bars`] keeps.
//!
//! polars decodes a column into Arrow arrays, one or more per row group, which the loader then
//! copied into `Vec`s: on 1M bars that and the page faults of the intermediate buffers cost
//! most of the load (profiled with `perf record -e cpu-clock`, `benches/load.rs`). Here each
//! page is decompressed into one reused scratch buffer (cache-resident) and decoded straight
//! into the final column: one pass over the values.
//!
//! Covered: flat DOUBLE and INT64 columns, required or optional without nulls, PLAIN or
//! dictionary encoded (what bt, polars and pyarrow write for OHLCV data), data pages V1 and V2,
//! every codec polars-parquet decompresses. Anything else (a null, another encoding or type, a
//! page that does not add up) returns `None` and the caller lets polars read the file, so
//! results and error messages stay polars' own. The page-header check of
//! [`super::read_checked`] is made here too, on every page, before a buffer is sized.

use std::io::Cursor;

use polars_parquet::parquet::{
    compression::{Compression, DecompressionContext},
    encoding::hybrid_rle::{HybridRleChunk, HybridRleDecoder},
    page::{CompressedPage, DataPage, DataPageHeader, FormatEncoding, Page},
    read::{PageReader, decompress},
};

use super::{MAX_PAGE_SIZE, direct::PageSource};

/// A value stored as 8 little-endian bytes (Parquet DOUBLE or INT64).
pub(super) trait Le8: Copy {
    fn from_le(bytes: [u8; 8]) -> Self;
}

impl Le8 for f64 {
    #[inline]
    fn from_le(bytes: [u8; 8]) -> Self {
        f64::from_le_bytes(bytes)
    }
}

impl Le8 for i64 {
    #[inline]
    fn from_le(bytes: [u8; 8]) -> Self {
        i64::from_le_bytes(bytes)
    }
}

/// The pages of one column chunk, with the check of [`super::read_checked`]: a data page
/// claiming more values than the chunk holds (a negative count reads as a huge one) ends the
/// iteration with `None`.
fn pages(src: PageSource) -> impl Iterator<Item = Option<CompressedPage>> {
    let total = usize::try_from(src.meta.num_values).unwrap_or(0);
    let reader =
        PageReader::new_with_page_meta(Cursor::new(src.bytes), src.meta, Vec::new(), MAX_PAGE_SIZE);
    reader.map(move |page| match page.ok()? {
        CompressedPage::Data(data) if data.num_values() > total => None,
        page => Some(page),
    })
}

/// Walks the page headers of a column chunk the reader does not decode.
pub(super) fn check(src: PageSource) -> Option<()> {
    pages(src).try_for_each(|page| page.map(drop))
}

/// Buffers a decoding thread reuses from page to page.
#[derive(Default)]
pub(super) struct Scratch {
    /// Decompressed page bytes.
    page: Vec<u8>,
    context: Option<DecompressionContext>,
}

/// Decodes a column chunk of `rows` values (a row group's) onto the end of `out`, or `None`
/// when it is not one this module covers (see the module docs).
pub(super) fn decode<T: Le8>(
    src: PageSource,
    rows: usize,
    out: &mut Vec<T>,
    scratch: &mut Scratch,
) -> Option<()> {
    let max_def = src.meta.descriptor.max_def_level;
    let end = out.len().checked_add(rows)?;
    let context = scratch.context.get_or_insert(DecompressionContext::Unset);
    let mut dict: Option<Vec<T>> = None;
    for page in pages(src) {
        let page = page?;
        let compression = match &page {
            CompressedPage::Data(p) => {
                // No more values than the row group has rows, no page larger than they need.
                let left = end - out.len();
                let most = left.saturating_mul(8).saturating_add(p.num_values() / 8 + 64);
                if p.num_values() > left || p.uncompressed_size() > most {
                    return None;
                }
                p.compression()
            }
            CompressedPage::Dict(p) => p.compression(),
        };
        // Decompression moves the scratch buffer into the page; it is taken back afterwards.
        match decompress(page, &mut scratch.page, context).ok()? {
            Page::Dict(p) => {
                dict = Some(plain(&p.buffer, p.num_values)?);
                if compression != Compression::Uncompressed {
                    scratch.page = p.buffer.into_vec();
                }
            }
            Page::Data(mut p) => {
                data_page(&p, max_def, dict.as_deref(), out)?;
                if compression != Compression::Uncompressed {
                    scratch.page = std::mem::take(p.buffer_mut());
                }
            }
        }
    }
    (out.len() == end).then_some(())
}

/// `n` plain-encoded values filling `bytes` exactly.
fn plain<T: Le8>(bytes: &[u8], n: usize) -> Option<Vec<T>> {
    let mut out = Vec::with_capacity(n.min(bytes.len() / 8));
    extend_plain(bytes, n, &mut out)?;
    Some(out)
}

fn extend_plain<T: Le8>(bytes: &[u8], n: usize, out: &mut Vec<T>) -> Option<()> {
    if n.checked_mul(8)? != bytes.len() {
        return None;
    }
    let values = bytes.chunks_exact(8);
    out.extend(values.map(|b| T::from_le(b.try_into().unwrap_or([0; 8]))));
    Some(())
}

/// Decodes a data page without nulls into `out`.
fn data_page<T: Le8>(
    page: &DataPage,
    max_def: i16,
    dict: Option<&[T]>,
    out: &mut Vec<T>,
) -> Option<()> {
    let n = page.num_values();
    let buffer = page.buffer();
    let (def, values, encoding) = match page.header() {
        DataPageHeader::V1(h) => {
            if max_def > 0 && h.definition_level_encoding != FormatEncoding::RLE {
                return None;
            }
            let (def, values) = if max_def > 0 {
                let len = u32::from_le_bytes(buffer.get(..4)?.try_into().ok()?);
                let end = 4usize.checked_add(usize::try_from(len).ok()?)?;
                (buffer.get(4..end)?, buffer.get(end..)?)
            } else {
                (&[][..], buffer)
            };
            (def, values, h.encoding)
        }
        DataPageHeader::V2(h) => {
            if h.repetition_levels_byte_length != 0 {
                return None;
            }
            let len = usize::try_from(h.definition_levels_byte_length).ok()?;
            (buffer.get(..len)?, buffer.get(len..)?, h.encoding)
        }
    };
    if max_def > 0 {
        all_present(def, n)?;
    }
    match encoding {
        FormatEncoding::PLAIN => extend_plain(values, n, out),
        FormatEncoding::RLE_DICTIONARY | FormatEncoding::PLAIN_DICTIONARY => {
            extend_dictionary(values, n, dict?, out)
        }
        _ => None,
    }
}

/// Whether the definition levels (bit width 1) say that all `n` values are present.
fn all_present(def: &[u8], n: usize) -> Option<()> {
    let mut decoder = HybridRleDecoder::new(def, 1, n);
    let mut seen = 0usize;
    while let Some(chunk) = decoder.next_chunk().ok()? {
        match chunk {
            HybridRleChunk::Rle(1, len) => seen += len,
            HybridRleChunk::Rle(..) => return None,
            // Rare for columns without nulls: decode all levels and look.
            HybridRleChunk::Bitpacked(_) => {
                let levels = HybridRleDecoder::new(def, 1, n).collect().ok()?;
                return (levels.len() == n && levels.iter().all(|&l| l == 1)).then_some(());
            }
        }
    }
    (seen == n).then_some(())
}

/// Dictionary indices: a bit-width byte, then `n` RLE/bit-packed indices into `dict`.
fn extend_dictionary<T: Le8>(values: &[u8], n: usize, dict: &[T], out: &mut Vec<T>) -> Option<()> {
    let (&bit_width, indices) = values.split_first()?;
    if bit_width > 32 {
        return None;
    }
    let mut decoder = HybridRleDecoder::new(indices, u32::from(bit_width), n);
    let before = out.len();
    while let Some(chunk) = decoder.next_chunk().ok()? {
        match chunk {
            HybridRleChunk::Rle(i, len) => {
                let v = *dict.get(usize::try_from(i).ok()?)?;
                out.extend(std::iter::repeat_n(v, len));
            }
            HybridRleChunk::Bitpacked(packed) => {
                let mut idx = Vec::new();
                packed.collect_into(&mut idx);
                for i in idx {
                    out.push(*dict.get(usize::try_from(i).ok()?)?);
                }
            }
        }
    }
    (out.len() - before == n).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_levels_must_all_be_present() {
        // RLE run of 5 ones: header 5 << 1 = 10, value 1.
        assert_eq!(all_present(&[10, 1], 5), Some(()));
        assert_eq!(all_present(&[10, 1], 6), None, "fewer levels than values");
        assert_eq!(all_present(&[10, 0], 5), None, "a null");
        // Bit-packed: one group of 8 (header (1 << 1) | 1 = 3), 5 values used.
        assert_eq!(all_present(&[3, 0b0001_1111], 5), Some(()));
        assert_eq!(all_present(&[3, 0b0001_1011], 5), None);
    }

    #[test]
    fn plain_values_must_fill_the_page_exactly() {
        let bytes: Vec<u8> = [1.5f64, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(plain::<f64>(&bytes, 2), Some(vec![1.5, -2.0]));
        assert_eq!(plain::<f64>(&bytes, 3), None);
        assert_eq!(plain::<f64>(&bytes[..15], 2), None);
        assert_eq!(plain::<i64>(&bytes, usize::MAX), None, "no overflow");
    }

    #[test]
    fn dictionary_indices_are_bounds_checked() {
        let dict = [10.0, 20.0, 30.0];
        let mut out = Vec::new();
        // Bit width 2; RLE run of 3 x index 2, then a bit-packed group [0, 1, 2, 1, ...].
        let page = [2, 6, 2, 3, 0b0110_0100, 0b0000_0000];
        assert_eq!(extend_dictionary(&page, 7, &dict, &mut out), Some(()));
        assert_eq!(out, [30.0, 30.0, 30.0, 10.0, 20.0, 30.0, 20.0]);
        let mut out = Vec::new();
        assert_eq!(extend_dictionary(&[2, 6, 3], 3, &dict, &mut out), None, "index 3 of 3");
        assert_eq!(extend_dictionary(&[33, 0], 1, &dict, &mut out), None, "bit width 33");
    }
}

//! A bounds check of a Parquet footer before polars decodes it.
//!
//! polars' Thrift decoder allocates a list from its declared length before reading the elements,
//! so a footer of a few kilobytes that claims a billion row groups made it request 38 GB and
//! abort the process (found by fuzzing). This walks the footer's Thrift compact encoding without
//! building anything and refuses a list, set, map, string or nesting that cannot fit in the bytes
//! that remain: every element takes at least one byte, so no honest footer fails.

/// Deeper nesting than any Parquet footer has (a schema is a flat list of elements).
const MAX_DEPTH: usize = 64;

/// Checks that the Thrift compact-encoded struct in `footer` is well formed and that no
/// declared length exceeds the bytes left. Returns what is wrong otherwise.
pub(crate) fn check_footer(footer: &[u8]) -> Result<(), String> {
    let mut walker = Walker { bytes: footer, pos: 0 };
    walker.skip_struct(0)
}

struct Walker<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Walker<'_> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.pos).ok_or("the footer ends inside a value")?;
        self.pos += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a varint in the footer is longer than 10 bytes".into())
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => {
                self.pos += n;
                Ok(())
            }
            _ => Err(format!("the footer declares {n} bytes where {} remain", self.remaining())),
        }
    }

    /// A declared element count: each element takes at least one byte.
    fn count(&self, n: u64, what: &str) -> Result<u64, String> {
        if n > self.remaining() as u64 {
            return Err(format!(
                "the footer declares a {what} of {n} elements in {} remaining bytes",
                self.remaining()
            ));
        }
        Ok(n)
    }

    fn skip_struct(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("the footer nests structures deeper than {MAX_DEPTH}"));
        }
        loop {
            let header = self.byte()?;
            let kind = header & 0x0f;
            if kind == 0 {
                return Ok(());
            }
            if header >> 4 == 0 {
                self.varint()?; // a field id that is not a small delta
            }
            // Booleans carry their value in the field header's type.
            if kind != 1 && kind != 2 {
                self.skip_value(kind, depth)?;
            }
        }
    }

    fn skip_value(&mut self, kind: u8, depth: usize) -> Result<(), String> {
        match kind {
            // A boolean as a list element, or a byte.
            1..=3 => self.skip(1),
            4..=6 => self.varint().map(drop),
            7 => self.skip(8),
            8 => {
                let len = self.varint()?;
                self.skip(len)
            }
            9 | 10 => {
                let header = self.byte()?;
                let size = match header >> 4 {
                    15 => self.varint()?,
                    small => u64::from(small),
                };
                let element = header & 0x0f;
                for _ in 0..self.count(size, "list")? {
                    self.skip_value(element, depth + 1)?;
                }
                Ok(())
            }
            11 => {
                let size = self.varint()?;
                if size == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                for _ in 0..self.count(size, "map")? {
                    self.skip_value(types >> 4, depth + 1)?;
                    self.skip_value(types & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            12 => self.skip_struct(depth + 1),
            other => Err(format!("the footer has a value of unknown Thrift type {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_footers_pass_and_lies_about_lengths_do_not() {
        // struct { 1: i32 = 1, 2: list<i32> [1, 2, 3], 3: binary "ab", 4: bool true } STOP
        let ok = [0x15, 0x02, 0x19, 0x35, 0x02, 0x04, 0x06, 0x18, 0x02, b'a', b'b', 0x11, 0x00];
        assert_eq!(check_footer(&ok), Ok(()));
        // The same list claiming 2^33 elements (size 15 = varint follows).
        let big = [0x15, 0x02, 0x19, 0xf5, 0x80, 0x80, 0x80, 0x80, 0x20, 0x02, 0x00];
        let err = check_footer(&big).unwrap_err();
        assert!(err.contains("list of 8589934592 elements"), "{err}");
        // A string longer than the footer, a truncated footer, nesting without end.
        assert!(
            check_footer(&[0x18, 0xff, 0x01, b'a', 0x00])
                .unwrap_err()
                .contains("declares 255 bytes")
        );
        assert!(check_footer(&[0x15]).unwrap_err().contains("ends inside"));
        assert!(check_footer(&[0x1c; 200]).unwrap_err().contains("deeper than 64"));
        assert!(check_footer(&[0x1d, 0x00]).unwrap_err().contains("unknown Thrift type 13"));
    }
}

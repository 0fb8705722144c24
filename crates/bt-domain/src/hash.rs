//! Stable, dependency-free hashes for on-disk identities: queue and run hashes, shard
//! assignment, the ids a resume remembers. The same bytes give the same hash on every machine,
//! with every version of every dependency. Not cryptographic.

/// FNV-1a 64 offset basis.
pub const FNV64_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, 64 bits, continuing from `hash` (start from [`FNV64_OFFSET`]): for hashing several
/// pieces in a row.
#[inline]
pub fn fnv1a_64_from(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// FNV-1a, 64 bits: shard assignment (`hash(id) % N`) and content fingerprints.
#[inline]
pub fn fnv1a_64(bytes: &[u8]) -> u64 {
    fnv1a_64_from(FNV64_OFFSET, bytes)
}

/// FNV-1a, 128 bits: the ids of finished simulations are remembered by this hash on resume (16
/// bytes each instead of the id; collisions are negligible at 10^8 ids).
pub fn fnv1a_128(bytes: &[u8]) -> u128 {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in bytes {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Reference values of the FNV specification (draft-eastlake-fnv).
        assert_eq!(fnv1a_64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x85944171f73967e8);
        assert_eq!(fnv1a_64_from(fnv1a_64(b"foo"), b"bar"), fnv1a_64(b"foobar"));
        assert_eq!(fnv1a_128(b""), 0x6c62272e07bb014262b821756295c58d);
        assert_eq!(fnv1a_128(b"a"), 0xd228cb696f1a8caf78912b704e4a8964);
    }
}

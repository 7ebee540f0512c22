//! FNV-1a, the one hash the kit writes down: stable across processes,
//! builds and platforms, so what it names (statement fingerprints, template
//! databases, the fingerprints cursors carry) stays put.

/// 64-bit FNV-1a, fed piece by piece.
pub(crate) struct Fnv64(u64);

impl Fnv64 {
    pub(crate) fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0
    }

    /// The hash of `bytes` alone.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn of(bytes: &[u8]) -> u64 {
        let mut hash = Fnv64::new();
        hash.feed(bytes);
        hash.finish()
    }
}

/// 32-bit FNV-1a of `parts`, each followed by a `0xff` byte so that
/// `["ab", "c"]` and `["a", "bc"]` differ: the fingerprints a cursor
/// carries (32 bits keep cursors short; their values must not change, or
/// every cursor handed out stops working).
pub(crate) fn fnv32(parts: &[&[u8]]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u32::from(*byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_test_vectors() {
        // From the FNV authors' reference vectors.
        assert_eq!(Fnv64::of(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Fnv64::of(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(Fnv64::of(b"foobar"), 0x8594_4171_f739_67e8);
        // The 32-bit one, with its separator: "a" then 0xff.
        let mut expected: u32 = 0x811c_9dc5;
        for b in [b'a', 0xff] {
            expected ^= u32::from(b);
            expected = expected.wrapping_mul(0x0100_0193);
        }
        assert_eq!(fnv32(&[b"a"]), expected);
    }
}

//! A statement's fingerprint: a short hash of its shape, the same for the
//! text the kit sends and for the text `pg_stat_statements` keeps of it.

use std::fmt;

/// The fingerprint of a statement's shape: its text with every parameter
/// (`$1`) and constant (`1`, `'draft'`) read as one placeholder, comments
/// left out and whitespace runs read as one space, hashed (64-bit FNV-1a).
///
/// The kit's text and `pg_stat_statements`' normalized text of it (which
/// turns constants into `$n`) give the same fingerprint, so a slow
/// statement in the log and its line in the statistics can be matched. It
/// carries no value: statements only ever hold parameters and the
/// schema's own constants, and those are placeholders here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Fingerprint {
    /// The fingerprint of `sql`.
    pub fn of(sql: &str) -> Fingerprint {
        let mut hash = crate::fnv::Fnv64::new();
        let bytes = sql.as_bytes();
        let mut i = 0;
        // Whether the last byte fed was a space (so runs collapse, and
        // leading or trailing space counts for nothing).
        let mut spaced = true;
        let mut pending_space = false;
        let emit = |hash: &mut crate::fnv::Fnv64, piece: &[u8], pending_space: &mut bool| {
            if *pending_space {
                hash.feed(b" ");
                *pending_space = false;
            }
            hash.feed(piece);
        };
        while i < bytes.len() {
            let b = bytes[i];
            let word_before = i > 0 && is_word(bytes[i - 1]);
            if b.is_ascii_whitespace() {
                if !spaced {
                    pending_space = true;
                    spaced = true;
                }
                i += 1;
                continue;
            }
            if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
                i = bytes[i + 2..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(bytes.len(), |p| i + 2 + p + 2);
                continue;
            }
            if b == b'-' && bytes.get(i + 1) == Some(&b'-') {
                i = bytes[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(bytes.len(), |p| i + p);
                continue;
            }
            spaced = false;
            if b == b'\'' {
                // A string constant ('' inside is a quote).
                let mut j = i + 1;
                while j < bytes.len() {
                    if bytes[j] == b'\'' {
                        if bytes.get(j + 1) == Some(&b'\'') {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                emit(&mut hash, b"?", &mut pending_space);
                i = j + 1;
            } else if b == b'"' {
                // A quoted identifier, kept as it is.
                let end = bytes[i + 1..]
                    .iter()
                    .position(|&c| c == b'"')
                    .map_or(bytes.len(), |p| i + 1 + p + 1);
                emit(&mut hash, &bytes[i..end], &mut pending_space);
                i = end;
            } else if (b == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
                || (b.is_ascii_digit() && !word_before)
            {
                // A parameter or a numeric constant.
                let mut j = i + 1;
                while j < bytes.len() && (bytes[j].is_ascii_digit() || bytes[j] == b'.') {
                    j += 1;
                }
                emit(&mut hash, b"?", &mut pending_space);
                i = j;
            } else {
                emit(&mut hash, &bytes[i..i + 1], &mut pending_space);
                i += 1;
            }
        }
        Fingerprint(hash.finish())
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

#[cfg(test)]
mod tests {
    use super::Fingerprint;

    #[test]
    fn constants_and_parameters_are_one_placeholder() {
        let kit = r#"UPDATE "t" SET "version" = "version" + 1, "s" = 'it''s' WHERE "id" = $1"#;
        let normalized = r#"UPDATE "t" SET "version" = "version" + $3, "s" = $2 WHERE "id" = $1"#;
        assert_eq!(Fingerprint::of(kit), Fingerprint::of(normalized));
        assert_eq!(
            Fingerprint::of("SELECT  1 /* tag */\n FROM t -- note\n"),
            Fingerprint::of("SELECT $1 FROM t")
        );
    }

    #[test]
    fn different_shapes_differ_and_digits_inside_names_stay() {
        assert_ne!(
            Fingerprint::of("SELECT a FROM t1"),
            Fingerprint::of("SELECT a FROM t2")
        );
        assert_ne!(
            Fingerprint::of(r#"SELECT "a1" FROM t"#),
            Fingerprint::of(r#"SELECT "a2" FROM t"#)
        );
        assert_ne!(
            Fingerprint::of("SELECT * FROM t WHERE a = $1"),
            Fingerprint::of("SELECT * FROM t WHERE b = $1")
        );
        assert_eq!(Fingerprint::of("SELECT 1").to_string().len(), 16);
    }
}

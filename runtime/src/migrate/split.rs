//! Splits a migration file into statements, so each runs (and fails) on its
//! own and an error can say which one it was.

/// The statements of `sql`, in order, without their trailing `;`, skipping
/// ones that are only whitespace and comments. Semicolons inside quoted
/// strings, quoted identifiers, dollar-quoted bodies and comments do not
/// end a statement.
pub(crate) fn statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => i = skip_quoted(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' => i = skip_dollar_quoted(sql, i),
            b';' => {
                push(&mut out, &sql[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push(&mut out, &sql[start..]);
    out
}

/// Keeps a statement that has code, without the comment lines before it.
fn push<'s>(out: &mut Vec<&'s str>, statement: &'s str) {
    let mut rest = statement.trim_start();
    while rest.starts_with("--") {
        rest = rest.split_once('\n').map_or("", |(_, r)| r).trim_start();
    }
    if has_code(rest) {
        out.push(rest.trim());
    }
}

/// Whether anything but whitespace and comments is left.
fn has_code(statement: &str) -> bool {
    statement.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with("--")
    })
}

/// Index after the quote that closes the one at `at` (`''` is an escaped quote).
fn skip_quoted(bytes: &[u8], at: usize) -> usize {
    let quote = bytes[at];
    let mut i = at + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn skip_block_comment(bytes: &[u8], at: usize) -> usize {
    let mut depth = 0;
    let mut i = at;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// `$tag$ ... $tag$`; a `$` that opens no tag (like `$1`) is skipped alone.
fn skip_dollar_quoted(sql: &str, at: usize) -> usize {
    let rest = &sql[at + 1..];
    let tag_len = rest
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(rest.len());
    if rest.as_bytes().get(tag_len) != Some(&b'$')
        || rest.as_bytes().first().is_some_and(u8::is_ascii_digit)
    {
        return at + 1;
    }
    let delimiter = &sql[at..at + tag_len + 2];
    let body = at + delimiter.len();
    sql[body..]
        .find(delimiter)
        .map_or(sql.len(), |p| body + p + delimiter.len())
}

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn semicolons_inside_literals_comments_and_bodies_do_not_split() {
        let sql = "CREATE TABLE \"a;b\" (x text DEFAULT ';');\n\
                   -- a comment; still a comment\n\
                   /* block; /* nested; */ done */ INSERT INTO t VALUES ('it''s; fine');\n\
                   CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
                   SELECT $1::int;\n\
                   -- only a comment at the end;\n";
        let got = statements(sql);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with("CREATE TABLE \"a;b\""));
        assert!(
            got[1].starts_with("/* block"),
            "leading comment lines are dropped"
        );
        assert!(got[1].ends_with("VALUES ('it''s; fine')"));
        assert!(got[2].ends_with("LANGUAGE sql"));
        assert_eq!(got[3], "SELECT $1::int");
    }

    #[test]
    fn empty_and_comment_only_files_have_no_statements() {
        assert!(statements("").is_empty());
        assert!(statements("-- nothing\n;\n  ;").is_empty());
    }
}

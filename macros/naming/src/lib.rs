//! The naming rules of the ordinance rule book: snake case, English plurals,
//! predicate booleans, type prefixes, identifier limits and generated names,
//! shared by the derive (compile-time checks) and the runtime (the audit of
//! a live database, entities written for an existing schema).
//!
//! Everything here is plain string logic with no spans, unit-tested below, so
//! the conventions can be checked without a compiler in the loop.

mod templates;

pub use templates::{check_template, NameKind, Naming};

/// PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1)
/// with only a NOTICE, so two long generated names could silently collide.
pub const MAX_IDENT_BYTES: usize = 63;

/// Prefixes that encode a type or object kind into a name ("Hungarian notation").
const HUNGARIAN_PREFIXES: &[&str] = &[
    "tbl", "tb", "str", "int", "flg", "flag", "bln", "bool", "dt", "txt", "num", "dbl", "col",
    "fld", "vw",
];

/// Predicate prefixes a boolean column must start with.
pub const BOOLEAN_PREFIXES: &[&str] = &["is_", "has_", "can_", "should_"];

/// `id` and the columns the database maintains on every write.
pub const AUDIT_COLUMNS: [&str; 5] = ["id", "created_at", "updated_at", "deleted_at", "version"];

/// The columns recording who made a change, from the transaction's actor:
/// who created the row, who last changed it, who soft-deleted it.
pub const ACTOR_COLUMNS: [&str; 3] = ["created_by", "updated_by", "deleted_by"];

/// Whether the kit and the database fill `column` on every write, so the
/// application never sets it: `id`, the audit columns, the actor columns,
/// and a tenant table's `tenant_id`. The one list the derive (which leaves
/// them out of `New…`) and the runtime (which leaves them out of inserts)
/// share.
pub fn is_maintained(column: &str, tenant: bool) -> bool {
    AUDIT_COLUMNS.contains(&column)
        || ACTOR_COLUMNS.contains(&column)
        || (tenant && column == "tenant_id")
}

/// Converts a Rust identifier (`WorkflowStep`, `HTTPRequestLog`, `firstName`)
/// to snake case (`workflow_step`, `http_request_log`, `first_name`).
///
/// Any character that is not ASCII alphanumeric becomes a word break.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let boundary = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_is_lower);
            if boundary && !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Whether `name` is a valid convention identifier: `^[a-z][a-z0-9_]*$`,
/// without `__` and without a trailing `_`.
pub fn is_snake_ident(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
        && !name.contains("__")
        && !name.ends_with('_')
}

/// The type-encoding prefix `name` starts with, if any (`tbl_users` -> `tbl`).
pub fn hungarian_prefix(name: &str) -> Option<&'static str> {
    let first = name.split('_').next()?;
    if first.len() == name.len() {
        return None;
    }
    HUNGARIAN_PREFIXES.iter().copied().find(|p| *p == first)
}

/// Words whose plural is the same as the singular, or that have no plural.
const UNCOUNTABLE: &[&str] = &[
    "data",
    "metadata",
    "information",
    "equipment",
    "news",
    "series",
    "species",
    "sheep",
    "fish",
    "deer",
    "feedback",
    "software",
    "hardware",
    "firmware",
    "media",
    "staff",
    "aircraft",
    "audio",
    "evidence",
    "knowledge",
    "luggage",
    "baggage",
    "furniture",
    "traffic",
    "research",
];

/// Irregular (singular, plural) pairs.
const IRREGULAR: &[(&str, &str)] = &[
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("tooth", "teeth"),
    ("foot", "feet"),
    ("ox", "oxen"),
    ("datum", "data"),
    ("medium", "media"),
    ("criterion", "criteria"),
    ("phenomenon", "phenomena"),
    ("index", "indexes"),
    ("matrix", "matrices"),
    ("vertex", "vertices"),
    ("appendix", "appendices"),
    ("leaf", "leaves"),
    ("knife", "knives"),
    ("life", "lives"),
    ("wife", "wives"),
    ("half", "halves"),
    ("wolf", "wolves"),
    ("shelf", "shelves"),
    ("thief", "thieves"),
    ("calf", "calves"),
    ("hero", "heroes"),
    ("potato", "potatoes"),
    ("tomato", "tomatoes"),
    ("echo", "echoes"),
    ("veto", "vetoes"),
    ("quiz", "quizzes"),
    ("cactus", "cacti"),
    ("fungus", "fungi"),
    ("syllabus", "syllabi"),
    ("die", "dice"),
];

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// The English plural of one lower-case word.
pub fn pluralize_word(word: &str) -> String {
    if UNCOUNTABLE.contains(&word) {
        return word.to_owned();
    }
    if let Some((_, plural)) = IRREGULAR.iter().find(|(s, _)| *s == word) {
        return (*plural).to_owned();
    }
    if IRREGULAR.iter().any(|(_, p)| *p == word) {
        return word.to_owned();
    }
    let b = word.as_bytes();
    let n = b.len();
    if let Some(stem) = word.strip_suffix("sis") {
        return format!("{stem}ses");
    }
    if word.ends_with('s')
        || word.ends_with('x')
        || word.ends_with('z')
        || word.ends_with("ch")
        || word.ends_with("sh")
    {
        return format!("{word}es");
    }
    if n >= 2 && b[n - 1] == b'y' && !is_vowel(b[n - 2]) {
        return format!("{}ies", &word[..n - 1]);
    }
    format!("{word}s")
}

/// Singular words ending in `s` that no suffix rule recognises.
const SINGULAR_S: &[&str] = &[
    "alias", "atlas", "bias", "canvas", "gas", "lens", "chaos", "kudos", "iris",
];

/// Singular words that happen to end in `s`; they are never plurals.
fn ends_like_singular(word: &str) -> bool {
    SINGULAR_S.contains(&word) || ["ss", "us", "is"].iter().any(|e| word.ends_with(e))
}

/// Candidate singulars of a word that might be plural, in preference order.
fn singular_candidates(word: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((s, _)) = IRREGULAR.iter().find(|(_, p)| *p == word) {
        out.push((*s).to_owned());
    }
    if let Some(stem) = word.strip_suffix("ies") {
        out.push(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("ses") {
        out.push(format!("{stem}sis"));
    }
    if let Some(stem) = word.strip_suffix("es") {
        out.push(stem.to_owned());
    }
    if let Some(stem) = word.strip_suffix('s') {
        out.push(stem.to_owned());
    }
    out
}

/// The singular of a snake_case plural name (`order_items` -> `order_item`,
/// `people` -> `person`); a name that is not a known plural stays as it is.
pub fn singularize(name: &str) -> String {
    map_last_word(name, |word| {
        singular_candidates(word)
            .into_iter()
            .find(|c| pluralize_word(c) == word)
            .unwrap_or_else(|| word.to_owned())
    })
}

/// Whether one lower-case word is an English plural (or uncountable).
pub fn is_plural_word(word: &str) -> bool {
    if UNCOUNTABLE.contains(&word) || IRREGULAR.iter().any(|(_, p)| *p == word) {
        return true;
    }
    if IRREGULAR.iter().any(|(s, _)| *s == word) || ends_like_singular(word) {
        return false;
    }
    singular_candidates(word)
        .iter()
        .any(|c| !c.is_empty() && pluralize_word(c) == word)
}

/// The plural form to suggest for a word that is not plural:
/// `user` -> `users`, `categorys` -> `categories`, `persons` -> `people`.
fn suggest_plural_word(word: &str) -> String {
    if !ends_like_singular(word) {
        if let Some(stem) = word.strip_suffix('s') {
            if !stem.is_empty() {
                return pluralize_word(stem);
            }
        }
    }
    pluralize_word(word)
}

fn map_last_word(name: &str, f: impl FnOnce(&str) -> String) -> String {
    match name.rsplit_once('_') {
        Some((head, last)) => format!("{head}_{}", f(last)),
        None => f(name),
    }
}

/// Pluralises the last word of a snake_case name: `workflow_step` -> `workflow_steps`.
pub fn pluralize(name: &str) -> String {
    map_last_word(name, pluralize_word)
}

/// Whether the last word of a snake_case name is plural.
pub fn is_plural(name: &str) -> bool {
    let last = name.rsplit('_').next().unwrap_or(name);
    is_plural_word(last)
}

/// The plural a non-plural snake_case name should have been.
pub fn suggest_plural(name: &str) -> String {
    map_last_word(name, suggest_plural_word)
}

/// The table name derived from a struct name: `WorkflowStep` -> `workflow_steps`.
///
/// A struct already named in the plural keeps its name (`Users` -> `users`),
/// and so does one that reads as a misspelt plural (`Persons` -> `persons`),
/// which the plural rule then reports with the right suggestion (`people`).
pub fn table_name_for(struct_name: &str) -> String {
    let snake = snake_case(struct_name);
    let last = snake.rsplit('_').next().unwrap_or(&snake);
    if is_plural(&snake) || (last.ends_with('s') && !ends_like_singular(last)) {
        snake
    } else {
        pluralize(&snake)
    }
}

/// The predicate name to suggest for a boolean column: `active` -> `is_active`.
pub fn suggest_boolean_name(name: &str) -> String {
    format!("is_{name}")
}

/// Whether the name fits PostgreSQL's identifier limit.
pub fn fits(name: &str) -> bool {
    name.len() <= MAX_IDENT_BYTES
}

/// Generated name of the primary key constraint under the default policy
/// ([`Naming::POSTGRES`]).
pub fn primary_key_name(table: &str) -> String {
    Naming::POSTGRES.primary_key(table)
}

/// Generated name of a foreign key constraint under the default policy.
pub fn foreign_key_name(table: &str, column: &str) -> String {
    Naming::POSTGRES.foreign_key(table, column, "")
}

/// Generated name of a check constraint under the default policy:
/// `{table}_{column}_{what}`.
pub fn check_name(table: &str, column: &str, what: &str) -> String {
    Naming::POSTGRES.check(table, column, what)
}

/// Generated name of an index under the default policy:
/// `idx_{table}_{col1}_{col2}[_unique]`.
pub fn index_name(table: &str, columns: &[&str], unique: bool) -> String {
    Naming::POSTGRES.index(table, columns, unique)
}

/// `display_name` -> `DisplayName`: a generated variant's name.
pub fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Levenshtein distance between two short ASCII words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The candidate closest to a misspelt key, if any is close enough to
/// suggest. A key that spells a candidate out (`max_length` for `max_len`)
/// or cuts it short counts as close, the nearest such first.
pub fn closest<'a>(key: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            let distance = edit_distance(key, c);
            let prefix = c.len().min(key.len()) >= 3 && (key.starts_with(c) || c.starts_with(key));
            let score = if prefix { distance.min(2) } else { distance };
            (score, distance, *c)
        })
        .filter(|(score, _, c)| *score <= 2.max(c.len() / 3))
        .min_by_key(|(score, distance, _)| (*score, *distance))
        .map(|(_, _, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_spelt_out_or_cut_short_is_suggested() {
        let keys = [
            "min",
            "max",
            "min_len",
            "max_len",
            "unique",
            "index_name",
            "references",
        ];
        assert_eq!(closest("max_length", &keys), Some("max_len"));
        assert_eq!(closest("min_length", &keys), Some("min_len"));
        assert_eq!(closest("uniq", &keys), Some("unique"));
        assert_eq!(closest("refrences", &keys), Some("references"));
        assert_eq!(closest("colour", &keys), None);
    }

    #[test]
    fn snake_cases_struct_names_and_acronyms() {
        let cases = [
            ("User", "user"),
            ("WorkflowStep", "workflow_step"),
            ("HTTPRequestLog", "http_request_log"),
            ("APIKey", "api_key"),
            ("OAuth2Token", "o_auth2_token"),
            ("UserID", "user_id"),
            ("XMLHttpRequest", "xml_http_request"),
            ("firstName", "first_name"),
            ("first_name", "first_name"),
            ("workflow-steps", "workflow_steps"),
            ("S3Object", "s3_object"),
            ("Version2Upgrade", "version2_upgrade"),
            ("ABC", "abc"),
        ];
        for (input, expected) in cases {
            assert_eq!(snake_case(input), expected, "snake_case({input})");
        }
    }

    /// (singular, plural) pairs: 60 nouns covering the regular rules,
    /// irregulars and uncountables.
    const NOUNS: &[(&str, &str)] = &[
        ("user", "users"),
        ("post", "posts"),
        ("comment", "comments"),
        ("tag", "tags"),
        ("order", "orders"),
        ("group", "groups"),
        ("category", "categories"),
        ("company", "companies"),
        ("policy", "policies"),
        ("entry", "entries"),
        ("day", "days"),
        ("key", "keys"),
        ("survey", "surveys"),
        ("journey", "journeys"),
        ("address", "addresses"),
        ("status", "statuses"),
        ("bus", "buses"),
        ("campus", "campuses"),
        ("class", "classes"),
        ("box", "boxes"),
        ("tax", "taxes"),
        ("match", "matches"),
        ("batch", "batches"),
        ("wish", "wishes"),
        ("dish", "dishes"),
        ("analysis", "analyses"),
        ("basis", "bases"),
        ("crisis", "crises"),
        ("thesis", "theses"),
        ("diagnosis", "diagnoses"),
        ("person", "people"),
        ("child", "children"),
        ("man", "men"),
        ("woman", "women"),
        ("mouse", "mice"),
        ("tooth", "teeth"),
        ("foot", "feet"),
        ("datum", "data"),
        ("medium", "media"),
        ("criterion", "criteria"),
        ("index", "indexes"),
        ("matrix", "matrices"),
        ("vertex", "vertices"),
        ("leaf", "leaves"),
        ("knife", "knives"),
        ("life", "lives"),
        ("half", "halves"),
        ("hero", "heroes"),
        ("potato", "potatoes"),
        ("photo", "photos"),
        ("video", "videos"),
        ("quiz", "quizzes"),
        ("metadata", "metadata"),
        ("information", "information"),
        ("equipment", "equipment"),
        ("news", "news"),
        ("series", "series"),
        ("species", "species"),
        ("sheep", "sheep"),
        ("feedback", "feedback"),
        ("house", "houses"),
        ("cause", "causes"),
        ("invoice", "invoices"),
        ("workflow", "workflows"),
    ];

    #[test]
    fn pluralises_the_noun_table() {
        assert!(NOUNS.len() >= 50);
        for (singular, plural) in NOUNS {
            assert_eq!(pluralize_word(singular), *plural, "plural of {singular}");
            assert!(is_plural_word(plural), "{plural} should read as plural");
        }
    }

    #[test]
    fn singulars_are_not_plural() {
        for (singular, plural) in NOUNS {
            if singular != plural {
                assert!(
                    !is_plural_word(singular),
                    "{singular} should read as singular"
                );
            }
        }
    }

    #[test]
    fn suggests_the_right_plural() {
        let cases = [
            ("user", "users"),
            ("categorys", "categories"),
            ("persons", "people"),
            ("status", "statuses"),
            ("workflow_step", "workflow_steps"),
            ("analysis", "analyses"),
            ("address", "addresses"),
        ];
        for (input, expected) in cases {
            assert_eq!(suggest_plural(input), expected, "suggestion for {input}");
        }
    }

    #[test]
    fn derives_table_names_from_struct_names() {
        let cases = [
            ("WorkflowStep", "workflow_steps"),
            ("Person", "people"),
            ("Category", "categories"),
            ("Address", "addresses"),
            ("Status", "statuses"),
            ("Analysis", "analyses"),
            ("HTTPRequestLog", "http_request_logs"),
            ("Metadata", "metadata"),
            ("User", "users"),
            ("Alias", "aliases"),
            ("Users", "users"),
        ];
        for (input, expected) in cases {
            assert_eq!(table_name_for(input), expected, "table for {input}");
            assert!(is_plural(expected));
        }
        // A misspelt plural is kept so the plural rule can name the right one.
        assert_eq!(table_name_for("Persons"), "persons");
        assert!(!is_plural("persons"));
        assert_eq!(suggest_plural("persons"), "people");
    }

    #[test]
    fn validates_snake_identifiers() {
        for ok in ["users", "workflow_steps", "a1", "http_request_logs"] {
            assert!(is_snake_ident(ok), "{ok}");
        }
        for bad in [
            "Users",
            "workflow-steps",
            "_users",
            "users_",
            "user__id",
            "1users",
            "",
            "usérs",
        ] {
            assert!(!is_snake_ident(bad), "{bad}");
        }
    }

    #[test]
    fn finds_hungarian_prefixes() {
        assert_eq!(hungarian_prefix("tbl_users"), Some("tbl"));
        assert_eq!(hungarian_prefix("flg_active"), Some("flg"));
        assert_eq!(hungarian_prefix("str_name"), Some("str"));
        assert_eq!(hungarian_prefix("integrations"), None);
        assert_eq!(hungarian_prefix("tbl"), None);
        assert_eq!(hungarian_prefix("strategy_id"), None);
    }

    #[test]
    fn suggests_the_closest_key() {
        let keys = ["name", "min_len", "max_len", "references", "on_delete"];
        assert_eq!(closest("maxlen", &keys), Some("max_len"));
        assert_eq!(closest("refrences", &keys), Some("references"));
        assert_eq!(closest("ondelete", &keys), Some("on_delete"));
        assert_eq!(closest("colour", &keys), None);
    }

    #[test]
    fn identifier_limit_is_63_bytes() {
        assert!(fits(&"a".repeat(63)));
        assert!(!fits(&"a".repeat(64)));
        // Multi-byte characters count in bytes, as PostgreSQL counts them.
        assert!(!fits(&"é".repeat(32)));
        let table = "x".repeat(40);
        let name = index_name(&table, &["organization_id", "created_at"], true);
        assert!(!fits(&name));
        assert_eq!(primary_key_name("users"), "users_pkey");
        assert_eq!(
            foreign_key_name("posts", "author_id"),
            "posts_author_id_fkey"
        );
        assert_eq!(
            check_name("agents", "name", "min_length"),
            "agents_name_min_length"
        );
        assert_eq!(
            index_name("agents", &["name", "user_id"], true),
            "idx_agents_name_user_id_unique"
        );
    }
}

//! Generated names from templates: a team's own naming policy.
//!
//! Every name the kit generates for an object it creates — primary key,
//! index, unique index, check constraint, foreign key — is rendered from a
//! template with placeholders:
//!
//! | placeholder | what |
//! |---|---|
//! | `{table}` | the table, e.g. `users` |
//! | `{columns}` | an index's columns (or the words naming its expressions), joined by `_` |
//! | `{column}` | a check's or a foreign key's column |
//! | `{rule}` | what a check enforces: `min_length`, `max_length`, `min`, `max`, `valid`, `no_nulls` |
//! | `{referenced_table}` | the table a foreign key points at |
//!
//! Three presets: [`Naming::POSTGRES`] (the default, PostgreSQL's own
//! style), [`Naming::PREFIXED`] (a type prefix on every name) and
//! [`Naming::SQLALCHEMY`] (the convention SQLAlchemy's and Alembic's
//! documentation recommends).

use std::borrow::Cow;

/// One kind of generated name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A table's primary key (and the index behind it).
    PrimaryKey,
    /// A plain index.
    Index,
    /// A unique index.
    Unique,
    /// A check constraint.
    Check,
    /// A foreign key constraint.
    ForeignKey,
}

impl NameKind {
    /// Every kind, in the order a policy lists them.
    pub const ALL: [NameKind; 5] = [
        NameKind::PrimaryKey,
        NameKind::Index,
        NameKind::Unique,
        NameKind::Check,
        NameKind::ForeignKey,
    ];

    /// The policy key naming this kind's template (`primary_key`, ...).
    pub fn key(self) -> &'static str {
        match self {
            NameKind::PrimaryKey => "primary_key",
            NameKind::Index => "index",
            NameKind::Unique => "unique",
            NameKind::Check => "check",
            NameKind::ForeignKey => "foreign_key",
        }
    }

    /// The kind a policy key names.
    pub fn from_key(key: &str) -> Option<NameKind> {
        NameKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The placeholders a template of this kind may use.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            NameKind::PrimaryKey => &["table"],
            NameKind::Index | NameKind::Unique => &["table", "columns"],
            NameKind::Check => &["table", "column", "rule"],
            NameKind::ForeignKey => &["table", "column", "referenced_table"],
        }
    }

    /// The placeholders a template of this kind must use, so that two
    /// objects never get one name: index names are unique in a whole
    /// schema, so they carry the table; a table's constraints differ by
    /// column (and a check by rule).
    pub fn required(self) -> &'static [&'static str] {
        match self {
            NameKind::PrimaryKey => &["table"],
            NameKind::Index | NameKind::Unique => &["table", "columns"],
            NameKind::Check => &["column", "rule"],
            NameKind::ForeignKey => &["column"],
        }
    }
}

/// The templates of every generated name: a naming policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Naming {
    /// Template of primary key names.
    pub primary_key: Cow<'static, str>,
    /// Template of plain index names.
    pub index: Cow<'static, str>,
    /// Template of unique index names.
    pub unique: Cow<'static, str>,
    /// Template of check constraint names.
    pub check: Cow<'static, str>,
    /// Template of foreign key names.
    pub foreign_key: Cow<'static, str>,
}

impl Default for Naming {
    fn default() -> Self {
        Naming::POSTGRES
    }
}

impl Naming {
    /// PostgreSQL's own style, the kit's default: `users_pkey`,
    /// `idx_users_email`, `idx_users_email_unique`, `users_email_max_length`,
    /// `posts_author_id_fkey`.
    pub const POSTGRES: Naming = Naming {
        primary_key: Cow::Borrowed("{table}_pkey"),
        index: Cow::Borrowed("idx_{table}_{columns}"),
        unique: Cow::Borrowed("idx_{table}_{columns}_unique"),
        check: Cow::Borrowed("{table}_{column}_{rule}"),
        foreign_key: Cow::Borrowed("{table}_{column}_fkey"),
    };

    /// A type prefix first: `pk_users`, `ix_users_email`, `uq_users_email`,
    /// `ck_users_email_max_length`, `fk_posts_author_id`.
    pub const PREFIXED: Naming = Naming {
        primary_key: Cow::Borrowed("pk_{table}"),
        index: Cow::Borrowed("ix_{table}_{columns}"),
        unique: Cow::Borrowed("uq_{table}_{columns}"),
        check: Cow::Borrowed("ck_{table}_{column}_{rule}"),
        foreign_key: Cow::Borrowed("fk_{table}_{column}"),
    };

    /// The naming convention SQLAlchemy's and Alembic's documentation
    /// recommend (`naming_convention`): `pk_users`, `ix_users_email`,
    /// `uq_users_email`, `ck_users_email_max_length`,
    /// `fk_posts_author_id_users` (the referenced table last).
    pub const SQLALCHEMY: Naming = Naming {
        primary_key: Cow::Borrowed("pk_{table}"),
        index: Cow::Borrowed("ix_{table}_{columns}"),
        unique: Cow::Borrowed("uq_{table}_{columns}"),
        check: Cow::Borrowed("ck_{table}_{column}_{rule}"),
        foreign_key: Cow::Borrowed("fk_{table}_{column}_{referenced_table}"),
    };

    /// The presets' names, as a policy's `preset` gives them.
    pub const PRESETS: [&'static str; 3] = ["postgres", "prefixed", "sqlalchemy"];

    /// The preset called `name`.
    pub fn preset(name: &str) -> Option<Naming> {
        match name {
            "postgres" => Some(Naming::POSTGRES),
            "prefixed" => Some(Naming::PREFIXED),
            "sqlalchemy" => Some(Naming::SQLALCHEMY),
            _ => None,
        }
    }

    /// The template of one kind of name.
    pub fn template(&self, kind: NameKind) -> &str {
        match kind {
            NameKind::PrimaryKey => &self.primary_key,
            NameKind::Index => &self.index,
            NameKind::Unique => &self.unique,
            NameKind::Check => &self.check,
            NameKind::ForeignKey => &self.foreign_key,
        }
    }

    /// Replaces the template of one kind of name, once it is checked.
    pub fn set(&mut self, kind: NameKind, template: String) -> Result<(), String> {
        check_template(kind, &template)?;
        let slot = match kind {
            NameKind::PrimaryKey => &mut self.primary_key,
            NameKind::Index => &mut self.index,
            NameKind::Unique => &mut self.unique,
            NameKind::Check => &mut self.check,
            NameKind::ForeignKey => &mut self.foreign_key,
        };
        *slot = Cow::Owned(template);
        Ok(())
    }

    /// A table's primary key name.
    pub fn primary_key(&self, table: &str) -> String {
        render(&self.primary_key, &[("table", table)])
    }

    /// An index's name; `columns` are its columns or the words naming its
    /// expressions.
    pub fn index(&self, table: &str, columns: &[&str], unique: bool) -> String {
        let template = if unique { &self.unique } else { &self.index };
        render(
            template,
            &[("table", table), ("columns", &columns.join("_"))],
        )
    }

    /// A check constraint's name.
    pub fn check(&self, table: &str, column: &str, rule: &str) -> String {
        render(
            &self.check,
            &[("table", table), ("column", column), ("rule", rule)],
        )
    }

    /// A foreign key's name.
    pub fn foreign_key(&self, table: &str, column: &str, referenced_table: &str) -> String {
        render(
            &self.foreign_key,
            &[
                ("table", table),
                ("column", column),
                ("referenced_table", referenced_table),
            ],
        )
    }
}

/// Whether `template` is a valid template of `kind`: its text snake_case
/// apart from placeholders, every placeholder known to the kind, braces
/// balanced, and the placeholders that keep names apart present. The error
/// says what is wrong and what the kind accepts.
pub fn check_template(kind: NameKind, template: &str) -> Result<(), String> {
    let accepted = || {
        kind.placeholders()
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut used = Vec::new();
    let mut rest = template;
    let mut literal = String::new();
    while let Some(open) = rest.find(['{', '}']) {
        literal.push_str(&rest[..open]);
        if rest[open..].starts_with('}') {
            return Err(format!("`}}` without its `{{` in \"{template}\""));
        }
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("`{{` without its `}}` in \"{template}\""));
        };
        let name = &rest[open + 1..open + close];
        if !kind.placeholders().contains(&name) {
            return Err(format!(
                "a {} name has no `{{{name}}}`; it takes {}",
                kind_words(kind),
                accepted()
            ));
        }
        used.push(name);
        // A placeholder stands for snake_case words.
        literal.push('x');
        rest = &rest[open + close + 1..];
    }
    literal.push_str(rest);
    if let Some(missing) = kind.required().iter().find(|p| !used.contains(p)) {
        return Err(format!(
            "\"{template}\" leaves out `{{{missing}}}`, so two {}s could get one name",
            kind_words(kind)
        ));
    }
    if !crate::is_snake_ident(&literal) {
        return Err(format!(
            "\"{template}\" does not render a snake_case name: use lower-case ASCII \
             letters, digits and single underscores around the placeholders"
        ));
    }
    Ok(())
}

/// The kind in words, for messages.
fn kind_words(kind: NameKind) -> &'static str {
    match kind {
        NameKind::PrimaryKey => "primary key",
        NameKind::Index => "index",
        NameKind::Unique => "unique index",
        NameKind::Check => "check constraint",
        NameKind::ForeignKey => "foreign key",
    }
}

/// The template with each `{name}` replaced by its value.
fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        match values.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postgres_preset_renders_the_names_the_kit_always_generated() {
        let n = Naming::POSTGRES;
        assert_eq!(n.primary_key("users"), "users_pkey");
        assert_eq!(
            n.index("posts", &["author_id"], false),
            "idx_posts_author_id"
        );
        assert_eq!(
            n.index("users", &["tenant_id", "email"], true),
            "idx_users_tenant_id_email_unique"
        );
        assert_eq!(
            n.check("users", "email", "max_length"),
            "users_email_max_length"
        );
        assert_eq!(
            n.foreign_key("posts", "author_id", "users"),
            "posts_author_id_fkey"
        );
        // The free functions are this preset.
        assert_eq!(
            crate::index_name("posts", &["a", "b"], true),
            n.index("posts", &["a", "b"], true)
        );
        assert_eq!(crate::check_name("t", "c", "min"), n.check("t", "c", "min"));
        assert_eq!(
            crate::foreign_key_name("t", "c"),
            n.foreign_key("t", "c", "r")
        );
        assert_eq!(crate::primary_key_name("t"), n.primary_key("t"));
    }

    #[test]
    fn the_prefixed_and_sqlalchemy_presets() {
        let p = Naming::preset("prefixed").expect("a preset");
        assert_eq!(p.primary_key("users"), "pk_users");
        assert_eq!(p.index("users", &["email"], false), "ix_users_email");
        assert_eq!(p.index("users", &["email"], true), "uq_users_email");
        assert_eq!(
            p.check("users", "email", "max_length"),
            "ck_users_email_max_length"
        );
        assert_eq!(
            p.foreign_key("posts", "author_id", "users"),
            "fk_posts_author_id"
        );
        let s = Naming::preset("sqlalchemy").expect("a preset");
        assert_eq!(
            s.foreign_key("posts", "author_id", "users"),
            "fk_posts_author_id_users"
        );
        assert_eq!(Naming::preset("rails"), None);
        for name in Naming::PRESETS {
            let preset = Naming::preset(name).expect("every listed preset exists");
            for kind in NameKind::ALL {
                check_template(kind, preset.template(kind)).expect("presets are valid");
            }
        }
    }

    #[test]
    fn templates_are_checked() {
        let err = |kind, t: &str| check_template(kind, t).expect_err(t);
        assert!(err(NameKind::Index, "ix_{table}_{colums}").contains("takes {table}, {columns}"));
        assert!(err(NameKind::Index, "ix_{table}").contains("leaves out `{columns}`"));
        assert!(err(NameKind::PrimaryKey, "pk").contains("leaves out `{table}`"));
        assert!(err(NameKind::Check, "ck_{table}_{column}").contains("leaves out `{rule}`"));
        assert!(err(NameKind::Unique, "UQ_{table}_{columns}").contains("snake_case"));
        assert!(err(NameKind::Unique, "uq_{table}_{columns").contains("without its `}`"));
        assert!(err(NameKind::Unique, "uq_{table}}_{columns}").contains("without its `{`"));
        assert!(err(NameKind::ForeignKey, "fk__{table}_{column}").contains("snake_case"));
        check_template(
            NameKind::ForeignKey,
            "{table}_{column}_to_{referenced_table}",
        )
        .expect("valid");
        let mut n = Naming::POSTGRES;
        n.set(NameKind::Check, "chk_{table}_{column}_{rule}".into())
            .expect("valid");
        assert_eq!(n.check("a", "b", "min"), "chk_a_b_min");
        assert!(n.set(NameKind::Check, "chk".into()).is_err());
        assert_eq!(
            n.check("a", "b", "min"),
            "chk_a_b_min",
            "a refused template changes nothing"
        );
    }
}

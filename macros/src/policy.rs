//! The team's policy: `[workspace.metadata.ordinance]` in the workspace's
//! `Cargo.toml`, overridden key by key by `[package.metadata.ordinance]` in
//! the entity's own package. Read once per compilation, from
//! `CARGO_MANIFEST_DIR` up to the workspace root; every key and value is
//! checked, and a wrong one is an error at each entity naming the file, the
//! line, the key and what is accepted.
//!
//! ```toml
//! [workspace.metadata.ordinance.naming]
//! preset = "prefixed"               # or "postgres" (the default), "sqlalchemy"
//! check = "chk_{table}_{column}_{rule}"
//!
//! [workspace.metadata.ordinance.columns]
//! required = ["created_by", "updated_by"]   # on every entity
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ordinance_naming::{check_template, NameKind, Naming};

/// The keys `[…metadata.ordinance]` accepts.
const TOP_KEYS: &[&str] = &["naming", "columns", "ids", "types"];
/// The keys `[…metadata.ordinance.types]` accepts.
const TYPES_KEYS: &[&str] = &["bounded_text", "enums"];
/// How bounded text can be stored: `types.bounded_text`.
const BOUNDED_TEXT: &[&str] = &["check", "varchar"];
/// How a `DbEnum` can be stored: `types.enums`.
const ENUM_STORAGE: &[&str] = &["check", "native"];
/// The keys `[…metadata.ordinance.ids]` accepts.
const IDS_KEYS: &[&str] = &["generate"];
/// How ids can be made: `ids.generate`.
const ID_VERSIONS: &[&str] = &["v7", "v4"];
/// The keys `[…metadata.ordinance.columns]` accepts.
const COLUMNS_KEYS: &[&str] = &["required"];
/// The optional columns the kit maintains, which a policy can require of
/// every entity.
const REQUIRABLE_COLUMNS: &[&str] = &["created_by", "updated_by", "deleted_by"];
/// The keys `[…metadata.ordinance.naming]` accepts.
const NAMING_KEYS: &[&str] = &[
    "preset",
    "primary_key",
    "index",
    "unique",
    "check",
    "foreign_key",
];

/// The policy an entity is checked and generated under.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) naming: Naming,
    /// Optional maintained columns every entity must have.
    pub(crate) required_columns: Vec<String>,
    /// How new ids are made: "v7" (the default) or "v4".
    pub(crate) ids: &'static str,
    /// How text with a `max_len` is stored: "check" (the default) or "varchar".
    pub(crate) bounded_text: &'static str,
    /// How a `DbEnum` is stored: "check" (the default) or "native".
    pub(crate) enums: &'static str,
    /// Where each template (and the required columns) came from, for messages.
    origins: BTreeMap<&'static str, String>,
    /// The manifests read: the crate is rebuilt when one changes.
    pub(crate) files: Vec<PathBuf>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            naming: Naming::POSTGRES,
            required_columns: Vec::new(),
            ids: "v7",
            bounded_text: "check",
            enums: "check",
            origins: BTreeMap::new(),
            files: Vec::new(),
        }
    }
}

impl Policy {
    /// Where the template of `kind` was set: a key in a file, a preset, or
    /// the kit's default.
    pub(crate) fn origin(&self, kind: NameKind) -> String {
        match self.origins.get(kind.key()) {
            Some(origin) => origin.clone(),
            None => "the kit's default, preset \"postgres\"".to_owned(),
        }
    }

    /// Where the required columns were set.
    pub(crate) fn required_origin(&self) -> &str {
        self.origins
            .get("columns.required")
            .map_or("the team's policy", String::as_str)
    }

    /// The template of `kind` and where it came from, for a message.
    pub(crate) fn describe(&self, kind: NameKind) -> String {
        format!(
            "the template \"{}\" (from {})",
            self.naming.template(kind),
            self.origin(kind)
        )
    }
}

/// A policy that cannot be used: what, where, and what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyError {
    pub(crate) message: String,
    pub(crate) help: String,
    /// The manifests read (they are still tracked, so fixing one rebuilds).
    pub(crate) files: Vec<PathBuf>,
}

/// The policy of the crate being compiled, read once.
pub(crate) fn current() -> &'static Result<Policy, PolicyError> {
    static POLICY: OnceLock<Result<Policy, PolicyError>> = OnceLock::new();
    POLICY.get_or_init(|| match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => load(Path::new(&dir)),
        None => Ok(Policy::default()),
    })
}

/// Reads the package's manifest in `dir` and its workspace's.
pub(crate) fn load(dir: &Path) -> Result<Policy, PolicyError> {
    let mut sources = Vec::new();
    let package_file = dir.join("Cargo.toml");
    let Ok(package_text) = std::fs::read_to_string(&package_file) else {
        return Ok(Policy::default());
    };
    let package_is_root = declares_workspace(&package_text);
    // A package cargo packaged (a registry or vendored copy, which keeps
    // the original manifest beside it as `Cargo.toml.orig`) left its
    // workspace behind: only its own table applies, never a manifest that
    // happens to sit above the registry.
    let packaged = dir.join("Cargo.toml.orig").is_file();
    let workspace = if package_is_root || packaged {
        None
    } else {
        dir.ancestors().skip(1).find_map(|d| {
            let file = d.join("Cargo.toml");
            let text = std::fs::read_to_string(&file).ok()?;
            declares_workspace(&text).then_some((file, text))
        })
    };
    // Workspace first, so the package's keys override it.
    if package_is_root {
        sources.push(Source {
            file: package_file.clone(),
            text: package_text.clone(),
            table: &["workspace", "metadata", "ordinance"],
        });
    } else if let Some((file, text)) = workspace {
        sources.push(Source {
            file,
            text,
            table: &["workspace", "metadata", "ordinance"],
        });
    }
    sources.push(Source {
        file: package_file,
        text: package_text,
        table: &["package", "metadata", "ordinance"],
    });
    from_sources(&sources)
}

/// One manifest and the table in it that holds a policy.
pub(crate) struct Source {
    pub(crate) file: PathBuf,
    pub(crate) text: String,
    pub(crate) table: &'static [&'static str],
}

/// Whether a manifest has a `[workspace]` table (checked by parsing, so a
/// comment mentioning it does not count).
fn declares_workspace(text: &str) -> bool {
    toml::de::DeTable::parse(text).is_ok_and(|t| t.get_ref().get("workspace").is_some())
}

/// The policy the sources give, later sources overriding earlier ones key
/// by key.
pub(crate) fn from_sources(sources: &[Source]) -> Result<Policy, PolicyError> {
    let mut reader = Reader {
        files: sources.iter().map(|s| s.file.clone()).collect(),
        preset: None,
        templates: BTreeMap::new(),
        required: None,
        ids: None,
        bounded_text: None,
        enums: None,
    };
    for source in sources {
        let Ok(doc) = toml::de::DeTable::parse(&source.text) else {
            // Cargo reports a manifest it cannot parse; nothing to add.
            continue;
        };
        let mut table = doc.get_ref();
        let mut found = true;
        for key in source.table {
            match table.get(*key).map(|v| v.get_ref()) {
                Some(toml::de::DeValue::Table(t)) => table = t,
                _ => {
                    found = false;
                    break;
                }
            }
        }
        if found {
            reader.read(source, table)?;
        }
    }
    Ok(reader.finish())
}

/// What the sources set so far, each value with where it was set.
struct Reader {
    files: Vec<PathBuf>,
    preset: Option<(String, String)>,
    templates: BTreeMap<&'static str, (String, String)>,
    required: Option<(Vec<String>, String)>,
    ids: Option<&'static str>,
    bounded_text: Option<&'static str>,
    enums: Option<&'static str>,
}

type Entry<'a, 'i> = (
    &'a toml::Spanned<toml::de::DeString<'i>>,
    &'a toml::Spanned<toml::de::DeValue<'i>>,
);

impl Reader {
    /// An error at `span` of `source`.
    fn fail(
        &self,
        source: &Source,
        span: std::ops::Range<usize>,
        message: String,
        help: String,
    ) -> PolicyError {
        PolicyError {
            message: format!(
                "{}:{}: {message}",
                source.file.display(),
                line_of(&source.text, span.start)
            ),
            help,
            files: self.files.clone(),
        }
    }

    /// Where a key was set, for messages.
    fn origin(source: &Source, key: &str) -> String {
        format!(
            "`{}.{key}` in {}",
            source.table.join("."),
            source.file.display()
        )
    }

    /// The table `[…metadata.ordinance]` of one source.
    fn read(&mut self, source: &Source, table: &toml::de::DeTable<'_>) -> Result<(), PolicyError> {
        let path = source.table.join(".");
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            let Some(known) = TOP_KEYS.iter().find(|k| **k == name) else {
                return Err(self.fail(
                    source,
                    key.span(),
                    format!("`{path}` has no key `{name}`"),
                    crate::attr::one_of(name, TOP_KEYS, "the keys are", "`"),
                ));
            };
            let toml::de::DeValue::Table(inner) = value.get_ref() else {
                return Err(self.fail(
                    source,
                    value.span(),
                    format!(
                        "`{path}.{name}` is a table, not {}",
                        a(value.get_ref().type_str())
                    ),
                    format!(
                        "write it as a table of its own, `[{path}.{name}]`, with its keys under it"
                    ),
                ));
            };
            for entry in inner.iter() {
                match *known {
                    "naming" => self.naming(source, entry)?,
                    "ids" => self.ids(source, entry)?,
                    "types" => self.types(source, entry)?,
                    _ => self.columns(source, entry)?,
                }
            }
        }
        Ok(())
    }

    /// One key of `[…ordinance.naming]`.
    fn naming(&mut self, source: &Source, (key, value): Entry<'_, '_>) -> Result<(), PolicyError> {
        let name = key.get_ref().as_ref();
        let full = format!("{}.naming.{name}", source.table.join("."));
        let Some(known) = NAMING_KEYS.iter().find(|k| **k == name) else {
            return Err(self.fail(
                source,
                key.span(),
                format!("`{}.naming` has no key `{name}`", source.table.join(".")),
                crate::attr::one_of(name, NAMING_KEYS, "the keys are", "`"),
            ));
        };
        let kind = NameKind::from_key(known);
        let Some(string) = value.get_ref().as_str() else {
            let example = match kind {
                Some(kind) => format!("{name} = \"{}\"", Naming::PREFIXED.template(kind)),
                None => "preset = \"postgres\"".to_owned(),
            };
            return Err(self.fail(
                source,
                value.span(),
                format!(
                    "`{full}` takes a string, not {}",
                    a(value.get_ref().type_str())
                ),
                format!("write it like `{example}`"),
            ));
        };
        let origin = Self::origin(source, &format!("naming.{name}"));
        match kind {
            None => {
                if Naming::preset(string).is_none() {
                    return Err(self.fail(
                        source,
                        value.span(),
                        format!("`{full}` has no preset \"{string}\""),
                        crate::attr::one_of(string, &Naming::PRESETS, "the presets are", "\""),
                    ));
                }
                self.preset = Some((string.to_owned(), origin));
            }
            Some(kind) => {
                if let Err(reason) = check_template(kind, string) {
                    return Err(self.fail(
                        source,
                        value.span(),
                        format!("`{full}` = \"{string}\" is not a usable template: {reason}"),
                        format!(
                            "write it like `{} = \"{}\"`",
                            kind.key(),
                            Naming::PREFIXED.template(kind)
                        ),
                    ));
                }
                self.templates
                    .insert(kind.key(), (string.to_owned(), origin));
            }
        }
        Ok(())
    }

    /// One key of `[…ordinance.columns]`.
    fn columns(&mut self, source: &Source, (key, value): Entry<'_, '_>) -> Result<(), PolicyError> {
        let name = key.get_ref().as_ref();
        let full = format!("{}.columns.{name}", source.table.join("."));
        if !COLUMNS_KEYS.contains(&name) {
            return Err(self.fail(
                source,
                key.span(),
                format!("`{}.columns` has no key `{name}`", source.table.join(".")),
                crate::attr::one_of(name, COLUMNS_KEYS, "the keys are", "`"),
            ));
        }
        let example = "write it like `required = [\"created_by\", \"updated_by\"]`";
        let toml::de::DeValue::Array(items) = value.get_ref() else {
            return Err(self.fail(
                source,
                value.span(),
                format!(
                    "`{full}` takes a list of column names, not {}",
                    a(value.get_ref().type_str())
                ),
                example.to_owned(),
            ));
        };
        let mut required = Vec::new();
        for item in items.iter() {
            let Some(column) = item.get_ref().as_str() else {
                return Err(self.fail(
                    source,
                    item.span(),
                    format!(
                        "`{full}` lists column names, not {}",
                        a(item.get_ref().type_str())
                    ),
                    example.to_owned(),
                ));
            };
            if !REQUIRABLE_COLUMNS.contains(&column) {
                return Err(self.fail(
                    source,
                    item.span(),
                    format!(
                        "`{full}` cannot require \"{column}\": the kit maintains only some optional columns"
                    ),
                    crate::attr::one_of(column, REQUIRABLE_COLUMNS, "the columns are", "\""),
                ));
            }
            if !required.iter().any(|c| c == column) {
                required.push(column.to_owned());
            }
        }
        self.required = Some((required, Self::origin(source, "columns.required")));
        Ok(())
    }

    /// One key of `[…ordinance.ids]`.
    fn ids(&mut self, source: &Source, entry: Entry<'_, '_>) -> Result<(), PolicyError> {
        let what = "\"v7\" or \"v4\"";
        self.ids = Some(self.choice(source, entry, "ids", IDS_KEYS, ID_VERSIONS, what)?);
        Ok(())
    }

    /// One key of `[…ordinance.types]`.
    fn types(&mut self, source: &Source, entry: Entry<'_, '_>) -> Result<(), PolicyError> {
        if entry.0.get_ref().as_ref() == "enums" {
            let what = "\"check\" (TEXT with CHECK (col IN (...))) or \"native\" (CREATE TYPE ... AS ENUM)";
            let choice = self.choice(source, entry, "types", TYPES_KEYS, ENUM_STORAGE, what)?;
            self.enums = Some(choice);
        } else {
            let what = "\"check\" (TEXT with a length check) or \"varchar\" (VARCHAR(n))";
            let choice = self.choice(source, entry, "types", TYPES_KEYS, BOUNDED_TEXT, what)?;
            self.bounded_text = Some(choice);
        }
        Ok(())
    }

    /// A key of `[…ordinance.{table}]` among `keys` whose value is one of
    /// `choices` (said in words as `what`).
    fn choice(
        &self,
        source: &Source,
        (key, value): Entry<'_, '_>,
        table: &str,
        keys: &[&str],
        choices: &[&'static str],
        what: &str,
    ) -> Result<&'static str, PolicyError> {
        let name = key.get_ref().as_ref();
        let path = format!("{}.{table}", source.table.join("."));
        if !keys.contains(&name) {
            return Err(self.fail(
                source,
                key.span(),
                format!("`{path}` has no key `{name}`"),
                crate::attr::one_of(name, keys, "the keys are", "`"),
            ));
        }
        let given = value.get_ref().as_str().unwrap_or_default();
        choices
            .iter()
            .find(|c| **c == given)
            .copied()
            .ok_or_else(|| {
                self.fail(
                    source,
                    value.span(),
                    format!("`{path}.{name}` takes {what}"),
                    crate::attr::one_of(given, choices, "the choices are", "\""),
                )
            })
    }

    fn finish(self) -> Policy {
        let mut policy = Policy {
            files: self.files,
            ..Policy::default()
        };
        if let Some((name, origin)) = self.preset {
            policy.naming = Naming::preset(&name).expect("checked as read");
            for kind in NameKind::ALL {
                policy
                    .origins
                    .insert(kind.key(), format!("preset \"{name}\" of {origin}"));
            }
        }
        for (key, (template, origin)) in self.templates {
            let kind = NameKind::from_key(key).expect("a template key names a kind");
            policy
                .naming
                .set(kind, template)
                .expect("templates are checked as they are read");
            policy.origins.insert(kind.key(), origin);
        }
        if let Some(ids) = self.ids {
            policy.ids = ids;
        }
        if let Some(enums) = self.enums {
            policy.enums = enums;
        }
        if let Some(text) = self.bounded_text {
            policy.bounded_text = text;
        }
        if let Some((columns, origin)) = self.required {
            policy.required_columns = columns;
            policy.origins.insert("columns.required", origin);
        }
        policy
    }
}

/// A TOML type's name with its article: "an integer", "a string".
fn a(kind: &str) -> String {
    let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {kind}")
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(file: &str, text: &str, workspace: bool) -> Source {
        Source {
            file: PathBuf::from(file),
            text: text.to_owned(),
            table: if workspace {
                &["workspace", "metadata", "ordinance"]
            } else {
                &["package", "metadata", "ordinance"]
            },
        }
    }

    #[test]
    fn no_policy_is_the_default() {
        let p = from_sources(&[source("/w/Cargo.toml", "[package]\nname = \"x\"\n", false)])
            .expect("valid");
        assert_eq!(p.naming, Naming::POSTGRES);
        assert!(p.origin(NameKind::Index).contains("default"));
    }

    #[test]
    fn the_package_overrides_the_workspace_key_by_key() {
        let ws = source(
            "/w/Cargo.toml",
            "[workspace]\n[workspace.metadata.ordinance.naming]\npreset = \"prefixed\"\ncheck = \"chk_{table}_{column}_{rule}\"\n",
            true,
        );
        let pkg = source(
            "/w/app/Cargo.toml",
            "[package]\nname = \"app\"\n[package.metadata.ordinance.naming]\nindex = \"i_{table}_{columns}\"\n",
            false,
        );
        let p = from_sources(&[ws, pkg]).expect("valid");
        assert_eq!(p.naming.primary_key("users"), "pk_users");
        assert_eq!(
            p.naming.check("users", "email", "max_length"),
            "chk_users_email_max_length"
        );
        assert_eq!(p.naming.index("users", &["email"], false), "i_users_email");
        assert_eq!(p.naming.index("users", &["email"], true), "uq_users_email");
        assert!(
            p.origin(NameKind::Index).contains("/w/app/Cargo.toml"),
            "{}",
            p.origin(NameKind::Index)
        );
        assert!(p.origin(NameKind::Check).contains("/w/Cargo.toml"));
        assert!(p
            .origin(NameKind::PrimaryKey)
            .contains("preset \"prefixed\""));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_file_the_line_and_the_choices() {
        let err =
            |text: &str| from_sources(&[source("/w/Cargo.toml", text, false)]).expect_err(text);
        let e = err("[package]\nname = \"x\"\n\n[package.metadata.ordinance.naming]\nindx = \"ix_{table}_{columns}\"\n");
        assert_eq!(
            e.message,
            "/w/Cargo.toml:5: `package.metadata.ordinance.naming` has no key `indx`"
        );
        assert!(e.help.starts_with("did you mean `index`?"), "{}", e.help);
        let e = err("[package.metadata.ordinance]\nnamign = {}\n");
        assert!(e.message.ends_with("has no key `namign`"), "{}", e.message);
        assert!(e.help.contains("did you mean `naming`?"), "{}", e.help);
        let e = err("[package.metadata.ordinance.naming]\npreset = \"prefix\"\n");
        assert!(
            e.message.contains(
                ":2: `package.metadata.ordinance.naming.preset` has no preset \"prefix\""
            ),
            "{}",
            e.message
        );
        assert!(e.help.contains("did you mean \"prefixed\"?"), "{}", e.help);
        let e = err("[package.metadata.ordinance.naming]\nindex = 3\n");
        assert!(
            e.message.contains("takes a string, not an integer"),
            "{}",
            e.message
        );
        let e = err("[package.metadata.ordinance.naming]\nindex = \"ix_{table}\"\n");
        assert!(
            e.message.contains("leaves out `{columns}`"),
            "{}",
            e.message
        );
        assert_eq!(e.help, "write it like `index = \"ix_{table}_{columns}\"`");
        let e = err("[package.metadata.ordinance]\nnaming = \"prefixed\"\n");
        assert!(
            e.message.contains("is a table, not a string"),
            "{}",
            e.message
        );
    }

    #[test]
    fn required_columns_are_the_maintained_optional_ones() {
        let ok = from_sources(&[source(
            "/w/Cargo.toml",
            "[package.metadata.ordinance.columns]\nrequired = [\"created_by\", \"updated_by\", \"created_by\"]\n",
            false,
        )])
        .expect("valid");
        assert_eq!(ok.required_columns, ["created_by", "updated_by"]);
        assert!(ok.required_origin().contains("columns.required"));
        let err =
            |text: &str| from_sources(&[source("/w/Cargo.toml", text, false)]).expect_err(text);
        let e = err("[package.metadata.ordinance.columns]\nrequired = [\"created_bye\"]\n");
        assert!(
            e.message.contains("cannot require \"created_bye\""),
            "{}",
            e.message
        );
        assert!(
            e.help.starts_with("did you mean \"created_by\"?"),
            "{}",
            e.help
        );
        let e = err("[package.metadata.ordinance.columns]\nrequired = \"created_by\"\n");
        assert!(
            e.message
                .contains("takes a list of column names, not a string"),
            "{}",
            e.message
        );
        let e = err("[package.metadata.ordinance.columns]\nrequire = []\n");
        assert!(e.help.starts_with("did you mean `required`?"), "{}", e.help);
    }

    #[test]
    fn ids_are_v7_unless_the_policy_says_v4() {
        let default =
            from_sources(&[source("/w/Cargo.toml", "[package]\n", false)]).expect("valid");
        assert_eq!(default.ids, "v7");
        let v4 = from_sources(&[source(
            "/w/Cargo.toml",
            "[package.metadata.ordinance.ids]\ngenerate = \"v4\"\n",
            false,
        )])
        .expect("valid");
        assert_eq!(v4.ids, "v4");
        let e = from_sources(&[source(
            "/w/Cargo.toml",
            "[package.metadata.ordinance.ids]\ngenerate = \"uuid4\"\n",
            false,
        )])
        .expect_err("no such version");
        assert!(
            e.message
                .ends_with("`package.metadata.ordinance.ids.generate` takes \"v7\" or \"v4\""),
            "{}",
            e.message
        );
    }

    #[test]
    fn bounded_text_is_a_check_unless_the_policy_says_varchar() {
        let one = |text: &str| from_sources(&[source("/w/Cargo.toml", text, false)]);
        assert_eq!(one("[package]\n").expect("valid").bounded_text, "check");
        let varchar = one("[package.metadata.ordinance.types]\nbounded_text = \"varchar\"\n");
        assert_eq!(varchar.expect("valid").bounded_text, "varchar");
        let e = one("[package.metadata.ordinance.types]\nbounded_text = \"varchr\"\n")
            .expect_err("no such");
        assert!(
            e.help.starts_with("did you mean \"varchar\"?"),
            "{}",
            e.help
        );
        let e = one("[package.metadata.ordinance.types]\ntext = \"varchar\"\n")
            .expect_err("no such key");
        assert!(e.message.ends_with("has no key `text`"), "{}", e.message);
    }

    #[test]
    fn a_packaged_crate_does_not_look_above_itself() {
        let root = std::env::temp_dir().join(format!("ordinance-packaged-{}", std::process::id()));
        let pkg = root.join("registry/src/entities-1.0.0");
        std::fs::create_dir_all(&pkg).expect("mkdir");
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\n[workspace.metadata.ordinance.naming]\npreset = \"sqlalchemy\"\n",
        )
        .expect("write");
        std::fs::write(
            pkg.join("Cargo.toml"),
            "[package]\nname = \"entities\"\n[package.metadata.ordinance.naming]\npreset = \"prefixed\"\n",
        )
        .expect("write");
        std::fs::write(
            pkg.join("Cargo.toml.orig"),
            "[package]\nname = \"entities\"\n",
        )
        .expect("write");
        let p = load(&pkg).expect("valid");
        assert_eq!(
            p.naming,
            Naming::PREFIXED,
            "its own table, not the manifest above"
        );
        assert_eq!(p.files, vec![pkg.join("Cargo.toml")]);
        std::fs::remove_dir_all(&root).expect("clean up");
    }

    #[test]
    fn a_comment_naming_the_workspace_table_is_not_a_workspace() {
        assert!(!declares_workspace(
            "# [workspace]\n[package]\nname = \"x\"\n"
        ));
        assert!(declares_workspace("[workspace]\nmembers = []\n"));
    }

    #[test]
    fn the_manifests_are_found_from_the_package_up() {
        let root = std::env::temp_dir().join(format!("ordinance-policy-{}", std::process::id()));
        let pkg = root.join("crates/app");
        std::fs::create_dir_all(&pkg).expect("mkdir");
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/app\"]\n[workspace.metadata.ordinance.naming]\npreset = \"sqlalchemy\"\n",
        )
        .expect("write");
        std::fs::write(pkg.join("Cargo.toml"), "[package]\nname = \"app\"\n").expect("write");
        let p = load(&pkg).expect("valid");
        assert_eq!(p.naming, Naming::SQLALCHEMY);
        assert_eq!(
            p.files,
            vec![root.join("Cargo.toml"), pkg.join("Cargo.toml")]
        );
        std::fs::remove_dir_all(&root).expect("clean up");
    }
}

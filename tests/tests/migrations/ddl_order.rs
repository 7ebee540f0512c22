//! Dependency ordering of a set of entities, and the errors when none exists.

use ordinance::ddl::SchemaDdl;
use ordinance::prelude::*;
use ordinance::{Entity, Error};

macro_rules! entity {
    ($name:ident $(, $fk:ident -> $target:ident)*) => {
        #[derive(Entity)]
        pub struct $name {
            pub id: Uuid,
            $(
                #[column(references = $target)]
                pub $fk: Option<Uuid>,
            )*
            pub created_at: DateTime<Utc>,
            pub updated_at: DateTime<Utc>,
            pub deleted_at: Option<DateTime<Utc>>,
            pub version: i32,
        }
    };
}

entity!(Author);
entity!(Book, author_id -> Author, previous_id -> Book);
entity!(Review, book_id -> Book, author_id -> Author);
// Three tables referencing each other in a ring.
entity!(Egg, chicken_id -> Chicken);
entity!(Chicken, rooster_id -> Rooster);
entity!(Rooster, egg_id -> Egg);

#[test]
fn referenced_tables_come_first_and_self_references_are_fine() {
    let ddl = SchemaDdl::new(&[Review::SCHEMA, Book::SCHEMA, Author::SCHEMA]).expect("orders");
    let order: Vec<&str> = ddl.tables().iter().map(|t| t.name).collect();
    assert_eq!(order, ["authors", "books", "reviews"]);
    let down = ddl.down();
    assert_eq!(
        down,
        "DROP TABLE \"reviews\";\nDROP TABLE \"books\";\nDROP TABLE \"authors\";\n"
    );
}

#[test]
fn a_cycle_is_an_error_that_names_it() {
    let err = SchemaDdl::new(&[Egg::SCHEMA, Chicken::SCHEMA, Rooster::SCHEMA])
        .expect_err("a ring has no creation order");
    match &err {
        Error::ReferenceCycle { tables, .. } => {
            assert_eq!(tables, &["eggs", "chickens", "roosters", "eggs"]);
        }
        other => panic!("expected a cycle error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "foreign keys form a cycle: eggs -> chickens -> roosters -> eggs"
    );
}

#[test]
fn a_missing_referenced_table_is_an_error() {
    let err = SchemaDdl::new(&[Review::SCHEMA, Book::SCHEMA]).expect_err("authors missing");
    assert!(matches!(
        err,
        Error::MissingReference {
            table: "reviews",
            references: "authors",
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "table \"reviews\" references \"authors\", which is not among the entities given"
    );
}

#[allow(dead_code)] // only its schema is used
mod other {
    use super::*;
    // A second entity mapped to the same table as `Author`.
    #[derive(Entity)]
    #[entity(table = "authors")]
    pub struct Writer {
        pub id: Uuid,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub deleted_at: Option<DateTime<Utc>>,
        pub version: i32,
    }
}

#[test]
fn two_entities_on_one_name_are_an_error() {
    let err = SchemaDdl::new(&[Author::SCHEMA, other::Writer::SCHEMA]).expect_err("clash");
    assert!(matches!(
        err,
        Error::DuplicateName {
            name: "authors",
            first: "authors",
            second: "authors",
            ..
        }
    ));
}

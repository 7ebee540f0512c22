// Reserved words work as names, and the column enum drives sea-query.
use ordinance::deps::sea_query::{Alias, Expr, ExprTrait, Order, PostgresQueryBuilder, Query};
use ordinance::prelude::*;
use ordinance::Entity;

#[derive(Entity)]
pub struct Group {
    pub id: Uuid,
    #[column(max_len = 40)]
    pub r#type: String,
    pub order: i32,
    #[column(name = "user", max_len = 40)]
    pub owner_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {
    assert_eq!(Group::TABLE, "groups");
    assert_eq!(GroupColumn::Type.name(), "type");
    assert_eq!(GroupColumn::OwnerName.name(), "user");
    assert_eq!(GroupColumn::ALL.len(), 8);

    let ddl = ordinance::ddl::create_table(Group::SCHEMA);
    assert!(ddl.contains("\"order\" INTEGER NOT NULL,"));
    assert!(ddl.contains("CONSTRAINT \"groups_user_max_length\" CHECK (char_length(\"user\") <= 40)"));

    let (sql, values) = Query::select()
        .columns([GroupColumn::Id, GroupColumn::Order, GroupColumn::OwnerName])
        .from(Alias::new(Group::TABLE))
        .and_where(Expr::col(GroupColumn::Type).eq("admin"))
        .order_by(GroupColumn::Order, Order::Asc)
        .build(PostgresQueryBuilder);
    assert_eq!(
        sql,
        r#"SELECT "id", "order", "user" FROM "groups" WHERE "type" = $1 ORDER BY "order" ASC"#
    );
    assert_eq!(values.0.len(), 1);
}

// A default is a constant of the field's type: each mismatch is reported at
// the value, with the kind of constant the column takes.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Item {
    pub id: Uuid,
    #[column(default = "zero")]
    pub stock: i32,
    #[column(default = 0)]
    pub label: String,
    #[column(default = now)]
    pub is_public: bool,
    #[column(default = 1.5)]
    pub quantity: i64,
    #[column(default = true)]
    pub published_at: DateTime<Utc>,
    #[column(default = "00000000-0000-0000-0000-000000000000")]
    pub token: Uuid,
    #[column(default = {})]
    pub position: i16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}

// A default must be a value the column keeps as written: in the type's
// range, within the decimal's scale and precision, the checks' bounds and
// the text's length limits.
use ordinance::prelude::*;

#[derive(Entity)]
pub struct Item {
    pub id: Uuid,
    #[column(default = 40000)]
    pub shelf: i16,
    #[column(default = 1.234, precision = 10, scale = 2)]
    pub price: Decimal,
    #[column(default = 123456.5, precision = 6, scale = 2)]
    pub weight: Decimal,
    #[column(default = 0, min = 1)]
    pub stock: i32,
    #[column(default = "far too long for the column", max_len = 10)]
    pub code: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub version: i32,
}

fn main() {}

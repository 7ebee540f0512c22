use ordinance::prelude::*;

/// Under `types.enums = "native"` this enum is a PostgreSQL type named
/// after it: 73 bytes in snake_case, over the 63 PostgreSQL keeps.
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusOfTheQuarterlyReconciliationOfTheRegionalWarehouseLedgerX {
    Open,
    Closed,
}

/// A short name is fine.
#[derive(DbEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerStatus {
    Open,
    Closed,
}

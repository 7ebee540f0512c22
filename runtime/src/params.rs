//! A statement's parameters, at the bottom of the layers: the entities bind
//! their values into them, and every executor takes them.

use smallvec::SmallVec;
use tokio_postgres::types::ToSql;

/// A value bound as a statement parameter.
pub type SqlParam<'a> = &'a (dyn ToSql + Sync);

/// A statement's parameters, kept on the stack for up to 16 values, so a
/// single-row call allocates nothing to bind them. Its `Debug` shows the
/// count, never the values.
#[derive(Default)]
pub struct Params<'a>(SmallVec<[SqlParam<'a>; 16]>);

impl<'a> Params<'a> {
    /// No parameters yet.
    pub fn new() -> Self {
        Params(SmallVec::new())
    }

    /// Appends one value.
    pub fn push(&mut self, value: SqlParam<'a>) {
        self.0.push(value);
    }

    /// Appends values in order.
    pub fn extend_from_slice(&mut self, values: &[SqlParam<'a>]) {
        self.0.extend_from_slice(values);
    }

    /// Forgets the values, keeping the room.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<'a> std::ops::Deref for Params<'a> {
    type Target = [SqlParam<'a>];
    fn deref(&self) -> &[SqlParam<'a>] {
        &self.0
    }
}

impl std::fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Params({} values)", self.0.len())
    }
}

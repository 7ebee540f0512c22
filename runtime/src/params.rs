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

/// Which of an entity's business columns a patch sets, by their position
/// among the business columns: what picks the patch's statement. Up to
/// 128 columns without allocating.
#[doc(hidden)]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ColumnSet(SmallVec<[u64; 2]>);

impl ColumnSet {
    /// No column yet.
    pub fn new() -> Self {
        ColumnSet(SmallVec::new())
    }

    /// Marks business column `k`.
    #[inline]
    pub fn insert(&mut self, k: usize) {
        let (word, bit) = (k / 64, k % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    /// Whether no column is marked.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The marked columns, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(i, word)| {
            (0..64)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| i * 64 + bit)
        })
    }
}

/// One field of a patch: when it is set, marks business column `k` and
/// binds its value (`Some(None)` of a nullable column binds NULL).
#[doc(hidden)]
#[inline]
pub fn patch_field<'a, T: ToSql + Sync>(
    value: &'a Option<T>,
    k: usize,
    set: &mut ColumnSet,
    out: &mut Params<'a>,
) {
    if let Some(value) = value {
        set.insert(k);
        out.push(value);
    }
}

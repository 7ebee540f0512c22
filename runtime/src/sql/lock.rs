//! Row locks taken by a read: `FOR UPDATE`, `FOR NO KEY UPDATE`,
//! `FOR SHARE`, `FOR KEY SHARE`, each waiting, `NOWAIT` or `SKIP LOCKED`.

use sea_query::{LockBehavior, LockType, SelectStatement};

/// How strongly a read locks the rows it returns (PostgreSQL's four
/// row-level lock modes, strongest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockStrength {
    /// `FOR UPDATE`: the rows are about to be updated or deleted; blocks
    /// every other lock on them.
    Update,
    /// `FOR NO KEY UPDATE`: the rows are about to be updated without
    /// touching their key; lets foreign-key checks of other transactions
    /// (`FOR KEY SHARE`) through. What a repository update needs.
    NoKeyUpdate,
    /// `FOR SHARE`: the rows must not change until the transaction ends;
    /// other readers may share the lock.
    Share,
    /// `FOR KEY SHARE`: the rows' keys must not change (what a foreign-key
    /// check takes).
    KeyShare,
}

/// What a locking read does about rows another transaction has locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockWait {
    /// Wait for the other transaction to end (bounded by `lock_timeout`).
    Wait,
    /// Fail at once with [`Error::LockNotAvailable`](crate::Error::LockNotAvailable)
    /// (SQLSTATE 55P03).
    NoWait,
    /// Leave them out of the result: how workers share a queue.
    SkipLocked,
}

/// A row lock for a read: a strength and what to do about rows already
/// locked. Locks last until the transaction ends, so locking reads run
/// inside one.
///
/// ```
/// use ordinance::query::RowLock;
///
/// assert_eq!(RowLock::UPDATE.sql(), " FOR UPDATE");
/// assert_eq!(RowLock::NO_KEY_UPDATE.nowait().sql(), " FOR NO KEY UPDATE NOWAIT");
/// assert_eq!(RowLock::UPDATE.skip_locked().sql(), " FOR UPDATE SKIP LOCKED");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowLock {
    /// How strong the lock is.
    pub strength: LockStrength,
    /// What to do about rows already locked.
    pub wait: LockWait,
}

/// How many distinct [`RowLock`]s there are: 4 strengths × 3 waits.
pub(crate) const ROW_LOCKS: usize = 12;

impl RowLock {
    /// `FOR UPDATE`, waiting.
    pub const UPDATE: RowLock = RowLock::new(LockStrength::Update);
    /// `FOR NO KEY UPDATE`, waiting.
    pub const NO_KEY_UPDATE: RowLock = RowLock::new(LockStrength::NoKeyUpdate);
    /// `FOR SHARE`, waiting.
    pub const SHARE: RowLock = RowLock::new(LockStrength::Share);
    /// `FOR KEY SHARE`, waiting.
    pub const KEY_SHARE: RowLock = RowLock::new(LockStrength::KeyShare);

    /// A lock of this strength that waits for other holders.
    pub const fn new(strength: LockStrength) -> RowLock {
        RowLock {
            strength,
            wait: LockWait::Wait,
        }
    }

    /// Fails at once when a row is locked by another transaction.
    pub const fn nowait(mut self) -> RowLock {
        self.wait = LockWait::NoWait;
        self
    }

    /// Leaves rows locked by other transactions out.
    pub const fn skip_locked(mut self) -> RowLock {
        self.wait = LockWait::SkipLocked;
        self
    }

    /// The locking clause, with a leading space.
    pub const fn sql(&self) -> &'static str {
        const TEXT: [&str; ROW_LOCKS] = [
            " FOR UPDATE",
            " FOR UPDATE NOWAIT",
            " FOR UPDATE SKIP LOCKED",
            " FOR NO KEY UPDATE",
            " FOR NO KEY UPDATE NOWAIT",
            " FOR NO KEY UPDATE SKIP LOCKED",
            " FOR SHARE",
            " FOR SHARE NOWAIT",
            " FOR SHARE SKIP LOCKED",
            " FOR KEY SHARE",
            " FOR KEY SHARE NOWAIT",
            " FOR KEY SHARE SKIP LOCKED",
        ];
        TEXT[self.position()]
    }

    /// Its place among the [`ROW_LOCKS`] locks, in [`RowLock::sql`]'s order.
    pub(crate) const fn position(&self) -> usize {
        let strength = match self.strength {
            LockStrength::Update => 0,
            LockStrength::NoKeyUpdate => 1,
            LockStrength::Share => 2,
            LockStrength::KeyShare => 3,
        };
        let wait = match self.wait {
            LockWait::Wait => 0,
            LockWait::NoWait => 1,
            LockWait::SkipLocked => 2,
        };
        strength * 3 + wait
    }

    /// Every lock, in [`RowLock::sql`]'s order.
    pub(crate) fn all() -> impl Iterator<Item = RowLock> {
        [
            LockStrength::Update,
            LockStrength::NoKeyUpdate,
            LockStrength::Share,
            LockStrength::KeyShare,
        ]
        .into_iter()
        .flat_map(|s| {
            let lock = RowLock::new(s);
            [lock, lock.nowait(), lock.skip_locked()]
        })
    }

    /// Adds the lock to a sea-query select.
    pub fn apply(&self, select: &mut SelectStatement) {
        let kind = match self.strength {
            LockStrength::Update => LockType::Update,
            LockStrength::NoKeyUpdate => LockType::NoKeyUpdate,
            LockStrength::Share => LockType::Share,
            LockStrength::KeyShare => LockType::KeyShare,
        };
        match self.wait {
            LockWait::Wait => select.lock(kind),
            LockWait::NoWait => select.lock_with_behavior(kind, LockBehavior::Nowait),
            LockWait::SkipLocked => select.lock_with_behavior(kind, LockBehavior::SkipLocked),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_match_the_text_and_the_builder() {
        for (i, lock) in RowLock::all().enumerate() {
            assert_eq!(lock.position(), i);
            let mut q = sea_query::Query::select();
            q.column(sea_query::Alias::new("id"))
                .from(sea_query::Alias::new("t"));
            lock.apply(&mut q);
            let (sql, values) = q.build(sea_query::PostgresQueryBuilder);
            assert!(values.0.is_empty());
            assert!(sql.ends_with(lock.sql()), "{sql} vs {}", lock.sql());
        }
    }
}

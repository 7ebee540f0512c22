//! Checks of values before anything is sent: what a value breaks
//! ([`Rule`]), where ([`Violation`]), and the collector that gathers every
//! column's problem of one row into one [`Error::Invalid`].
//!
//! The rules are the column attributes the database also enforces
//! (`min_len`, `max_len`, `min`, `max`, and `precision` / `scale`, which
//! PostgreSQL would otherwise round to silently), so a row the checks pass
//! meets the table's constraints on them. A violation names the column, the
//! field and the rule with its limit; never the value.

use crate::column_type::ColumnType;
use crate::error::{Error, Result};
use crate::schema::{CheckKind, SqlType, TableSchema};

/// A column rule a value breaks, with the rule's limit: the attribute that
/// declared it, by the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// Text with fewer characters than `min_len`.
    MinLen {
        /// The fewest characters the column holds.
        min: u32,
    },
    /// Text with more characters than `max_len`.
    MaxLen {
        /// The most characters the column holds.
        max: u32,
    },
    /// A number below `min`.
    Min {
        /// The smallest value the column holds.
        min: i64,
    },
    /// A number above `max`.
    Max {
        /// The largest value the column holds.
        max: i64,
    },
    /// A decimal with more digits after the point than the column's
    /// `NUMERIC(p,s)` keeps: PostgreSQL would round it.
    Scale {
        /// The digits after the point the column keeps.
        scale: u16,
    },
    /// A decimal with more digits before the point than the column's
    /// `NUMERIC(p,s)` holds (`precision - scale`).
    Precision {
        /// The column's total digits.
        precision: u16,
        /// Of which after the point.
        scale: u16,
    },
}

impl Rule {
    /// The attribute that declares the rule: `min_len`, `max_len`, `min`,
    /// `max`, `scale` or `precision`. Stable: what an API reports to its
    /// clients.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::MinLen { .. } => "min_len",
            Rule::MaxLen { .. } => "max_len",
            Rule::Min { .. } => "min",
            Rule::Max { .. } => "max",
            Rule::Scale { .. } => "scale",
            Rule::Precision { .. } => "precision",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Rule::MinLen { min } => write!(f, "shorter than {min} characters (min_len = {min})"),
            Rule::MaxLen { max } => write!(f, "longer than {max} characters (max_len = {max})"),
            Rule::Min { min } => write!(f, "below {min} (min = {min})"),
            Rule::Max { max } => write!(f, "above {max} (max = {max})"),
            Rule::Scale { scale } => write!(
                f,
                "more than {scale} digits after the point, which PostgreSQL would round \
                 (scale = {scale}); round it explicitly first or raise `scale`"
            ),
            Rule::Precision { precision, scale } => write!(
                f,
                "more than {} digits before the point (precision = {precision}, scale = {scale})",
                precision.saturating_sub(scale)
            ),
        }
    }
}

/// One column's problem with a value, found before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The column.
    pub column: &'static str,
    /// The struct field the column is written from (what a client sent,
    /// when the struct came from a request body).
    pub field: &'static str,
    /// For an array column, the position (from 1, NULL elements counted,
    /// as PostgreSQL numbers them) of the first element that breaks the
    /// rule.
    pub element: Option<u32>,
    /// The rule broken, with its limit.
    pub rule: Rule,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{}\"", self.column)?;
        if let Some(element) = self.element {
            write!(f, " element {element}")?;
        }
        write!(f, " is {}", self.rule)
    }
}

/// What a column accepts beyond its type, for [`ColumnType::check_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueLimits {
    /// The column's type, with its precision and scale.
    pub sql_type: SqlType,
    /// The fewest characters of text (`min_len`).
    pub min_len: Option<u32>,
    /// The most characters of text (`max_len`).
    pub max_len: Option<u32>,
    /// The smallest number (`min`).
    pub min: Option<i64>,
    /// The largest number (`max`).
    pub max: Option<i64>,
}

impl ValueLimits {
    /// The limits of column `position` of a table, from its checks.
    pub fn of(schema: &TableSchema, position: usize) -> Option<ValueLimits> {
        let column = schema.columns.get(position)?;
        let mut limits = ValueLimits::from_declared(column.sql_type, Limits::NONE);
        for check in schema.checks.iter().filter(|c| c.column == column.name) {
            match check.kind {
                CheckKind::MinLength(n) => limits.min_len = Some(n),
                CheckKind::MaxLength(n) => limits.max_len = Some(n),
                CheckKind::Min(n) => limits.min = Some(n),
                CheckKind::Max(n) => limits.max = Some(n),
                CheckKind::OneOf(_) | CheckKind::NoNullElements => {}
            }
        }
        Some(limits)
    }

    fn from_declared(sql_type: SqlType, limits: Limits) -> Self {
        ValueLimits {
            sql_type,
            min_len: limits.min_len,
            max_len: limits.max_len,
            min: limits.min,
            max: limits.max,
        }
    }

    /// The limits of an array's elements: the element type, the same
    /// bounds.
    pub(crate) fn of_elements(&self) -> Option<ValueLimits> {
        let element = self.sql_type.element()?;
        Some(ValueLimits {
            sql_type: *element,
            ..*self
        })
    }
}

/// The bounds a field declares, written by the derive as a constant so the
/// hot path reads no list.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub min_len: Option<u32>,
    pub max_len: Option<u32>,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl Limits {
    const NONE: Limits = Limits {
        min_len: None,
        max_len: None,
        min: None,
        max: None,
    };
}

/// Gathers the violations of one row's values, so a caller learns of every
/// bad column at once. Written into each generated `check_values`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Checker {
    schema: &'static TableSchema,
    found: Vec<Violation>,
}

impl Checker {
    /// Checks of a row of `schema`'s table.
    #[inline]
    pub fn new(schema: &'static TableSchema) -> Self {
        Checker {
            schema,
            found: Vec::new(),
        }
    }

    /// Checks the value of column `position` against the limits its
    /// field declares.
    #[inline]
    pub fn field<T: ColumnType + ?Sized>(&mut self, value: &T, position: usize, limits: Limits) {
        let Some(column) = self.schema.columns.get(position) else {
            return;
        };
        let limits = ValueLimits::from_declared(column.sql_type, limits);
        if let Err((element, rule)) = value.check_elements(&limits) {
            self.found.push(Violation {
                column: column.name,
                field: column.field,
                element,
                rule,
            });
        }
    }

    /// Every violation found, as one [`Error::Invalid`]; `Ok` when none.
    #[inline]
    pub fn finish(self) -> Result<()> {
        if self.found.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid {
                table: self.schema.name,
                row: None,
                violations: self.found,
            })
        }
    }
}

/// Checks every row of a batch, naming the first with a bad value by its
/// position.
pub(crate) fn check_rows<N: crate::NewEntity>(rows: &[N]) -> Result<()> {
    for (i, row) in rows.iter().enumerate() {
        check_row(row, i)?;
    }
    Ok(())
}

/// Checks row `i` of several, naming it by its position when it is bad.
pub(crate) fn check_row<N: crate::NewEntity>(row: &N, i: usize) -> Result<()> {
    row.check_values().map_err(|e| match e {
        Error::Invalid {
            table, violations, ..
        } => Error::Invalid {
            table,
            row: Some(i),
            violations,
        },
        other => other,
    })
}

/// [`Error::Invalid`] with one violation: a caller's value for column
/// `position` (a bulk `SET`, a claim) broke `rule`.
pub(crate) fn invalid(
    schema: &'static TableSchema,
    position: usize,
    (element, rule): (Option<u32>, Rule),
) -> Error {
    let column = schema.columns.get(position);
    Error::Invalid {
        table: schema.name,
        row: None,
        violations: vec![Violation {
            column: column.map_or("?", |c| c.name),
            field: column.map_or("?", |c| c.field),
            element,
            rule,
        }],
    }
}

/// Each element of an array through `fits`, naming the first that does not
/// fit by its position (from 1, NULL elements counted, as PostgreSQL
/// numbers them).
pub(crate) fn each_element<T>(
    items: impl IntoIterator<Item = Option<T>>,
    mut fits: impl FnMut(T) -> std::result::Result<(), Rule>,
) -> std::result::Result<(), (Option<u32>, Rule)> {
    for (i, item) in items.into_iter().enumerate() {
        if let Some(item) = item {
            let position = u32::try_from(i + 1).unwrap_or(u32::MAX);
            fits(item).map_err(|rule| (Some(position), rule))?;
        }
    }
    Ok(())
}

/// Whether a decimal is stored exactly by a column of this type (at most
/// `scale` digits after the point, trailing zeros not counted, and at most
/// `precision - scale` before it; unconstrained `NUMERIC` keeps any), and
/// lies within the bounds.
pub(crate) fn decimal_fits(
    value: &rust_decimal::Decimal,
    limits: &ValueLimits,
) -> std::result::Result<(), Rule> {
    number_fits(value, limits.min, limits.max, rust_decimal::Decimal::from)?;
    let SqlType::Numeric {
        precision: Some(precision),
        scale,
    } = limits.sql_type
    else {
        return Ok(());
    };
    let scale = scale.unwrap_or(0);
    let exact = value.normalize();
    let fraction = exact.scale();
    if fraction > u32::from(scale) {
        return Err(Rule::Scale { scale });
    }
    let whole = exact.mantissa().unsigned_abs() / 10u128.pow(fraction);
    let digits = if whole == 0 { 0 } else { whole.ilog10() + 1 };
    if digits > u32::from(precision.saturating_sub(scale)) {
        return Err(Rule::Precision { precision, scale });
    }
    Ok(())
}

/// Whether a number lies within `min` and `max`.
#[inline]
pub(crate) fn number_fits<T: PartialOrd>(
    value: &T,
    min: Option<i64>,
    max: Option<i64>,
    convert: impl Fn(i64) -> T,
) -> std::result::Result<(), Rule> {
    if let Some(min) = min {
        if *value < convert(min) {
            return Err(Rule::Min { min });
        }
    }
    if let Some(max) = max {
        if *value > convert(max) {
            return Err(Rule::Max { max });
        }
    }
    Ok(())
}

/// Whether text has from `min_len` to `max_len` characters, as
/// PostgreSQL's `char_length` counts them.
#[inline]
pub(crate) fn text_fits(value: &str, limits: &ValueLimits) -> std::result::Result<(), Rule> {
    if let Some(max) = limits.max_len {
        // Bytes bound characters from above: most values need no count.
        if value.len() > max as usize && value.chars().count() > max as usize {
            return Err(Rule::MaxLen { max });
        }
    }
    if let Some(min) = limits.min_len {
        // And from below: a character is at most 4 bytes, so only a value
        // of fewer than `4 * min` bytes may be short.
        let min_bytes = min as usize;
        if value.len() < min_bytes
            || (value.len() < min_bytes.saturating_mul(4) && value.chars().count() < min_bytes)
        {
            return Err(Rule::MinLen { min });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(sql_type: SqlType) -> ValueLimits {
        ValueLimits::from_declared(sql_type, Limits::NONE)
    }

    #[test]
    fn an_array_element_is_named_by_its_position_nulls_counted() {
        let limits = limits(SqlType::Array(&SqlType::Numeric {
            precision: Some(6),
            scale: Some(2),
        }));
        let fits: rust_decimal::Decimal = "1.5".parse().expect("decimal");
        let too_fine: rust_decimal::Decimal = "1.234".parse().expect("decimal");
        let with_nulls = vec![None, Some(fits), None, Some(too_fine)];
        assert_eq!(
            with_nulls.check_elements(&limits),
            Err((Some(4), Rule::Scale { scale: 2 }))
        );
        let without = vec![fits, too_fine];
        assert_eq!(
            without.check_elements(&limits),
            Err((Some(2), Rule::Scale { scale: 2 }))
        );
        assert_eq!(vec![None, Some(fits)].check_elements(&limits), Ok(()));
    }

    #[test]
    fn text_is_measured_in_characters() {
        let limits = ValueLimits {
            min_len: Some(2),
            max_len: Some(3),
            ..limits(SqlType::Text)
        };
        assert_eq!(text_fits("ééé", &limits), Ok(()));
        assert_eq!(text_fits("éééé", &limits), Err(Rule::MaxLen { max: 3 }));
        assert_eq!(text_fits("é", &limits), Err(Rule::MinLen { min: 2 }));
        assert_eq!(text_fits("", &limits), Err(Rule::MinLen { min: 2 }));
    }

    #[test]
    fn numbers_are_held_to_their_bounds() {
        let limits = ValueLimits {
            min: Some(0),
            max: Some(10),
            ..limits(SqlType::Integer)
        };
        assert_eq!(5i32.check_value(&limits), Ok(()));
        assert_eq!((-1i32).check_value(&limits), Err(Rule::Min { min: 0 }));
        assert_eq!(11i64.check_value(&limits), Err(Rule::Max { max: 10 }));
        let money = ValueLimits {
            sql_type: SqlType::Numeric {
                precision: Some(4),
                scale: Some(2),
            },
            ..limits
        };
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().expect("decimal");
        assert_eq!(d("9.99").check_value(&money), Ok(()));
        assert_eq!(d("10.5").check_value(&money), Err(Rule::Max { max: 10 }));
        assert_eq!(
            d("99.999").check_value(&ValueLimits { max: None, ..money }),
            Err(Rule::Scale { scale: 2 })
        );
        assert_eq!(
            d("123.4").check_value(&ValueLimits { max: None, ..money }),
            Err(Rule::Precision {
                precision: 4,
                scale: 2
            })
        );
    }
}

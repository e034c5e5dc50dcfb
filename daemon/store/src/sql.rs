//! Mapping SQLite's errors onto the port's [`StoreError`], and SQLite's signed integers
//! onto the domain's unsigned counters.
//!
//! SQL text never contains a secret (every value is a bound parameter), so SQLite's
//! messages are safe to pass on.

use carkey_core::ports::StoreError;
use rusqlite::ErrorCode;

/// Classifies a rusqlite error: a broken constraint means a rule was violated
/// ([`StoreError::Conflict`]), a damaged file is [`StoreError::Corrupt`], the rest is I/O.
pub(crate) fn sql_error(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(error.to_string()),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => StoreError::Corrupt(error.to_string()),
        _ => match error {
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..)
            | rusqlite::Error::InvalidColumnType(..) => StoreError::Corrupt(error.to_string()),
            other => StoreError::Io(other.to_string()),
        },
    }
}

/// Stores a `u64` counter in SQLite's `i64` without loss: values above `i64::MAX` (only
/// reachable by saturating counters) wrap to negative numbers and come back unchanged.
pub(crate) const fn u64_to_sql(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

/// The inverse of [`u64_to_sql`].
pub(crate) const fn u64_from_sql(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_round_trip_through_i64() {
        for v in [0, 1, u64::from(u32::MAX), i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            assert_eq!(u64_from_sql(u64_to_sql(v)), v);
        }
        assert_eq!(u64_to_sql(42), 42);
    }

    #[test]
    fn errors_are_classified() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY)").unwrap();
        conn.execute("INSERT INTO t VALUES (1)", []).unwrap();
        let dup = conn.execute("INSERT INTO t VALUES (1)", []).unwrap_err();
        assert!(matches!(sql_error(dup), StoreError::Conflict(_)));
        let missing = conn.execute("INSERT INTO nope VALUES (1)", []).unwrap_err();
        assert!(matches!(sql_error(missing), StoreError::Io(_)));
    }
}

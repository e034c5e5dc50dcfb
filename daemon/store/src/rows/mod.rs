//! Rows ↔ domain values, one table per file.
//!
//! Each file keeps a table's SQL next to the code that binds and decodes its columns, so
//! the column order is written down once. Everything read back is validated through the
//! domain's own constructors; a value that does not pass becomes
//! [`StoreError::Corrupt`](carkey_core::ports::StoreError::Corrupt) naming the table, the
//! row and the column, never a panic.

pub(crate) mod audit;
pub(crate) mod key;
pub(crate) mod pairing;
pub(crate) mod profile;
pub(crate) mod tracking;
pub(crate) mod vehicle;

use rusqlite::Row;
use rusqlite::types::FromSql;

/// Reads column `index`, describing a failure by the column's name from `columns`.
fn column<T: FromSql>(row: &Row<'_>, columns: &[&str], index: usize) -> Result<T, String> {
    row.get(index).map_err(|e| format!("column {}: {e}", columns.get(index).copied().unwrap_or("?")))
}

/// Converts a blob to a fixed-size array, describing a wrong length.
fn fixed<const N: usize>(name: &str, bytes: &[u8]) -> Result<[u8; N], String> {
    <[u8; N]>::try_from(bytes).map_err(|_| format!("column {name}: {} bytes, expected {N}", bytes.len()))
}

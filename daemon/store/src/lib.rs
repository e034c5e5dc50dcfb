//! SQLite key store.

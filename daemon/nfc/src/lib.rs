//! NFC readers.

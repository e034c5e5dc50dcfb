//! carkeyd.

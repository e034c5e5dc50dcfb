//! carkey-tests: simulators for testing `carkeyd` from the outside, starting with the
//! phone.
//!
//! The phone simulator is a library (for in-process tests and benchmarks) and the
//! `carkey-phone` command (for scripts, black-box tests and people):
//!
//! - [`wallet::Wallet`]: the phone's keys and fast-transaction contexts in a JSON file
//!   (mode 0600, written atomically), so a phone keeps its state between taps.
//! - [`tap::tap`]: one tap on a reader's socket, answering with the protocol crate's
//!   [`Endpoint`](carkey_protocol::endpoint::Endpoint), with failure injection (hang or
//!   leave after N commands), returning a [`report::TapReport`].
//! - [`pair::pair`]: owner pairing: arm the phone with the code the vehicle shows, tap
//!   once, and report the new key and the vehicle's verdict.
//! - [`Wallet::share`](wallet::Wallet::share), [`Wallet::accept_share`](wallet::Wallet::accept_share),
//!   [`Wallet::terminate`](wallet::Wallet::terminate): the rest of a key's life, offline
//!   on the phone (signed attestations in the key's private mailbox).
//! - [`field::reader_socket`]: where a named reader's socket is.
//!
//! ```no_run
//! use std::path::Path;
//! use carkey_tests::tap::{TapOptions, tap};
//! use carkey_tests::wallet::Wallet;
//!
//! let mut wallet = Wallet::load(Path::new("alice.json"))?;
//! let report = tap(Path::new("/run/carkey/nfc/door-driver.sock"), &mut wallet, &TapOptions::default())?;
//! wallet.save()?; // keep the new fast-transaction context
//! println!("{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod field;
mod link;
pub mod pair;
mod private_file;
pub mod report;
pub mod tap;
pub mod wallet;

pub use link::LinkError;

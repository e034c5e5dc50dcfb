//! The C ABI: a blocking API over [`Client`], for dashboards in C, C++ and Dart.
//!
//! The header (`include/carkey_client.h`) is generated from this module and
//! `status_code.rs`. Every function:
//! - returns a [`CarkeyStatus`] as `int` (or a pointer that is never invalid);
//! - checks its pointers and strings: NULL or non-UTF-8 is `CARKEY_STATUS_INVALID_ARGUMENT`,
//!   never undefined behaviour;
//! - catches panics, which must not unwind into C: they become `CARKEY_STATUS_FAILED`;
//! - records the error name for `carkey_client_last_error`.
//!
//! A handle owns a current-thread tokio runtime and drives it only inside calls: the caller
//! (a dashboard's worker thread) blocks while one call runs, and no thread is started
//! behind its back. Strings returned through `char **` belong to the caller and are freed
//! with `carkey_string_free`.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr;

use futures_core::Stream;
use tokio::runtime::Runtime;

use crate::status_code::CarkeyStatus;
use crate::{Client, ClientError, DecisionEvent, KeyId};

mod calls;

pub use calls::*;

type Decisions = Pin<Box<dyn Stream<Item = DecisionEvent> + Send>>;

/// An open connection to carkeyd (opaque). Use from one thread at a time; it may move
/// between threads. Free with `carkey_client_free`.
pub struct CarkeyClient {
    // Dropped in this order: the streams and connection before the runtime they run on.
    decisions: Option<Decisions>,
    client: Client,
    last_error: CString,
    last_message: CString,
    runtime: Runtime,
}

/// The outcome of one call body: a status, with the error kept for `last_error`.
type Outcome = Result<(), Failure>;

/// Why a call failed: a status, the error name, and a message for people.
struct Failure {
    status: CarkeyStatus,
    name: String,
    message: String,
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        Self { status: CarkeyStatus::of(&error), name: error.name().to_owned(), message: error.to_string() }
    }
}

impl Failure {
    fn invalid(message: &str) -> Self {
        Self { status: CarkeyStatus::InvalidArgument, name: "InvalidArgument".into(), message: message.into() }
    }

    fn new(status: CarkeyStatus, name: &str, message: &str) -> Self {
        Self { status, name: name.into(), message: message.into() }
    }
}

/// A C string without interior NUL bytes (those are replaced, never a reason to fail).
fn c_string(text: String) -> CString {
    CString::new(text).unwrap_or_else(|e| {
        let cleaned: Vec<u8> = e.into_vec().into_iter().filter(|b| *b != 0).collect();
        CString::new(cleaned).unwrap_or_default()
    })
}

/// Runs `body` with panics caught, turning the outcome into a status code.
fn guarded(body: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(CarkeyStatus::Failed as c_int)
}

/// Runs a call body on a valid handle and records its error for `carkey_client_last_error`.
///
/// # Safety
/// `client` is NULL or a handle from `carkey_client_connect` not yet freed, used by no
/// other thread during the call.
unsafe fn with_client(client: *mut CarkeyClient, body: impl FnOnce(&mut CarkeyClient) -> Outcome) -> c_int {
    guarded(|| {
        // SAFETY: the caller passes NULL or a live handle it does not share during the call.
        let Some(handle) = (unsafe { client.as_mut() }) else {
            return CarkeyStatus::InvalidArgument as c_int;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| body(handle)))
            .unwrap_or_else(|_| Err(Failure::new(CarkeyStatus::Failed, "Panic", "internal error in carkey-client")));
        let (status, name, message) = match outcome {
            Ok(()) => (CarkeyStatus::Ok, String::new(), String::new()),
            Err(failure) => (failure.status, failure.name, failure.message),
        };
        handle.last_error = c_string(name);
        handle.last_message = c_string(message);
        status as c_int
    })
}

/// Reads a string argument.
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string that stays valid during the call.
unsafe fn text_arg<'a>(text: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if text.is_null() {
        return Err(Failure::invalid(&format!("{what} is NULL")));
    }
    // SAFETY: non-NULL, and NUL-terminated and live by the caller's contract.
    unsafe { CStr::from_ptr(text) }.to_str().map_err(|_| Failure::invalid(&format!("{what} is not UTF-8")))
}

/// Reads a key id argument.
///
/// # Safety
/// As [`text_arg`].
unsafe fn key_arg(id: *const c_char) -> Result<KeyId, Failure> {
    // SAFETY: forwarded contract.
    let text = unsafe { text_arg(id, "key id") }?;
    text.parse().map_err(|e: crate::KeyIdError| Failure::invalid(&e.to_string()))
}

/// Hands a string to the caller through `out`.
///
/// # Safety
/// `out` is NULL or valid for one pointer write.
unsafe fn put_string(out: *mut *mut c_char, text: String) -> Outcome {
    if out.is_null() {
        return Err(Failure::invalid("output pointer is NULL"));
    }
    // SAFETY: non-NULL and writable by the caller's contract.
    unsafe { out.write(c_string(text).into_raw()) };
    Ok(())
}

/// Clears an output pointer first, so a failed call never leaves garbage in it.
///
/// # Safety
/// `out` is NULL or valid for one pointer write.
unsafe fn clear<T>(out: *mut *mut T) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable by the caller's contract.
        unsafe { out.write(ptr::null_mut()) };
    }
}

/// Connects to carkeyd on the bus at `address` (a D-Bus address such as
/// `unix:path=/run/dbus/system_bus_socket`), or on the system bus when `address` is NULL.
/// On success `*out` is a new handle; on failure it is NULL and the status says why
/// (`CARKEY_STATUS_BUS_UNAVAILABLE` when no bus answers at the address).
///
/// # Safety
/// `address` is NULL or a NUL-terminated string; `out` is valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_connect(address: *const c_char, out: *mut *mut CarkeyClient) -> c_int {
    guarded(|| {
        // SAFETY: forwarded contract.
        unsafe { clear(out) };
        if out.is_null() {
            return CarkeyStatus::InvalidArgument as c_int;
        }
        let address = if address.is_null() {
            None
        } else {
            // SAFETY: forwarded contract.
            match unsafe { text_arg(address, "address") } {
                Ok(address) => Some(address),
                Err(failure) => return failure.status as c_int,
            }
        };
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return CarkeyStatus::Failed as c_int;
        };
        let connected = runtime.block_on(async {
            match address {
                Some(address) => Client::connect(address).await,
                None => Client::system().await,
            }
        });
        match connected {
            Ok(client) => {
                let handle = CarkeyClient {
                    decisions: None,
                    client,
                    last_error: CString::default(),
                    last_message: CString::default(),
                    runtime,
                };
                // SAFETY: checked non-NULL above.
                unsafe { out.write(Box::into_raw(Box::new(handle))) };
                CarkeyStatus::Ok as c_int
            }
            Err(error) => CarkeyStatus::of(&error) as c_int,
        }
    })
}

/// Closes the connection and frees the handle. NULL is ignored.
///
/// # Safety
/// `client` is NULL or a handle from `carkey_client_connect`, freed only once and not
/// used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_free(client: *mut CarkeyClient) {
    if client.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: a handle made by Box::into_raw in carkey_client_connect, freed once.
        let handle = unsafe { Box::from_raw(client) };
        let CarkeyClient { decisions, client, runtime, .. } = *handle;
        // The stream and connection hand clean-up work (removing match rules) to the
        // runtime as they drop, so they go while it is still there.
        let guard = runtime.enter();
        drop(decisions);
        drop(client);
        drop(guard);
        drop(runtime);
    }));
}

/// Frees a string returned by this library. NULL is ignored.
///
/// # Safety
/// `text` is NULL or a string returned through a `char **` of this library, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_string_free(text: *mut c_char) {
    if !text.is_null() {
        // SAFETY: made by CString::into_raw in put_string, freed once.
        drop(unsafe { CString::from_raw(text) });
    }
}

/// The name of the last call's error: the daemon's short error name (`"UnknownKey"`,
/// `"OwnerPresenceRequired"`), or `"AccessDenied"`, `"NotRunning"`, `"InvalidArgument"`,
/// ...; `""` after a successful call. Valid until the next call on this handle. Never NULL.
///
/// # Safety
/// `client` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_last_error(client: *const CarkeyClient) -> *const c_char {
    // SAFETY: the caller passes NULL or a live handle.
    match unsafe { client.as_ref() } {
        Some(handle) => handle.last_error.as_ptr(),
        None => c"InvalidArgument".as_ptr(),
    }
}

/// The last call's error message, for people (logs); `""` after a success. Valid until the
/// next call on this handle. Never NULL.
///
/// # Safety
/// `client` is NULL or a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_last_message(client: *const CarkeyClient) -> *const c_char {
    // SAFETY: the caller passes NULL or a live handle.
    match unsafe { client.as_ref() } {
        Some(handle) => handle.last_message.as_ptr(),
        None => c"the client handle is NULL".as_ptr(),
    }
}

/// The name of a status code without its prefix (`"NOT_RUNNING"`); `"UNKNOWN"` for a
/// number that is not a code. Static; never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn carkey_status_name(status: c_int) -> *const c_char {
    CarkeyStatus::from_code(status).map_or(c"UNKNOWN", CarkeyStatus::name).as_ptr()
}

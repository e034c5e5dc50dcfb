//! The C ABI's refusal of misuse, called as C would call it, with no bus at all: NULL
//! pointers, strings that are not UTF-8, malformed key ids and addresses must be refused
//! with a status code (never undefined behaviour), and output pointers left NULL.
//!
//! The C ABI against the real daemon (status codes, error names, JSON, the decision feed)
//! is tested by the daemon's black-box tests, `daemon/carkeyd/tests/client_ffi.rs`.
#![allow(unsafe_code)] // Calling the C ABI is what this test is for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::ffi::{CStr, c_char, c_int};
use std::ptr;

use carkey_client::CarkeyStatus;
use carkey_client::ffi::*;

fn code(status: CarkeyStatus) -> c_int {
    status as c_int
}

#[test]
fn misuse_is_refused_without_a_connection() {
    let invalid = code(CarkeyStatus::InvalidArgument);
    let address = c"unix:path=/nonexistent/carkey-test/bus";
    unsafe {
        assert_eq!(carkey_client_connect(address.as_ptr(), ptr::null_mut()), invalid);
        let mut client = ptr::dangling_mut::<CarkeyClient>();
        let not_utf8 = [0xffu8, 0xfe, 0];
        assert_eq!(carkey_client_connect(not_utf8.as_ptr().cast(), &mut client), invalid);
        assert!(client.is_null(), "a failed connect leaves NULL behind");
        client = ptr::dangling_mut::<CarkeyClient>();
        assert_eq!(carkey_client_connect(c"not an address".as_ptr(), &mut client), invalid);
        assert!(client.is_null());

        let mut out = ptr::dangling_mut::<c_char>();
        assert_eq!(carkey_client_keys_json(ptr::null_mut(), &mut out), invalid);
        assert!(out.is_null(), "a failed call leaves NULL behind");
        for call in [carkey_client_status_json, carkey_client_profiles_json, carkey_client_readers_json] {
            out = ptr::dangling_mut::<c_char>();
            assert_eq!(call(ptr::null_mut(), &mut out), invalid);
            assert!(out.is_null());
        }
        let id = c"0011223344556677".as_ptr();
        assert_eq!(carkey_client_rename(ptr::null_mut(), id, c"x".as_ptr()), invalid);
        assert_eq!(carkey_client_set_profile(ptr::null_mut(), id, c"valet".as_ptr()), invalid);
        assert_eq!(carkey_client_set_validity(ptr::null_mut(), id, 0, 0), invalid);
        assert_eq!(carkey_client_suspend(ptr::null_mut(), id, c"lost".as_ptr()), invalid);
        assert_eq!(carkey_client_resume(ptr::null_mut(), id), invalid);
        assert_eq!(carkey_client_revoke(ptr::null_mut(), id, c"sold".as_ptr()), invalid);
        assert_eq!(carkey_client_cancel_pairing(ptr::null_mut()), invalid);
        let (mut pairing_code, mut expires_at) = (ptr::dangling_mut::<c_char>(), 0i64);
        assert_eq!(carkey_client_start_pairing(ptr::null_mut(), &mut pairing_code, &mut expires_at), invalid);
        assert!(pairing_code.is_null());
        assert_eq!(carkey_client_next_decision_json(ptr::null_mut(), 0, ptr::null_mut()), invalid);

        carkey_client_free(ptr::null_mut());
        carkey_string_free(ptr::null_mut());
        assert_eq!(CStr::from_ptr(carkey_client_last_error(ptr::null())), c"InvalidArgument");
        assert_eq!(CStr::from_ptr(carkey_client_last_message(ptr::null())), c"the client handle is NULL");
        assert_eq!(CStr::from_ptr(carkey_status_name(code(CarkeyStatus::NotRunning))), c"NOT_RUNNING");
        assert_eq!(CStr::from_ptr(carkey_status_name(-7)), c"UNKNOWN");
        assert_eq!(carkey_client_connect(address.as_ptr(), &mut client), code(CarkeyStatus::BusUnavailable));
        assert!(client.is_null());
    }
}

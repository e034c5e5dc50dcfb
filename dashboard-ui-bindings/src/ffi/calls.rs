//! The C API's calls: queries that return JSON, commands on keys, pairing, and the
//! decision feed. Each is one `with_client` body around one [`crate::Client`] method.

use std::ffi::{c_char, c_int};
use std::time::Duration;

use futures_util::StreamExt;

use super::{CarkeyClient, Decisions, Failure, clear, key_arg, put_string, text_arg, with_client};
use crate::status_code::CarkeyStatus;
use crate::{ClientError, json};

/// Every key, revoked ones included, most recently used first, as a JSON array of
/// `{"id", "object", "name", "role", "profile", "state", "state_reason", "created_at",
/// "last_used_at", "not_before", "not_after", "shared_by", "usage"}` (unset times and
/// reasons are `null`). Free `*json_out` with `carkey_string_free`.
///
/// # Safety
/// `client` is a live handle; `json_out` is valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_keys_json(client: *mut CarkeyClient, json_out: *mut *mut c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { clear(json_out) };
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let keys = h.runtime.block_on(h.client.keys())?;
            put_string(json_out, json::keys(&keys).to_string())
        })
    }
}

/// Everything a status page shows, as one JSON object: `{"version", "vehicle_group_id",
/// "keys_in_use", "max_keys", "owner_present_until", "pairing": {"pending", "source",
/// "attempts_left", "expires_at"}, "vehicle": {"locked", "immobilizer", "started_by",
/// "speed_limit"}, "sync": {"state", "pending_events", "last_success_at"}}`.
///
/// # Safety
/// `client` is a live handle; `json_out` is valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_status_json(client: *mut CarkeyClient, json_out: *mut *mut c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { clear(json_out) };
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let status = h.runtime.block_on(h.client.status())?;
            put_string(json_out, json::status(&status).to_string())
        })
    }
}

/// The access profiles as a JSON array of `{"name", "built_in", "actions", "speed_limit",
/// "schedule", "not_before", "not_after"}`.
///
/// # Safety
/// `client` is a live handle; `json_out` is valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_profiles_json(client: *mut CarkeyClient, json_out: *mut *mut c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { clear(json_out) };
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let profiles = h.runtime.block_on(h.client.profiles())?;
            let list = serde_json::Value::Array(profiles.iter().map(json::profile).collect());
            put_string(json_out, list.to_string())
        })
    }
}

/// The readers as a JSON array of `{"object", "name", "location", "state", "last_error"}`.
///
/// # Safety
/// `client` is a live handle; `json_out` is valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_readers_json(client: *mut CarkeyClient, json_out: *mut *mut c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { clear(json_out) };
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let readers = h.runtime.block_on(h.client.readers())?;
            let list = serde_json::Value::Array(readers.iter().map(json::reader).collect());
            put_string(json_out, list.to_string())
        })
    }
}

/// Renames a key (`name`: 1 to 64 characters, no control characters).
///
/// # Safety
/// `client` is a live handle; `key_id` and `name` are NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_rename(
    client: *mut CarkeyClient,
    key_id: *const c_char,
    name: *const c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let (id, name) = (key_arg(key_id)?, text_arg(name, "name")?);
            Ok(h.runtime.block_on(h.client.rename(&id, name))?)
        })
    }
}

/// Gives a key another access profile (`CARKEY_STATUS_NOT_FOUND` for an unknown profile).
///
/// # Safety
/// `client` is a live handle; `key_id` and `profile` are NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_set_profile(
    client: *mut CarkeyClient,
    key_id: *const c_char,
    profile: *const c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let (id, profile) = (key_arg(key_id)?, text_arg(profile, "profile")?);
            Ok(h.runtime.block_on(h.client.set_profile(&id, profile))?)
        })
    }
}

/// Suspends a key until resumed (a lost phone). An owner key needs the owner present
/// (`CARKEY_STATUS_OWNER_PRESENCE_REQUIRED`).
///
/// # Safety
/// `client` is a live handle; `key_id` and `reason` are NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_suspend(
    client: *mut CarkeyClient,
    key_id: *const c_char,
    reason: *const c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let (id, reason) = (key_arg(key_id)?, text_arg(reason, "reason")?);
            Ok(h.runtime.block_on(h.client.suspend(&id, reason))?)
        })
    }
}

/// Resumes a suspended key (`CARKEY_STATUS_REFUSED` if it is not suspended).
///
/// # Safety
/// `client` is a live handle; `key_id` is a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_resume(client: *mut CarkeyClient, key_id: *const c_char) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let id = key_arg(key_id)?;
            Ok(h.runtime.block_on(h.client.resume(&id))?)
        })
    }
}

/// Revokes a key for good and erases its secrets. An owner key needs the owner present
/// (`CARKEY_STATUS_OWNER_PRESENCE_REQUIRED`).
///
/// # Safety
/// `client` is a live handle; `key_id` and `reason` are NUL-terminated strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_revoke(
    client: *mut CarkeyClient,
    key_id: *const c_char,
    reason: *const c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let (id, reason) = (key_arg(key_id)?, text_arg(reason, "reason")?);
            Ok(h.runtime.block_on(h.client.revoke(&id, reason))?)
        })
    }
}

/// Sets a key's own validity window, in Unix seconds; 0 for unbounded.
///
/// # Safety
/// `client` is a live handle; `key_id` is a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_set_validity(
    client: *mut CarkeyClient,
    key_id: *const c_char,
    not_before: i64,
    not_after: i64,
) -> c_int {
    let bound = |time: i64| (time != 0).then_some(time);
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            let id = key_arg(key_id)?;
            Ok(h.runtime.block_on(h.client.set_validity(&id, bound(not_before), bound(not_after)))?)
        })
    }
}

/// Starts owner pairing: `*code_out` is the one-time code to show (free it with
/// `carkey_string_free`), `*expires_at_out` when it expires (Unix seconds).
///
/// # Safety
/// `client` is a live handle; both outputs are valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_start_pairing(
    client: *mut CarkeyClient,
    code_out: *mut *mut c_char,
    expires_at_out: *mut i64,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { clear(code_out) };
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            if code_out.is_null() || expires_at_out.is_null() {
                return Err(Failure::invalid("output pointer is NULL"));
            }
            let (code, expires_at) = h.runtime.block_on(h.client.start_pairing())?;
            // SAFETY: checked non-NULL; writable by the caller's contract.
            expires_at_out.write(expires_at);
            put_string(code_out, code)
        })
    }
}

/// Withdraws the pending owner pairing (`CARKEY_STATUS_NOT_FOUND` if none is pending).
///
/// # Safety
/// `client` is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_cancel_pairing(client: *mut CarkeyClient) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { with_client(client, |h| Ok(h.runtime.block_on(h.client.cancel_pairing())?)) }
}

/// Waits up to `timeout_ms` milliseconds (negative: without limit; 0: only what is queued)
/// for the next decided tap, as `{"reader", "key", "action", "transaction", "allowed",
/// "reason", "time"}`. Returns `CARKEY_STATUS_TIMEOUT` when none came in time.
///
/// The first call subscribes; taps decided from then on are queued for later calls. Call
/// it once with a timeout of 0 right after connecting to start collecting.
///
/// # Safety
/// `client` is a live handle; `json_out` is valid for one pointer write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn carkey_client_next_decision_json(
    client: *mut CarkeyClient,
    timeout_ms: c_int,
    json_out: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { clear(json_out) };
    // SAFETY: forwarded contract.
    unsafe {
        with_client(client, |h| {
            if json_out.is_null() {
                return Err(Failure::invalid("output pointer is NULL"));
            }
            let CarkeyClient { decisions, client, runtime, .. } = h;
            let next = runtime.block_on(async {
                if decisions.is_none() {
                    *decisions = Some(Box::pin(client.decisions().await?) as Decisions);
                }
                let Some(stream) = decisions.as_mut() else { return Ok(None) };
                let next = match u64::try_from(timeout_ms) {
                    Ok(ms) => tokio::time::timeout(Duration::from_millis(ms), stream.next()).await.ok(),
                    Err(_) => Some(stream.next().await),
                };
                Ok::<_, ClientError>(next)
            })?;
            match next {
                None => Err(Failure::new(CarkeyStatus::Timeout, "Timeout", "no decision within the timeout")),
                Some(None) => Err(Failure::new(CarkeyStatus::Failed, "Disconnected", "the bus connection closed")),
                Some(Some(event)) => put_string(json_out, json::decision(&event).to_string()),
            }
        })
    }
}

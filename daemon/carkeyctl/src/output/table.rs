//! Human output: aligned columns, UTC times, no colour.
//!
//! Plain text only, because carkeyctl's output is read on a technician's serial console
//! and pasted into tickets, where escape codes are noise. Lists are tables with a header
//! line; one object is a column of `label  value` lines. Columns are padded to the widest
//! cell counted in characters, and no line ends in spaces.

use carkey_client::{DecisionEvent, Immobilizer, Key, PairingState, Profile, Reader, Status};

use super::ChangeEvent;
use crate::time::{format_optional, format_utc};

/// Lines of cells as aligned text, two spaces between columns.
fn layout(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(column) {
                Some(widest) => *widest = (*widest).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(&widths) {
            line.push_str(cell);
            let padding = width.saturating_sub(cell.chars().count()) + 2;
            line.extend(std::iter::repeat_n(' ', padding));
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// A list: a header line, then one line per row.
fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let all: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| (*h).to_owned()).collect()).chain(rows).collect();
    layout(&all)
}

/// One object: `label  value` lines.
fn fields(pairs: &[(&str, String)]) -> String {
    let rows: Vec<Vec<String>> = pairs.iter().map(|(label, value)| vec![(*label).to_owned(), value.clone()]).collect();
    layout(&rows)
}

fn bound(time: Option<i64>) -> String {
    format_optional(time, "-")
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// `keys`: one line per key.
pub(crate) fn keys(keys: &[Key]) -> String {
    let rows = keys.iter().map(|key| {
        vec![
            key.id.to_string(),
            key.name.clone(),
            key.role.to_string(),
            key.profile.clone(),
            key.state.as_str().to_owned(),
            format_optional(key.last_used_at, "never"),
        ]
    });
    table(&["ID", "NAME", "ROLE", "PROFILE", "STATE", "LAST USED"], rows)
}

/// `key show`: every property.
pub(crate) fn key(key: &Key) -> String {
    let state = match key.state.reason() {
        Some(reason) => format!("{} ({reason})", key.state.as_str()),
        None => key.state.as_str().to_owned(),
    };
    let usage: Vec<String> = key.usage.iter().map(|(what, count)| format!("{what} {count}")).collect();
    fields(&[
        ("id", key.id.to_string()),
        ("name", key.name.clone()),
        ("role", key.role.to_string()),
        ("profile", key.profile.clone()),
        ("state", state),
        ("created", format_utc(key.created_at)),
        ("last used", format_optional(key.last_used_at, "never")),
        ("not before", bound(key.not_before)),
        ("not after", bound(key.not_after)),
        ("shared by", key.shared_by.as_ref().map_or_else(|| "-".to_owned(), ToString::to_string)),
        ("usage", if usage.is_empty() { "-".to_owned() } else { usage.join(", ") }),
    ])
}

/// `profile list`: one line per profile.
pub(crate) fn profiles(profiles: &[Profile]) -> String {
    let rows = profiles.iter().map(|profile| {
        let actions: Vec<&str> = profile.actions.iter().map(|a| a.as_str()).collect();
        vec![
            profile.name.clone(),
            yes_no(profile.built_in),
            actions.join(","),
            profile.speed_limit.map_or_else(|| "-".to_owned(), |limit| format!("{limit} km/h")),
            if profile.schedule.is_empty() { "any time".to_owned() } else { profile.schedule.join("; ") },
            bound(profile.not_before),
            bound(profile.not_after),
        ]
    });
    table(&["NAME", "BUILT-IN", "ACTIONS", "SPEED LIMIT", "SCHEDULE", "NOT BEFORE", "NOT AFTER"], rows)
}

/// `readers`: one line per reader.
pub(crate) fn readers(readers: &[Reader]) -> String {
    let rows = readers.iter().map(|reader| {
        vec![
            reader.name.clone(),
            reader.location.to_string(),
            reader.state.to_string(),
            reader.last_error.clone().unwrap_or_else(|| "-".to_owned()),
        ]
    });
    table(&["NAME", "LOCATION", "STATE", "LAST ERROR"], rows)
}

/// Owner pairing in one value: `none` or `pending (dashboard), 3 attempts left, expires ...`.
fn pairing_summary(pairing: &PairingState) -> String {
    if !pairing.pending {
        return "none".to_owned();
    }
    let source = pairing.source.as_ref().map_or_else(String::new, |source| format!(" ({source})"));
    let expires = pairing.expires_at.map_or_else(String::new, |at| format!(", expires {}", format_utc(at)));
    format!("pending{source}, {} attempts left{expires}", pairing.attempts_left)
}

/// `pair status`.
pub(crate) fn pairing(pairing: &PairingState) -> String {
    fields(&[
        ("pending", yes_no(pairing.pending)),
        ("source", pairing.source.as_ref().map_or_else(|| "-".to_owned(), ToString::to_string)),
        ("attempts left", pairing.attempts_left.to_string()),
        ("expires", bound(pairing.expires_at)),
    ])
}

/// `pair start`: the code, and what to do with it.
pub(crate) fn pairing_code(code: &str, expires_at: Option<i64>) -> String {
    let mut text = fields(&[("code", code.to_owned()), ("expires", format_optional(expires_at, "never"))]);
    text.push_str("Type the code on the owner's phone, then hold the phone to the console reader.\n");
    text
}

/// `status`.
pub(crate) fn status(status: &Status) -> String {
    let immobilizer = match &status.vehicle.immobilizer {
        Immobilizer::Armed => "armed".to_owned(),
        Immobilizer::Released { by, speed_limit } => {
            let by = by.as_ref().map_or_else(String::new, |key| format!(" by {key}"));
            let limit = speed_limit.map_or_else(String::new, |limit| format!(", speed limit {limit} km/h"));
            format!("released{by}{limit}")
        }
        Immobilizer::Other(other) => other.clone(),
    };
    let sync = &status.sync;
    fields(&[
        ("version", status.version.clone()),
        ("vehicle group", status.vehicle_group_id.clone()),
        ("keys in use", format!("{} of {}", status.keys_in_use, status.max_keys)),
        (
            "owner present",
            status.owner_present_until.map_or_else(|| "no".to_owned(), |t| format!("until {}", format_utc(t))),
        ),
        ("pairing", pairing_summary(&status.pairing)),
        ("doors", if status.vehicle.locked { "locked" } else { "unlocked" }.to_owned()),
        ("immobilizer", immobilizer),
        (
            "sync",
            format!(
                "{}, {} pending, last success {}",
                sync.phase,
                match sync.pending_events {
                    1 => "1 event".to_owned(),
                    n => format!("{n} events"),
                },
                format_optional(sync.last_success_at, "never")
            ),
        ),
    ])
}

/// `monitor`: a decided tap in one line.
pub(crate) fn decision(event: &DecisionEvent) -> String {
    let outcome = match (&event.allowed, &event.reason) {
        (true, _) => "allowed".to_owned(),
        (false, Some(reason)) => format!("denied {reason}"),
        (false, None) => "denied".to_owned(),
    };
    format!(
        "{} decision {} {} {} {} {outcome}",
        format_utc(event.time),
        event.reader,
        event.key.as_ref().map_or("-", |key| key.as_str()),
        event.action,
        event.transaction,
    )
}

/// `monitor`: a change in one line.
pub(crate) fn change(change: &ChangeEvent<'_>) -> String {
    let subject = change.key.map(|key| key.as_str()).or(change.reader);
    match subject {
        Some(subject) => format!("{} {} {subject}", format_utc(change.time), change.event),
        None => format!("{} {}", format_utc(change.time), change.event),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use carkey_client::{Action, KeyState, Role, Transaction};

    use super::*;
    use crate::output::json::tests::sample_key;

    #[test]
    fn columns_align_on_the_widest_cell_without_trailing_spaces() {
        let rows = vec![
            vec!["ID".to_owned(), "NAME".to_owned(), "STATE".to_owned()],
            vec!["1".to_owned(), "Zoë's phone".to_owned(), "active".to_owned()],
            vec!["22".to_owned(), "x".to_owned(), "".to_owned()],
        ];
        assert_eq!(layout(&rows), "ID  NAME         STATE\n1   Zoë's phone  active\n22  x\n");
    }

    #[test]
    fn the_key_list() {
        let mut owner = sample_key();
        (owner.name, owner.role, owner.profile, owner.state) =
            ("owner".into(), Role::Owner, "owner".into(), KeyState::Active);
        owner.last_used_at = Some(1_795_428_000);
        let text = keys(&[owner, sample_key()]);
        assert_eq!(
            text,
            "ID                NAME          ROLE    PROFILE  STATE      LAST USED\n\
             0011223344556677  owner         owner   owner    active     2026-11-23T10:00:00Z\n\
             0011223344556677  Anna's phone  friend  valet    suspended  never\n"
        );
        assert_eq!(keys(&[]), "ID  NAME  ROLE  PROFILE  STATE  LAST USED\n");
    }

    #[test]
    fn one_key() {
        let text = key(&sample_key());
        assert!(text.starts_with("id          0011223344556677\nname        Anna's phone\n"), "{text}");
        assert!(text.contains("\nstate       suspended (lost phone)\n"), "{text}");
        assert!(text.contains("\ncreated     2026-11-23T10:00:00Z\n"), "{text}");
        assert!(text.contains("\nlast used   never\nnot before  -\n"), "{text}");
        assert!(text.ends_with("\nusage       denied 1, unlock 3\n"), "{text}");
    }

    #[test]
    fn monitor_lines() {
        let mut tap = DecisionEvent {
            reader: "door-driver".into(),
            key: Some(sample_key().id),
            action: Action::Unlock,
            transaction: Transaction::Standard,
            allowed: true,
            reason: None,
            time: 1_795_428_000,
        };
        assert_eq!(
            decision(&tap),
            "2026-11-23T10:00:00Z decision door-driver 0011223344556677 unlock standard allowed"
        );
        (tap.key, tap.allowed, tap.reason) = (None, false, Some("UnknownKey".into()));
        assert_eq!(decision(&tap), "2026-11-23T10:00:00Z decision door-driver - unlock standard denied UnknownKey");
        let reader = ChangeEvent { time: 0, event: "reader-changed", key: None, reader: Some("console") };
        assert_eq!(change(&reader), "1970-01-01T00:00:00Z reader-changed console");
        let vehicle = ChangeEvent { time: 0, event: "vehicle-changed", key: None, reader: None };
        assert_eq!(change(&vehicle), "1970-01-01T00:00:00Z vehicle-changed");
    }

    #[test]
    fn pairing_states() {
        let idle = PairingState { pending: false, source: None, attempts_left: 5, expires_at: None };
        assert_eq!(pairing_summary(&idle), "none");
        let pending = PairingState { expires_at: Some(1_795_428_000), pending: true, ..idle };
        assert_eq!(pairing_summary(&pending), "pending, 5 attempts left, expires 2026-11-23T10:00:00Z");
        assert!(pairing_code("123456", None).starts_with("code     123456\nexpires  never\n"));
    }
}

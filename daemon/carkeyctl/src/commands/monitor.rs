//! `monitor`: decided taps and key, reader and vehicle changes, one line each, as they
//! happen, until Ctrl-C (or `--count` decisions, for scripts and tests).
//!
//! Both streams are subscribed before anything else is read, so a tap decided while
//! carkeyctl starts up is still shown. They are two subscriptions, so a tap's changes may
//! be printed just before or just after its decision. Pairing, sync and manager changes are left out:
//! they follow from the taps and key changes already shown and would only repeat them.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use carkey_client::{Change, Client};
use futures_util::StreamExt;

use super::Ctx;
use crate::failure::Failure;
use crate::output::{ChangeEvent, json, table};

pub(crate) async fn run(count: Option<u64>, ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    if count == Some(0) {
        return Ok(());
    }
    let client = ctx.client().await?;
    let mut decisions = client.decisions().await?;
    let mut changes = client.changes().await?;
    let readers = reader_names(&client).await?;
    let interrupted = async {
        // Without a handler SIGINT keeps its default action and ends the process anyway.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(interrupted);
    let mut seen: u64 = 0;
    loop {
        tokio::select! {
            () = &mut interrupted => return Ok(()),
            decision = decisions.next() => {
                let decision = decision.ok_or(Failure::Disconnected)?;
                ctx.printer.line(|| table::decision(&decision), || json::decision(&decision))?;
                seen = seen.saturating_add(1);
                if count.is_some_and(|count| seen >= count) {
                    return Ok(());
                }
            }
            change = changes.next() => {
                let change = change.ok_or(Failure::Disconnected)?;
                if let Some(event) = shown(&change, &readers, now()) {
                    ctx.printer.line(|| table::change(&event), || json::change(&event))?;
                }
            }
        }
    }
}

/// Reader names by object path: a change names the reader's object, a person its name.
/// Readers are configured at start, so one read serves the whole run.
async fn reader_names(client: &Client) -> Result<HashMap<String, String>, Failure> {
    let readers = client.readers().await?;
    Ok(readers.into_iter().map(|reader| (reader.object.as_str().to_owned(), reader.name)).collect())
}

/// The line for `change`, if it is one `monitor` shows.
fn shown<'a>(change: &'a Change, readers: &'a HashMap<String, String>, time: i64) -> Option<ChangeEvent<'a>> {
    let key = |event, id| ChangeEvent { time, event, key: Some(id), reader: None };
    match change {
        Change::KeyAdded(id) => Some(key("key-added", id)),
        Change::KeyRemoved(id) => Some(key("key-removed", id)),
        Change::KeyChanged(id) => Some(key("key-changed", id)),
        Change::ReaderChanged(path) => {
            let name = readers.get(path.as_str()).map_or(path.as_str(), String::as_str);
            Some(ChangeEvent { time, event: "reader-changed", key: None, reader: Some(name) })
        }
        Change::VehicleChanged => Some(ChangeEvent { time, event: "vehicle-changed", key: None, reader: None }),
        _ => None,
    }
}

/// Now, in Unix seconds (0 if the clock is before 1970).
fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use carkey_client::KeyId;

    use super::*;

    #[test]
    fn keys_readers_and_the_vehicle_are_shown_by_name() {
        let id: KeyId = "0011223344556677".parse().unwrap();
        let readers = HashMap::from([("/org/carkey/CarKey1/readers/door_driver".to_owned(), "door-driver".to_owned())]);
        let change = Change::KeyChanged(id.clone());
        assert_eq!(
            shown(&change, &readers, 7),
            Some(ChangeEvent { time: 7, event: "key-changed", key: Some(&id), reader: None })
        );
        let door = Change::ReaderChanged("/org/carkey/CarKey1/readers/door_driver".try_into().unwrap());
        assert_eq!(shown(&door, &readers, 7).and_then(|e| e.reader), Some("door-driver"));
        let unknown = Change::ReaderChanged("/org/carkey/CarKey1/readers/b_pillar".try_into().unwrap());
        assert_eq!(shown(&unknown, &readers, 7).and_then(|e| e.reader), Some("/org/carkey/CarKey1/readers/b_pillar"));
        assert_eq!(shown(&Change::VehicleChanged, &readers, 7).map(|e| e.event), Some("vehicle-changed"));
        assert_eq!(shown(&Change::ManagerChanged, &readers, 7), None);
        assert_eq!(shown(&Change::SyncChanged, &readers, 7), None);
    }
}

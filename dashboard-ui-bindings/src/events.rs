//! Streams of what happens in the daemon: decided taps ([`DecisionEvent`]) and changes to
//! keys and state ([`Change`]).
//!
//! Both streams are plain bus match rules read through a `MessageStream`, set up (the
//! match rule added on the bus) before the stream is returned: a signal sent after the
//! subscribing call returns is queued for the stream even if it is polled later. The rules
//! name the daemon's well-known name as sender, so the bus keeps delivering across a
//! daemon restart and drops look-alike signals from anybody else.
//!
//! A change carries only *what* changed, not the new values: a dashboard re-reads what it
//! shows, so a burst of changes costs one refresh and nothing can be applied out of order.

use std::collections::HashMap;
use std::num::NonZeroUsize;

use carkey_dbus::{BUS_NAME, ROOT_PATH, interfaces, paths};
use futures_core::Stream;
use futures_util::{StreamExt, future};
use zbus::message::Type as MessageType;
use zbus::{Connection, MatchRule, Message, MessageStream, OwnedObjectPath, OwnedVariant};

use crate::decision::{DecisionArgs, DecisionEvent};
use crate::error::ClientError;
use crate::key_id::KeyId;

const OBJECT_MANAGER: &str = "org.freedesktop.DBus.ObjectManager";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// How many signals wait for a slow reader before the oldest are dropped. A dashboard that
/// falls this far behind re-reads everything anyway; the bound keeps its memory bounded.
const QUEUE: NonZeroUsize = match NonZeroUsize::new(256) {
    Some(n) => n,
    None => NonZeroUsize::MIN,
};

/// Something changed in the daemon; read it again to see how.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Change {
    /// A key was enrolled (paired or shared).
    KeyAdded(KeyId),
    /// A key's object went away (factory reset, or a slot reused).
    KeyRemoved(KeyId),
    /// A key's properties changed (name, profile, state, validity, last use, usage).
    KeyChanged(KeyId),
    /// A reader's state or last error changed; the reader's object path.
    ReaderChanged(OwnedObjectPath),
    /// Locks or immobilizer changed.
    VehicleChanged,
    /// Owner pairing started, ended or lost an attempt.
    PairingChanged,
    /// The backend exchange's state changed.
    SyncChanged,
    /// The Manager's properties changed (keys in use, owner presence, group id).
    ManagerChanged,
}

/// The parts of a signal that decide which [`Change`] it is.
#[derive(Debug)]
pub(crate) enum Signal<'a> {
    /// `ObjectManager.InterfacesAdded(path, interfaces)`.
    Added { path: &'a str, interfaces: Vec<&'a str> },
    /// `ObjectManager.InterfacesRemoved(path, interfaces)`.
    Removed { path: &'a str, interfaces: Vec<&'a str> },
    /// `Properties.PropertiesChanged(interface, ..)` emitted by `path`.
    PropertiesChanged { path: &'a str, interface: &'a str },
}

/// Which change a signal announces; `None` for signals a dashboard need not refresh for.
pub(crate) fn classify(signal: &Signal<'_>) -> Option<Change> {
    match signal {
        Signal::Added { path, interfaces } | Signal::Removed { path, interfaces } => {
            if !interfaces.contains(&interfaces::KEY) {
                return None;
            }
            let id = KeyId::from_object_path(path)?;
            Some(if matches!(signal, Signal::Added { .. }) { Change::KeyAdded(id) } else { Change::KeyRemoved(id) })
        }
        Signal::PropertiesChanged { path, interface } => match *interface {
            interfaces::KEY => KeyId::from_object_path(path).map(Change::KeyChanged),
            interfaces::READER => {
                let is_reader = path.strip_prefix(paths::READERS_PATH).is_some_and(|rest| rest.starts_with('/'));
                is_reader.then(|| OwnedObjectPath::try_from(*path).ok()).flatten().map(Change::ReaderChanged)
            }
            _ if *path != ROOT_PATH => None,
            interfaces::MANAGER => Some(Change::ManagerChanged),
            interfaces::PAIRING => Some(Change::PairingChanged),
            interfaces::VEHICLE => Some(Change::VehicleChanged),
            interfaces::SYNC => Some(Change::SyncChanged),
            _ => None,
        },
    }
}

/// Reads a received signal's header and body into a [`Change`].
fn change_of(message: &Message) -> Option<Change> {
    let header = message.header();
    let path = header.path()?.as_str();
    let body = message.body();
    match (header.interface()?.as_str(), header.member()?.as_str()) {
        (OBJECT_MANAGER, "InterfacesAdded") => {
            let (object, added): (OwnedObjectPath, HashMap<String, HashMap<String, OwnedVariant>>) =
                body.deserialize().ok()?;
            let interfaces = added.keys().map(String::as_str).collect();
            classify(&Signal::Added { path: object.as_str(), interfaces })
        }
        (OBJECT_MANAGER, "InterfacesRemoved") => {
            let (object, removed): (OwnedObjectPath, Vec<String>) = body.deserialize().ok()?;
            let interfaces = removed.iter().map(String::as_str).collect();
            classify(&Signal::Removed { path: object.as_str(), interfaces })
        }
        (PROPERTIES, "PropertiesChanged") => {
            let (interface, _, _): (String, HashMap<String, OwnedVariant>, Vec<String>) = body.deserialize().ok()?;
            classify(&Signal::PropertiesChanged { path, interface: &interface })
        }
        _ => None,
    }
}

/// Adds `rule` on the bus and returns the stream of messages it matches.
async fn subscribe(
    connection: &Connection,
    rule: zbus::Result<MatchRule<'static>>,
) -> Result<MessageStream, ClientError> {
    let rule = rule.map_err(|e| ClientError::InvalidArgument(format!("match rule: {e}")))?;
    Ok(MessageStream::for_match_rule(rule, connection, Some(QUEUE)).await?)
}

/// Every [`Change`], from one match rule: the daemon's signals under its root object.
pub(crate) async fn changes(
    connection: &Connection,
) -> Result<impl Stream<Item = Change> + Send + Unpin + 'static, ClientError> {
    let rule = MatchRule::builder().msg_type(MessageType::Signal).sender(BUS_NAME).path_namespace(ROOT_PATH).build();
    let messages = subscribe(connection, rule).await?;
    Ok(messages.filter_map(|message| future::ready(message.ok().as_ref().and_then(change_of))))
}

/// Every [`DecisionEvent`], from the `Manager.Decision` signal.
pub(crate) async fn decisions(
    connection: &Connection,
) -> Result<impl Stream<Item = DecisionEvent> + Send + Unpin + 'static, ClientError> {
    let rule = MatchRule::builder()
        .msg_type(MessageType::Signal)
        .sender(BUS_NAME)
        .path(ROOT_PATH)
        .interface(interfaces::MANAGER)
        .member("Decision")
        .build();
    let messages = subscribe(connection, rule).await?;
    Ok(messages.filter_map(|message| {
        let event =
            message.ok().and_then(|m| m.body().deserialize::<DecisionArgs>().ok()).and_then(DecisionEvent::from_args);
        future::ready(event)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "/org/carkey/CarKey1/keys/0011223344556677";

    fn id() -> KeyId {
        "0011223344556677".parse().unwrap()
    }

    #[test]
    fn object_manager_signals_announce_keys() {
        let added = Signal::Added { path: KEY, interfaces: vec!["org.freedesktop.DBus.Properties", interfaces::KEY] };
        assert_eq!(classify(&added), Some(Change::KeyAdded(id())));
        let removed = Signal::Removed { path: KEY, interfaces: vec![interfaces::KEY] };
        assert_eq!(classify(&removed), Some(Change::KeyRemoved(id())));
        let reader =
            Signal::Added { path: "/org/carkey/CarKey1/readers/console", interfaces: vec![interfaces::READER] };
        assert_eq!(classify(&reader), None);
        let not_a_key = Signal::Added { path: "/org/carkey/CarKey1/keys/zz", interfaces: vec![interfaces::KEY] };
        assert_eq!(classify(&not_a_key), None);
    }

    #[test]
    fn property_changes_are_matched_by_path_and_interface() {
        let on = |path, interface| classify(&Signal::PropertiesChanged { path, interface });
        assert_eq!(on(KEY, interfaces::KEY), Some(Change::KeyChanged(id())));
        assert_eq!(on(ROOT_PATH, interfaces::MANAGER), Some(Change::ManagerChanged));
        assert_eq!(on(ROOT_PATH, interfaces::PAIRING), Some(Change::PairingChanged));
        assert_eq!(on(ROOT_PATH, interfaces::VEHICLE), Some(Change::VehicleChanged));
        assert_eq!(on(ROOT_PATH, interfaces::SYNC), Some(Change::SyncChanged));
        let reader = "/org/carkey/CarKey1/readers/door_driver";
        assert_eq!(on(reader, interfaces::READER), Some(Change::ReaderChanged(reader.try_into().unwrap())));
        // The right interface on the wrong object is not that object's change.
        assert_eq!(on(KEY, interfaces::VEHICLE), None);
        assert_eq!(on(ROOT_PATH, interfaces::KEY), None);
        assert_eq!(on("/org/carkey/CarKey1/readers", interfaces::READER), None);
        assert_eq!(on(ROOT_PATH, "org.carkey.CarKey1.Climate"), None);
    }

    #[test]
    fn signals_are_read_from_real_messages() {
        let properties = Message::signal(KEY, PROPERTIES, "PropertiesChanged")
            .build(&(interfaces::KEY, HashMap::<String, OwnedVariant>::new(), vec!["Name".to_owned()]))
            .unwrap();
        assert_eq!(change_of(&properties), Some(Change::KeyChanged(id())));

        let object = OwnedObjectPath::try_from(KEY).unwrap();
        let added_interfaces = HashMap::from([(interfaces::KEY.to_owned(), HashMap::<String, OwnedVariant>::new())]);
        let added = Message::signal(ROOT_PATH, OBJECT_MANAGER, "InterfacesAdded")
            .build(&(object.clone(), added_interfaces))
            .unwrap();
        assert_eq!(change_of(&added), Some(Change::KeyAdded(id())));

        let removed = Message::signal(ROOT_PATH, OBJECT_MANAGER, "InterfacesRemoved")
            .build(&(object, vec![interfaces::KEY.to_owned()]))
            .unwrap();
        assert_eq!(change_of(&removed), Some(Change::KeyRemoved(id())));

        let decision = Message::signal(ROOT_PATH, interfaces::MANAGER, "Decision")
            .build(&("console", "", "unlock", "fast", false, "UnknownKey", 1i64))
            .unwrap();
        assert_eq!(change_of(&decision), None);
        let args: DecisionArgs = decision.body().deserialize().unwrap();
        assert_eq!(DecisionEvent::from_args(args).map(|e| e.reason), Some(Some("UnknownKey".to_owned())));

        let malformed = Message::signal(ROOT_PATH, PROPERTIES, "PropertiesChanged").build(&(42u32,)).unwrap();
        assert_eq!(change_of(&malformed), None);
    }
}

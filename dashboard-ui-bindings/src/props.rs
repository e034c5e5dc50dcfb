//! Reading one interface's property dictionary (`Properties.GetAll`, or one entry of
//! `ObjectManager.GetManagedObjects`).
//!
//! Reading a whole interface in one call gives a consistent snapshot (the vehicle's lock
//! and immobilizer from the same instant) for one round trip instead of one per property.
//! Properties this client does not know are ignored, so a newer daemon may add some; a
//! missing or mistyped documented property is an [`ClientError::InvalidReply`] naming it.

use std::collections::HashMap;

use zbus::OwnedVariant;

use crate::error::ClientError;

/// One interface's properties, by name.
pub(crate) type PropertyMap = HashMap<String, OwnedVariant>;

/// Typed access to a [`PropertyMap`], with errors that name the interface and property.
pub(crate) struct Props<'a> {
    interface: &'static str,
    map: &'a PropertyMap,
}

impl<'a> Props<'a> {
    pub(crate) fn new(interface: &'static str, map: &'a PropertyMap) -> Self {
        Self { interface, map }
    }

    fn value(&self, name: &str) -> Result<&'a OwnedVariant, ClientError> {
        self.map.get(name).ok_or_else(|| ClientError::InvalidReply(format!("{}.{name} is missing", self.interface)))
    }

    fn mistyped(&self, name: &str, expected: &str) -> ClientError {
        ClientError::InvalidReply(format!("{}.{name} is not of type {expected}", self.interface))
    }

    /// A string property (`s`).
    pub(crate) fn string(&self, name: &str) -> Result<String, ClientError> {
        <&str>::try_from(self.value(name)?).map(str::to_owned).map_err(|_| self.mistyped(name, "s"))
    }

    /// A boolean property (`b`).
    pub(crate) fn bool(&self, name: &str) -> Result<bool, ClientError> {
        bool::try_from(self.value(name)?).map_err(|_| self.mistyped(name, "b"))
    }

    /// A byte property (`y`).
    pub(crate) fn u8(&self, name: &str) -> Result<u8, ClientError> {
        u8::try_from(self.value(name)?).map_err(|_| self.mistyped(name, "y"))
    }

    /// An unsigned 16-bit property (`q`).
    pub(crate) fn u16(&self, name: &str) -> Result<u16, ClientError> {
        u16::try_from(self.value(name)?).map_err(|_| self.mistyped(name, "q"))
    }

    /// An unsigned 32-bit property (`u`).
    pub(crate) fn u32(&self, name: &str) -> Result<u32, ClientError> {
        u32::try_from(self.value(name)?).map_err(|_| self.mistyped(name, "u"))
    }

    /// An unsigned 64-bit property (`t`).
    pub(crate) fn u64(&self, name: &str) -> Result<u64, ClientError> {
        u64::try_from(self.value(name)?).map_err(|_| self.mistyped(name, "t"))
    }

    /// A signed 64-bit property (`x`).
    pub(crate) fn i64(&self, name: &str) -> Result<i64, ClientError> {
        i64::try_from(self.value(name)?).map_err(|_| self.mistyped(name, "x"))
    }
}

/// The API's "0 means none" convention for times and limits, as an `Option`.
pub(crate) fn nonzero_i64(value: i64) -> Option<i64> {
    (value != 0).then_some(value)
}

/// The API's "empty means none" convention for strings, as an `Option`.
pub(crate) fn nonempty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
pub(crate) mod tests {
    use zbus::Variant;

    use super::*;

    /// A property map from literal values, for the conversion tests of other modules.
    pub(crate) fn map(entries: Vec<(&str, Variant<'static>)>) -> PropertyMap {
        entries.into_iter().map(|(k, v)| (k.to_owned(), OwnedVariant::try_from(v).unwrap())).collect()
    }

    #[test]
    fn typed_reads_name_what_is_wrong() {
        let m = map(vec![
            ("Name", Variant::from("console")),
            ("Locked", Variant::from(true)),
            ("Count", Variant::from(7u32)),
            ("When", Variant::from(-5i64)),
        ]);
        let props = Props::new("org.carkey.CarKey1.Test", &m);
        assert_eq!(props.string("Name").unwrap(), "console");
        assert!(props.bool("Locked").unwrap());
        assert_eq!(props.u32("Count").unwrap(), 7);
        assert_eq!(props.i64("When").unwrap(), -5);
        let missing = props.string("Nope").unwrap_err();
        assert_eq!(missing.to_string(), "invalid reply from carkeyd: org.carkey.CarKey1.Test.Nope is missing");
        let mistyped = props.u64("Count").unwrap_err();
        assert!(mistyped.to_string().contains("Count is not of type t"), "{mistyped}");
        assert_eq!(mistyped.name(), "InvalidReply");
    }

    #[test]
    fn zero_and_empty_mean_none() {
        assert_eq!(nonzero_i64(0), None);
        assert_eq!(nonzero_i64(1_700_000_000), Some(1_700_000_000));
        assert_eq!(nonempty(String::new()), None);
        assert_eq!(nonempty("x".into()), Some("x".into()));
    }
}

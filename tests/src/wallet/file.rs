//! The wallet's JSON format and its validation.
//!
//! ```json
//! {
//!   "version": 1,
//!   "keys": [{
//!     "name": "Alice's phone",
//!     "vehicle_group_id": "<32 hex>",
//!     "vehicle_public_key": "<130 hex, 04 ‖ x ‖ y>",
//!     "endpoint_private_key": "<64 hex>",
//!     "endpoint_public_key": "<130 hex, informative; checked against the private key>",
//!     "slot": "<16 hex>",
//!     "signaling": 0,
//!     "private_mailbox": "<hex>",
//!     "confidential_mailbox": "<hex>"
//!   }],
//!   "contexts": [{ "vehicle_group_id": "<32 hex>", "k_persistent": "<64 hex>" }],
//!   "last_serial": 0
//! }
//! ```
//!
//! `contexts` lists the phone's fast-transaction contexts least recently used first, so
//! reloading keeps the eviction order. `last_serial` is the last serial the wallet put in
//! an attestation it signed; it only grows, so serials never repeat (absent in files
//! written before sharing existed: 0). Every field is checked on load, and errors name
//! the key and field but never echo a value (it may be a secret).

use carkey_protocol::crypto::{EcPublicKey, Secret32, SigningKeyPair};
use carkey_protocol::endpoint::{Credential, MAX_CONTEXTS};
use carkey_protocol::mailbox::{ExchangeRequest, MailboxId, MailboxOp, Mailboxes};
use serde::{Deserialize, Serialize};

use super::KeyName;

/// The only format version this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Largest mailbox the file may hold (EXCHANGE addresses mailboxes with 16-bit offsets).
const MAX_MAILBOX_LEN: usize = u16::MAX as usize;

/// The whole file. No `Debug`: it holds private keys.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletFile {
    pub version: u32,
    pub keys: Vec<KeyRecord>,
    #[serde(default)]
    pub contexts: Vec<ContextRecord>,
    #[serde(default)]
    pub last_serial: u64,
}

/// One key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRecord {
    pub name: String,
    pub vehicle_group_id: String,
    pub vehicle_public_key: String,
    pub endpoint_private_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_public_key: Option<String>,
    pub slot: String,
    #[serde(default)]
    pub signaling: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_mailbox: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidential_mailbox: Option<String>,
}

/// One fast-transaction context.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextRecord {
    pub vehicle_group_id: String,
    pub k_persistent: String,
}

/// A validated key: the credential and its wallet-only name.
pub struct ParsedKey {
    pub name: KeyName,
    pub credential: Credential,
}

impl KeyRecord {
    /// The record of a credential.
    pub fn from_credential(name: &KeyName, credential: &Credential) -> Self {
        Self {
            name: name.as_str().to_owned(),
            vehicle_group_id: hex::encode(credential.vehicle_group_id),
            vehicle_public_key: hex::encode(credential.vehicle_public.uncompressed()),
            endpoint_private_key: hex::encode(credential.endpoint_key.private_bytes().expose()),
            endpoint_public_key: Some(hex::encode(credential.endpoint_key.public().uncompressed())),
            slot: hex::encode(credential.key_slot),
            signaling: credential.signaling,
            private_mailbox: Some(hex::encode(credential.mailboxes.get(MailboxId::Private))),
            confidential_mailbox: Some(hex::encode(credential.mailboxes.get(MailboxId::Confidential))),
        }
    }

    /// Validates every field; the error says which one is wrong.
    pub fn parse(&self) -> Result<ParsedKey, String> {
        let name = KeyName::new(&self.name).map_err(|e| format!("name: {e}"))?;
        let vehicle_group_id = hex_array::<16>("vehicle_group_id", &self.vehicle_group_id)?;
        let vehicle_public = public_key("vehicle_public_key", &self.vehicle_public_key)?;
        let private = Secret32::new(hex_array::<32>("endpoint_private_key", &self.endpoint_private_key)?);
        let endpoint_key =
            SigningKeyPair::from_private_bytes(private.expose()).map_err(|e| format!("endpoint_private_key: {e}"))?;
        let stated = self.endpoint_public_key.as_deref().map(|p| public_key("endpoint_public_key", p)).transpose()?;
        if stated.is_some_and(|public| public != *endpoint_key.public()) {
            return Err("endpoint_public_key: does not belong to endpoint_private_key".into());
        }
        let key_slot = hex_array::<8>("slot", &self.slot)?;
        let mut credential = Credential::new(vehicle_group_id, vehicle_public, endpoint_key, key_slot);
        credential.signaling = self.signaling;
        let private_mailbox = mailbox("private_mailbox", self.private_mailbox.as_deref())?;
        let confidential_mailbox = mailbox("confidential_mailbox", self.confidential_mailbox.as_deref())?;
        if private_mailbox.is_some() || confidential_mailbox.is_some() {
            credential.mailboxes = restore_mailboxes(&credential.mailboxes, private_mailbox, confidential_mailbox)?;
        }
        Ok(ParsedKey { name, credential })
    }
}

impl ContextRecord {
    /// The record of one context.
    pub fn new(group_id: &[u8; 16], k_persistent: &Secret32) -> Self {
        Self { vehicle_group_id: hex::encode(group_id), k_persistent: hex::encode(k_persistent.expose()) }
    }

    /// Validates both fields.
    pub fn parse(&self) -> Result<([u8; 16], Secret32), String> {
        let group = hex_array::<16>("vehicle_group_id", &self.vehicle_group_id)?;
        let k = Secret32::new(hex_array::<32>("k_persistent", &self.k_persistent)?);
        Ok((group, k))
    }
}

/// Checks the list of contexts against the keys: known vehicles, no duplicates, at most
/// [`MAX_CONTEXTS`].
pub fn check_contexts(contexts: &[([u8; 16], Secret32)], keys: &[ParsedKey]) -> Result<(), String> {
    if contexts.len() > MAX_CONTEXTS {
        return Err(format!("contexts: {} entries, at most {MAX_CONTEXTS}", contexts.len()));
    }
    for (index, (group, _)) in contexts.iter().enumerate() {
        if !keys.iter().any(|k| &k.credential.vehicle_group_id == group) {
            return Err(format!("context {}: no key for vehicle group {}", index + 1, hex::encode(group)));
        }
        if contexts.iter().take(index).any(|(g, _)| g == group) {
            return Err(format!("context {}: a second context for vehicle group {}", index + 1, hex::encode(group)));
        }
    }
    Ok(())
}

fn hex_array<const N: usize>(field: &str, value: &str) -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    hex::decode_to_slice(value, &mut bytes).map_err(|_| format!("{field}: expected {} hexadecimal digits", N * 2))?;
    Ok(bytes)
}

fn public_key(field: &str, value: &str) -> Result<EcPublicKey, String> {
    let bytes = hex_array::<65>(field, value)?;
    EcPublicKey::from_uncompressed(&bytes).map_err(|e| format!("{field}: {e}"))
}

fn mailbox(field: &str, value: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    let Some(value) = value else { return Ok(None) };
    let bytes = hex::decode(value).map_err(|_| format!("{field}: expected an even number of hexadecimal digits"))?;
    if bytes.len() > MAX_MAILBOX_LEN {
        return Err(format!("{field}: {} bytes, at most {MAX_MAILBOX_LEN}", bytes.len()));
    }
    Ok(Some(bytes))
}

/// Mailboxes with the given contents (an absent one keeps its default, zero-filled).
/// `Mailboxes` has no constructor from contents, so they are written like a vehicle
/// would: with one atomic EXCHANGE request.
fn restore_mailboxes(
    defaults: &Mailboxes,
    private: Option<Vec<u8>>,
    confidential: Option<Vec<u8>>,
) -> Result<Mailboxes, String> {
    let private = private.unwrap_or_else(|| defaults.get(MailboxId::Private).to_vec());
    let confidential = confidential.unwrap_or_else(|| defaults.get(MailboxId::Confidential).to_vec());
    let mut mailboxes = Mailboxes::with_sizes(private.len(), confidential.len());
    let request = ExchangeRequest {
        ops: vec![
            MailboxOp::Write { mailbox: MailboxId::Private, offset: 0, data: private },
            MailboxOp::Write { mailbox: MailboxId::Confidential, offset: 0, data: confidential },
        ],
        atomic: true,
    };
    mailboxes.apply(&request).map_err(|e| format!("mailboxes: {e}"))?;
    Ok(mailboxes)
}

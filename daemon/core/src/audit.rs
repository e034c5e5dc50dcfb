//! The append-only audit log of decisions and key changes.
//!
//! Each entry carries the SHA-256 of its predecessor's hash and its own content, so a
//! removed, reordered or edited entry breaks the chain and [`verify_chain`] says where.
//! The store adds its own guard (it refuses updates and deletes); the chain is what lets a
//! technician check a log copied off the car.

use carkey_protocol::reader::TransactionKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::{KeyId, ReaderName};
use crate::policy::Denial;
use crate::profile::Action;
use crate::time::WallClockReading;

/// Fast or standard, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transaction {
    /// Symmetric only.
    Fast,
    /// Fresh ECDH, both signatures.
    Standard,
}

impl From<TransactionKind> for Transaction {
    fn from(kind: TransactionKind) -> Self {
        match kind {
            TransactionKind::Fast => Self::Fast,
            TransactionKind::Standard => Self::Standard,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum AuditEvent {
    /// The daemon started.
    Started {
        /// carkeyd's version.
        version: String,
    },
    /// A phone authenticated and the vehicle decided.
    Decision {
        /// Which reader.
        reader: ReaderName,
        /// Which key (`None`: the phone proved a key this vehicle does not know).
        key: Option<KeyId>,
        /// What the tap asked for.
        action: Action,
        /// Fast or standard.
        transaction: Transaction,
        /// `None` when allowed.
        denied: Option<Denial>,
    },
    /// A transaction failed before anyone was authenticated.
    TransactionFailed {
        /// Which reader.
        reader: ReaderName,
        /// Why (protocol or radio error; never secret data).
        error: String,
    },
    /// A key was enrolled, renamed, re-profiled, suspended, resumed or revoked.
    KeyChanged {
        /// Which key.
        key: KeyId,
        /// What changed, in words.
        change: String,
    },
    /// A custom access profile was created, replaced or removed.
    ProfileChanged {
        /// Which profile.
        profile: crate::ids::ProfileId,
        /// What changed, in words.
        change: String,
    },
    /// Owner pairing was offered (a code shown on the dashboard, or a backend verifier).
    PairingOffered {
        /// Where the verifier came from.
        source: crate::pairing::PairingSource,
    },
    /// A phone used one pairing attempt (counted before the vehicle answered it).
    PairingAttempt {
        /// Which reader.
        reader: ReaderName,
        /// This attempt's number.
        attempt: u8,
        /// Attempts allowed.
        of: u8,
    },
    /// The pending pairing was withdrawn.
    PairingCancelled,
    /// A friend's phone carried a share attestation the vehicle refused.
    ShareRejected {
        /// Which reader.
        reader: ReaderName,
        /// Why.
        reason: crate::sharing::ShareRejection,
    },
    /// A termination attestation was refused (the key stays as it was).
    TerminationRejected {
        /// Which key carried it, if a phone did (`None`: the backend).
        carrier: Option<KeyId>,
        /// Why.
        reason: crate::sharing::TerminationRejection,
    },
    /// Everything was erased; a new vehicle identity begins here.
    FactoryReset,
    /// An allowed action was recorded but the vehicle did not carry it out.
    VehicleCommandFailed {
        /// Which key.
        key: KeyId,
        /// What was asked.
        action: Action,
        /// The vehicle bus's error.
        error: String,
    },
}

/// One link of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position, from 1.
    pub seq: u64,
    /// When, by the vehicle's clock (and whether that clock was trusted).
    pub at: WallClockReading,
    /// What.
    pub event: AuditEvent,
    /// The previous entry's hash (zero for the first).
    pub prev_hash: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
}

/// The end of the chain: where the next entry attaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditHead {
    /// Last entry's sequence number (0 when empty).
    pub seq: u64,
    /// Last entry's hash (zero when empty).
    pub hash: [u8; 32],
}

impl AuditHead {
    /// Builds the next entry and advances the head to it.
    pub fn append(&mut self, at: WallClockReading, event: AuditEvent) -> AuditEntry {
        let seq = self.seq.saturating_add(1);
        let hash = entry_hash(&self.hash, seq, at, &event);
        let entry = AuditEntry { seq, at, event, prev_hash: self.hash, hash };
        *self = Self { seq, hash };
        entry
    }
}

/// The hash that links an entry: SHA-256 over the previous hash, the sequence number, the
/// time, the trust flag and the event's JSON encoding.
pub fn entry_hash(prev: &[u8; 32], seq: u64, at: WallClockReading, event: &AuditEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"carkey-audit-v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at.time.0.to_be_bytes());
    h.update([u8::from(at.trusted)]);
    // Serializing a plain enum of strings and integers cannot fail.
    h.update(serde_json::to_vec(event).unwrap_or_default());
    h.finalize().into()
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// Sequence numbers are not consecutive.
    #[error("audit entry {found} follows {previous}: entries are missing or reordered")]
    Gap {
        /// The previous entry's number.
        previous: u64,
        /// This entry's number.
        found: u64,
    },
    /// An entry's links do not match its content or its predecessor.
    #[error("audit entry {0} was altered")]
    Altered(u64),
}

/// Checks a contiguous run of entries, starting from `start` (the head before the first).
/// Returns the head after the last.
pub fn verify_chain<'a>(
    start: AuditHead,
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<AuditHead, ChainError> {
    let mut head = start;
    for entry in entries {
        if entry.seq != head.seq.saturating_add(1) {
            return Err(ChainError::Gap { previous: head.seq, found: entry.seq });
        }
        if entry.prev_hash != head.hash || entry.hash != entry_hash(&head.hash, entry.seq, entry.at, &entry.event) {
            return Err(ChainError::Altered(entry.seq));
        }
        head = AuditHead { seq: entry.seq, hash: entry.hash };
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::WallTime;

    fn at(t: i64) -> WallClockReading {
        WallClockReading { time: WallTime(t), trusted: true }
    }

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut head = AuditHead::default();
        (0..n)
            .map(|i| head.append(at(i64::try_from(i).unwrap()), AuditEvent::Started { version: format!("v{i}") }))
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(5);
        let head = verify_chain(AuditHead::default(), &entries).unwrap();
        assert_eq!(head.seq, 5);
        // A suffix verifies from its predecessor's head.
        let mid = AuditHead { seq: entries[1].seq, hash: entries[1].hash };
        assert_eq!(verify_chain(mid, &entries[2..]).unwrap(), head);
    }

    #[test]
    fn removal_reordering_and_edits_are_detected() {
        let mut entries = chain(4);
        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(verify_chain(AuditHead::default(), &removed), Err(ChainError::Gap { previous: 1, found: 3 }));
        entries.swap(1, 2);
        assert!(verify_chain(AuditHead::default(), &entries).is_err());
        let mut edited = chain(4);
        edited[2].event = AuditEvent::Started { version: "forged".into() };
        assert_eq!(verify_chain(AuditHead::default(), &edited), Err(ChainError::Altered(3)));
        let mut retimed = chain(4);
        retimed[3].at.trusted = false;
        assert_eq!(verify_chain(AuditHead::default(), &retimed), Err(ChainError::Altered(4)));
    }
}

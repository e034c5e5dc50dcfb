//! The vehicle's identity as a reader group.

use carkey_protocol::crypto::SigningKeyPair;
use sha2::{Digest, Sha256};

use crate::ids::ReaderName;

/// Who the vehicle is: its long-term signing key and its reader group identifier.
#[derive(Debug, Clone)]
pub struct VehicleIdentity {
    /// Reader group identifier: the first half of every reader's AUTH0 tag 4D; phones
    /// file their key for this vehicle under it.
    pub group_id: [u8; 16],
    /// Signs AUTH1 and anchors every transcript. Zeroized on drop by p256.
    pub key: SigningKeyPair,
}

impl VehicleIdentity {
    /// A new random identity.
    pub fn generate() -> Self {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let mut group_id = [0u8; 16];
        rand_core::Rng::fill_bytes(&mut rng, &mut group_id);
        Self { group_id, key: SigningKeyPair::generate(&mut rng) }
    }

    /// AUTH0 tag 4D for one reader: group id ‖ a sub-id derived from the reader's name, so
    /// that renaming nothing keeps it stable across restarts.
    pub fn reader_id(&self, reader: &ReaderName) -> [u8; 32] {
        let sub: [u8; 32] =
            Sha256::new().chain_update(b"carkey-reader-sub-id").chain_update(reader.as_str()).finalize().into();
        let mut id = [0u8; 32];
        let (group, rest) = id.split_at_mut(16);
        group.copy_from_slice(&self.group_id);
        rest.copy_from_slice(sub.get(..16).unwrap_or(&[0; 16]));
        id
    }
}

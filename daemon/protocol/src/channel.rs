//! The AES-256-GCM secure channel that follows authentication.
//!
//! Each direction has its own key (ExpeditedSKReader / ExpeditedSKDevice) and its own
//! implicit 32-bit message counter, starting at 1. The 12-byte IV is an 8-byte direction
//! prefix (`00…00` reader → endpoint, `00…01` endpoint → reader) followed by the counter,
//! big-endian. Counters are never sent: each side only ever tries the next expected one,
//! so a replayed, reordered, dropped or forged message fails authentication. The first
//! failure closes the channel for good, so an attacker gets one guess per transaction.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::crypto::Secret32;

/// IV prefix for messages the reader sends.
const READER_TO_ENDPOINT: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 0];
/// IV prefix for messages the endpoint sends.
const ENDPOINT_TO_READER: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];

/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;

/// Which side of the channel this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The vehicle.
    Reader,
    /// The phone.
    Endpoint,
}

/// Why a channel operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The message did not authenticate under the next expected counter (forged,
    /// corrupted, replayed, reordered or a message was skipped).
    #[error("secure channel message failed authentication")]
    Authentication,
    /// An earlier failure closed the channel.
    #[error("secure channel is closed after an earlier failure")]
    Closed,
    /// 2³²−1 messages were sent in one direction; the IV would repeat.
    #[error("secure channel counter exhausted")]
    CounterExhausted,
}

/// One direction: a key and the counter of the next message.
struct Direction {
    cipher: Aes256Gcm,
    prefix: [u8; 8],
    next: u32,
}

impl Direction {
    fn new(key: &Secret32, prefix: [u8; 8], first: u32) -> Self {
        Self { cipher: Aes256Gcm::new(key.expose().into()), prefix, next: first }
    }

    fn nonce(&self) -> Nonce<aes_gcm::aead::consts::U12> {
        let mut iv = [0u8; 12];
        let (head, tail) = iv.split_at_mut(8);
        head.copy_from_slice(&self.prefix);
        tail.copy_from_slice(&self.next.to_be_bytes());
        iv.into()
    }

    fn advance(&mut self) -> Result<(), ChannelError> {
        self.next = self.next.checked_add(1).ok_or(ChannelError::CounterExhausted)?;
        Ok(())
    }
}

/// A bidirectional secure channel as seen by one side.
pub struct SecureChannel {
    send: Direction,
    receive: Direction,
    closed: bool,
}

impl SecureChannel {
    /// Builds the channel for `role` with both directions starting at counter 1.
    pub fn new(role: Role, sk_reader: &Secret32, sk_device: &Secret32) -> Self {
        Self::with_counters(role, sk_reader, sk_device, 1, 1)
    }

    /// Builds the channel with explicit first counters (the standard flow has already
    /// used endpoint counter 1 for the AUTH1 response).
    pub fn with_counters(
        role: Role,
        sk_reader: &Secret32,
        sk_device: &Secret32,
        reader_first: u32,
        endpoint_first: u32,
    ) -> Self {
        let reader = Direction::new(sk_reader, READER_TO_ENDPOINT, reader_first);
        let endpoint = Direction::new(sk_device, ENDPOINT_TO_READER, endpoint_first);
        let (send, receive) = match role {
            Role::Reader => (reader, endpoint),
            Role::Endpoint => (endpoint, reader),
        };
        Self { send, receive, closed: false }
    }

    /// Encrypts the next outgoing message: `ciphertext ‖ tag`.
    pub fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, ChannelError> {
        if self.closed {
            return Err(ChannelError::Closed);
        }
        let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
        buffer.extend_from_slice(plaintext);
        let nonce = self.send.nonce();
        // Encryption only fails for messages over 64 GiB.
        if self.send.cipher.encrypt_in_place(&nonce, &[], &mut buffer).is_err() {
            self.closed = true;
            return Err(ChannelError::Closed);
        }
        self.send.advance()?;
        Ok(buffer)
    }

    /// Decrypts the next incoming message, which must carry the next expected counter.
    pub fn open(&mut self, message: &[u8]) -> Result<Vec<u8>, ChannelError> {
        if self.closed {
            return Err(ChannelError::Closed);
        }
        let mut buffer = message.to_vec();
        let nonce = self.receive.nonce();
        if message.len() < TAG_LEN || self.receive.cipher.decrypt_in_place(&nonce, &[], &mut buffer).is_err() {
            self.closed = true;
            return Err(ChannelError::Authentication);
        }
        self.receive.advance()?;
        Ok(buffer)
    }

    /// Whether an earlier failure closed the channel.
    pub const fn is_closed(&self) -> bool {
        self.closed
    }
}

/// One-shot AES-256-GCM with a zero IV: the fast-path cryptogram, whose key is used once.
pub fn seal_zero_iv(key: &Secret32, plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut buffer = plaintext.to_vec();
    let nonce = [0u8; 12].into();
    if cipher.encrypt_in_place(&nonce, &[], &mut buffer).is_err() {
        buffer.clear();
    }
    buffer
}

/// Opens a zero-IV message; `None` when it does not authenticate.
pub fn open_zero_iv(key: &Secret32, message: &[u8]) -> Option<Vec<u8>> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut buffer = message.to_vec();
    let nonce = [0u8; 12].into();
    cipher.decrypt_in_place(&nonce, &[], &mut buffer).ok().map(|()| buffer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn pair() -> (SecureChannel, SecureChannel) {
        let r = Secret32::new([1; 32]);
        let d = Secret32::new([2; 32]);
        (SecureChannel::new(Role::Reader, &r, &d), SecureChannel::new(Role::Endpoint, &r, &d))
    }

    #[test]
    fn messages_flow_both_ways_in_order() {
        let (mut reader, mut endpoint) = pair();
        for i in 0..5u8 {
            let c = reader.seal(&[i; 10]).unwrap();
            assert_eq!(endpoint.open(&c).unwrap(), vec![i; 10]);
            let r = endpoint.seal(&[i + 100; 3]).unwrap();
            assert_eq!(reader.open(&r).unwrap(), vec![i + 100; 3]);
        }
    }

    #[test]
    fn replayed_message_fails_and_closes() {
        let (mut reader, mut endpoint) = pair();
        let c = reader.seal(b"unlock").unwrap();
        endpoint.open(&c).unwrap();
        assert_eq!(endpoint.open(&c), Err(ChannelError::Authentication));
        assert!(endpoint.is_closed());
        let next = reader.seal(b"next").unwrap();
        assert_eq!(endpoint.open(&next), Err(ChannelError::Closed));
    }

    #[test]
    fn skipped_counter_fails() {
        let (mut reader, mut endpoint) = pair();
        let _lost = reader.seal(b"one").unwrap();
        let two = reader.seal(b"two").unwrap();
        assert_eq!(endpoint.open(&two), Err(ChannelError::Authentication));
    }

    #[test]
    fn reordered_messages_fail() {
        let (mut reader, mut endpoint) = pair();
        let one = reader.seal(b"one").unwrap();
        let two = reader.seal(b"two").unwrap();
        assert!(endpoint.open(&two).is_err());
        assert!(endpoint.open(&one).is_err());
    }

    #[test]
    fn reflected_message_fails() {
        // A message sent by the reader must not open as if the endpoint had sent it.
        let (mut reader, _) = pair();
        let c = reader.seal(b"hello").unwrap();
        let (mut reader2, _) = pair();
        assert!(reader2.open(&c).is_err());
    }

    #[test]
    fn counter_exhaustion_is_an_error_not_a_wrap() {
        let r = Secret32::new([1; 32]);
        let d = Secret32::new([2; 32]);
        let mut reader = SecureChannel::with_counters(Role::Reader, &r, &d, u32::MAX, 1);
        assert_eq!(reader.seal(b"x"), Err(ChannelError::CounterExhausted));
    }

    #[test]
    fn iv_layout_matches_the_protocol() {
        // Cross-check against a direct AES-GCM call with IV 00..01 ‖ 00000002.
        let r = Secret32::new([1; 32]);
        let d = Secret32::new([2; 32]);
        let mut endpoint = SecureChannel::with_counters(Role::Endpoint, &r, &d, 1, 2);
        let sealed = endpoint.seal(b"abc").unwrap();
        let cipher = Aes256Gcm::new((&[2u8; 32]).into());
        let mut buf = b"abc".to_vec();
        let iv = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2].into();
        cipher.encrypt_in_place(&iv, &[], &mut buf).unwrap();
        assert_eq!(sealed, buf);
    }

    #[test]
    fn zero_iv_round_trip() {
        let k = Secret32::new([9; 32]);
        let c = seal_zero_iv(&k, &[7; 48]);
        assert_eq!(c.len(), 64);
        assert_eq!(open_zero_iv(&k, &c).unwrap(), vec![7; 48]);
        let mut bad = c.clone();
        bad[0] ^= 1;
        assert!(open_zero_iv(&k, &bad).is_none());
    }
}

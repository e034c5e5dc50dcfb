//! Known-answer tests: published KDF vectors and the committed key-schedule golden vectors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;

use carkey_protocol::channel;
use carkey_protocol::crypto::keys::EphemeralKeyPair;
use carkey_protocol::crypto::{Secret32, SigningKeyPair, hkdf_sha256, x963_kdf_sha256};
use carkey_protocol::messages::{CryptogramPlaintext, SelectResponse, VERSION_1_0};
use carkey_protocol::schedule::{self, FastKeys, FastSearch, Mode, StandardKeys, Transcript};

/// Blocks of `name = hex` lines separated by blank lines; `#` lines are comments.
fn blocks(text: &str) -> Vec<HashMap<String, Vec<u8>>> {
    let mut out = vec![HashMap::new()];
    for line in text.lines() {
        let line = line.trim_end();
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            if !out.last().unwrap().is_empty() {
                out.push(HashMap::new());
            }
            continue;
        }
        let (name, value) = line.split_once('=').expect("name = value");
        let value = value.trim();
        let bytes = if name.trim() == "KeyDataLength" || name.trim() == "L" {
            value.as_bytes().to_vec()
        } else {
            hex::decode(value).expect("hex")
        };
        out.last_mut().unwrap().insert(name.trim().to_owned(), bytes);
    }
    out.retain(|b| !b.is_empty());
    out
}

fn number(bytes: &[u8]) -> usize {
    std::str::from_utf8(bytes).unwrap().parse().unwrap()
}

#[test]
fn x963_kdf_matches_nist_cavs_vectors() {
    let vectors = blocks(include_str!("vectors/x963_sha256.txt"));
    assert_eq!(vectors.len(), 20);
    for v in vectors {
        let mut out = vec![0u8; number(&v["KeyDataLength"]) / 8];
        x963_kdf_sha256(&v["Z"], &v["SharedInfo"], &mut out);
        assert_eq!(out, v["KeyData"]);
    }
}

#[test]
fn hkdf_matches_rfc5869_vectors() {
    let vectors = blocks(include_str!("vectors/rfc5869_sha256.txt"));
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let mut okm = vec![0u8; number(&v["L"])];
        hkdf_sha256(&v["IKM"], &v["salt"], &v["info"], &mut okm);
        assert_eq!(okm, v["OKM"]);
    }
}

struct Golden(HashMap<String, Vec<u8>>);

impl Golden {
    fn load() -> Self {
        let mut all = blocks(include_str!("vectors/key_schedule.txt"));
        assert_eq!(all.len(), 1);
        Self(all.remove(0))
    }

    fn get<const N: usize>(&self, name: &str) -> [u8; N] {
        self.0[name].as_slice().try_into().unwrap_or_else(|_| panic!("{name} is not {N} bytes"))
    }

    fn bytes(&self, name: &str) -> &[u8] {
        &self.0[name]
    }

    fn secret(&self, name: &str) -> Secret32 {
        Secret32::new(self.get(name))
    }
}

/// The transcript the golden vectors were derived from, built with carkey's own types.
fn golden_transcript(g: &Golden) -> (Transcript, SigningKeyPair, EphemeralKeyPair, EphemeralKeyPair) {
    let vehicle = SigningKeyPair::from_private_bytes(&g.get("vehicle_private")).unwrap();
    let endpoint = SigningKeyPair::from_private_bytes(&g.get("endpoint_private")).unwrap();
    let reader_eph = EphemeralKeyPair::from_private_bytes(&g.get("reader_ephemeral_private")).unwrap();
    let endpoint_eph = EphemeralKeyPair::from_private_bytes(&g.get("endpoint_ephemeral_private")).unwrap();
    assert_eq!(endpoint_eph.public().uncompressed()[..], *g.bytes("endpoint_ephemeral_public"));
    let select = SelectResponse::new(&[VERSION_1_0], 2048, 2048);
    assert_eq!(select.proprietary_tlv, g.bytes("select_a5"), "FCI A5 encoding");
    let transcript = Transcript {
        reader_public_x: *vehicle.public().x(),
        reader_id: g.get("reader_id"),
        version: VERSION_1_0,
        reader_ephemeral_x: *reader_eph.public().x(),
        transaction_id: g.get("transaction_id"),
        command_parameters: 0x01,
        authentication_policy: 0x01,
        select_proprietary_tlv: select.proprietary_tlv,
        endpoint_ephemeral_x: *endpoint_eph.public().x(),
        auth0_vendor_extension: Vec::new(),
    };
    (transcript, endpoint, reader_eph, endpoint_eph)
}

#[test]
fn transcript_layout_matches_golden_vectors() {
    let g = Golden::load();
    let (t, endpoint, _, _) = golden_transcript(&g);
    assert_eq!(t.salt(Mode::Volatile, None), g.bytes("salt_volatile"));
    assert_eq!(t.salt(Mode::Persistent, Some(endpoint.public().x())), g.bytes("salt_persistent"));
    assert_eq!(t.salt(Mode::VolatileFast, Some(endpoint.public().x())), g.bytes("salt_fast"));
    assert_eq!(t.info(), g.bytes("info"));
}

#[test]
fn standard_key_split_matches_golden_vectors() {
    let g = Golden::load();
    let (t, endpoint, mut reader_eph, mut endpoint_eph) = golden_transcript(&g);
    let (reader_public, endpoint_public) = (reader_eph.public().clone(), endpoint_eph.public().clone());
    let z = reader_eph.diffie_hellman(&endpoint_public).unwrap();
    assert_eq!(z, g.secret("z"));
    assert_eq!(endpoint_eph.diffie_hellman(&reader_public).unwrap(), z);
    let k_dh = schedule::derive_k_dh(&z, &t.transaction_id);
    assert_eq!(k_dh, g.secret("k_dh"));
    let keys = StandardKeys::derive(&k_dh, &t);
    assert_eq!(keys.sk_reader, g.secret("expedited_sk_reader"));
    assert_eq!(keys.sk_device, g.secret("expedited_sk_device"));
    assert_eq!(keys.step_up_material, g.secret("step_up_material"));
    assert_eq!(keys.ble_material, g.secret("ble_material"));
    assert_eq!(keys.ursk, g.secret("ursk"));
    assert_eq!(keys.step_up_keys(), (g.secret("step_up_sk_reader"), g.secret("step_up_sk_device")));
    assert_eq!(schedule::ble_keys(&keys.ble_material), (g.secret("ble_sk_reader"), g.secret("ble_sk_device")));
    assert_eq!(schedule::derive_k_persistent(&k_dh, &t, endpoint.public().x()), g.secret("k_persistent"));
}

#[test]
fn fast_key_split_and_cryptogram_match_golden_vectors() {
    let g = Golden::load();
    let (t, endpoint, _, _) = golden_transcript(&g);
    let k_persistent = g.secret("k_persistent");
    let keys = FastKeys::derive(&k_persistent, &t, endpoint.public().x());
    assert_eq!(keys.cryptogram_sk, g.secret("fast_cryptogram_sk"));
    assert_eq!(keys.sk_reader, g.secret("fast_sk_reader"));
    assert_eq!(keys.sk_device, g.secret("fast_sk_device"));
    assert_eq!(keys.ble_material, g.secret("fast_ble_material"));
    assert_eq!(keys.ursk, g.secret("fast_ursk"));

    // The shortcut used by the reader's search gives the same CryptogramSK.
    let search = FastSearch::new(&t);
    assert_eq!(search.cryptogram_key(&k_persistent, endpoint.public().x()), keys.cryptogram_sk);

    let plaintext =
        CryptogramPlaintext { signaling: 0x0018, credential_timestamp: [0; 20], revocation_timestamp: [0; 20] };
    assert_eq!(plaintext.encode(), g.bytes("cryptogram_plaintext"));
    assert_eq!(channel::seal_zero_iv(&keys.cryptogram_sk, &plaintext.encode()), g.bytes("cryptogram"));
    assert_eq!(channel::open_zero_iv(&keys.cryptogram_sk, g.bytes("cryptogram")).unwrap(), plaintext.encode());
}

#[test]
fn fast_search_shortcut_equals_full_derivation_for_many_keys() {
    let g = Golden::load();
    let (t, _, _, _) = golden_transcript(&g);
    let search = FastSearch::new(&t);
    for i in 0..32u8 {
        let k = Secret32::new([i; 32]);
        let x = [i.wrapping_mul(7); 32];
        assert_eq!(search.cryptogram_key(&k, &x), FastKeys::derive(&k, &t, &x).cryptogram_sk);
    }
}

#[test]
fn cryptogram_does_not_open_under_another_vehicles_transcript() {
    let g = Golden::load();
    let (t, endpoint, _, _) = golden_transcript(&g);
    let mut other = t.clone();
    other.reader_public_x[0] ^= 1;
    let search = FastSearch::new(&other);
    let key = search.cryptogram_key(&g.secret("k_persistent"), endpoint.public().x());
    assert!(channel::open_zero_iv(&key, g.bytes("cryptogram")).is_none());
}

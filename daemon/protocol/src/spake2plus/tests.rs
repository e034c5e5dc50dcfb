//! Unit tests of the internals against RFC 9383: the constants, `Z` and `V`, reduction.
//! The public API's tests, every vector value included, are in
//! `tests/spake2plus_vectors.rs`.

use std::collections::HashMap;

use p256::elliptic_curve::{Field, Group};
use p256::{ProjectivePoint, Scalar};

use super::group::{self, M_COMPRESSED, N_COMPRESSED};
use super::*;

const VECTORS: &str = include_str!("../../tests/vectors/spake2plus_rfc9383.txt");

/// `name = value` lines: quoted values are strings, the rest hex.
fn vector() -> HashMap<String, Vec<u8>> {
    VECTORS
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (name, value) = line.split_once(" = ").unwrap();
            let bytes = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(text) => text.as_bytes().to_vec(),
                None => hex::decode(value).unwrap(),
            };
            (name.to_owned(), bytes)
        })
        .collect()
}

fn array<const N: usize>(v: &HashMap<String, Vec<u8>>, name: &str) -> [u8; N] {
    v[name].as_slice().try_into().unwrap()
}

#[test]
fn m_and_n_are_the_rfc_points() {
    let v = vector();
    assert_eq!(M_COMPRESSED.as_slice(), v["M"].as_slice());
    assert_eq!(N_COMPRESSED.as_slice(), v["N"].as_slice());
    let constants = group::constants().unwrap();
    // The uncompressed encodings are the ones inside the vector's TT (fields 4 and 5).
    let tt = &v["TT"];
    let mut offset = 0;
    let mut fields = Vec::new();
    while offset < tt.len() {
        let len = u64::from_le_bytes(tt[offset..offset + 8].try_into().unwrap()) as usize;
        fields.push(&tt[offset + 8..offset + 8 + len]);
        offset += 8 + len;
    }
    assert_eq!(fields.len(), 10);
    assert_eq!(fields[3], constants.m_bytes.as_slice());
    assert_eq!(fields[4], constants.n_bytes.as_slice());
    assert_eq!(group::encode(&constants.m).unwrap(), constants.m_bytes);
    assert!(!bool::from(constants.m.is_identity()) && !bool::from(constants.n.is_identity()));
}

#[test]
fn z_and_v_match_the_vector_on_both_sides() {
    let v = vector();
    let registration = Registration::from_scalars(&array(&v, "w0"), &array(&v, "w1")).unwrap();
    let verifier = registration.verifier();
    let x = group::nonzero_scalar(&array(&v, "x")).unwrap();
    let y = group::nonzero_scalar(&array(&v, "y")).unwrap();
    let share_p = group::decode_share(&v["shareP"]).unwrap();
    let share_v = group::decode_share(&v["shareV"]).unwrap();

    // Verifier: Z = y·(X - w0·M), V = y·L.
    let unmasked_x = verifier.unmask_share_p(&v["shareP"]).unwrap();
    assert_eq!(unmasked_x, share_p - verifier.w0_m);
    assert_eq!(group::encode(&(unmasked_x * y)).unwrap().as_slice(), v["Z"].as_slice());
    assert_eq!(group::encode(&(verifier.l * y)).unwrap().as_slice(), v["V"].as_slice());

    // Prover: Z = x·(Y - w0·N), V = w1·(Y - w0·N).
    let unmasked_y = share_v - registration.w0_n;
    assert_eq!(group::encode(&(unmasked_y * x)).unwrap().as_slice(), v["Z"].as_slice());
    assert_eq!(group::encode(&(unmasked_y * registration.w1)).unwrap().as_slice(), v["V"].as_slice());
}

#[test]
fn pbkdf_halves_reduce_modulo_the_order() {
    // 2^256 mod n, computed without the wide reduction under test: (2^64)^4.
    let two_64 = Scalar::from(u64::MAX) + Scalar::ONE;
    let two_256 = two_64 * two_64 * two_64 * two_64;
    for seed in [0x00u8, 0x01, 0x5A, 0xA5, 0xFE, 0xFF] {
        let mut half = [0u8; PBKDF_HALF_LEN];
        for (i, b) in half.iter_mut().enumerate() {
            *b = seed.wrapping_mul(31).wrapping_add(i as u8).wrapping_mul(seed | 1);
        }
        half[0] = seed; // exercise the top bytes, all-ones included
        if seed == 0xFF {
            half = [0xFF; PBKDF_HALF_LEN];
        }
        let high = Scalar::from(u64::from_be_bytes(half[..8].try_into().unwrap()));
        let low_bytes = p256::FieldBytes::from(<[u8; 32]>::try_from(&half[8..]).unwrap());
        let low = <Scalar as p256::elliptic_curve::ops::Reduce<p256::FieldBytes>>::reduce(&low_bytes);
        let expected = high * two_256 + low;
        match group::reduce_pbkdf_half(&half) {
            Ok(reduced) => assert_eq!(reduced, expected, "seed {seed:#04x}"),
            Err(e) => assert!(bool::from(expected.is_zero()), "{e:?} for seed {seed:#04x}"),
        }
    }
    // A half that is a multiple of n reduces to zero and is refused.
    let mut n = [0u8; PBKDF_HALF_LEN];
    n[8..].copy_from_slice(&hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap());
    assert_eq!(group::reduce_pbkdf_half(&n).unwrap_err(), Spake2PlusError::InvalidScalar);
    assert_eq!(group::reduce_pbkdf_half(&[0; PBKDF_HALF_LEN]).unwrap_err(), Spake2PlusError::InvalidScalar);
    // The vector's w0 behind eight zero bytes reduces to itself.
    let v = vector();
    let mut w0s = [0u8; PBKDF_HALF_LEN];
    w0s[8..].copy_from_slice(&v["w0"]);
    assert_eq!(group::reduce_pbkdf_half(&w0s).unwrap(), group::nonzero_scalar(&array(&v, "w0")).unwrap());
}

#[test]
fn scalars_must_be_canonical_and_nonzero() {
    let n = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap();
    let n: [u8; 32] = n.try_into().unwrap();
    assert_eq!(group::nonzero_scalar(&n).unwrap_err(), Spake2PlusError::InvalidScalar);
    assert_eq!(group::nonzero_scalar(&[0; 32]).unwrap_err(), Spake2PlusError::InvalidScalar);
    assert_eq!(group::nonzero_scalar(&[0xFF; 32]).unwrap_err(), Spake2PlusError::InvalidScalar);
    let mut n_minus_1 = n;
    n_minus_1[31] -= 1;
    assert!(group::nonzero_scalar(&n_minus_1).is_ok());
}

#[test]
fn a_share_equal_to_the_mask_is_refused() {
    let v = vector();
    let registration = Registration::from_scalars(&array(&v, "w0"), &array(&v, "w1")).unwrap();
    let verifier = registration.verifier();
    // X = w0·M makes X - w0·M the identity: Z would be the identity.
    let mask_m = group::encode(&registration.w0_m).unwrap();
    let err = verifier.respond_with_scalar(b"", b"", b"", &mask_m, &array(&v, "y")).unwrap_err();
    assert_eq!(err, Spake2PlusError::InvalidShare);
    // Y = w0·N does the same to the prover.
    let (prover, _) = Prover::start_with_scalar(&registration, b"", b"", b"", &array(&v, "x")).unwrap();
    let mask_n = group::encode(&registration.w0_n).unwrap();
    assert_eq!(prover.finish(&mask_n, &[0; 32]).unwrap_err(), Spake2PlusError::InvalidShare);
}

#[test]
fn the_identity_has_no_share_encoding() {
    assert!(group::encode(&ProjectivePoint::IDENTITY).is_none());
    assert_eq!(group::decode_share(&[0x00]).unwrap_err(), Spake2PlusError::InvalidShare);
}

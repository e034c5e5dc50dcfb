//! SPAKE2+ (RFC 9383, P256-SHA256-HKDF-SHA256-HMAC-SHA256) through the public API: every
//! value of the RFC's Appendix C vector, round trips, wrong passwords, invalid shares and
//! tampered confirmations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::HashMap;

use carkey_protocol::crypto::Secret32;
use carkey_protocol::spake2plus::{
    KeySchedule, PBKDF_HALF_LEN, Prover, Registration, SHARE_LEN, Spake2PlusError, Transcript, VERIFIER_LEN, Verifier,
};
use p256::elliptic_curve::PrimeField;
use p256::elliptic_curve::sec1::{FromSec1Point, ToSec1Point};
use p256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};
use proptest::prelude::*;

const VECTORS: &str = include_str!("vectors/spake2plus_rfc9383.txt");

/// The vector file: `name = value` lines, quoted values are strings, the rest hex.
fn vector() -> HashMap<String, Vec<u8>> {
    let mut out = HashMap::new();
    for line in VECTORS.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let (name, value) = line.split_once(" = ").expect("name = value");
        let bytes = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(text) => text.as_bytes().to_vec(),
            None => hex::decode(value).expect("hex"),
        };
        assert!(out.insert(name.to_owned(), bytes).is_none(), "{name} twice");
    }
    out
}

fn array<const N: usize>(v: &HashMap<String, Vec<u8>>, name: &str) -> [u8; N] {
    v[name].as_slice().try_into().unwrap_or_else(|_| panic!("{name} is not {N} bytes"))
}

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

fn random_registration() -> Registration {
    Registration::from_pbkdf_output(&random::<80>()).unwrap()
}

const CONTEXT: &[u8] = b"carkey owner pairing test";
const PHONE: &[u8] = b"phone";
const VEHICLE: &[u8] = b"vehicle";

/// The RFC vector through both roles, with the verifier loaded from its stored bytes.
fn run_vector(registration: &Registration, verifier: &Verifier) {
    let v = vector();
    let (context, id_p, id_v) = (&v["Context"][..], &v["idProver"][..], &v["idVerifier"][..]);
    assert_eq!(verifier.l().as_slice(), v["L"].as_slice(), "L = w1*P");

    let (prover, share_p) = Prover::start_with_scalar(registration, context, id_p, id_v, &array(&v, "x")).unwrap();
    assert_eq!(share_p.as_slice(), v["shareP"].as_slice(), "shareP = x*P + w0*M");

    let (session, share_v, confirm_v) =
        verifier.respond_with_scalar(context, id_p, id_v, &share_p, &array(&v, "y")).unwrap();
    assert_eq!(share_v.as_slice(), v["shareV"].as_slice(), "shareV = y*P + w0*N");
    assert_eq!(confirm_v.as_slice(), v["HMAC(K_confirmV, shareP)"].as_slice(), "confirmV");

    let (confirm_p, prover_key) = prover.finish(&share_v, &confirm_v).unwrap();
    assert_eq!(confirm_p.as_slice(), v["HMAC(K_confirmP, shareV)"].as_slice(), "confirmP");
    assert_eq!(prover_key.expose().as_slice(), v["K_shared"].as_slice(), "prover's K_shared");

    let verifier_key = session.finish(&confirm_p).unwrap();
    assert_eq!(verifier_key.expose().as_slice(), v["K_shared"].as_slice(), "verifier's K_shared");
}

#[test]
fn rfc9383_vector_through_both_roles() {
    let v = vector();
    let registration = Registration::from_scalars(&array(&v, "w0"), &array(&v, "w1")).unwrap();
    run_vector(&registration, &registration.verifier());
    // The vehicle's stored record: w0 ‖ L, parsed back.
    let stored = registration.verifier().to_bytes();
    assert_eq!(&stored[..32], v["w0"].as_slice());
    assert_eq!(&stored[32..], v["L"].as_slice());
    run_vector(&registration, &Verifier::from_bytes(&*stored).unwrap());
}

#[test]
fn rfc9383_vector_from_pbkdf_halves() {
    // w0s and w1s of 40 bytes whose reduction modulo n is the vector's w0 and w1: the
    // scalar behind eight zero bytes, and the scalar plus n (which needs the reduction).
    let v = vector();
    let n = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap();
    let mut w0s = [0u8; PBKDF_HALF_LEN];
    w0s[8..].copy_from_slice(&v["w0"]);
    let mut w1s = [0u8; PBKDF_HALF_LEN];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let sum = u16::from(v["w1"][i]) + u16::from(n[i]) + carry;
        w1s[8 + i] = sum as u8;
        carry = sum >> 8;
    }
    w1s[7] = carry as u8;
    let registration = Registration::from_w0s_w1s(&w0s, &w1s).unwrap();
    run_vector(&registration, &registration.verifier());
    let mut output = [0u8; 80];
    output[..40].copy_from_slice(&w0s);
    output[40..].copy_from_slice(&w1s);
    let registration = Registration::from_pbkdf_output(&output).unwrap();
    run_vector(&registration, &registration.verifier());
}

#[test]
fn rfc9383_transcript_and_key_schedule() {
    let v = vector();
    let transcript = Transcript {
        context: &v["Context"],
        id_prover: &v["idProver"],
        id_verifier: &v["idVerifier"],
        share_p: &v["shareP"],
        share_v: &v["shareV"],
        z: &v["Z"],
        v: &v["V"],
        w0: &v["w0"],
    };
    let tt = transcript.to_bytes().unwrap();
    assert_eq!(tt.as_slice(), v["TT"].as_slice(), "TT");

    let keys = KeySchedule::from_transcript(&tt);
    assert_eq!(keys.k_main(), &Secret32::new(array(&v, "K_main")), "K_main");
    assert_eq!(keys.k_confirm_p(), &Secret32::new(array(&v, "K_confirmP")), "K_confirmP");
    assert_eq!(keys.k_confirm_v(), &Secret32::new(array(&v, "K_confirmV")), "K_confirmV");
    assert_eq!(keys.confirm_p(&v["shareV"]).as_slice(), v["HMAC(K_confirmP, shareV)"].as_slice());
    assert_eq!(keys.confirm_v(&v["shareP"]).as_slice(), v["HMAC(K_confirmV, shareP)"].as_slice());
    assert_eq!(keys.k_shared(), &Secret32::new(array(&v, "K_shared")), "K_shared");
}

#[test]
fn random_round_trips_agree() {
    for _ in 0..16 {
        let registration = random_registration();
        let stored = registration.verifier().to_bytes();
        let verifier = Verifier::from_bytes(&*stored).unwrap();
        let (prover, share_p) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
        let (session, share_v, confirm_v) = verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng()).unwrap();
        let (confirm_p, phone_key) = prover.finish(&share_v, &confirm_v).unwrap();
        let vehicle_key = session.finish(&confirm_p).unwrap();
        assert_eq!(phone_key, vehicle_key);
    }
    // Fresh randomness each time: two runs with one registration share nothing.
    let registration = random_registration();
    let (_, a) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
    let (_, b) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
    assert_ne!(a, b);
}

/// What a prover holding `registration` would send as confirmP after `x` and `share_v`,
/// computed with p256 directly: a wrong-password prover that ignores the bad confirmV.
fn forged_confirm_p(registration_w: (&[u8; 32], &[u8; 32]), x: &[u8; 32], share_p: &[u8], share_v: &[u8]) -> [u8; 32] {
    let scalar = |b: &[u8; 32]| Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(*b))).unwrap();
    let (w0, w1, x) = (scalar(registration_w.0), scalar(registration_w.1), scalar(x));
    let n = ProjectivePoint::from(
        AffinePoint::from_sec1_bytes(
            &hex::decode("03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49").unwrap(),
        )
        .unwrap(),
    );
    let y = ProjectivePoint::from(AffinePoint::from_sec1_bytes(share_v).unwrap());
    let unmasked = y - n * w0;
    let encode = |p: ProjectivePoint| p.to_affine().to_sec1_point(false).as_bytes().to_vec();
    let (z, v) = (encode(unmasked * x), encode(unmasked * w1));
    let w0_bytes = registration_w.0.to_vec();
    let tt = Transcript {
        context: CONTEXT,
        id_prover: PHONE,
        id_verifier: VEHICLE,
        share_p,
        share_v,
        z: &z,
        v: &v,
        w0: &w0_bytes,
    }
    .to_bytes()
    .unwrap();
    KeySchedule::from_transcript(&tt).confirm_p(share_v)
}

#[test]
fn wrong_password_fails_confirmation_on_both_sides() {
    let v = vector();
    let (w0, w1) = (array::<32>(&v, "w0"), array::<32>(&v, "w1"));
    let right = Registration::from_scalars(&w0, &w1).unwrap();
    let mut wrong_w0 = w0;
    wrong_w0[31] ^= 1; // one bit of w0 off
    let wrong = Registration::from_scalars(&wrong_w0, &w1).unwrap();
    let verifier = right.verifier();
    let x = array::<32>(&v, "x");

    // The prover with the wrong password refuses the verifier's confirmV.
    let (prover, share_p) = Prover::start_with_scalar(&wrong, CONTEXT, PHONE, VEHICLE, &x).unwrap();
    let (session, share_v, confirm_v) = verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng()).unwrap();
    assert_eq!(prover.finish(&share_v, &confirm_v).unwrap_err(), Spake2PlusError::BadConfirmation);

    // A prover that sends its confirmP anyway is refused by the verifier.
    let forged = forged_confirm_p((&wrong_w0, &w1), &x, &share_p, &share_v);
    assert_eq!(session.finish(&forged).unwrap_err(), Spake2PlusError::BadConfirmation);

    // The same forging with the right password is accepted: the forger is faithful.
    let (_, share_p) = Prover::start_with_scalar(&right, CONTEXT, PHONE, VEHICLE, &x).unwrap();
    let (session, share_v, _) = verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng()).unwrap();
    session.finish(&forged_confirm_p((&w0, &w1), &x, &share_p, &share_v)).unwrap();

    // w1 wrong (w0 right) fails too: V differs.
    let mut wrong_w1 = w1;
    wrong_w1[0] ^= 0x40;
    let wrong = Registration::from_scalars(&w0, &wrong_w1).unwrap();
    let (prover, share_p) = Prover::start(&wrong, CONTEXT, PHONE, VEHICLE, &mut rng());
    let (_, share_v, confirm_v) = verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng()).unwrap();
    assert_eq!(prover.finish(&share_v, &confirm_v).unwrap_err(), Spake2PlusError::BadConfirmation);
}

#[test]
fn different_context_or_identities_fail_confirmation() {
    let registration = random_registration();
    let verifier = registration.verifier();
    for (context, phone, vehicle) in [
        (b"other context".as_slice(), PHONE, VEHICLE),
        (CONTEXT, b"phone2".as_slice(), VEHICLE),
        (CONTEXT, PHONE, b"".as_slice()),
    ] {
        let (prover, share_p) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
        let (_, share_v, confirm_v) = verifier.respond(context, phone, vehicle, &share_p, &mut rng()).unwrap();
        assert_eq!(prover.finish(&share_v, &confirm_v).unwrap_err(), Spake2PlusError::BadConfirmation);
    }
}

/// Shares that are not acceptable, each with what is wrong with it.
fn invalid_shares(valid: &[u8; SHARE_LEN]) -> Vec<(&'static str, Vec<u8>)> {
    let point = AffinePoint::from_sec1_bytes(valid).unwrap();
    let compressed = point.to_sec1_point(true).as_bytes().to_vec();
    assert_eq!(compressed.len(), 33);
    let mut off_curve = valid.to_vec();
    off_curve[64] ^= 1;
    let mut hybrid = valid.to_vec();
    hybrid[0] = 0x06 | (valid[64] & 1);
    let mut x_too_big = vec![0x04];
    x_too_big.extend_from_slice(&[0xFF; 64]);
    let mut compressed_padded = compressed.clone();
    compressed_padded.resize(SHARE_LEN, 0);
    vec![
        ("identity (SEC1 00)", vec![0x00]),
        ("all zeros", vec![0; SHARE_LEN]),
        ("04 and zeros", {
            let mut z = vec![0u8; SHARE_LEN];
            z[0] = 0x04;
            z
        }),
        ("off curve", off_curve),
        ("compressed", compressed),
        ("compressed, padded to 65 bytes", compressed_padded),
        ("hybrid tag", hybrid),
        ("coordinates above p", x_too_big),
        ("64 bytes", valid[..64].to_vec()),
        ("66 bytes", [valid.as_slice(), &[0]].concat()),
        ("empty", Vec::new()),
    ]
}

#[test]
fn invalid_shares_are_refused_by_both_sides() {
    let registration = random_registration();
    let verifier = registration.verifier();
    let (_, valid_p) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
    for (what, share) in invalid_shares(&valid_p) {
        let err = verifier.respond(CONTEXT, PHONE, VEHICLE, &share, &mut rng()).unwrap_err();
        assert_eq!(err, Spake2PlusError::InvalidShare, "verifier accepted shareP: {what}");
    }
    let (prover, share_p) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
    let (_, valid_v, confirm_v) = verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng()).unwrap();
    for (what, share) in invalid_shares(&valid_v) {
        let prover = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng()).0;
        assert_eq!(prover.finish(&share, &confirm_v).unwrap_err(), Spake2PlusError::InvalidShare, "prover: {what}");
    }
    prover.finish(&valid_v, &confirm_v).unwrap();
}

#[test]
fn tampered_confirmations_are_refused() {
    let registration = random_registration();
    let verifier = registration.verifier();
    let run = || {
        let (prover, share_p) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
        let (session, share_v, confirm_v) = verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng()).unwrap();
        (prover, session, share_v, confirm_v)
    };
    for bit in [0usize, 7, 100, 255] {
        // confirmV with one bit flipped: the prover refuses and sends nothing.
        let (prover, _, share_v, mut confirm_v) = run();
        confirm_v[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(prover.finish(&share_v, &confirm_v).unwrap_err(), Spake2PlusError::BadConfirmation);
        // confirmP with one bit flipped: the verifier refuses.
        let (prover, session, share_v, confirm_v) = run();
        let (mut confirm_p, _) = prover.finish(&share_v, &confirm_v).unwrap();
        confirm_p[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(session.finish(&confirm_p).unwrap_err(), Spake2PlusError::BadConfirmation);
    }
    // Truncated, extended, empty, and another session's confirmations.
    let (prover, session, share_v, confirm_v) = run();
    let (confirm_p, _) = prover.finish(&share_v, &confirm_v).unwrap();
    let resize = |tag: &[u8], len: usize| {
        let mut t = tag.to_vec();
        t.resize(len, 0);
        t
    };
    for len in [31, 33, 64, 0] {
        assert_eq!(run().1.finish(&resize(&confirm_p, len)).unwrap_err(), Spake2PlusError::BadConfirmation);
        let (prover, _, share_v, confirm_v) = run();
        let err = prover.finish(&share_v, &resize(&confirm_v, len)).unwrap_err();
        assert_eq!(err, Spake2PlusError::BadConfirmation, "confirmV of {len} bytes");
    }
    let (_, other_session, _, _) = run();
    assert_eq!(other_session.finish(&confirm_p).unwrap_err(), Spake2PlusError::BadConfirmation);
    session.finish(&confirm_p).unwrap();
}

#[test]
fn verifier_records_are_validated() {
    let registration = random_registration();
    let good = *registration.verifier().to_bytes();
    let parsed = Verifier::from_bytes(&good).unwrap();
    assert_eq!(*parsed.to_bytes(), good);
    assert_eq!(parsed.l(), registration.verifier().l());

    let n = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap();
    let with = |f: &dyn Fn(&mut [u8; VERIFIER_LEN])| {
        let mut b = good;
        f(&mut b);
        b
    };
    let bad: Vec<Vec<u8>> = vec![
        good[..VERIFIER_LEN - 1].to_vec(),
        [good.as_slice(), &[0]].concat(),
        with(&|b| b[..32].fill(0)).to_vec(),
        with(&|b| b[..32].copy_from_slice(&n)).to_vec(),
        with(&|b| b[..32].fill(0xFF)).to_vec(),
        with(&|b| b[96] ^= 1).to_vec(),
        with(&|b| b[32] = 0x02).to_vec(),
        with(&|b| b[32..].fill(0)).to_vec(),
    ];
    for bytes in bad {
        assert_eq!(Verifier::from_bytes(&bytes).unwrap_err(), Spake2PlusError::InvalidVerifier);
    }
}

#[test]
fn scalars_are_validated() {
    let v = vector();
    let (w0, w1) = (array::<32>(&v, "w0"), array::<32>(&v, "w1"));
    let n: [u8; 32] =
        hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap().try_into().unwrap();
    assert_eq!(Registration::from_scalars(&[0; 32], &w1).unwrap_err(), Spake2PlusError::InvalidScalar);
    assert_eq!(Registration::from_scalars(&w0, &n).unwrap_err(), Spake2PlusError::InvalidScalar);
    assert_eq!(
        Registration::from_w0s_w1s(&[0; PBKDF_HALF_LEN], &[1; PBKDF_HALF_LEN]).unwrap_err(),
        Spake2PlusError::InvalidScalar
    );
    let registration = Registration::from_scalars(&w0, &w1).unwrap();
    assert_eq!(
        Prover::start_with_scalar(&registration, b"", b"", b"", &[0; 32]).unwrap_err(),
        Spake2PlusError::InvalidScalar
    );
    let (_, share_p) = Prover::start_with_scalar(&registration, b"", b"", b"", &array(&v, "x")).unwrap();
    assert_eq!(
        registration.verifier().respond_with_scalar(b"", b"", b"", &share_p, &n).unwrap_err(),
        Spake2PlusError::InvalidScalar
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let registration = random_registration();
    let verifier = registration.verifier();
    let (prover, share_p) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
    let (session, _, _) = verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng()).unwrap();
    assert_eq!(format!("{registration:?}"), "Registration(..)");
    assert_eq!(format!("{verifier:?}"), "Verifier { .. }");
    assert_eq!(format!("{session:?}"), "VerifierSession(..)");
    let w0_hex = hex::encode(&verifier.to_bytes()[..32]);
    assert!(!format!("{prover:?}").contains(&w0_hex[..16]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary bytes in every received field never panic, and never authenticate.
    #[test]
    fn arbitrary_input_never_panics(share in proptest::collection::vec(any::<u8>(), 0..80),
                                    confirm in proptest::collection::vec(any::<u8>(), 0..40),
                                    record in proptest::collection::vec(any::<u8>(), 0..100),
                                    tag_04 in any::<bool>()) {
        let mut share = share;
        if tag_04 && !share.is_empty() {
            share[0] = 0x04;
        }
        let registration = Registration::from_pbkdf_output(&[7; 80]).unwrap();
        let verifier = registration.verifier();
        let _ = Verifier::from_bytes(&record);
        let _ = verifier.respond(CONTEXT, PHONE, VEHICLE, &share, &mut rng());
        let (prover, share_p) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng());
        prop_assert!(prover.finish(&share, &confirm).is_err());
        let (session, _, _) = verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng()).unwrap();
        prop_assert!(session.finish(&confirm).is_err());
    }
}

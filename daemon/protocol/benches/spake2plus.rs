#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]
//! SPAKE2+ (RFC 9383, P256-SHA256-HKDF-SHA256-HMAC-SHA256) cost on each side of owner
//! pairing.
//!
//! Benchmark ids:
//!
//! * `spake2plus/verifier/respond_finish`: the vehicle's whole exchange with a loaded record:
//!   `Verifier::respond` (validate shareP, draw y, shareV, Z, V, transcript, key schedule,
//!   confirmV) plus `VerifierSession::finish` (check confirmP). The phone's calls run in
//!   the same iteration, untimed (`iter_custom` adds up only the vehicle's intervals).
//! * `spake2plus/verifier/load_record`: `Verifier::from_bytes` of the stored 97-byte record
//!   (checks w0 and L, precomputes w0·M and w0·N), once per pairing session.
//! * `spake2plus/prover/start_finish`: the phone's whole exchange, `Prover::start` plus
//!   `Prover::finish` (check confirmV, confirmP), with the vehicle untimed.
//! * `spake2plus/prover/registration`: `Registration::from_pbkdf_output` (reduction, w1·P,
//!   w0·M, w0·N), excluding the password hash itself.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

use carkey_protocol::spake2plus::{Prover, Registration, Verifier};

const CONTEXT: &[u8] = b"carkey owner pairing v1";
const PHONE: &[u8] = b"phone";
const VEHICLE: &[u8] = b"vehicle";

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn registration() -> Registration {
    let mut output = [0u8; 80];
    getrandom::fill(&mut output).unwrap();
    Registration::from_pbkdf_output(&output).unwrap()
}

fn verifier_side(c: &mut Criterion) {
    let registration = registration();
    let stored = registration.verifier().to_bytes();
    let verifier = Verifier::from_bytes(&*stored).unwrap();
    let mut group = c.benchmark_group("spake2plus/verifier");
    group.bench_function("respond_finish", |b| {
        b.iter_custom(|iters| {
            let mut rng = rng();
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (prover, share_p) = Prover::start(&registration, CONTEXT, PHONE, VEHICLE, &mut rng);
                let start = Instant::now();
                let (session, share_v, confirm_v) =
                    verifier.respond(CONTEXT, PHONE, VEHICLE, black_box(&share_p), &mut rng).unwrap();
                total += start.elapsed();
                let (confirm_p, phone_key) = prover.finish(&share_v, &confirm_v).unwrap();
                let start = Instant::now();
                let vehicle_key = session.finish(black_box(&confirm_p)).unwrap();
                total += start.elapsed();
                assert_eq!(phone_key, vehicle_key);
            }
            total
        });
    });
    group.bench_function("load_record", |b| b.iter(|| Verifier::from_bytes(black_box(&*stored)).unwrap()));
    group.finish();
}

fn prover_side(c: &mut Criterion) {
    let registration = registration();
    let verifier = registration.verifier();
    let mut group = c.benchmark_group("spake2plus/prover");
    group.bench_function("start_finish", |b| {
        b.iter_custom(|iters| {
            let mut rng = rng();
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let (prover, share_p) = Prover::start(black_box(&registration), CONTEXT, PHONE, VEHICLE, &mut rng);
                total += start.elapsed();
                let (session, share_v, confirm_v) =
                    verifier.respond(CONTEXT, PHONE, VEHICLE, &share_p, &mut rng).unwrap();
                let start = Instant::now();
                let (confirm_p, phone_key) = prover.finish(black_box(&share_v), black_box(&confirm_v)).unwrap();
                total += start.elapsed();
                assert_eq!(session.finish(&confirm_p).unwrap(), phone_key);
            }
            total
        });
    });
    let mut output = [0u8; 80];
    getrandom::fill(&mut output).unwrap();
    group.bench_function("registration", |b| b.iter(|| Registration::from_pbkdf_output(black_box(&output)).unwrap()));
    group.finish();
}

fn config() -> Criterion {
    Criterion::default().sample_size(50).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = benches;
    config = config();
    targets = verifier_side, prover_side
}
criterion_main!(benches);

//! Attestation verification: what the vehicle spends on a friend's share or a
//! termination at a tap (parse + ECDSA verify), `cargo bench -p carkey-protocol --bench attestation`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use carkey_protocol::attestation::{ShareAttestation, TerminationAttestation};
use carkey_protocol::crypto::SigningKeyPair;
use criterion::{Criterion, criterion_group, criterion_main};

fn attestations(c: &mut Criterion) {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let (owner, friend) = (SigningKeyPair::generate(&mut rng), SigningKeyPair::generate(&mut rng));
    let share = ShareAttestation {
        vehicle_group_id: [7; 16],
        owner_slot: [1; 8],
        friend_key: friend.public().clone(),
        profile: "trunk-only".into(),
        not_before: Some(1_795_392_000),
        not_after: Some(1_795_478_400),
        serial: 1,
    }
    .sign(&owner)
    .unwrap();
    let termination = TerminationAttestation { vehicle_group_id: [7; 16], key_slot: [2; 8], serial: 1 }.sign(&friend);
    let mut group = c.benchmark_group("attestation");
    group.bench_function("share_parse_verify", |b| {
        b.iter(|| {
            let signed = ShareAttestation::parse(black_box(&share)).unwrap();
            signed.verify(owner.public()).unwrap().serial
        });
    });
    group.bench_function("termination_parse_verify", |b| {
        b.iter(|| {
            let signed = TerminationAttestation::parse(black_box(&termination)).unwrap();
            signed.verify(friend.public()).unwrap().serial
        });
    });
    group.finish();
}

criterion_group!(benches, attestations);
criterion_main!(benches);

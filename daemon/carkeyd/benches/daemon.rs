//! Daemon benchmarks: tap-to-decision over the simulated field, cold start to ready, idle
//! memory. The real `carkeyd` (bench profile) runs with its readers on Unix sockets; the
//! phone simulator measures from connecting (entering the field) to receiving CONTROL
//! FLOW (the decision). The reference, in the same run, is the same transaction with the
//! reader and phone in one process (protocol work only, no IPC, no store, no engine).
//!
//! `cargo bench -p carkeyd --bench daemon` (or `-- --quick` for a short run).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

#[path = "../tests/car/mod.rs"]
mod car;
mod stats;

use std::time::{Duration, Instant};

use car::Car;
use carkey_protocol::crypto::SigningKeyPair;
use carkey_protocol::endpoint::{Credential, Endpoint};
use carkey_protocol::loopback;
use carkey_protocol::reader::{
    KeySlot, MemoryDirectory, PreparedTransaction, ReaderConfig, ReaderSession, TransactionPlan,
};
use carkey_tests::report::{TapResult, Transaction};
use carkey_tests::tap::{TapOptions, tap};
use carkey_tests::wallet::Wallet;
use stats::{Stats, stats};

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// One standard transaction in-process against a 64-key directory: the protocol floor.
fn in_process_standard(rounds: usize) -> Stats {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let config = ReaderConfig { vehicle_key: SigningKeyPair::generate(&mut rng), reader_id: [7; 32], policy: 1 };
    let mut directory = MemoryDirectory::new();
    let mut phone = Endpoint::new();
    for i in 0..64u8 {
        let key = SigningKeyPair::generate(&mut rng);
        directory.enroll(KeySlot([i; 8]), key.public().clone());
        if i == 0 {
            phone.add_credential(Credential::new([7; 16], config.vehicle_key.public().clone(), key, [i; 8]));
        }
    }
    let samples = (0..rounds)
        .map(|_| {
            let prepared = PreparedTransaction::generate(&mut rng);
            let started = Instant::now();
            let mut session = ReaderSession::new(&config, prepared, TransactionPlan::standard());
            loopback::run(&mut session, &mut phone, &directory, &mut rng).unwrap();
            u64::try_from(started.elapsed().as_micros()).unwrap()
        })
        .collect();
    stats(samples)
}

fn taps(car: &Car, wallets: &mut [Wallet], reader: &str, rounds: usize, expect: Transaction) -> Stats {
    let socket = car.socket(reader);
    let options = TapOptions::default();
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds {
        // Round robin: each phone's key is the least recently used one, so a fast tap
        // searches all 64 keys before it finds its own (the worst case).
        let wallet = &mut wallets[i % wallets.len()];
        let report = tap(&socket, wallet, &options).unwrap();
        assert_eq!((report.result, report.transaction), (TapResult::Success, expect), "{report:?}");
        samples.push(report.elapsed_us.unwrap());
    }
    stats(samples)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 100 } else { 1000 };
    let starts = if quick { 5 } else { 30 };
    println!("carkeyd benchmarks ({rounds} taps per row, {starts} cold starts)\n");

    // Tap to decision, 64 keys enrolled.
    // The default of 32 key slots is raised so that the search covers 64 keys.
    let mut car = Car::with_config("[keys]\nmax_keys = 64\n");
    // Per-tap log lines at info level would measure the log file, not the decision.
    car.set_env("RUST_LOG", "warn".into());
    let phones = car.enroll_many(64, "owner");
    car.start();
    let mut wallets: Vec<Wallet> = phones.iter().map(|p| Wallet::load(&p.wallet).unwrap()).collect();
    for wallet in &mut wallets {
        tap(&car.socket("door-driver"), wallet, &TapOptions::default()).unwrap();
    }
    let standard = taps(&car, &mut wallets, "console", rounds, Transaction::Standard);
    let fast = taps(&car, &mut wallets, "door-driver", rounds, Transaction::Fast);
    let floor = in_process_standard(rounds);
    std::thread::sleep(Duration::from_secs(1));
    let idle_64 = rss_kib(car.pid());
    car.stop();

    println!("tap to decision over the simulated field, 64 keys enrolled:");
    for (name, s) in [("standard (console)", &standard), ("fast (door, worst-case search)", &fast)] {
        println!("  {name:<32} p50 {:>6} µs  p99 {:>6} µs  max {:>6} µs  (n={})", s.p50, s.p99, s.max, s.n);
    }
    println!(
        "  reference: in-process standard   p50 {:>6} µs  p99 {:>6} µs  -> daemon/in-process p50 ratio {:.2}",
        floor.p50,
        floor.p99,
        standard.p50 as f64 / floor.p50 as f64
    );

    // Cold start to READY=1 with 1,000 keys.
    let mut big = Car::with_config("[keys]\nmax_keys = 1000\n");
    big.set_env("RUST_LOG", "warn".into());
    let big_phones = big.enroll_many(1000, "driver");
    // One standard tap each, so every key has a sealed K_persistent to load and decrypt.
    big.start();
    for phone in &big_phones {
        let mut wallet = Wallet::load(&phone.wallet).unwrap();
        assert_eq!(
            tap(&big.socket("door-driver"), &mut wallet, &TapOptions::default()).unwrap().result,
            TapResult::Success
        );
    }
    big.stop();
    let mut samples = Vec::new();
    let mut idle_1000 = 0;
    for i in 0..starts {
        samples.push(u64::try_from(big.start().as_micros()).unwrap());
        if i == 0 {
            std::thread::sleep(Duration::from_secs(1));
            idle_1000 = rss_kib(big.pid());
        }
        big.stop();
    }
    let cold = stats(samples);
    println!("\ncold start to ready (sd_notify READY=1), 1,000 keys with K_persistent:");
    println!("  p50 {:.1} ms  max {:.1} ms  (n={})", cold.p50 as f64 / 1000.0, cold.max as f64 / 1000.0, cold.n);
    println!(
        "\nidle RSS: {:.1} MiB with 64 keys (after {} taps), {:.1} MiB with 1,000 keys",
        idle_64 as f64 / 1024.0,
        2 * rounds + 64,
        idle_1000 as f64 / 1024.0
    );

    let pass = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!("\ntargets:");
    println!("  standard p99 <= 2 ms        {:>8} µs  {}", standard.p99, pass(standard.p99 <= 2000));
    println!("  cold start <= 50 ms         {:>8.1} ms  {}", cold.max as f64 / 1000.0, pass(cold.max <= 50_000));
    println!(
        "  idle RSS <= 8 MiB           {:>8.1} MiB {}",
        idle_64.max(idle_1000) as f64 / 1024.0,
        pass(idle_64.max(idle_1000) <= 8 * 1024)
    );
}

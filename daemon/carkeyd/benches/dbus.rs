//! D-Bus benchmark: `Manager.ListKeys` with 64 keys, through a real dbus-daemon, as a
//! dashboard calls it. The real `carkeyd` (bench profile) serves a private bus configured
//! like a system bus; the client is a zbus connection in this process, calling one method at
//! a time and timing each reply. The reference, in the same run, is `Peer.Ping` to carkeyd
//! over the same bus: the round trip through dbus-daemon with no work behind it.
//!
//! `cargo bench -p carkeyd --bench dbus` (or `-- --quick` for a short run).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic, missing_docs)]

#[path = "../tests/bus/mod.rs"]
mod bus;
#[path = "../tests/car/mod.rs"]
mod car;
mod stats;

use std::time::Instant;

use bus::PrivateBus;
use carkey_dbus::proxies::ManagerProxy;
use carkey_dbus::{BUS_NAME, ROOT_PATH};
use stats::{Stats, stats};
use zbus::proxy::CacheProperties;

const KEYS: usize = 64;

async fn time<F, Fut>(rounds: usize, mut call: F) -> Stats
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Warm-up: the daemon's caller cache, the allocator and the CPU caches settle first.
    for _ in 0..rounds / 10 {
        call().await;
    }
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        call().await;
        samples.push(started.elapsed().as_micros() as u64);
    }
    stats(samples)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 500 } else { 10_000 };
    println!("carkeyd D-Bus benchmark ({rounds} calls per row)\n");

    let bus = PrivateBus::start(&bus::open_policy());
    let mut car = bus::car_on(&bus, &format!("[keys]\nmax_keys = {KEYS}\n"));
    // Per-call log lines would measure the log file, not the call.
    car.set_env("RUST_LOG", "warn".into());
    car.enroll_many(KEYS, "driver");
    bus::start_on(&mut car, &bus);

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (list, raw, decode, ping, bytes) = runtime.block_on(async {
        let conn = bus::connect(&bus).await;
        let manager = ManagerProxy::builder(&conn).cache_properties(CacheProperties::No).build().await.unwrap();
        let keys = manager.list_keys().await.unwrap();
        assert_eq!(keys.len(), KEYS);
        let reply = conn
            .call_method(Some(BUS_NAME), ROOT_PATH, Some("org.carkey.CarKey1.Manager"), "ListKeys", &())
            .await
            .unwrap();
        let bytes = reply.data().len();
        let list = time(rounds, || async {
            assert_eq!(manager.list_keys().await.unwrap().len(), KEYS);
        })
        .await;
        let raw = time(rounds, || async {
            conn.call_method(Some(BUS_NAME), ROOT_PATH, Some("org.carkey.CarKey1.Manager"), "ListKeys", &())
                .await
                .unwrap();
        })
        .await;
        let decode = time(rounds, || async {
            let k: Vec<carkey_dbus::KeyEntry> = reply.body().deserialize().unwrap();
            assert_eq!(k.len(), KEYS);
        })
        .await;
        let ping = time(rounds, || async {
            conn.call_method(Some(BUS_NAME), ROOT_PATH, Some("org.freedesktop.DBus.Peer"), "Ping", &()).await.unwrap();
        })
        .await;
        (list, raw, decode, ping, bytes)
    });
    car.stop();

    println!("one call at a time through dbus-daemon:");
    let rows = [
        (format!("ListKeys, {KEYS} keys, decoded ({bytes} B)"), &list),
        ("ListKeys, reply not decoded".to_owned(), &raw),
        ("decoding the reply alone".to_owned(), &decode),
        ("reference: Peer.Ping".to_owned(), &ping),
    ];
    for (name, s) in rows {
        println!("  {name:<40} p50 {:>6} µs  p99 {:>6} µs  max {:>6} µs  (n={})", s.p50, s.p99, s.max, s.n);
    }
    println!(
        "  ListKeys/Ping ratio: p50 {:.2}, p99 {:.2}",
        list.p50 as f64 / ping.p50 as f64,
        list.p99 as f64 / ping.p99 as f64
    );
    println!("\ngoal: ListKeys p99 ≤ 1,000 µs -> {}", if list.p99 <= 1000 { "PASS" } else { "FAIL" });
}

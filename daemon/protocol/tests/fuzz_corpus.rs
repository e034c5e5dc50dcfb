//! Replays the fuzz corpus on stable: every file in `fuzz/corpus/<target>/` (committed)
//! and `fuzz/artifacts/<target>/` (local crashes, if any) goes through the same harness
//! function the cargo-fuzz target runs.
//!
//! To write fresh seeds into the corpus directories (before fuzzing, or after changing a
//! target's input format):
//!
//! ```text
//! cargo test -p carkey-protocol --test fuzz_corpus -- --ignored write_seed_corpus
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use harness::{TARGETS, Target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of a directory, sorted; empty if it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// Runs every input through `target`, reporting all failing files at once.
fn replay(target: &Target, files: &[PathBuf]) {
    let mut failures = Vec::new();
    for file in files {
        let data = fs::read(file).unwrap();
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(&data))) {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(non-string panic)");
            failures.push(format!("{}: {message}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{} of {} inputs failed:\n{}", failures.len(), files.len(), failures.join("\n"));
}

fn replay_target(name: &str) {
    let target = TARGETS.iter().find(|t| t.name == name).unwrap();
    let corpus = fuzz_dir().join("corpus").join(name);
    let files = files_in(&corpus);
    assert!(!files.is_empty(), "no corpus for {name} in {}: nothing would be tested", corpus.display());
    replay(target, &files);
    replay(target, &files_in(&fuzz_dir().join("artifacts").join(name)));
}

#[test]
fn apdu_tlv_corpus() {
    replay_target("apdu_tlv");
}

#[test]
fn reader_responses_corpus() {
    replay_target("reader_responses");
}

#[test]
fn reader_vs_endpoint_corpus() {
    replay_target("reader_vs_endpoint");
}

#[test]
fn every_target_has_a_replay_test() {
    let names: Vec<_> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(names, ["apdu_tlv", "reader_responses", "reader_vs_endpoint"]);
}

/// The seeds are real transactions; they must pass their own harness.
#[test]
fn seeds_pass_their_harness() {
    for target in &TARGETS {
        let seeds = (target.seeds)();
        assert!(!seeds.is_empty(), "{} has no seeds", target.name);
        for seed in &seeds {
            (target.run)(seed);
        }
    }
}

/// Writes each target's seeds into its corpus directory, named by content like
/// libFuzzer does (a 64-bit FNV-1a hash here, to stay dependency-free).
#[test]
#[ignore = "writes into the source tree; run explicitly"]
fn write_seed_corpus() {
    for target in &TARGETS {
        let dir = fuzz_dir().join("corpus").join(target.name);
        fs::create_dir_all(&dir).unwrap();
        for seed in (target.seeds)() {
            let hash =
                seed.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
            fs::write(dir.join(format!("seed-{hash:016x}")), &seed).unwrap();
        }
    }
}

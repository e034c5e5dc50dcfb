//! Builds `examples/c/list_keys.c` against the committed header and the library this test
//! run built, and runs it where no bus can answer: the example compiles warning-free as C11
//! and links, and it fails the documented way.
//!
//! The runs against the real carkeyd (listing keys, a refusal, a bus without carkeyd) are
//! the daemon's black-box tests, `daemon/carkeyd/tests/c_example.rs`, which build the
//! program the same way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared library cargo built for this test run. A test build leaves every crate type
/// of the library in `<profile>/deps`, beside this test's executable (only `cargo build`
/// copies them up to `<profile>`, so that copy may be stale and is only a fallback).
fn library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().expect("the test executable is in <profile>/deps");
    let candidates = [deps.join("libcarkey_client.so"), deps.parent().unwrap().join("libcarkey_client.so")];
    candidates.into_iter().find(|path| path.exists()).unwrap_or_else(|| {
        panic!("libcarkey_client.so is not beside {}: build it with `cargo build -p carkey-client`", exe.display())
    })
}

/// Compiles the C example and returns the program's path. The shared library is the one
/// cargo built beside this test (every crate type of the library is built with it); the
/// program finds it through its rpath, so it runs from anywhere.
fn build_c_example() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let library = library();
    let lib_dir = library.parent().unwrap();
    // Compiled to a file of this process's own, then renamed into place: concurrent runs
    // never run a half-written program, and only one program is left behind.
    let program = Path::new(env!("CARGO_TARGET_TMPDIR")).join("list_keys");
    let compiled = program.with_extension(format!("{}.tmp", std::process::id()));
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let output = Command::new(&compiler)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("examples/c/list_keys.c"))
        .arg(&library)
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-o")
        .arg(&compiled)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {compiler:?}: {e}"));
    assert!(output.status.success(), "compiling list_keys.c failed:\n{}", String::from_utf8_lossy(&output.stderr));
    std::fs::rename(&compiled, &program).unwrap();
    program
}

fn run(program: &Path, address: &str) -> Output {
    Command::new(program).arg(address).output().unwrap()
}

#[test]
fn the_example_reports_a_bus_that_is_not_there() {
    let program = build_c_example();
    let socket = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-bus-listens-here");
    let output = run(&program, &format!("unix:path={}", socket.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("cannot connect") && stderr.contains("BUS_UNAVAILABLE"), "stderr: {stderr}");
    assert!(output.stdout.is_empty());

    let output = run(&program, "not an address");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("cannot connect to not an address: INVALID_ARGUMENT"), "stderr: {stderr}");
}

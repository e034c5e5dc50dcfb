//! The committed C header must be what cbindgen makes of the current sources.
//!
//! A stale header compiles and links, and then calls functions with the wrong arguments:
//! so the check fails the test suite. Regenerate with
//! `CARKEY_BLESS=1 cargo test -p carkey-client --test header`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;

#[test]
fn committed_header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    // The C API is these two modules. Parsing them directly (not the crate through
    // `cargo metadata`) keeps the test from calling cargo while cargo runs it, and keeps
    // the Rust API's public constants out of the header.
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .with_src(crate_dir.join("src/status_code.rs"))
        .generate()
        .expect("cbindgen could not read the sources");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();

    let header = crate_dir.join("include/carkey_client.h");
    if std::env::var_os("CARKEY_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&header, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with the sources; regenerate it with \
         `CARKEY_BLESS=1 cargo test -p carkey-client --test header` and commit it.\n\
         --- generated ---\n{generated}",
        header.display()
    );
}

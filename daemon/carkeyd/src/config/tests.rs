use std::fs;

use super::*;

fn write(dir: &std::path::Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

const DEFAULTS: &str = r#"
[nfc]
apdu_timeout_ms = 250
[nfc.readers.door-driver]
location = "door-driver"
driver = "simulated"
socket = "/run/carkey/nfc/door-driver.sock"
[nfc.readers.console]
location = "console"
driver = "simulated"
socket = "/run/carkey/nfc/console.sock"
"#;

#[test]
fn no_files_means_built_in_defaults() {
    let root = tempfile::tempdir().unwrap();
    let (config, files) = load(root.path()).unwrap();
    assert!(files.is_empty());
    assert_eq!(config, Config::default());
    assert_eq!(config.nfc.apdu_timeout_ms, 300);
}

#[test]
fn etc_overrides_usr_share_and_drop_ins_apply_in_name_order() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "usr/share/carkey/carkeyd.toml", DEFAULTS);
    write(root.path(), "etc/carkey/carkeyd.toml", "[vehicle]\nutc_offset_minutes = 60\n[nfc]\napdu_timeout_ms = 200\n");
    write(root.path(), "etc/carkey/conf.d/20-later.toml", "[nfc]\napdu_timeout_ms = 150\n");
    write(
        root.path(),
        "etc/carkey/conf.d/10-trunk.toml",
        "[nfc.readers.trunk]\nlocation = \"trunk\"\ndriver = \"simulated\"\nsocket = \"/run/t.sock\"\n[nfc]\napdu_timeout_ms = 100\n",
    );
    write(root.path(), "etc/carkey/conf.d/README", "not toml, ignored");
    let (config, files) = load(root.path()).unwrap();
    assert_eq!(files.len(), 4);
    assert_eq!(config.nfc.apdu_timeout_ms, 150);
    assert_eq!(config.vehicle.utc_offset_minutes, 60);
    let names: Vec<_> = config.nfc.readers.keys().cloned().collect();
    assert_eq!(names, ["console", "door-driver", "trunk"]);
}

#[test]
fn a_redefined_reader_is_replaced_not_blended() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "usr/share/carkey/carkeyd.toml", DEFAULTS);
    write(
        root.path(),
        "etc/carkey/conf.d/50.toml",
        "[nfc.readers.console]\nlocation = \"trunk\"\ndriver = \"simulated\"\nsocket = \"/run/x.sock\"\n",
    );
    let (config, _) = load(root.path()).unwrap();
    assert_eq!(config.nfc.readers["console"].location(), carkey_core::ids::ReaderLocation::Trunk);
}

#[test]
fn unknown_keys_are_errors_that_name_the_file() {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "usr/share/carkey/carkeyd.toml", DEFAULTS);
    write(root.path(), "etc/carkey/conf.d/90-typo.toml", "[nfc]\napdu_timout_ms = 100\n");
    let error = load(root.path()).unwrap_err().to_string();
    assert!(error.contains("90-typo.toml") && error.contains("apdu_timout_ms"), "{error}");
    for bad in [
        "[nfc.readers.x]\nlocation = \"roof\"\ndriver = \"simulated\"\nsocket = \"/s\"\n",
        "[nfc.readers.x]\nlocation = \"trunk\"\ndriver = \"simulated\"\nsocket = \"/s\"\ncolour = 1\n",
        "[nfc.readers.x]\nlocation = \"trunk\"\ndriver = \"teleport\"\n",
        "[vehicle_bus]\nkind = \"recorder\"\nspeed = 3\n",
        "[log]\ntarget = \"printer\"\n",
        "not toml at all",
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "etc/carkey/carkeyd.toml", bad);
        let error = load(dir.path()).unwrap_err();
        assert!(matches!(error, ConfigError::Parse { .. }), "{bad}: {error}");
    }
}

#[test]
fn rules_across_fields_are_checked() {
    for (bad, needle) in [
        ("[nfc]\napdu_timeout_ms = 5000\n", "apdu_timeout_ms"),
        ("[vehicle]\nutc_offset_minutes = 2000\n", "utc_offset_minutes"),
        ("[log]\nlevel = \"carkey=verbose\"\n", "log.level"),
        ("[nfc.readers.Door]\nlocation = \"trunk\"\ndriver = \"simulated\"\nsocket = \"/s\"\n", "reader name"),
        ("[nfc.readers.a]\nlocation = \"trunk\"\ndriver = \"simulated\"\nsocket = \"rel.sock\"\n", "absolute"),
        (
            "[nfc.readers.a]\nlocation = \"trunk\"\ndriver = \"simulated\"\nsocket = \"/s\"\n[nfc.readers.b]\nlocation = \"console\"\ndriver = \"simulated\"\nsocket = \"/s\"\n",
            "two readers",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "etc/carkey/carkeyd.toml", bad);
        let error = load(dir.path()).unwrap_err().to_string();
        assert!(error.contains(needle), "{bad}: {error}");
    }
}

#[test]
fn the_shipped_default_configuration_is_valid() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../systemd/carkeyd.toml");
    let config = load_files(&[shipped]).unwrap();
    assert_eq!(config.readers().unwrap().len(), 4);
}

//! A car for black-box tests: the real `carkeyd` binary with simulated readers in a
//! temporary directory, driven by the phone simulator of `carkey-tests`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use carkey_protocol::crypto::EcPublicKey;
use carkey_tests::report::{TapReport, TapResult, Transaction};
use carkey_tests::tap::{TapOptions, tap};
use carkey_tests::wallet::{KeyName, NewKey, ShareRequest, Wallet};
use serde_json::Value;

pub const READERS: [&str; 4] = ["door-driver", "door-passenger", "trunk", "console"];
pub const APDU_TIMEOUT_MS: u64 = 150;

/// The daemon under test and everything around it.
pub struct Car {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub state: PathBuf,
    pub record: PathBuf,
    child: Option<Child>,
    env: Vec<(String, PathBuf)>,
    user: Option<(u32, u32)>,
}

impl Car {
    pub fn new() -> Self {
        Self::with_config("")
    }

    /// A car whose configuration has `extra` appended.
    pub fn with_config(extra: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("carkeyd.toml");
        let record = dir.path().join("vehicle-actions.jsonl");
        let mut text = format!(
            "[log]\ntarget = \"stderr\"\nlevel = \"info\"\n[nfc]\napdu_timeout_ms = {APDU_TIMEOUT_MS}\n\
             [vehicle_bus]\nkind = \"recorder\"\nrecord_file = \"{}\"\n",
            record.display()
        );
        for name in READERS {
            text += &format!(
                "[nfc.readers.{name}]\nlocation = \"{name}\"\ndriver = \"simulated\"\nsocket = \"{}\"\n",
                dir.path().join("nfc").join(format!("{name}.sock")).display()
            );
        }
        if !extra.contains("[dbus]") {
            text += "[dbus]\nbus = \"none\"\n";
        }
        text += extra;
        std::fs::write(&config, text).unwrap();
        let state = dir.path().join("state");
        Self { dir, config, state, record, child: None, env: Vec::new(), user: None }
    }

    /// Passes an environment variable to every carkeyd run (e.g. CREDENTIALS_DIRECTORY).
    pub fn set_env(&mut self, name: &str, value: PathBuf) {
        self.env.push((name.to_owned(), value));
    }

    /// Runs carkeyd (serving and maintenance) as this user and group, and gives them the
    /// car's directory, as systemd's `User=` and `StateDirectory=` would. Needs root.
    pub fn run_as(&mut self, uid: u32, gid: u32) {
        chown_tree(self.dir.path(), uid, gid);
        self.user = Some((uid, gid));
    }

    pub fn socket(&self, reader: &str) -> PathBuf {
        self.dir.path().join("nfc").join(format!("{reader}.sock"))
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_carkeyd"));
        command.arg("--config").arg(&self.config).arg("--state-dir").arg(&self.state);
        command.env_remove("NOTIFY_SOCKET").env_remove("CREDENTIALS_DIRECTORY").env_remove("STATE_DIRECTORY");
        for (k, v) in &self.env {
            command.env(k, v);
        }
        if let Some((uid, gid)) = self.user {
            // Dropping from root also drops the supplementary groups.
            command.uid(uid).gid(gid);
        }
        command
    }

    /// Runs a maintenance command.
    pub fn maintenance(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs a maintenance command that must succeed; returns stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        let out = self.maintenance(args);
        assert!(out.status.success(), "carkeyd {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn identity(&self) -> ([u8; 16], EcPublicKey) {
        let id: Value = serde_json::from_str(&self.admin(&["identity", "--json"])).unwrap();
        let mut group = [0u8; 16];
        hex::decode_to_slice(id["group_id"].as_str().unwrap(), &mut group).unwrap();
        let public = EcPublicKey::from_uncompressed(&hex::decode(id["public_key"].as_str().unwrap()).unwrap()).unwrap();
        (group, public)
    }

    /// A phone with a key for this car, enrolled with `profile`.
    pub fn enroll(&self, name: &str, profile: &str) -> Phone {
        let phone = self.phone_with_key(name);
        let role = if profile == "owner" { "owner" } else { "friend" };
        self.admin(&[
            "keys",
            "add",
            "--slot",
            &phone.slot,
            "--public-key",
            &phone.public_key,
            "--name",
            name,
            "--profile",
            profile,
            "--role",
            role,
        ]);
        phone
    }

    /// A phone holding a key for this car that the car does not know.
    pub fn phone_with_key(&self, name: &str) -> Phone {
        self.phone_for(&self.identity(), name)
    }

    /// `n` phones enrolled with `profile` in one maintenance run.
    pub fn enroll_many(&self, n: usize, profile: &str) -> Vec<Phone> {
        let identity = self.identity();
        let phones: Vec<Phone> = (0..n).map(|i| self.phone_for(&identity, &format!("phone-{i}"))).collect();
        let lines: String = phones
            .iter()
            .enumerate()
            .map(|(i, p)| {
                serde_json::json!({ "slot": p.slot, "public_key": p.public_key, "name": format!("phone {i}"), "profile": profile })
                    .to_string()
                    + "\n"
            })
            .collect();
        let file = self.dir.path().join("import.jsonl");
        std::fs::write(&file, lines).unwrap();
        let out = self.admin(&["keys", "import", file.to_str().unwrap()]);
        assert_eq!(out.trim(), format!("ok: {n} keys enrolled"));
        phones
    }

    fn phone_for(&self, (group, public): &([u8; 16], EcPublicKey), name: &str) -> Phone {
        let (group, public) = (*group, public.clone());
        let path = self.dir.path().join(format!("{name}.wallet"));
        let mut wallet = Wallet::create(&path);
        let info = wallet
            .new_key(NewKey {
                vehicle_group_id: group,
                vehicle_public: public,
                slot: None,
                name: Some(KeyName::new(name).unwrap()),
            })
            .unwrap();
        wallet.save().unwrap();
        Phone { wallet: path, slot: hex::encode(info.slot), public_key: hex::encode(info.public_key.uncompressed()) }
    }

    /// Starts the daemon and waits for sd_notify READY=1. Returns the time it took.
    pub fn start(&mut self) -> Duration {
        assert!(self.child.is_none(), "already running");
        let notify = self.dir.path().join("notify.sock");
        let _ = std::fs::remove_file(&notify);
        let listener = UnixDatagram::bind(&notify).unwrap();
        if let Some((uid, gid)) = self.user {
            std::os::unix::fs::chown(&notify, Some(uid), Some(gid)).unwrap();
        }
        listener.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let stderr =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("carkeyd.log")).unwrap();
        let started = Instant::now();
        let child = self.command().env("NOTIFY_SOCKET", &notify).stdin(Stdio::null()).stderr(stderr).spawn().unwrap();
        self.child = Some(child);
        let mut buf = [0u8; 512];
        loop {
            let n = listener
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no READY=1 from carkeyd ({e}); log:\n{}", self.log()));
            if String::from_utf8_lossy(&buf[..n]).lines().any(|l| l == "READY=1") {
                return started.elapsed();
            }
        }
    }

    /// Starts the daemon expecting it to fail; returns its exit status and stderr.
    pub fn start_failing(&self) -> (ExitStatus, String) {
        let mut child =
            self.command().stdin(Stdio::null()).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("carkeyd kept running");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = child.wait_with_output().unwrap();
        (out.status, String::from_utf8_lossy(&out.stderr).into_owned())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGTERM and wait.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "carkeyd ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("carkeyd.log")).unwrap_or_default()
    }

    /// The audit log (the daemon must be stopped: maintenance needs the state directory).
    pub fn audit(&self) -> Vec<Value> {
        self.admin(&["audit", "--json"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// The decisions in the audit log, as (key or null, action, transaction, denial or null).
    pub fn decisions(&self) -> Vec<(Value, String, String, Value)> {
        self.audit()
            .into_iter()
            .filter(|e| e["event"]["event"] == "decision")
            .map(|e| {
                let ev = &e["event"];
                (
                    ev["key"].clone(),
                    ev["action"].as_str().unwrap().to_owned(),
                    ev["transaction"].as_str().unwrap().to_owned(),
                    ev["denied"].clone(),
                )
            })
            .collect()
    }

    /// Commands the vehicle-bus recorder saw.
    pub fn vehicle_commands(&self) -> Vec<String> {
        std::fs::read_to_string(&self.record)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["command"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl Drop for Car {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Car {
    /// Offers owner pairing (the daemon must be stopped); returns the code to type.
    pub fn pairing_code(&self) -> String {
        let out: Value = serde_json::from_str(&self.admin(&["pairing", "start", "--json"])).unwrap();
        out["code"].as_str().unwrap().to_owned()
    }

    /// A phone pairs as owner on the console with `code`; the wallet is created (or the
    /// new key replaces the old one) and saved when pairing succeeded.
    pub fn pair(&self, name: &str, code: &str) -> (Phone, carkey_tests::pair::PairReport) {
        let path = self.dir.path().join(format!("{name}.wallet"));
        let mut wallet = Wallet::load_or_create(&path).unwrap();
        let code = carkey_tests::pair::PairingCode::new(code).unwrap();
        let report =
            carkey_tests::pair::pair(&self.socket("console"), &mut wallet, &code, &Default::default()).unwrap();
        let (slot, public_key) =
            report.key().map(|k| (hex::encode(k.slot), hex::encode(k.public_key.uncompressed()))).unwrap_or_default();
        if report.succeeded() {
            wallet.save().unwrap();
        }
        (Phone { wallet: path, slot, public_key }, report)
    }

    /// The keys as `keys list --json` shows them (the daemon must be stopped).
    pub fn keys(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.admin(&["keys", "list", "--json"])).unwrap().as_array().unwrap().clone()
    }

    /// One key by id.
    pub fn key(&self, id: &str) -> Value {
        self.keys().into_iter().find(|k| k["id"] == id).unwrap_or_else(|| panic!("no key {id}"))
    }
}

/// A phone simulator with its wallet file.
/// The wall clock in Unix seconds.
pub fn now() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

impl Car {
    /// A new phone makes a key for the car, the owner's phone signs a share for it
    /// (`profile`, valid for a day), and the new phone takes it along: no vehicle, no
    /// network. The car learns the key at the new phone's first tap.
    pub fn share_offline(&self, owner: &Phone, name: &str, profile: &str) -> Phone {
        let mut owner_wallet = Wallet::load(&owner.wallet).unwrap();
        let owner_key = owner_wallet.keys().pop().unwrap();
        let path = self.dir.path().join(format!("{name}.wallet"));
        let mut wallet = Wallet::create(&path);
        let key = wallet
            .new_key(NewKey {
                vehicle_group_id: owner_key.vehicle_group_id,
                vehicle_public: owner_key.vehicle_public.clone(),
                slot: None,
                name: None,
            })
            .unwrap();
        let issued = owner_wallet
            .share(&ShareRequest {
                vehicle_group_id: None,
                friend_key: key.public_key.clone(),
                profile: profile.to_owned(),
                not_before: Some(now() - 60),
                not_after: Some(now() + 86_400),
                serial: None,
            })
            .unwrap();
        owner_wallet.save().unwrap();
        wallet.accept_share(&issued.bytes).unwrap();
        wallet.save().unwrap();
        Phone { wallet: path, slot: hex::encode(key.slot), public_key: hex::encode(key.public_key.uncompressed()) }
    }
}

pub struct Phone {
    pub wallet: PathBuf,
    pub slot: String,
    pub public_key: String,
}

impl Phone {
    pub fn tap(&self, car: &Car, reader: &str) -> TapReport {
        self.tap_with(car, reader, &TapOptions::default())
    }

    pub fn tap_with(&self, car: &Car, reader: &str, options: &TapOptions) -> TapReport {
        let mut wallet = Wallet::load(&self.wallet).unwrap();
        let report = tap(&car.socket(reader), &mut wallet, options).unwrap();
        wallet.save().unwrap();
        report
    }

    /// Taps and asserts the outcome.
    pub fn expect(&self, car: &Car, reader: &str, result: TapResult, transaction: Transaction) -> TapReport {
        let report = self.tap(car, reader);
        assert_eq!((report.result, report.transaction), (result, transaction), "{report:?}\nlog:\n{}", car.log());
        report
    }
}

/// `chown -R`.
fn chown_tree(path: &std::path::Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid, gid);
        }
    }
}

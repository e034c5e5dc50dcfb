//! What the carkey-client tests (Rust API, C ABI, C example) share: a running car on a
//! private system-like bus with an owner, a friend and a stranger's phone, offline shares,
//! and C programs (the example, the ABI driver) built against the library of this test
//! build.
//!
//! Built on the black-box harness (`bus`, `car`), which the including test declares.

// Each including test uses part of it; helpers fail loudly on purpose.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use carkey_client::KeyId;
use futures_util::StreamExt;

use crate::bus::{self, PrivateBus};
use crate::car::{Car, Phone};

/// A running daemon with two enrolled keys and a phone it does not know, and the bus it
/// serves on. The car is dropped (carkeyd killed) before the bus.
pub struct Rig {
    pub car: Car,
    pub owner: Phone,
    pub friend: Phone,
    /// A phone with a key for this car that the car does not know.
    pub stranger: Phone,
    pub bus: PrivateBus,
}

impl Rig {
    /// An owner key ("owner", profile owner) and a friend key ("friend", profile valet),
    /// with the test's own user managing the daemon.
    pub fn start() -> Self {
        Self::start_on(PrivateBus::start(&bus::open_policy()))
    }

    /// [`Rig::start`] on a bus that already runs.
    pub fn start_on(bus: PrivateBus) -> Self {
        let car = bus::car_on(&bus, "");
        Self::enroll_and_start(car, bus)
    }

    /// [`Rig::start`] with `roles` (the `[dbus]` section's users and groups) instead of
    /// the test's own user as manager.
    pub fn start_with_roles(roles: &str) -> Self {
        let bus = PrivateBus::start(&bus::open_policy());
        let mut car = Car::with_config(&format!("[dbus]\nbus = \"system\"\n{roles}"));
        car.set_env("DBUS_SYSTEM_BUS_ADDRESS", bus.env_value());
        Self::enroll_and_start(car, bus)
    }

    fn enroll_and_start(mut car: Car, bus: PrivateBus) -> Self {
        let owner = car.enroll("owner", "owner");
        let friend = car.enroll("friend", "valet");
        let stranger = car.phone_with_key("stranger");
        bus::start_on(&mut car, &bus);
        Self { car, owner, friend, stranger, bus }
    }

    /// The bus's D-Bus address, as a dashboard is given it.
    pub fn address(&self) -> &str {
        &self.bus.address
    }

    pub fn owner_id(&self) -> KeyId {
        id(&self.owner.slot)
    }

    pub fn friend_id(&self) -> KeyId {
        id(&self.friend.slot)
    }
}

/// A bus where carkeyd does not run.
pub fn bus_without_carkeyd() -> PrivateBus {
    PrivateBus::start(&bus::open_policy())
}

/// The `[dbus]` lines that leave the test's own user able to read only.
pub fn observer_only() -> String {
    format!("read_users = [\"{}\"]\nmanage_users = []\nmanage_groups = []\n", bus::uid())
}

/// The `[dbus]` lines that leave the test's own user no role at all.
pub fn nobody() -> &'static str {
    "read_users = []\nread_groups = []\nmanage_users = []\nmanage_groups = []\n"
}

pub fn id(text: &str) -> KeyId {
    text.parse().unwrap()
}

/// A key id no key has.
pub fn missing_id() -> KeyId {
    id("ffffffffffffffff")
}

/// The next item of a stream, within 10 s.
pub async fn next<S: futures_util::Stream + Unpin>(stream: &mut S) -> S::Item {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("nothing arrived within 10 s")
        .expect("the stream ended")
}

/// Reads a stream until every item of `expected` has arrived, in any order, within 10 s
/// in all; returns everything read. Other items may come before, between and after them.
pub async fn until<S>(stream: &mut S, expected: &[S::Item]) -> Vec<S::Item>
where
    S: futures_util::Stream + Unpin,
    S::Item: PartialEq + std::fmt::Debug,
{
    let mut seen = Vec::new();
    let wait = async {
        while !expected.iter().all(|item| seen.contains(item)) {
            match stream.next().await {
                Some(item) => seen.push(item),
                None => panic!("the stream ended after {seen:?}"),
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(10), wait).await.is_err() {
        panic!("{expected:?} did not all arrive within 10 s; got {seen:?}");
    }
    seen
}

/// The carkey-client shared library of this test build. Building this test builds its
/// dev-dependency carkey-client with every crate type, and leaves the shared library in
/// `<profile>/deps` beside the test executable; `<profile>` holds a copy only after
/// `cargo build`, which may be stale, so it is only a fallback.
fn library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().expect("the test executable is in <profile>/deps");
    let candidates = [deps.join("libcarkey_client.so"), deps.parent().unwrap().join("libcarkey_client.so")];
    candidates.into_iter().find(|path| path.exists()).unwrap_or_else(|| {
        panic!("libcarkey_client.so is not beside {}: build it with `cargo build -p carkey-client`", exe.display())
    })
}

/// The client crate's directory.
fn bindings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dashboard-ui-bindings")
}

/// Compiles `examples/c/list_keys.c` (once per test process) against the committed header
/// and the library; returns the program.
pub fn c_example() -> PathBuf {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| compile_c(&bindings_dir().join("examples/c/list_keys.c"), "list_keys")).clone()
}

/// Runs the C example against the bus at `address`.
pub fn run_c_example(address: &str) -> Output {
    Command::new(c_example()).arg(address).output().unwrap()
}

/// Compiles a C program against the committed header and the library, with an rpath so
/// that it runs from anywhere and finds exactly this library. Each test process compiles
/// to a file of its own and renames it into place, so that processes running at the same
/// time never run a half-written program, and one program is left behind, not one a run.
fn compile_c(source: &Path, name: &str) -> PathBuf {
    let library = library();
    let program = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("carkeyd-{name}"));
    let compiled = program.with_extension(format!("{}.tmp", std::process::id()));
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let output = Command::new(&compiler)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(bindings_dir().join("include"))
        .arg(source)
        .arg(&library)
        .arg(format!("-Wl,-rpath,{}", library.parent().unwrap().display()))
        .arg("-o")
        .arg(&compiled)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {compiler:?}: {e}"));
    assert!(
        output.status.success(),
        "compiling {} failed:\n{}",
        source.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::rename(&compiled, &program).unwrap();
    program
}

/// One answer of the ABI driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status code's name (`OK`, `NOT_FOUND`, ...).
    pub status: String,
    /// `carkey_client_last_error` after the call.
    pub error: String,
    /// `carkey_client_last_message` after the call.
    pub message: String,
    /// The call's output (JSON, or `CODE,EXPIRES_AT`), `None` when there was none.
    pub out: Option<String>,
}

impl Answer {
    /// The output as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.out.as_deref().unwrap_or_else(|| panic!("no output: {self:?}"))).unwrap()
    }

    /// Asserts a failure's status and error name.
    pub fn fails_with(&self, status: &str, error: &str) -> &Self {
        assert_eq!((self.status.as_str(), self.error.as_str()), (status, error), "{self:?}");
        assert_eq!(self.out, None, "a failed call leaves no output: {self:?}");
        self
    }
}

/// `client_support/abi_driver.c`: the C ABI called by a C program, one request at a time,
/// so that a test can tap phones between calls on one handle.
pub struct AbiDriver {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl AbiDriver {
    /// Starts the driver (compiled once per test process); no handle is open yet.
    pub fn start() -> Self {
        static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
        let program = PROGRAM.get_or_init(|| {
            compile_c(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client_support/abi_driver.c"), "abi_driver")
        });
        let mut child = Command::new(program).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self { child, stdin, stdout }
    }

    /// Makes one request (its fields are joined with tabs) and returns the answer.
    pub fn call(&mut self, request: &[&str]) -> Answer {
        writeln!(self.stdin, "{}", request.join("\t")).unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let fields: Vec<&str> = line.trim_end_matches('\n').splitn(4, '\t').collect();
        assert_eq!(fields.len(), 4, "the driver answered {line:?} to {request:?}");
        Answer {
            status: fields[0].to_owned(),
            error: fields[1].to_owned(),
            message: fields[2].to_owned(),
            out: (fields[3] != "-").then(|| fields[3].to_owned()),
        }
    }

    /// Makes a request that must succeed.
    pub fn ok(&mut self, request: &[&str]) -> Answer {
        let answer = self.call(request);
        assert_eq!((answer.status.as_str(), answer.error.as_str()), ("OK", ""), "{request:?}: {answer:?}");
        answer
    }

    /// Ends the input (the driver frees its handle) and waits for the driver to exit. A
    /// driver dropped without this exits the same way, at the end of its input.
    pub fn finish(self) -> std::process::ExitStatus {
        let Self { mut child, stdin, stdout } = self;
        drop((stdin, stdout));
        child.wait().unwrap()
    }
}

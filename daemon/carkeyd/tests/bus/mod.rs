//! A private `dbus-daemon` for black-box tests, configured like a system bus: method
//! calls are denied unless a policy allows them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running private bus; killed on drop.
pub struct PrivateBus {
    child: Child,
    pub address: String,
    _dir: tempfile::TempDir,
}

/// The system-bus defaults (as in dbus's own system.conf), listening on `socket`, plus
/// the given policy fragments (`<policy>` elements or `<include>`s).
fn config(socket: &Path, policies: &str) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  {policies}
</busconfig>
"#,
        socket.display()
    )
}

impl PrivateBus {
    /// Starts a bus with `policies` added to the system-bus defaults.
    pub fn start(policies: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("bus");
        let conf = dir.path().join("bus.conf");
        std::fs::write(&conf, config(&socket, policies)).unwrap();
        let child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf.display()))
            .arg("--nofork")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus-daemon) must be installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        // The socket file appears when dbus-daemon binds it, a moment before it listens:
        // wait until it accepts a connection.
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(Instant::now() < deadline, "dbus-daemon did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        // The socket file may sit in a private directory: let other users reach it.
        let _ = std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755));
        Self { child, address: format!("unix:path={}", socket.display()), _dir: dir }
    }

    /// The address as a path-like value for `Car::set_env`.
    pub fn env_value(&self) -> PathBuf {
        PathBuf::from(&self.address)
    }

    /// Waits until some connection owns `name`.
    pub fn wait_for_name(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = Command::new("busctl")
                .arg(format!("--address={}", self.address))
                .arg("list")
                .arg("--acquired")
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains(name) {
                return;
            }
            assert!(Instant::now() < deadline, "{name} never appeared on the bus");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs busctl against this bus.
    pub fn busctl(&self, args: &[&str]) -> std::process::Output {
        Command::new("busctl").arg(format!("--address={}", self.address)).args(args).output().unwrap()
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lets the test's own user own the name and call everything (the project's real
/// policy file is exercised by the authorization tests).
pub fn open_policy() -> String {
    format!(
        r#"<policy context="default">
             <allow own="{name}"/>
             <allow send_destination="{name}"/>
           </policy>"#,
        name = carkey_dbus::BUS_NAME
    )
}

/// The test's own uid.
pub fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// A car whose daemon serves D-Bus on `bus` and lets the test's own user manage it
/// (`extra` is appended to its configuration). Not started yet.
pub fn car_on(bus: &PrivateBus, extra: &str) -> super::car::Car {
    let mut car =
        super::car::Car::with_config(&format!("[dbus]\nbus = \"system\"\nmanage_users = [\"{}\"]\n{extra}", uid()));
    car.set_env("DBUS_SYSTEM_BUS_ADDRESS", bus.env_value());
    car
}

/// Starts `car` and waits until its daemon owns the bus name.
pub fn start_on(car: &mut super::car::Car, bus: &PrivateBus) {
    car.start();
    bus.wait_for_name(carkey_dbus::BUS_NAME);
}

/// A zbus connection to `bus` as the test's own user.
pub async fn connect(bus: &PrivateBus) -> zbus::Connection {
    zbus::connection::Builder::address(bus.address.as_str()).build().await.unwrap()
}

/// Includes the project's bus policy file, as the system bus includes it from
/// `/usr/share/dbus-1/system.d`.
pub fn project_policy() -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../systemd/org.carkey.CarKey1.conf");
    format!("<include>{}</include>", file.canonicalize().unwrap().display())
}

impl PrivateBus {
    /// Calls `method` (`interface.Member`) on `path` of carkeyd with `gdbus`, an
    /// independent client that prints the D-Bus error name, as `user` (`None`: the test's
    /// own user) with the user's groups from the user database, as a login would set
    /// them. Arguments are GVariant text. Switching users needs root.
    pub fn gdbus_call(&self, user: Option<&str>, path: &str, method: &str, args: &[&str]) -> std::process::Output {
        let mut command = match user {
            None => Command::new("gdbus"),
            Some(user) => {
                let account = nix::unistd::User::from_name(user).unwrap().unwrap_or_else(|| panic!("no user {user}"));
                let mut command = Command::new("setpriv");
                command
                    .arg(format!("--reuid={}", account.uid))
                    .arg(format!("--regid={}", account.gid))
                    .arg("--init-groups")
                    .args(["--", "gdbus"]);
                command
            }
        };
        command
            .arg("call")
            .arg(format!("--address={}", self.address))
            .args(["--dest", carkey_dbus::BUS_NAME, "--object-path", path, "--method", method, "--"])
            .args(args)
            .output()
            .expect("setpriv (util-linux) and gdbus (libglib2.0-bin) must be installed")
    }
}

//! A private `dbus-daemon` for black-box tests, configured like a system bus: method
//! calls are denied unless a policy allows them.

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
        while !socket.exists() {
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

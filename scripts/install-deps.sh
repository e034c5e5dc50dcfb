#!/usr/bin/env bash
# Installs the system packages carkey's build and tests need, on Debian/Ubuntu.
# Idempotent: only missing packages are installed. Uses apt-get directly as root, sudo
# otherwise, and says exactly what to install when neither is possible.
set -euo pipefail

# One list for developers and CI. Later components add theirs here.
PACKAGES=(build-essential pkg-config ca-certificates curl
    dbus-daemon systemd  # a private bus, busctl and systemd-sysusers for the D-Bus tests
    libglib2.0-bin util-linux  # gdbus and setpriv: calls as other users in the authorization tests
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    if [[ $EUID -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo)
    else
        echo "carkey needs these Debian/Ubuntu packages: ${missing[*]}" >&2
        echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "Installing: ${missing[*]}"
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
    echo "carkey needs a Rust toolchain (stable, see rust-version in Cargo.toml): https://rustup.rs" >&2
    exit 1
fi

#!/usr/bin/env bash
# The main job, for a newcomer: carkeyd with simulated NFC readers and the recording
# vehicle bus, driven by the carkey-phone simulator. Shows enrolment, a standard unlock,
# a fast lock, engine start from the console, a restricted key being refused, and a
# revoked key that never works again. Everything runs in a temporary directory.
#
# Pairing over NFC, the D-Bus API, CAN and the backend join this demo as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --quiet --bins
bin=target/debug
work=$(mktemp -d)
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cat > "$work/carkeyd.toml" <<TOML
[log]
target = "stderr"
[vehicle_bus]
kind = "recorder"
record_file = "$work/vehicle.jsonl"
TOML
for reader in door-driver trunk console; do
    cat >> "$work/carkeyd.toml" <<TOML
[nfc.readers.$reader]
location = "$reader"
driver = "simulated"
socket = "$work/nfc/$reader.sock"
TOML
done
carkeyd() { "$bin/carkeyd" --config "$work/carkeyd.toml" --state-dir "$work/state" "$@"; }
phone() { local wallet=$1; shift; "$bin/carkey-phone" --wallet "$work/$wallet.json" "$@"; }
start() { "$bin/carkeyd" --config "$work/carkeyd.toml" --state-dir "$work/state" 2>>"$work/carkeyd.log" & daemon_pid=$!; for _ in $(seq 100); do [ -S "$work/nfc/console.sock" ] && return; sleep 0.05; done; }
stop() { kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=; }
tap() { local wallet=$1 reader=$2; echo "-- $wallet taps $reader"; phone "$wallet" tap --field-dir "$work/nfc" --reader "$reader" | sed -n '1,2p;/^elapsed/p' || true; }

say "The vehicle's identity (created on first use, private key sealed at rest)"
carkeyd identity | tee "$work/identity"
group=$(sed -n 's/^group-id: //p' "$work/identity")
public=$(sed -n 's/^public-key: //p' "$work/identity")

enroll() {
    local wallet=$1 profile=$2 role=$3
    phone "$wallet" new-key --vehicle-group-id "$group" --vehicle-public-key "$public" --name "$wallet" > "$work/$wallet.key"
    carkeyd keys add --slot "$(sed -n 's/^slot: //p' "$work/$wallet.key")" \
        --public-key "$(sed -n 's/^public-key: //p' "$work/$wallet.key")" \
        --name "$wallet" --profile "$profile" --role "$role" > /dev/null
    echo "enrolled $wallet ($role, profile $profile)"
}
say "Enrolling phones (pairing over NFC arrives with the pairing feature)"
enroll alice owner owner
enroll courier trunk-only friend

say "carkeyd starts with simulated readers at the driver's door, the trunk and the console"
start

say "Alice: first tap is a standard transaction, then fast, then the console starts the engine"
tap alice door-driver
tap alice door-driver
tap alice console

say "The courier may open the trunk, and nothing else"
tap courier trunk
tap courier door-driver

say "A phone the car has never seen learns nothing"
phone stranger new-key --vehicle-group-id "$group" --vehicle-public-key "$public" > /dev/null
tap stranger door-driver

say "Revoking the courier's key (offline maintenance; the dashboard will do it over D-Bus)"
stop
carkeyd keys revoke "$(sed -n 's/^slot: //p' "$work/courier.key")" --reason "delivery done"
start
tap courier trunk

stop
say "What the vehicle bus was asked to do"
cat "$work/vehicle.jsonl"
say "Keys"
carkeyd keys list
say "Audit log (hash-chained; verified)"
carkeyd audit | tail -n 12
carkeyd audit --verify

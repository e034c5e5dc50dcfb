#!/usr/bin/env bash
# The main job, for a newcomer: carkeyd with simulated NFC readers and the recording
# vehicle bus, driven by the carkey-phone simulator. Shows owner pairing with a one-time
# code, fast and standard taps, engine start from the console, an offline share to a
# trunk-only courier, wrong pairing codes being counted, termination from the courier's
# phone, and a revoked key that never works again. Everything runs in a temporary
# directory.
#
# The D-Bus API, CAN and the backend join this demo as they land.
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

say "The dashboard shows a one-time pairing code (the car keeps only its SPAKE2+ verifier)"
code=$(carkeyd pairing start --json | sed -n 's/.*"code":"\([0-9]*\)".*/\1/p')
echo "pairing code: $code"

say "carkeyd starts with simulated readers at the driver's door, the trunk and the console"
start

say "Alice types the code and taps the console: SPAKE2+, key creation, immobilizer token"
phone alice pair --code "$code" --field-dir "$work/nfc" --reader console --name alice | sed -n '1p;3p;/^result/p' || true
alice_slot=$(phone alice list --json | sed -n 's/.*"slot":"\([0-9a-f]*\)".*/\1/p' | head -n1)

say "Alice: unlock (fast now), lock, and the console starts the engine"
tap alice door-driver
tap alice door-driver
tap alice console

say "Alice shares a trunk-only key with a courier, phone to phone, with the car offline"
phone courier new-key --vehicle-group-id "$group" --vehicle-public-key "$public" --name courier > "$work/courier.key"
courier_key=$(sed -n 's/^public-key: //p' "$work/courier.key")
courier_slot=$(sed -n 's/^slot: //p' "$work/courier.key")
phone alice share --friend-public-key "$courier_key" --profile trunk-only --out "$work/share.txt"
phone courier accept-share --file "$work/share.txt" | sed -n '1,3p'

say "The courier's first tap enrolls the key (the owner's signature is checked); only the trunk opens"
tap courier trunk
tap courier door-driver

say "A phone the car has never seen learns nothing"
phone stranger new-key --vehicle-group-id "$group" --vehicle-public-key "$public" > /dev/null
tap stranger door-driver

say "Wrong pairing codes are counted before the car answers (7 at most per code)"
stop
code=$(carkeyd pairing start --json | sed -n 's/.*"code":"\([0-9]*\)".*/\1/p')
start
wrong=00000000; [ "$code" = "$wrong" ] && wrong=11111111
phone thief pair --code "$wrong" --field-dir "$work/nfc" --reader console | sed -n '1p' || true
stop
carkeyd pairing status
carkeyd pairing cancel > /dev/null
start

say "The courier deletes the key on the phone: the next tap carries the termination"
phone courier terminate | sed -n '1,1p' | cut -c1-60
tap courier trunk
tap courier trunk

say "Revoking a key from the head unit (offline maintenance; the dashboard will use D-Bus)"
stop
phone bob new-key --vehicle-group-id "$group" --vehicle-public-key "$public" --name bob > "$work/bob.key"
carkeyd keys add --slot "$(sed -n 's/^slot: //p' "$work/bob.key")" \
    --public-key "$(sed -n 's/^public-key: //p' "$work/bob.key")" --name bob --profile driver > /dev/null
start
tap bob door-driver
stop
carkeyd keys revoke "$(sed -n 's/^slot: //p' "$work/bob.key")" --reason "car returned"
start
tap bob door-driver
: "$alice_slot" "$courier_slot"

stop
say "What the vehicle bus was asked to do"
cat "$work/vehicle.jsonl"
say "Keys"
carkeyd keys list
say "Audit log (hash-chained; verified)"
carkeyd audit | tail -n 12
carkeyd audit --verify

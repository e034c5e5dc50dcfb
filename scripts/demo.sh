#!/usr/bin/env bash
# The main job, for a newcomer: carkeyd with simulated NFC readers, the recording vehicle
# bus and its D-Bus API on a private bus configured like the system bus. carkey-phone plays
# the phones; carkeyctl plays the dashboard, with `carkeyctl monitor` showing every
# decision as it happens. Shows owner pairing started from the dashboard, unlock, lock and
# engine start, the keys and the vehicle's state, an offline share to a trunk-only courier,
# a stranger who learns nothing, renaming, re-profiling, suspending and revoking keys over
# D-Bus, the owner's presence that changes to owner power need, wrong pairing codes being
# counted, termination from the courier's phone, and the verified audit log.
#
# Everything runs in a temporary directory, as root or as an ordinary user: the user who
# runs the demo is the dashboard's manager.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --quiet -p carkeyd -p carkeyctl -p carkey-tests --bins
bin=$PWD/target/debug
work=$(mktemp -d)
bus=unix:path=$work/bus
me=$(id -u)
bus_pid='' daemon_pid='' monitor_pid=''

stop_process() { # PID: terminate a process this script started and reap it quietly
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    local status=$?
    [ -n "$monitor_pid" ] && stop_process "$monitor_pid"
    [ -n "$daemon_pid" ] && stop_process "$daemon_pid"
    [ -n "$bus_pid" ] && stop_process "$bus_pid"
    if [ "$status" -ne 0 ] && [ "$status" -ne 130 ] && [ "$status" -ne 143 ] && [ -s "$work/carkeyd.log" ]; then
        echo "The demo failed; carkeyd's log:" >&2
        cat "$work/carkeyd.log" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "demo: $*" >&2; exit 1; }

# --- The car: configuration, master key, private bus --------------------------------

cat > "$work/carkeyd.toml" <<TOML
[log]
target = "stderr"
level = "warn"
[vehicle_bus]
kind = "recorder"
record_file = "$work/vehicle.jsonl"
[dbus]
bus = "system"
manage_users = ["$me"]
TOML
for reader in door-driver trunk console; do
    cat >> "$work/carkeyd.toml" <<TOML
[nfc.readers.$reader]
location = "$reader"
driver = "simulated"
socket = "$work/nfc/$reader.sock"
TOML
done
# The master key that seals secrets at rest, handed over as systemd hands a credential.
mkdir -m 0700 "$work/credentials"
head -c 32 /dev/urandom > "$work/credentials/carkey.master-key"

# A private bus with the system bus's defaults (method calls denied unless a policy allows
# them); only the demo's own user may own carkey's name and call it.
cat > "$work/bus.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$bus</listen>
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
  <policy user="$me">
    <allow own="org.carkey.CarKey1"/>
    <allow send_destination="org.carkey.CarKey1"/>
  </policy>
</busconfig>
XML

carkeyd() {
    CREDENTIALS_DIRECTORY=$work/credentials "$bin/carkeyd" --config "$work/carkeyd.toml" --state-dir "$work/state" "$@"
}
# carkeyd the service, with the (private) system bus's address as systemd would give it.
serve() {
    export CREDENTIALS_DIRECTORY=$work/credentials DBUS_SYSTEM_BUS_ADDRESS=$bus
    exec "$bin/carkeyd" --config "$work/carkeyd.toml" --state-dir "$work/state"
}
start_bus() {
    dbus-daemon --config-file="$work/bus.conf" --nofork 2>>"$work/dbus.log" &
    bus_pid=$!
    for _ in $(seq 200); do
        busctl --address="$bus" list > /dev/null 2>&1 && return
        sleep 0.05
    done
    fail "dbus-daemon did not start: $(cat "$work/dbus.log")"
}
start() { # carkeyd, until its readers listen and it owns its name on the bus
    serve 2>>"$work/carkeyd.log" &
    daemon_pid=$!
    for _ in $(seq 200); do
        kill -0 "$daemon_pid" 2>/dev/null || fail "carkeyd did not start"
        if [ -S "$work/nfc/console.sock" ] && "$bin/carkeyctl" --address "$bus" status > /dev/null 2>&1; then
            return
        fi
        sleep 0.05
    done
    fail "carkeyd did not appear on the bus"
}
stop() { stop_process "$daemon_pid"; daemon_pid=; }

# --- The dashboard -------------------------------------------------------------------

# carkeyctl, showing the command line first.
ctl() {
    local arg line=
    for arg; do
        case $arg in *[[:space:]]*) line+=" \"$arg\"" ;; *) line+=" $arg" ;; esac
    done
    printf '$ carkeyctl%s\n' "$line"
    "$bin/carkeyctl" --address "$bus" "$@"
}
# carkeyctl whose failure is part of the story: shows its message and exit code, and
# checks the code is EXPECTED.
ctl_refused() {
    local expected=$1 code=0
    shift
    ctl "$@" 2>&1 || code=$?
    echo "(exit code $code)"
    [ "$code" = "$expected" ] || fail "carkeyctl $* exited with $code, expected $expected"
}
# The id of the most recently used key whose JSON record matches PATTERN, as a dashboard
# finds it in `carkeyctl --json keys`.
key_id() {
    "$bin/carkeyctl" --address "$bus" --json keys | tr -d '\n' | sed 's/{ *"created_at"/\n&/g' |
        grep -m1 -e "$1" | sed -n 's/.*"id": *"\([0-9a-f]\{16\}\)".*/\1/p'
}

# `carkeyctl monitor` runs in the background for the whole demo; after each step its new
# lines are shown, prefixed with [dashboard]. A decision is announced a moment after the
# phone hears its answer, so wait for WANT more of them (and for what follows them) first.
# Its key-changed and vehicle-changed lines (one per changed property) are left out: the
# decisions and `carkeyctl keys` and `status` say the same.
monitor_lines=0 monitor_decisions=0
dashboard() {
    local want=${1:-0} size=-1 lines
    monitor_decisions=$((monitor_decisions + want))
    for _ in $(seq 100); do
        [ "$(grep -c ' decision ' "$work/monitor.log" || true)" -ge "$monitor_decisions" ] && break
        sleep 0.03
    done
    while [ "$(wc -c < "$work/monitor.log")" != "$size" ]; do
        size=$(wc -c < "$work/monitor.log")
        sleep 0.1
    done
    lines=$(wc -l < "$work/monitor.log")
    sed -n "$((monitor_lines + 1)),${lines}p" "$work/monitor.log" |
        { grep -v -e ' key-changed ' -e ' vehicle-changed$' || true; } | sed 's/^/[dashboard] /'
    monitor_lines=$lines
}
start_monitor() {
    "$bin/carkeyctl" --address "$bus" monitor > "$work/monitor.log" 2>&1 &
    monitor_pid=$!
    # It subscribes as soon as it is connected.
    for _ in $(seq 100); do
        busctl --address="$bus" list 2>/dev/null | grep -Eq '^:[0-9.]+ +[0-9]+ +carkeyctl ' && break
        sleep 0.05
    done
    sleep 0.2
}

# --- The phones ----------------------------------------------------------------------

phone() { local wallet=$1; shift; "$bin/carkey-phone" --wallet "$work/$wallet.json" "$@"; }
# WHO taps READER: what the phone is told (all a phone ever learns is the outcome), then
# what the dashboard saw; checks the outcome is EXPECTED.
tap() {
    local who=$1 reader=$2 expected=$3 out result kind elapsed
    out=$(phone "$who" tap --field-dir "$work/nfc" --reader "$reader" || true)
    result=$(sed -n 's/^result: //p' <<<"$out")
    kind=$(sed -n 's/^transaction: //p' <<<"$out")
    elapsed=$(sed -n 's/^elapsed: \([0-9]*\) .*/\1/p' <<<"$out")
    printf -- '-- %s taps %s: the phone is told "%s" (%s transaction, %d.%d ms)\n' \
        "$who" "$reader" "$result" "$kind" "$((elapsed / 1000))" "$((elapsed % 1000 / 100))"
    [ "$result" = "$expected" ] || fail "$who at $reader: expected $expected"
    dashboard 1
}
# WHO types CODE on the phone and taps the console; prints what the phone says.
pair() {
    local who=$1 code=$2
    echo "-- $who types $code and taps console"
    phone "$who" pair --code "$code" --field-dir "$work/nfc" --reader console --name "$who" |
        sed -n '/^pairing:/p;/^slot:/p' || true
}
new_key() { # WHO: a key pair on WHO's phone for this car; prints its public key
    phone "$1" new-key --vehicle-group-id "$group" --vehicle-public-key "$public" --name "$1" |
        sed -n 's/^public-key: //p'
}

# --- The demo ------------------------------------------------------------------------

say "The vehicle's identity (created on first use; its private key is sealed with the master key)"
carkeyd identity | tee "$work/identity"
group=$(sed -n 's/^group-id: //p' "$work/identity")
public=$(sed -n 's/^public-key: //p' "$work/identity")

say "carkeyd starts with simulated readers (driver's door, trunk, console) and its D-Bus API"
start_bus
start
start_monitor
cat <<TEXT
carkeyd serves its D-Bus API, org.carkey.CarKey1, on a private bus set up like the system
bus. carkeyctl plays the dashboard: each call is shown as typed on a head unit (the demo
adds --address for its private bus). carkeyd authorizes every call by the caller's user;
here the demo's own user (uid $me) may manage. \`carkeyctl monitor\` runs in the
background: its lines start with [dashboard].
TEXT
ctl readers

say "No owner yet: the dashboard starts owner pairing and shows a one-time code"
ctl pair start | tee "$work/pairing"
code=$(sed -n 's/^code *//p' "$work/pairing")
echo "(the car keeps only the code's SPAKE2+ verifier)"

say "Alice types the code on her phone and taps the console: SPAKE2+, key creation, immobilizer token"
pair alice "$code"
dashboard
alice=$(key_id '"role": "owner"')

say "Alice unlocks and locks at the door (fast transactions: the car knows her key) and starts the engine"
tap alice door-driver success
tap alice door-driver success
tap alice console success

say "The dashboard lists the keys and the vehicle: locked, immobilizer released by Alice's key"
ctl keys
ctl status

say "Alice shares a trunk-only key with a courier, phone to phone, while the car is offline"
courier_public=$(new_key courier)
echo "-- the courier's phone makes a key pair; Alice's phone signs a share of it; the courier's"
echo "   phone keeps the signed share for its first tap:"
phone alice share --friend-public-key "$courier_public" --profile trunk-only --out "$work/courier-share.txt"
phone courier accept-share --file "$work/courier-share.txt" | sed -n '/^owner-slot:/p;/^profile:/p'

say "The courier's first tap enrolls the key (the car checks Alice's signature); only the trunk opens"
tap courier trunk success
tap courier door-driver denied
courier=$(key_id '"profile": "trunk-only"')
ctl keys

say "A phone the car has never seen learns nothing (only the dashboard knows why it was denied)"
new_key stranger > /dev/null
tap stranger door-driver denied

say "The dashboard names the keys"
ctl key rename "$alice" Alice
ctl key rename "$courier" "Courier"
dashboard

say "Alice lends the car to Bob with a valet key (unlock, lock, engine start at 60 km/h)"
bob_public=$(new_key bob)
phone alice share --friend-public-key "$bob_public" --profile valet --out "$work/bob-share.txt"
phone bob accept-share --file "$work/bob-share.txt" | sed -n '/^owner-slot:/p;/^profile:/p'
tap bob door-driver success
bob=$(key_id '"profile": "valet"')
ctl key rename "$bob" Bob
dashboard
tap bob trunk denied

say "The dashboard gives Bob the driver profile: now the trunk opens for him too"
ctl profile set "$bob" driver
dashboard
tap bob trunk success

say "Bob reports his phone lost: the dashboard suspends the key until he finds it"
ctl key suspend "$bob" --reason "phone reported lost"
dashboard
tap bob door-driver denied
ctl key resume "$bob"
dashboard
tap bob door-driver success

say "Bob returns the car: the dashboard revokes his key for good (its secrets are erased)"
ctl key revoke "$bob" --yes --reason "car returned"
dashboard
tap bob door-driver denied

say "The next morning: carkeyd restarts (keys are on flash; owner presence was only in memory)"
stop
start
ctl status | grep -e '^\$' -e '^keys' -e '^owner' -e '^doors' -e '^immobilizer'

say "Changes to owner power need the owner in the car: without Alice, the dashboard is refused"
ctl_refused 5 key revoke "$alice" --yes --reason "sold"
ctl_refused 5 pair start

say "Alice taps the console (a fresh signature from inside the cabin): she is present for 60 s"
tap alice console success
ctl status | grep -e '^\$' -e '^owner'
ctl pair start | tee "$work/pairing"
code=$(sed -n 's/^code *//p' "$work/pairing")

say "Wrong pairing codes are counted before the car answers (7 at most per code)"
wrong=00000000
[ "$code" = "$wrong" ] && wrong=11111111
pair thief "$wrong"
ctl pair status
ctl pair cancel
dashboard

say "The courier deletes the key on the phone: its next tap carries the termination"
phone courier terminate | sed -n 's/^\(attestation: .\{40\}\).*/\1.../p'
tap courier trunk denied
tap courier trunk denied
ctl keys

stop_process "$monitor_pid"
monitor_pid=
stop
say "What the vehicle bus was asked to do"
cat "$work/vehicle.jsonl"
say "The audit log, read offline with the daemon stopped (hash-chained; verified)"
carkeyd audit | tail -n 12
carkeyd audit --verify

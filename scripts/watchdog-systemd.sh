#!/usr/bin/env bash
# The watchdog recipe with real systemd: a transient Type=notify unit running the kiosk
# offscreen with WatchdogSec=2 and a UI loop that hangs after 3 s must be restarted by systemd.
# Runs in `make test` where systemd is PID 1 and we may start units; says so and skips otherwise
# (kiosk/tests/watchdog.rs proves the same protocol without systemd).
set -euo pipefail
cd "$(dirname "$0")/.."
state=$(systemctl is-system-running 2>/dev/null || true)
if [ "$(ps -p 1 -o comm= 2>/dev/null)" != systemd ] || [ "$state" = offline ] || [ -z "$state" ]; then
    echo "watchdog-systemd: systemd is not running here: skipped (kiosk/tests/watchdog.rs covers the protocol)"
    exit 0
fi
tmp=$(mktemp -d)
unit="infomat-watchdog-test-$$"
trap 'systemctl stop "$unit" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat > "$tmp/kiosk.toml" <<TOML
[kiosk]
id = 2
lpu_id = 1
clinic_name = "watchdog test"
[central]
url = "http://127.0.0.1:9"
token = "t"
[printer]
link = "file"
path = "$tmp/printer.bin"
[scanner]
link = "sim"
[journal]
dir = "$tmp/journal"
[health]
listen = "127.0.0.1:0"
TOML
systemd-run --unit="$unit" --property=Type=notify --property=NotifyAccess=main \
    --property=WatchdogSec=2 --property=Restart=always --property=RestartSec=1 \
    --setenv=INFOMAT_FAULT=hang-ui-after-ms=3000 \
    "${CARGO_TARGET_DIR:-$PWD/target}/debug/kiosk" run --offscreen --config "$tmp/kiosk.toml" >/dev/null
for _ in $(seq 1 30); do
    n=$(systemctl show -p NRestarts --value "$unit")
    if [ "${n:-0}" -ge 1 ]; then
        echo "watchdog-systemd: the hung kiosk was killed by the watchdog and restarted ($n restart(s))"
        exit 0
    fi
    sleep 1
done
echo "watchdog-systemd: no restart within 30 s" >&2
journalctl -u "$unit" --no-pager | tail -20 >&2 || true
exit 1
